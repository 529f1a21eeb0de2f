"""Outbound replies and the outbox on MongoDB: idempotent on the key, claimed atomically.

Enqueueing follows the ingest pattern: the outbox entry (unique idempotency key) is written
first, holding the planned message as its `pending` plan; then the message is inserted, the
conversation bumped (once, guarded by the message id) and the plan removed. A second enqueue
with the key, or the dispatcher finding a stale plan, carries the same plan out again. The
caller whose conditional write removes the plan reports `created=True`: exactly one.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from pymongo import ASCENDING, ReturnDocument
from pymongo.errors import DuplicateKeyError

from hub.errors import NotFound
from hub.model import DeliveryStatus, Message, OutboxEntry, OutboxStatus, new_id, utcnow
from hub.store.base import ReplyRequest, ReplyResult, SendResult
from hub.store.common import DELIVERY_RANK, SENDING_LEASE
from hub.store.mongo import documents as docs
from hub.store.mongo.claims import claim_record, complete_note, take_claim
from hub.store.mongo.conversations import require_conversation
from hub.store.mongo.documents import Doc
from hub.store.mongo.ingest import APPLIED_KEEP
from hub.store.mongo.messages import agent_message_doc, get_message
from hub.store.mongo.schema import Collections

# a plan older than this belongs to a process that died mid-enqueue; the dispatcher finishes it
PENDING_LEASE = timedelta(minutes=1)
_ENTRY_HIDDEN = {"pending": 0}


async def get_outbox(cols: Collections, outbox_id: str) -> OutboxEntry | None:
    """One outbox entry."""
    found = await cols.outbox.find_one({"_id": outbox_id}, _ENTRY_HIDDEN)
    return docs.outbox(found) if found else None


async def _complete_reply(cols: Collections, entry: Doc) -> bool:
    """Carry out an entry's pending plan (idempotent); True for the call that finished it."""
    message = entry["pending"]["message"]
    try:
        await cols.messages.insert_one(message)
    except DuplicateKeyError:
        pass  # inserted by an earlier attempt
    at = message["created_at"]
    await cols.conversations.update_one(
        {"_id": message["conversation_id"], "applied": {"$ne": message["_id"]}},
        {
            "$inc": {"message_count": 1},
            "$max": {"last_message_at": at},
            "$set": {"updated_at": at, "unread_count": 0},
            "$push": {"applied": {"$each": [message["_id"]], "$slice": -APPLIED_KEEP}},
        },
    )
    # the first reply's time stays: set only while unset (no COALESCE in an update document)
    await cols.conversations.update_one(
        {"_id": message["conversation_id"], "first_response_at": None},
        {"$set": {"first_response_at": at}},
    )
    done = await cols.outbox.update_one(
        {"_id": entry["_id"], "pending": {"$exists": True}}, {"$unset": {"pending": ""}}
    )
    return bool(done.modified_count)


async def _result(cols: Collections, entry: Doc) -> ReplyResult:
    created = "pending" in entry and await _complete_reply(cols, entry)
    message = await get_message(cols, entry["message_id"])
    assert message is not None  # inserted by _complete_reply at the latest
    conversation = await require_conversation(cols, entry["conversation_id"])
    stored = {k: v for k, v in entry.items() if k != "pending"}
    return ReplyResult(
        message=message, outbox=docs.outbox(stored), conversation=conversation, created=created
    )


async def enqueue_reply(cols: Collections, req: ReplyRequest) -> ReplyResult:
    """Store a reply and its outbox entry once per idempotency key (and claim)."""
    conversation = await require_conversation(cols, req.message.conversation_id)
    message = agent_message_doc(
        req.message, conversation, DeliveryStatus.QUEUED, thread_key=req.thread.message_key
    )
    at = message["created_at"]
    if req.claim is not None:
        # after the checks that may refuse the request, before anything is written (a key
        # reused for another request stores nothing); a matching claim was made with this
        # very key, so the lookup below finds its entry
        await take_claim(cols, req.claim, claim_record(req.claim, conversation.id, at))
    existing = await cols.outbox.find_one({"idempotency_key": req.idempotency_key})
    if existing is not None:
        return await _result(cols, existing)
    entry = {
        "_id": new_id("obx"),
        "message_id": message["_id"],
        "conversation_id": conversation.id,
        "idempotency_key": req.idempotency_key,
        "status": OutboxStatus.QUEUED.value,
        "attempts": 0,
        "next_attempt_at": at,
        "last_error": None,
        "provider_id": None,
        "created_at": at,
        "updated_at": at,
        "pending": {"since": utcnow(), "message": message},
    }
    try:
        await cols.outbox.insert_one(entry)
    except DuplicateKeyError:
        winner = await cols.outbox.find_one({"idempotency_key": req.idempotency_key})
        if winner is None:
            raise
        return await _result(cols, winner)
    return await _result(cols, entry)


