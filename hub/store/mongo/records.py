"""Whole-hub export and import of records (hub/store/record_format.py) for MongoDB.

A document already holds its record's fields under the same names (`_id` for `id`), so the
work here is the exceptions: identities live inside their customer, a message also carries
its conversation's inbox, and dates come back from the driver in its own tzinfo.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from pymongo.errors import DuplicateKeyError

from hub.errors import Conflict, InvalidInput
from hub.model import as_utc
from hub.store.mongo import documents as docs
from hub.store.mongo.documents import Doc
from hub.store.mongo.schema import Collection, Collections
from hub.store.record_format import RECORD_FIELDS, Record, RecordKind

_TIMES = frozenset(f for fields in RECORD_FIELDS.values() for f in fields if f.endswith("_at"))
_TIMES |= {"snoozed_until"}


def collection_of(cols: Collections, kind: RecordKind) -> Collection:
    """The collection holding a kind's documents (identities: their customers')."""
    names = {
        RecordKind.API_TOKENS: "tokens",
        RecordKind.IDENTITIES: "customers",
        RecordKind.CANNED_RESPONSES: "canned",
    }
    return getattr(cols, names.get(kind, kind.value))


def neutral(value: Any) -> Any:
    """A stored value in record form: aware UTC dates, plain lists and dicts."""
    if isinstance(value, datetime):
        return as_utc(value)
    if isinstance(value, dict):
        return {k: neutral(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [neutral(v) for v in value]
    return value


def storable(value: Any) -> Any:
    """A record value as stored: dates in UTC at BSON's millisecond precision."""
    if isinstance(value, datetime):
        return docs.stored(value)
    if isinstance(value, dict):
        return {k: storable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [storable(v) for v in value]
    return value


def to_record(kind: RecordKind, doc: Doc) -> Record:
    """The record of one stored document (not for identities)."""
    return {f: neutral(doc["_id"] if f == "id" else doc.get(f)) for f in RECORD_FIELDS[kind]}


def customer_record(doc: Doc) -> Record:
    """A customer document in record form (as merge snapshots hold it)."""
    return to_record(RecordKind.CUSTOMERS, doc)


# --- export ----------------------------------------------------------------------------


async def _export_identities(cols: Collections, after: str | None, limit: int) -> list[Record]:
    beyond = {"identities.id": {"$gt": after or ""}}
    pipeline: list[Doc] = [
        {"$match": beyond},
        {"$project": {"identities": 1}},
        {"$unwind": "$identities"},
        {"$match": beyond},
        {"$sort": {"identities.id": 1}},
        {"$limit": limit},
    ]
    found = await (await cols.customers.aggregate(pipeline)).to_list()
    return [
        {
            "id": d["identities"]["id"],
            "customer_id": d["_id"],
            "kind": d["identities"]["kind"],
            "address": d["identities"]["address"],
            "created_at": neutral(d["identities"]["created_at"]),
        }
        for d in found
    ]


async def export_records(
    cols: Collections, kind: RecordKind, *, after: str | None, limit: int
) -> list[Record]:
    """Up to `limit` records of one kind with ids above `after`, in ascending id order."""
    if limit < 1:
        raise InvalidInput(f"limit must be at least 1, got {limit}", code="invalid_limit")
    if kind is RecordKind.IDENTITIES:
        return await _export_identities(cols, after, limit)
    query = {"_id": {"$gt": after}} if after is not None else {}
    found = await collection_of(cols, kind).find(query).sort("_id", 1).limit(limit).to_list()
    return [to_record(kind, d) for d in found]


# --- import ----------------------------------------------------------------------------


def _check(kind: RecordKind, record: Record) -> None:
    expected = set(RECORD_FIELDS[kind])
    missing, extra = expected - record.keys(), record.keys() - expected
    if missing or extra:
        parts = [
            f"missing {sorted(missing)}" if missing else "",
            f"unknown {sorted(extra)}" if extra else "",
        ]
        problem = "; ".join(p for p in parts if p)
        raise InvalidInput(
            f"{kind.value} record {record.get('id')!r}: {problem}", code="invalid_record"
        )
    for name in _TIMES & expected:
        if record[name] is not None and not isinstance(record[name], datetime):
            raise InvalidInput(
                f"{kind.value} record {record['id']!r}: {name} must be a datetime or None,"
                f" got {type(record[name]).__name__}",
                code="invalid_record",
            )
    if kind is RecordKind.MERGES:
        snapshot = record["snapshot"]
        keys = {"kept", "merged", "identities", "conversations", "messages"}
        if not isinstance(snapshot, dict) or not keys <= snapshot.keys():
            raise InvalidInput(
                f"merges record {record['id']!r}: snapshot needs {sorted(keys)}",
                code="invalid_record",
            )


def _fields(record: Record) -> Doc:
    return {k: storable(v) for k, v in record.items() if k != "id"}


async def _import_identity(cols: Collections, record: Record) -> None:
    entry = {
        "id": record["id"],
        "kind": record["kind"],
        "address": record["address"],
        "created_at": docs.stored(record["created_at"]),
    }
    owner = record["customer_id"]
    # an identity lives in exactly one customer: take it out of any other first
    await cols.customers.update_many(
        {"_id": {"$ne": owner}, "identities.id": record["id"]},
        {"$pull": {"identities": {"id": record["id"]}}},
    )
    done = await cols.customers.update_one(
        {"_id": owner, "identities.id": record["id"]}, {"$set": {"identities.$": entry}}
    )
    if not done.matched_count:
        done = await cols.customers.update_one({"_id": owner}, {"$push": {"identities": entry}})
    if not done.matched_count:
        raise InvalidInput(
            f"identities record {record['id']!r}: customer {owner!r} does not exist;"
            " import customers first",
            code="invalid_record",
        )


async def _inbox_of(cols: Collections, conversation_id: str, cache: dict[str, str]) -> str:
    if conversation_id not in cache:
        found = await cols.conversations.find_one({"_id": conversation_id}, {"inbox_id": 1})
        if found is None:
            raise InvalidInput(
                f"a message of conversation {conversation_id!r}, which does not exist;"
                " import conversations first",
                code="invalid_record",
            )
        cache[conversation_id] = found["inbox_id"]
    return cache[conversation_id]


async def _upsert(
    cols: Collections, kind: RecordKind, record: Record, inboxes: dict[str, str]
) -> None:
    if kind is RecordKind.IDENTITIES:
        await _import_identity(cols, record)
        return
    fields = _fields(record)
    on_insert: Doc = {}
    if kind is RecordKind.CUSTOMERS:
        on_insert["identities"] = []  # they follow as identity records; kept on re-import
    elif kind is RecordKind.MESSAGES:
        fields["inbox_id"] = await _inbox_of(cols, record["conversation_id"], inboxes)
    update: Doc = {"$set": fields}
    if on_insert:
        update["$setOnInsert"] = on_insert
    await collection_of(cols, kind).update_one({"_id": record["id"]}, update, upsert=True)


async def import_records(cols: Collections, kind: RecordKind, records: Sequence[Record]) -> int:
    """Upsert records by id, exactly as given; returns how many were written."""
    inboxes: dict[str, str] = {}
    for record in records:
        _check(kind, record)
        try:
            await _upsert(cols, kind, record, inboxes)
        except DuplicateKeyError as exc:
            # another document holds a unique key (email, address, provider id): say which
            # record, so the operator can fix the target and re-run
            raise Conflict(
                f"cannot import {kind.value} record {record['id']!r}: a unique key is taken",
                code="import_conflict",
                kind=kind.value,
                record_id=record["id"],
            ) from exc
    return len(records)
