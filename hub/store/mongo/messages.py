"""Messages on MongoDB: reads keyed on (conversation, time), notes, and agent message documents."""

from __future__ import annotations

from collections.abc import Sequence

from pymongo import DESCENDING, ReturnDocument

from hub.errors import InvalidInput
from hub.model import Conversation, DeliveryStatus, Direction, Message, MessageKind, Page, new_id
from hub.store.base import NewMessage
from hub.store.mongo import documents as docs
from hub.store.mongo.conversations import HIDDEN, require_conversation
from hub.store.mongo.documents import Doc
from hub.store.mongo.schema import Collections

# a message's bookkeeping that never leaves the store (its inbox is only for threading/search)
MESSAGE_HIDDEN = {"pending": 0, "inbox_id": 0}


async def get_message(cols: Collections, message_id: str) -> Message | None:
    """One message."""
    found = await cols.messages.find_one({"_id": message_id}, MESSAGE_HIDDEN)
    return docs.message(found) if found else None


async def list_messages(
    cols: Collections, conversation_id: str, *, limit: int, cursor: str | None
) -> Page[Message]:
    """A conversation's messages, newest first (keyset paged back in time)."""
    query: Doc = {"conversation_id": conversation_id, **docs.after_cursor(cursor, "created_at")}
    return await _newest_first(cols, query, limit)


async def list_customer_messages(
    cols: Collections,
    customer_id: str,
    *,
    limit: int,
    cursor: str | None,
    inbox_ids: Sequence[str] | None,
) -> Page[Message]:
    """A customer's messages across conversations, newest first (messages_customer index)."""
    if inbox_ids is not None and not inbox_ids:
        return Page(items=())
    query: Doc = {"customer_id": customer_id, **docs.after_cursor(cursor, "created_at")}
    if inbox_ids is not None:
        query["inbox_id"] = {"$in": list(inbox_ids)}
    return await _newest_first(cols, query, limit)


async def _newest_first(cols: Collections, query: Doc, limit: int) -> Page[Message]:
    """A keyset page of the messages matching `query`, newest first."""
    found = (
        await cols.messages.find(query, MESSAGE_HIDDEN)
        .sort([("created_at", DESCENDING), ("_id", DESCENDING)])
        .limit(limit + 1)
        .to_list()
    )
    return docs.keyset_page(found, limit, docs.message, "created_at")


def agent_message_doc(
    new: NewMessage,
    conversation: Conversation,
    status: DeliveryStatus,
    *,
    thread_key: str | None = None,
) -> Doc:
    """The document of a note or an outbound reply (InvalidInput for an unknown kind)."""
    if new.kind not in MessageKind.__members__.values():
        raise InvalidInput(f"unknown message kind {new.kind!r}", code="invalid_kind")
    return {
        "_id": new_id("msg"),
        "conversation_id": conversation.id,
        "customer_id": conversation.customer_id,
        "inbox_id": conversation.inbox_id,
        "direction": Direction.OUT.value,
        "kind": new.kind,
        "channel": conversation.channel,
        "text": new.text,
        "html": new.html,
        "attachments": docs.attachments_doc(new.attachments),
        "provider_id": None,
        "thread_key": thread_key,
        "sender": None,
        "author_id": new.author_id,
        "delivery_status": status.value,
        "error": None,
        "created_at": docs.stored(new.created_at),
        "sent_at": None,
    }


async def add_note(cols: Collections, note: NewMessage) -> tuple[Message, Conversation]:
    """Store a private note and count it on its conversation."""
    conversation = await require_conversation(cols, note.conversation_id)
    doc = agent_message_doc(note, conversation, DeliveryStatus.SENT)
    await cols.messages.insert_one(doc)
    after = await cols.conversations.find_one_and_update(
        {"_id": conversation.id},
        {"$set": {"updated_at": doc["created_at"]}, "$inc": {"message_count": 1}},
        HIDDEN,
        return_document=ReturnDocument.AFTER,
    )
    return docs.message(doc), docs.conversation(after)
