"""Customer merges on MongoDB without multi-document transactions.

The merge record goes first, holding the snapshot (the neutral shape of base.py, so a hub
transferred from SQLite can be undone here) and the identities about to move. Then come
steps that are each idempotent, and last the record is marked finished. A process that dies
half-way leaves the record `state`d with an expired lease; the next `open()` (or an undo of
that merge) takes the lease and drives the same steps to the end.

Identities move by pulling them from one customer before pushing them to the other: the
unique identity index forbids an address on two customers even for a moment.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime, timedelta

from pymongo import ReturnDocument
from pymongo.errors import DuplicateKeyError

from hub.errors import Conflict, NotFound
from hub.model import MergeRecord, new_id, utcnow
from hub.store.mongo import documents as docs
from hub.store.mongo.customers import require_customer_doc
from hub.store.mongo.documents import Doc
from hub.store.mongo.records import customer_record
from hub.store.mongo.schema import Collection, Collections

log = logging.getLogger(__name__)

LEASE = timedelta(minutes=5)  # a live merge finishes in seconds; past this, its owner died
CHUNK = 1000  # ids per update on undo, to keep each command small
MERGING, UNDOING = "merging", "undoing"


async def get_merge(cols: Collections, merge_id: str) -> MergeRecord | None:
    """One merge record."""
    found = await cols.merges.find_one({"_id": merge_id})
    return docs.merge(found) if found else None


async def _ids(collection: Collection, customer_id: str) -> list[str]:
    found = await collection.find({"customer_id": customer_id}, {"_id": 1}).to_list()
    return [d["_id"] for d in found]


async def _attach(cols: Collections, customer_id: str, entries: Sequence[Doc]) -> None:
    """Add identities to a customer unless already there (idempotent)."""
    for entry in entries:
        try:
            await cols.customers.update_one(
                {"_id": customer_id, "identities.id": {"$ne": entry["id"]}},
                {"$push": {"identities": entry}},
            )
        except DuplicateKeyError:
            # the address got a new owner while it was between customers (a crash window,
            # then an ingest from it); that owner keeps it, as a merge can join them later
            log.warning("identity %s has a new owner; not moved to %s", entry["id"], customer_id)


async def _drive_merge(cols: Collections, merge: Doc) -> Doc:
    kept_id, merged_id, at = merge["kept_id"], merge["merged_id"], merge["created_at"]
    snapshot = merge["snapshot"]
    await cols.customers.update_one(
        {"_id": merged_id, "merged_into": {"$in": [None, kept_id]}},
        {"$set": {"merged_into": kept_id, "updated_at": at}},
    )
    moving = merge.get("moving") or []
    await cols.customers.update_one(
        {"_id": merged_id}, {"$pull": {"identities": {"id": {"$in": [e["id"] for e in moving]}}}}
    )
    await _attach(cols, kept_id, moving)
    # everything of the merged customer moves, also what arrived after the snapshot
    for collection in (cols.conversations, cols.messages):
        await collection.update_many({"customer_id": merged_id}, {"$set": {"customer_id": kept_id}})
    kept, gone = snapshot["kept"], snapshot["merged"]
    # the kept customer wins on conflicts; the merged one only fills gaps (CW #5115)
    await cols.customers.update_one(
        {"_id": kept_id},
        {
            "$set": {
                "name": kept["name"] or gone["name"],
                "attributes": {**gone["attributes"], **kept["attributes"]},
                "tags": list(dict.fromkeys([*kept["tags"], *gone["tags"]])),
                "updated_at": at,
            }
        },
    )
    finished = await cols.merges.find_one_and_update(
        {"_id": merge["_id"]},
        {"$unset": {"state": "", "lease_until": "", "moving": ""}},
        return_document=ReturnDocument.AFTER,
    )
    return finished or merge


async def merge_customers(
    cols: Collections, kept_id: str, merged_id: str, *, actor_id: str | None, now: datetime
) -> MergeRecord:
    """Record the merge (with its snapshot) first, then drive its steps."""
    if kept_id == merged_id:
        raise Conflict("cannot merge a customer into itself", code="merge_self")
    kept = await require_customer_doc(cols, kept_id)
    merged = await require_customer_doc(cols, merged_id)
    for c in (kept, merged):
        if c.get("merged_into") is not None:
            raise Conflict(
                f"customer {c['_id']} was already merged into {c['merged_into']}",
                code="already_merged",
            )
    merge: Doc = {
        "_id": new_id("mrg"),
        "kept_id": kept_id,
        "merged_id": merged_id,
        "actor_id": actor_id,
        "created_at": docs.stored(now),
        "undone_at": None,
        "snapshot": {
            "kept": customer_record(kept),
            "merged": customer_record(merged),
            "identities": [e["id"] for e in merged.get("identities") or ()],
            "conversations": await _ids(cols.conversations, merged_id),
            "messages": await _ids(cols.messages, merged_id),
        },
        "state": MERGING,
        "lease_until": utcnow() + LEASE,
        "moving": list(merged.get("identities") or ()),
    }
    await cols.merges.insert_one(merge)
    # the conditional write that makes two concurrent merges of one customer impossible
    claimed = await cols.customers.update_one(
        {"_id": merged_id, "merged_into": None},
        {"$set": {"merged_into": kept_id, "updated_at": merge["created_at"]}},
    )
    if not claimed.matched_count:
        await cols.merges.delete_one({"_id": merge["_id"]})  # nothing has moved yet
        raise Conflict(f"customer {merged_id} was merged concurrently", code="already_merged")
    if await cols.customers.find_one({"_id": kept_id, "merged_into": None}, {"_id": 1}) is None:
        # the kept customer was merged away meanwhile (A into B while B into A): undo the
        # claim, or the two would point at each other
        await cols.customers.update_one(
            {"_id": merged_id, "merged_into": kept_id},
            {"$set": {"merged_into": None, "updated_at": merged["updated_at"]}},
        )
        await cols.merges.delete_one({"_id": merge["_id"]})
        raise Conflict(f"customer {kept_id} was merged concurrently", code="already_merged")
    return docs.merge(await _drive_merge(cols, merge))


async def _drive_undo(cols: Collections, merge: Doc) -> Doc:
    kept_id, merged_id, at = merge["kept_id"], merge["merged_id"], merge["undo_at"]
    snapshot = merge["snapshot"]
    moving = merge.get("moving") or []
    await cols.customers.update_one(
        {"_id": kept_id}, {"$pull": {"identities": {"id": {"$in": [e["id"] for e in moving]}}}}
    )
    await _attach(cols, merged_id, moving)
    for collection, key in ((cols.conversations, "conversations"), (cols.messages, "messages")):
        ids = snapshot[key]
        for start in range(0, len(ids), CHUNK):
            await collection.update_many(
                {"_id": {"$in": ids[start : start + CHUNK]}, "customer_id": kept_id},
                {"$set": {"customer_id": merged_id}},
            )
    for saved in (snapshot["kept"], snapshot["merged"]):
        restored = {k: saved[k] for k in ("name", "attributes", "tags", "merged_into")}
        restored["created_at"] = docs.stored(saved["created_at"])
        restored["updated_at"] = docs.stored(saved["updated_at"])
        await cols.customers.update_one({"_id": saved["id"]}, {"$set": restored})
    finished = await cols.merges.find_one_and_update(
        {"_id": merge["_id"]},
        {
            "$set": {"undone_at": at},
            "$unset": {"state": "", "lease_until": "", "moving": "", "undo_at": ""},
        },
        return_document=ReturnDocument.AFTER,
    )
    return finished or merge


async def _take_lease(cols: Collections, merge: Doc) -> Doc | None:
    """The record, if this process may drive it: its state's lease has expired."""
    now = utcnow()
    return await cols.merges.find_one_and_update(
        {"_id": merge["_id"], "state": merge["state"], "lease_until": {"$lte": now}},
        {"$set": {"lease_until": now + LEASE}},
        return_document=ReturnDocument.AFTER,
    )


