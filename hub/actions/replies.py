"""Reply and note actions, and the delivery outcomes the outbox reports back."""

from __future__ import annotations

import re
import secrets

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
from hub.store.base import NewMessage, ReplyRequest, ReplyResult, SendResult

MAX_TEXT = 65_536
_KEY = re.compile(r"[\x21-\x7e]{1,200}")


def _check_text(text: str | None, html: str | None, attachments: tuple[Attachment, ...]) -> None:
    if not ((text and text.strip()) or html or attachments):
        raise InvalidInput("a message needs text, html or attachments", field="text")
    if text is not None and len(text) > MAX_TEXT:
        raise InvalidInput(f"text is longer than {MAX_TEXT} characters", field="text")


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
    """Queue a reply on the conversation's channel; the same key never sends twice."""
    _check_text(text, html, attachments)
    if idempotency_key is not None and not _KEY.fullmatch(idempotency_key):
        raise InvalidInput(
            "idempotency key must be 1-200 printable ASCII characters", field="idempotency_key"
        )
    await require_conversation(ctx, conversation_id)
    key = idempotency_key or f"auto:{secrets.token_hex(16)}"
    result = await ctx.store.enqueue_reply(
        ReplyRequest(
            message=NewMessage(
                conversation_id=conversation_id,
                kind=MessageKind.MESSAGE.value,
                text=text,
                html=html,
                author_id=author_id,
                attachments=attachments,
                created_at=ctx.clock(),
            ),
            idempotency_key=key,
            thread=ThreadHints(),
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
    ctx: ActionContext, conversation_id: str, *, author_id: str | None, text: str
) -> Message:
    """Add a private note (never sent to the customer); agents it @mentions are told."""
    _check_text(text, None, ())
    await require_conversation(ctx, conversation_id)
    message, conversation = await ctx.store.add_note(
        NewMessage(
            conversation_id=conversation_id,
            kind=MessageKind.NOTE.value,
            text=text,
            author_id=author_id,
            created_at=ctx.clock(),
        )
    )
    ctx.bus.publish(
        EventType.MESSAGE_CREATED, {"message": message, "conversation_id": conversation_id}
    )
    ctx.bus.publish(
        EventType.CONVERSATION_UPDATED,
        {"conversation": conversation, "changes": ["message_count"]},
    )
    await publish_mentions(ctx, message)
    return message


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
