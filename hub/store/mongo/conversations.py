"""Conversations on MongoDB: filtered keyset lists, patches, atomic claims, snooze wake-ups."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pymongo import ASCENDING, DESCENDING, ReturnDocument

from hub.errors import NotFound
from hub.model import Conversation, ConversationFilter, Page, Status
from hub.store.base import ConversationPatch
from hub.store.mongo import documents as docs
from hub.store.mongo.documents import Doc
from hub.store.mongo.ingest import load_conversation
from hub.store.mongo.schema import Collections

# internal bookkeeping that never leaves the store
HIDDEN = {"applied": 0}

_VALUE_FOR_PATCH: dict[str, Any] = {
    "status": lambda v: v.value,
    "priority": lambda v: v.value,
    "assignee_id": lambda v: v,
    "team_id": lambda v: v,
    # tags are a set kept in the caller's order: repeats dropped, as update_customer does
    "tags": lambda v: list(dict.fromkeys(v)),
    "snoozed_until": docs.stored_or_none,
    "resolved_at": docs.stored_or_none,
    "unread_count": lambda v: v,
    "updated_at": docs.stored,
}


async def require_conversation(cols: Collections, conversation_id: str) -> Conversation:
    """The conversation, or NotFound."""
    found = await load_conversation(cols, conversation_id)
    if found is None:
        raise NotFound(
            f"conversation {conversation_id!r} does not exist", code="conversation_not_found"
        )
    return found


def _filter_clauses(flt: ConversationFilter) -> list[Doc]:
    clauses: list[Doc] = []
    simple = {
        "status": flt.status.value if flt.status else None,
        "assignee_id": flt.assignee_id,
        "inbox_id": flt.inbox_id,
        "team_id": flt.team_id,
        "customer_id": flt.customer_id,
        "channel": flt.channel,
        "tags": flt.tag,
    }
    clauses += [{field: value} for field, value in simple.items() if value is not None]
    if flt.unassigned:
        clauses.append({"assignee_id": None})
    if flt.inbox_ids is not None:
        clauses.append({"inbox_id": {"$in": list(flt.inbox_ids)}})
    return clauses


async def list_conversations(
    cols: Collections, flt: ConversationFilter, *, limit: int, cursor: str | None
) -> Page[Conversation]:
    """Filtered conversations, most recent activity first (keyset paged)."""
    if flt.inbox_ids is not None and not flt.inbox_ids:
        return Page(items=())
    clauses = _filter_clauses(flt)
    after = docs.after_cursor(cursor, "last_message_at")
    if after:
        clauses.append(after)
    found = (
        await cols.conversations.find({"$and": clauses} if clauses else {}, HIDDEN)
        .sort([("last_message_at", DESCENDING), ("_id", DESCENDING)])
        .limit(limit + 1)
        .to_list()
    )
    return docs.keyset_page(found, limit, docs.conversation, "last_message_at")


async def update_conversation(
    cols: Collections, conversation_id: str, patch: ConversationPatch
) -> tuple[Conversation, Conversation]:
    """Apply a patch in one write; returns (before, after)."""
    before = await require_conversation(cols, conversation_id)
    changes = patch.changed_fields()
    if not changes:
        return before, before
    sets = {name: _VALUE_FOR_PATCH[name](value) for name, value in changes.items()}
    after = await cols.conversations.find_one_and_update(
        {"_id": conversation_id}, {"$set": sets}, HIDDEN, return_document=ReturnDocument.AFTER
    )
    if after is None:
        raise NotFound(
            f"conversation {conversation_id!r} does not exist", code="conversation_not_found"
        )
    return before, docs.conversation(after)


async def claim_conversation(
    cols: Collections, conversation_id: str, agent_id: str, *, now: datetime
) -> Conversation | None:
    """Assign only if still unassigned: one conditional write, so two claims never both win."""
    claimed = await cols.conversations.find_one_and_update(
        {"_id": conversation_id, "assignee_id": None},
        {"$set": {"assignee_id": agent_id, "updated_at": docs.stored(now)}},
        HIDDEN,
        return_document=ReturnDocument.AFTER,
    )
    if claimed is not None:
        return docs.conversation(claimed)
    # "None if someone else holds it": a repeated claim by the holder (a double click, a
    # retried request) is not a lost race, so it returns the conversation unchanged
    current = await require_conversation(cols, conversation_id)
    return current if current.assignee_id == agent_id else None


async def due_snoozed(cols: Collections, now: datetime, *, limit: int) -> list[Conversation]:
    """Snoozed conversations whose time has come, soonest first."""
    found = (
        await cols.conversations.find(
            {"status": Status.SNOOZED.value, "snoozed_until": {"$lte": docs.stored(now)}}, HIDDEN
        )
        .sort([("snoozed_until", ASCENDING)])
        .limit(limit)
        .to_list()
    )
    return [docs.conversation(d) for d in found]
