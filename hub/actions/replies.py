"""Reply and note actions, and the delivery outcomes the outbox reports back."""

from __future__ import annotations

import hashlib
import re
import secrets

import orjson

from hub.actions.context import ActionContext
from hub.actions.conversations import require_conversation
from hub.actions.mentions import publish_mentions
from hub.errors import InvalidInput
from hub.events import EventType
from hub.model import (
    Attachment,
    DeliveryStatus,
    Message,
    MessageKind,
    OutboxEntry,
    ThreadHints,
)
from hub.store.base import (
    IdempotencyClaim,
    NewMessage,
    NoteResult,
    ReplyRequest,
    ReplyResult,
    SendResult,
)

MAX_TEXT = 65_536
_KEY = re.compile(r"[\x21-\x7e]{1,200}")


def _check_text(text: str | None, html: str | None, attachments: tuple[Attachment, ...]) -> None:
    if not ((text and text.strip()) or html or attachments):
        raise InvalidInput("a message needs text, html or attachments", field="text")
    if text is not None and len(text) > MAX_TEXT:
        raise InvalidInput(f"text is longer than {MAX_TEXT} characters", field="text")


def _check_key(idempotency_key: str | None) -> None:
    if idempotency_key is not None and not _KEY.fullmatch(idempotency_key):
        raise InvalidInput(
            "idempotency key must be 1-200 printable ASCII characters", field="idempotency_key"
        )


def idempotency_claim(
    idempotency_key: str, *, caller_id: str | None, message: NewMessage
) -> IdempotencyClaim:
    """The claim a caller's key makes for a message.

    The stored key is a hash of the caller and the client's key: two callers never share one
    (a global key let one team's agent read another's reply back, and lost their own). The
    conversation is in the fingerprint, not the key, so the same key on another conversation
    is found and refused instead of silently starting a second namespace.
    """
    scoped = hashlib.sha256(f"{caller_id or 'hub'}\x00{idempotency_key}".encode()).hexdigest()
    request = {
        "conversation_id": message.conversation_id,
        "kind": message.kind,
        "text": message.text,
        "html": message.html,
        "attachments": [[a.filename, a.content_type, a.size, a.url] for a in message.attachments],
    }
    fingerprint = hashlib.sha256(orjson.dumps(request, option=orjson.OPT_SORT_KEYS)).hexdigest()
    return IdempotencyClaim(key=f"key:{scoped}", fingerprint=fingerprint)


async def do_reply(
    ctx: ActionContext,
    conversation_id: str,
    *,
    author_id: str | None,
    text: str | None,
    html: str | None = None,
    attachments: tuple[Attachment, ...] = (),
    idempotency_key: str | None = None,
) -> ReplyResult:
    """Queue a reply on the conversation's channel; the same key never sends twice.

    The key is the author's own (see idempotency_claim): a replay of the same request answers
    the stored reply (`created` False); the key reused for another conversation or body
    raises IdempotencyKeyReused (409).
    """
    _check_text(text, html, attachments)
    _check_key(idempotency_key)
    await require_conversation(ctx, conversation_id)
    message = NewMessage(
        conversation_id=conversation_id,
        kind=MessageKind.MESSAGE.value,
        text=text,
        html=html,
        author_id=author_id,
        attachments=attachments,
        created_at=ctx.clock(),
    )
    claim = None
    if idempotency_key is not None:
        claim = idempotency_claim(idempotency_key, caller_id=author_id, message=message)
    result = await ctx.store.enqueue_reply(
        ReplyRequest(
            message=message,
            # channels send under the scoped key too: stable across retries, unique per caller
            idempotency_key=claim.key if claim else f"auto:{secrets.token_hex(16)}",
            thread=ThreadHints(),
            claim=claim,
        )
    )
    if result.created:
        ctx.bus.publish(
            EventType.MESSAGE_CREATED,
            {"message": result.message, "conversation_id": conversation_id},
        )
        ctx.bus.publish(
            EventType.CONVERSATION_UPDATED,
            {"conversation": result.conversation, "changes": ["last_message_at"]},
        )
        ctx.wake_outbox()
    return result


async def do_note(
    ctx: ActionContext,
    conversation_id: str,
    *,
    author_id: str | None,
    text: str,
    idempotency_key: str | None = None,
) -> Message:
    """Add a private note (never sent to the customer); agents it @mentions are told.

    An idempotency key works as for do_reply: one note per key, a replay answers it.
    """
    return (
        await do_note_once(
            ctx, conversation_id, author_id=author_id, text=text, idempotency_key=idempotency_key
        )
    ).message


async def do_note_once(
    ctx: ActionContext,
    conversation_id: str,
    *,
    author_id: str | None,
    text: str,
    idempotency_key: str | None = None,
) -> NoteResult:
    """do_note, telling a new note (`created`) from a replay of the same key."""
    _check_text(text, None, ())
    _check_key(idempotency_key)
    await require_conversation(ctx, conversation_id)
    note = NewMessage(
        conversation_id=conversation_id,
        kind=MessageKind.NOTE.value,
        text=text,
        author_id=author_id,
        created_at=ctx.clock(),
    )
    if idempotency_key is None:
        message, conversation = await ctx.store.add_note(note)
    else:
        claim = idempotency_claim(idempotency_key, caller_id=author_id, message=note)
        result = await ctx.store.add_note_once(note, claim)
        if not result.created:
            return result
        message, conversation = result.message, result.conversation
    ctx.bus.publish(
        EventType.MESSAGE_CREATED, {"message": message, "conversation_id": conversation_id}
    )
    ctx.bus.publish(
        EventType.CONVERSATION_UPDATED,
        {"conversation": conversation, "changes": ["message_count"]},
    )
    await publish_mentions(ctx, message)
    return NoteResult(message=message, conversation=conversation, created=True)


async def do_record_send(ctx: ActionContext, result: SendResult) -> tuple[OutboxEntry, Message]:
    """Record a send attempt's outcome and tell subscribers the message's new status."""
    entry, message = await ctx.store.record_send(result)
    ctx.bus.publish(
        EventType.MESSAGE_UPDATED,
        {"message": message, "conversation_id": message.conversation_id},
    )
    return entry, message


async def do_delivery_status(
    ctx: ActionContext,
    channel: str,
    provider_id: str,
    status: DeliveryStatus,
    *,
    error: str | None = None,
) -> Message | None:
    """A provider's delivery callback (delivered, read, failed)."""
    before = await ctx.store.set_delivery_status(channel, provider_id, status, error=error)
    if before is not None:
        ctx.bus.publish(
            EventType.MESSAGE_UPDATED,
            {"message": before, "conversation_id": before.conversation_id},
        )
    return before