async def _finish_stale_plans(cols: Collections) -> None:
    stale_since = {"pending.since": {"$lte": utcnow() - PENDING_LEASE}}
    for entry in await cols.outbox.find(stale_since).to_list():
        await _complete_reply(cols, entry)
    for record in await cols.message_keys.find(stale_since).to_list():
        await complete_note(cols, record)


async def claim_outbox(cols: Collections, now: datetime, *, limit: int) -> list[OutboxEntry]:
    """Due entries, each taken by one conditional write, so concurrent claims share nothing."""
    await _finish_stale_plans(cols)
    now = docs.stored(now)
    # an entry left 'sending' past the lease belongs to a dispatcher that died mid-send
    claimable: Doc = {
        "pending": {"$exists": False},
        "$or": [
            {"status": OutboxStatus.QUEUED.value, "next_attempt_at": {"$lte": now}},
            {"status": OutboxStatus.SENDING.value, "updated_at": {"$lte": now - SENDING_LEASE}},
        ],
    }
    candidates = (
        await cols.outbox.find(claimable, {"_id": 1})
        .sort([("next_attempt_at", ASCENDING)])
        .limit(limit)
        .to_list()
    )
    claimed: list[OutboxEntry] = []
    for candidate in candidates:
        taken = await cols.outbox.find_one_and_update(
            {"_id": candidate["_id"], **claimable},
            {
                "$set": {"status": OutboxStatus.SENDING.value, "updated_at": now},
                "$inc": {"attempts": 1},
            },
            _ENTRY_HIDDEN,
            return_document=ReturnDocument.AFTER,
        )
        if taken is not None:  # None: another dispatcher took it in between
            claimed.append(docs.outbox(taken))
    return claimed


def _entry_status(status: DeliveryStatus) -> OutboxStatus:
    if status == DeliveryStatus.QUEUED:
        return OutboxStatus.QUEUED
    if status == DeliveryStatus.FAILED:
        return OutboxStatus.FAILED
    return OutboxStatus.SENT


async def record_send(cols: Collections, result: SendResult) -> tuple[OutboxEntry, Message]:
    """Record one send attempt's outcome on the entry and its message."""
    at = docs.stored(result.at)
    entry_sets: Doc = {
        "status": _entry_status(result.delivery_status).value,
        "last_error": result.error,
        "updated_at": at,
    }
    message_sets: Doc = {"delivery_status": result.delivery_status.value, "error": result.error}
    if result.provider_id is not None:
        entry_sets["provider_id"] = message_sets["provider_id"] = result.provider_id
    if result.next_attempt_at is not None:
        entry_sets["next_attempt_at"] = docs.stored(result.next_attempt_at)
    entry = await cols.outbox.find_one_and_update(
        {"_id": result.outbox_id},
        {"$set": entry_sets},
        _ENTRY_HIDDEN,
        return_document=ReturnDocument.AFTER,
    )
    if entry is None:
        raise NotFound(f"outbox entry {result.outbox_id!r} does not exist")
    await cols.messages.update_one({"_id": entry["message_id"]}, {"$set": message_sets})
    if result.delivery_status in (DeliveryStatus.SENT, DeliveryStatus.DELIVERED):
        await cols.messages.update_one(
            {"_id": entry["message_id"], "sent_at": None}, {"$set": {"sent_at": at}}
        )
    message = await get_message(cols, entry["message_id"])
    assert message is not None
    return docs.outbox(entry), message


async def set_delivery_status(
    cols: Collections, channel: str, provider_id: str, status: DeliveryStatus, *, error: str | None
) -> Message | None:
    """A provider's status callback; None if no such outbound message."""
    match: Doc = {"channel": channel, "provider_id": provider_id, "direction": "out"}
    current = await cols.messages.find_one(match, {"_id": 1})
    if current is None:
        return None
    # callbacks arrive out of order; never move a status backwards (delivered -> sent). The
    # rank check is part of the write's filter, so two racing callbacks cannot undo each other.
    guarded: Doc = {"_id": current["_id"]}
    if status != DeliveryStatus.FAILED:
        rank = DELIVERY_RANK.get(status, 0)
        lower = [s.value for s in DeliveryStatus if DELIVERY_RANK.get(s, 0) < rank]
        guarded["delivery_status"] = {"$in": lower}
    await cols.messages.update_one(
        guarded, {"$set": {"delivery_status": status.value, "error": error}}
    )
    return await get_message(cols, current["_id"])
