"""Customers and their embedded identities on MongoDB; the unique identity index decides races."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from pymongo import ASCENDING, DESCENDING, ReturnDocument
from pymongo.errors import DuplicateKeyError

from hub.errors import Conflict, NotFound, StoreUnavailable
from hub.model import Customer, CustomerFile, Identity, IdentityKind, Page, new_id
from hub.store.base import UNSET
from hub.store.mongo import documents as docs
from hub.store.mongo.documents import Doc
from hub.store.mongo.schema import Collections

CONVERSATIONS_IN_FILE = 200
_RACE_RETRIES = 5


def owns(kind: IdentityKind, address: str) -> Doc:
    """The filter for the customer who owns an address."""
    return {"identities": {"$elemMatch": {"kind": kind.value, "address": address}}}


def entry_of(doc: Doc, kind: IdentityKind, address: str) -> Doc:
    """The embedded identity of `doc` with this address."""
    return next(e for e in doc["identities"] if e["kind"] == kind.value and e["address"] == address)


def new_customer_doc(
    name: str | None,
    now: datetime,
    *,
    attributes: Mapping[str, Any] | None = None,
    tags: Sequence[str] = (),
    identities: Sequence[Doc] = (),
) -> Doc:
    """A new live customer document."""
    return {
        "_id": new_id("cus"),
        "name": name,
        "attributes": dict(attributes or {}),
        "tags": list(tags),
        "created_at": now,
        "updated_at": now,
        "merged_into": None,
        "identities": list(identities),
    }


async def load_customer_doc(cols: Collections, customer_id: str) -> Doc | None:
    """A customer's document (with its identities), or None."""
    return await cols.customers.find_one({"_id": customer_id})


async def get_customer(cols: Collections, customer_id: str) -> Customer | None:
    """One customer (merged ones too)."""
    found = await load_customer_doc(cols, customer_id)
    return docs.customer(found) if found else None


async def require_customer_doc(cols: Collections, customer_id: str) -> Doc:
    """A customer's document, or NotFound."""
    found = await load_customer_doc(cols, customer_id)
    if found is None:
        raise NotFound(f"customer {customer_id!r} does not exist", code="customer_not_found")
    return found


async def _owner_id(cols: Collections, kind: IdentityKind, address: str) -> str | None:
    found = await cols.customers.find_one(owns(kind, address), {"_id": 1})
    return found["_id"] if found else None


def _taken(kind: IdentityKind, address: str, owner: str, hint: str = "") -> Conflict:
    return Conflict(
        f"{kind.value} address {address!r} already belongs to customer {owner}{hint}",
        code="identity_taken",
        customer_id=owner,
    )


async def find_identity(cols: Collections, kind: IdentityKind, address: str) -> Identity | None:
    """The identity with this address, from its owner's document."""
    found = await cols.customers.find_one(owns(kind, address))
    return docs.identity(entry_of(found, kind, address), found["_id"]) if found else None


async def resolve_owner(
    cols: Collections,
    kind: IdentityKind,
    address: str,
    *,
    name: str | None,
    now: datetime,
    created_by: str | None = None,
) -> tuple[Doc, bool]:
    """The owner of an address, created if none (atomically); the bool says this call made it.

    An upsert keyed on the identity: concurrent callers converge on one customer, because
    the unique identity index turns the second insert into a DuplicateKeyError, after which
    the retry finds the first one's customer. `created_by` marks who created it (ingest
    uses its dedupe key, so the one stored message can say "customer created").
    """
    now = docs.stored(now)
    for _ in range(_RACE_RETRIES):
        fresh = new_customer_doc(
            name, now, identities=[docs.identity_entry(new_id("idn"), kind, address, now)]
        )
        if created_by is not None:
            fresh["created_by"] = created_by
        try:
            found = await cols.customers.find_one_and_update(
                owns(kind, address),
                {"$setOnInsert": fresh},
                upsert=True,
                return_document=ReturnDocument.AFTER,
            )
        except DuplicateKeyError:
            continue  # a concurrent resolve inserted the owner first: the retry finds it
        return found, found["_id"] == fresh["_id"]
    raise StoreUnavailable(f"could not resolve the owner of {kind.value} address {address!r}")


async def resolve_customer(
    cols: Collections, kind: IdentityKind, address: str, *, name: str | None, now: datetime
) -> tuple[Customer, Identity, bool]:
    """The owner of an address, created atomically if none."""
    found, created = await resolve_owner(cols, kind, address, name=name, now=now)
    identity = docs.identity(entry_of(found, kind, address), found["_id"])
    return docs.customer(found), identity, created


async def create_customer(
    cols: Collections,
    *,
    name: str | None,
    attributes: Mapping[str, Any],
    tags: Sequence[str],
    identities: Sequence[tuple[IdentityKind, str]],
    now: datetime,
) -> CustomerFile:
    """A customer with identities; Conflict if an address has an owner."""
    now = docs.stored(now)
    wanted = list(dict.fromkeys(identities))  # a repeated identity is one identity
    for kind, address in wanted:
        owner = await _owner_id(cols, kind, address)
        if owner is not None:
            raise _taken(kind, address, owner)
    entries = [docs.identity_entry(new_id("idn"), k, a, now) for k, a in wanted]
    doc = new_customer_doc(
        name, now, attributes=attributes, tags=list(dict.fromkeys(tags)), identities=entries
    )
    try:
        await cols.customers.insert_one(doc)
    except DuplicateKeyError:
        # another customer took one of the addresses since the check above: say which
        for kind, address in wanted:
            owner = await _owner_id(cols, kind, address)
            if owner is not None and owner != doc["_id"]:
                raise _taken(kind, address, owner) from None
        raise
    return CustomerFile(
        customer=docs.customer(doc), identities=docs.identities(doc), conversations=()
    )