async def _finish(cols: Collections, merge: Doc) -> Doc:
    """Drive an unfinished record to its end, or Conflict while its owner still holds it."""
    taken = await _take_lease(cols, merge)
    if taken is None:
        raise Conflict(f"merge {merge['_id']} is still {merge['state']}; try again shortly")
    return await (_drive_merge if taken["state"] == MERGING else _drive_undo)(cols, taken)


async def undo_merge(cols: Collections, merge_id: str, *, now: datetime) -> MergeRecord:
    """Restore both customers from the snapshot, in re-drivable steps."""
    merge = await cols.merges.find_one({"_id": merge_id})
    if merge is None:
        raise NotFound(f"merge {merge_id!r} does not exist", code="merge_not_found")
    if merge.get("state") is not None:
        merge = await _finish(cols, merge)  # a crashed merge (or undo) is completed first
    if merge.get("undone_at") is not None:
        raise Conflict(f"merge {merge_id} was already undone", code="merge_undone")
    later = await cols.merges.find_one(
        {
            "_id": {"$ne": merge_id},
            "undone_at": None,
            "created_at": {"$gte": merge["created_at"]},
            "merged_id": {"$in": [merge["kept_id"], merge["merged_id"]]},
        }
    )
    if later is not None:
        raise Conflict(
            f"customer {merge['kept_id']} was merged again by {later['_id']}; undo that first",
            code="merge_not_latest",
        )
    moving_ids = set(merge["snapshot"]["identities"])
    kept = await require_customer_doc(cols, merge["kept_id"])
    started = await cols.merges.find_one_and_update(
        {"_id": merge_id, "undone_at": None, "state": {"$exists": False}},
        {
            "$set": {
                "state": UNDOING,
                "undo_at": docs.stored(now),
                "lease_until": utcnow() + LEASE,
                # the identities to move back, saved before anything moves
                "moving": [e for e in kept.get("identities") or () if e["id"] in moving_ids],
            }
        },
        return_document=ReturnDocument.AFTER,
    )
    if started is None:
        raise Conflict(f"merge {merge_id} is being undone concurrently", code="merge_undone")
    return docs.merge(await _drive_undo(cols, started))


async def resume_unfinished(cols: Collections) -> int:
    """Drive every merge or undo whose process died half-way; how many were finished."""
    stale = await cols.merges.find(
        {"state": {"$exists": True}, "lease_until": {"$lte": utcnow()}}
    ).to_list()
    finished = 0
    for merge in stale:
        taken = await _take_lease(cols, merge)
        if taken is not None:
            await (_drive_merge if taken["state"] == MERGING else _drive_undo)(cols, taken)
            finished += 1
    return finished
