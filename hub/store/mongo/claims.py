"""Idempotency claims on MongoDB: replies and notes share one collection, unique on `_id`.

A claim is written before anything it stands for; its `_id` is the key, so of two racing
requests one inserts it and the other reads it back. A note's claim carries the note as its
`pending` plan, as an outbox entry does for a reply: whoever finds the plan carries it out
again, and the call whose conditional write removes the plan reports `created=True`.
"""

from __future__ import annotations

from datetime import datetime

from pymongo.errors import DuplicateKeyError

from hub.errors import IdempotencyKeyReused
from hub.model import DeliveryStatus, utcnow
from hub.store.base import IdempotencyClaim, NewMessage, NoteResult
from hub.store.mongo.conversations import require_conversation
from hub.store.mongo.documents import Doc
from hub.store.mongo.ingest import APPLIED_KEEP
from hub.store.mongo.messages import agent_message_doc, get_message
from hub.store.mongo.schema import Collections


def claim_record(claim: IdempotencyClaim, conversation_id: str, at: datetime) -> Doc:
    """The stored form of a claim made on a conversation."""
    return {
        "_id": claim.key,
        "fingerprint": claim.fingerprint,
        "conversation_id": conversation_id,
        "created_at": at,
    }


async def take_claim(cols: Collections, claim: IdempotencyClaim, record: Doc) -> Doc:
    """Insert the claim's record, or return the one stored earlier under its key; raises
    IdempotencyKeyReused if the key came with another request (conversation or body)."""
    earlier = await cols.message_keys.find_one({"_id": claim.key})
    if earlier is None:
        try:
            await cols.message_keys.insert_one(record)
            return record
        except DuplicateKeyError:
            earlier = await cols.message_keys.find_one({"_id": claim.key})
            if earlier is None:
                raise
    if earlier["fingerprint"] != claim.fingerprint:
        other = earlier["conversation_id"] != record["conversation_id"]
        raise IdempotencyKeyReused(other_conversation=other)
    return earlier


async def complete_note(cols: Collections, record: Doc) -> bool:
    """Carry out a note claim's pending plan (idempotent); True for the call that finished it."""
    message = record["pending"]["message"]
    try:
        await cols.messages.insert_one(message)
    except DuplicateKeyError:
        pass  # inserted by an earlier attempt
    await cols.conversations.update_one(
        {"_id": message["conversation_id"], "applied": {"$ne": message["_id"]}},
        {
            "$inc": {"message_count": 1},
            "$set": {"updated_at": message["created_at"]},
            "$push": {"applied": {"$each": [message["_id"]], "$slice": -APPLIED_KEEP}},
        },
    )
    done = await cols.message_keys.update_one(
        {"_id": record["_id"], "pending": {"$exists": True}}, {"$unset": {"pending": ""}}
    )
    return bool(done.modified_count)


async def add_note_once(cols: Collections, note: NewMessage, claim: IdempotencyClaim) -> NoteResult:
    """Store a private note once per claim; a replay answers the note stored first."""
    conversation = await require_conversation(cols, note.conversation_id)
    message = agent_message_doc(note, conversation, DeliveryStatus.SENT)
    record = {
        **claim_record(claim, conversation.id, message["created_at"]),
        "message_id": message["_id"],
        "pending": {"since": utcnow(), "message": message},
    }
    taken = await take_claim(cols, claim, record)
    created = "pending" in taken and await complete_note(cols, taken)
    stored = await get_message(cols, taken["message_id"])
    assert stored is not None  # inserted by complete_note at the latest
    after = await require_conversation(cols, stored.conversation_id)
    return NoteResult(message=stored, conversation=after, created=created)