async def add_identity(
    cols: Collections, customer_id: str, kind: IdentityKind, address: str, *, now: datetime
) -> Identity:
    """Attach an address to a live customer; Conflict if another owns it."""
    doc = await require_customer_doc(cols, customer_id)
    if doc.get("merged_into") is not None:
        raise Conflict(f"customer {customer_id} was merged into {doc['merged_into']}")
    owner = await _owner_id(cols, kind, address)
    if owner is not None and owner != customer_id:
        raise _taken(kind, address, owner, "; merge instead")
    now = docs.stored(now)
    if owner is None:
        entry = docs.identity_entry(new_id("idn"), kind, address, now)
        not_yet = {"$not": {"$elemMatch": {"kind": kind.value, "address": address}}}
        try:
            await cols.customers.update_one(
                {"_id": customer_id, "merged_into": None, "identities": not_yet},
                {"$push": {"identities": entry}, "$set": {"updated_at": now}},
            )
        except DuplicateKeyError:
            taken_by = await _owner_id(cols, kind, address)
            raise _taken(kind, address, taken_by or "?", "; merge instead") from None
    found = await cols.customers.find_one({"_id": customer_id, **owns(kind, address)})
    if found is None:  # merged away between the check and the write
        raise Conflict(f"customer {customer_id} was merged while adding {address!r}")
    return docs.identity(entry_of(found, kind, address), customer_id)


def _patched(attributes: Mapping[str, Any], changes: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(attributes)
    for key, value in changes.items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = value
    return merged


async def update_customer(
    cols: Collections,
    customer_id: str,
    *,
    name: Any,
    attributes: Any,
    tags: Any,
    now: datetime,
) -> Customer:
    """Change a customer; attributes merged by compare-and-set."""
    sets: Doc = {"updated_at": docs.stored(now)}
    if name is not UNSET:
        sets["name"] = name
    if tags is not UNSET:
        sets["tags"] = list(dict.fromkeys(tags))
    for _ in range(_RACE_RETRIES):
        doc = await require_customer_doc(cols, customer_id)
        match: Doc = {"_id": customer_id}
        if attributes is not UNSET:
            # compare-and-set on the attributes read, so concurrent patches never lose a key
            match["attributes"] = doc.get("attributes") or {}
            sets["attributes"] = _patched(doc.get("attributes") or {}, attributes)
        found = await cols.customers.find_one_and_update(
            match, {"$set": sets}, return_document=ReturnDocument.AFTER
        )
        if found is not None:
            return docs.customer(found)
    raise Conflict(f"customer {customer_id} is being changed concurrently; try again")


async def list_customers(
    cols: Collections, *, query: str | None, limit: int, cursor: str | None
) -> Page[Customer]:
    """Live customers, newest first, optionally matching name or address."""
    clauses: list[Doc] = [{"merged_into": None}]
    if query:
        # literal text (no wildcards), case-insensitive including non-ASCII letters
        clauses.append(
            {
                "$or": [
                    {"name": {"$regex": re.escape(query), "$options": "i"}},
                    {"identities.address": {"$regex": re.escape(query.lower()), "$options": "i"}},
                ]
            }
        )
    after = docs.after_cursor(cursor, "created_at")
    if after:
        clauses.append(after)
    found = (
        await cols.customers.find({"$and": clauses})
        .sort([("created_at", DESCENDING), ("_id", DESCENDING)])
        .limit(limit + 1)
        .to_list()
    )
    return docs.keyset_page(found, limit, docs.customer, "created_at")


async def customer_file(cols: Collections, customer_id: str) -> CustomerFile | None:
    """The customer with identities, conversations and merges."""
    doc = await load_customer_doc(cols, customer_id)
    if doc is None:
        return None
    conversations = (
        await cols.conversations.find({"customer_id": customer_id})
        .sort([("last_message_at", DESCENDING), ("_id", DESCENDING)])
        .limit(CONVERSATIONS_IN_FILE)
        .to_list()
    )
    merges = (
        await cols.merges.find({"$or": [{"kept_id": customer_id}, {"merged_id": customer_id}]})
        .sort([("created_at", ASCENDING), ("_id", ASCENDING)])
        .to_list()
    )
    return CustomerFile(
        customer=docs.customer(doc),
        identities=docs.identities(doc),
        conversations=tuple(docs.conversation(c) for c in conversations),
        merges=tuple(docs.merge(m) for m in merges),
    )


async def customer_inbox_ids(
    cols: Collections, customer_ids: Sequence[str]
) -> dict[str, frozenset[str]]:
    """Each customer's inboxes: distinct pairs, grouped on the conv_customer index."""
    found: dict[str, set[str]] = {cid: set() for cid in customer_ids}
    pipeline: list[Doc] = [
        {"$match": {"customer_id": {"$in": list(found)}}},
        {"$group": {"_id": {"customer": "$customer_id", "inbox": "$inbox_id"}}},
    ]
    for pair in await (await cols.conversations.aggregate(pipeline)).to_list():
        found[pair["_id"]["customer"]].add(pair["_id"]["inbox"])
    return {cid: frozenset(inboxes) for cid, inboxes in found.items()}
