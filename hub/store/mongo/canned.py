"""Canned responses on MongoDB; the unique shortcut index decides duplicates."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pymongo import ASCENDING, ReturnDocument
from pymongo.errors import DuplicateKeyError

from hub.errors import Conflict, NotFound
from hub.model import CannedResponse, new_id
from hub.store.base import UNSET
from hub.store.mongo import documents as docs
from hub.store.mongo.documents import Doc
from hub.store.mongo.schema import Collections


def _shortcut_taken(shortcut: str) -> Conflict:
    return Conflict(
        f"a canned response with shortcut {shortcut!r} already exists",
        code="shortcut_exists",
        field="shortcut",
    )


async def create_canned_response(
    cols: Collections, *, shortcut: str, title: str, body: str, now: datetime
) -> CannedResponse:
    """A new canned response; Conflict on a taken shortcut."""
    at = docs.stored(now)
    doc = {
        "_id": new_id("can"),
        "shortcut": shortcut,
        "title": title,
        "body": body,
        "created_at": at,
        "updated_at": at,
    }
    try:
        await cols.canned.insert_one(doc)
    except DuplicateKeyError:  # the unique shortcut index
        raise _shortcut_taken(shortcut) from None
    return docs.canned_response(doc)


async def list_canned_responses(cols: Collections) -> list[CannedResponse]:
    """All canned responses by shortcut."""
    found = await cols.canned.find().sort([("shortcut", ASCENDING)]).to_list()
    return [docs.canned_response(d) for d in found]


async def get_canned_response(cols: Collections, canned_id: str) -> CannedResponse | None:
    """One canned response."""
    found = await cols.canned.find_one({"_id": canned_id})
    return docs.canned_response(found) if found else None


async def update_canned_response(
    cols: Collections, canned_id: str, *, shortcut: Any, title: Any, body: Any, now: datetime
) -> CannedResponse:
    """Change a canned response's given fields (NotFound, or Conflict)."""
    sets: Doc = {"updated_at": docs.stored(now)}
    for field, value in (("shortcut", shortcut), ("title", title), ("body", body)):
        if value is not UNSET:
            sets[field] = value
    try:
        found = await cols.canned.find_one_and_update(
            {"_id": canned_id}, {"$set": sets}, return_document=ReturnDocument.AFTER
        )
    except DuplicateKeyError:
        raise _shortcut_taken(shortcut) from None
    if found is None:
        raise NotFound(
            f"canned response {canned_id!r} does not exist", code="canned_response_not_found"
        )
    return docs.canned_response(found)


async def delete_canned_response(cols: Collections, canned_id: str) -> bool:
    """Delete a canned response; False if it did not exist."""
    return bool((await cols.canned.delete_one({"_id": canned_id})).deleted_count)
