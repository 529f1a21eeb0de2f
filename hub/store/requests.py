"""The requests and results that the Store contract's writes take and give (hub/store/base.py)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from hub.model import (
    Attachment,
    Conversation,
    DeliveryStatus,
    Inbound,
    Message,
    OutboxEntry,
    Priority,
    Status,
    ThreadHints,
)


class _Unset:
    """Marks a patch field that was not given (distinct from an explicit None)."""

    _instance: _Unset | None = None

    def __new__(cls) -> _Unset:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "UNSET"

    def __bool__(self) -> bool:
        return False


UNSET: Any = _Unset()


@dataclass(frozen=True, kw_only=True, slots=True)
class IngestRequest:
    """An inbound message whose sender address is already normalised."""

    inbound: Inbound
    sender: str
    received_at: datetime
    reopen_window: timedelta
    # Called by the store, inside the ingest, only when the message opens a new
    # conversation: team id -> the agent to assign it to (None: leave it unassigned). So a
    # new conversation is stored already assigned, in the same commit as its first message.
    # It must be cheap and thread-safe (the SQLite writer calls it in its thread).
    assign_new: Callable[[str | None], str | None] | None = field(default=None, compare=False)


@dataclass(frozen=True, kw_only=True, slots=True)
class ConversationPatch:
    """Fields to change on a conversation; UNSET fields are left alone."""

    status: Status = UNSET
    priority: Priority = UNSET
    assignee_id: str | None = UNSET
    team_id: str | None = UNSET
    tags: tuple[str, ...] = UNSET
    snoozed_until: datetime | None = UNSET
    resolved_at: datetime | None = UNSET
    unread_count: int = UNSET
    updated_at: datetime = UNSET

    def changed_fields(self) -> dict[str, Any]:
        """The fields that were given, by name."""
        return {
            name: getattr(self, name)
            for name in self.__dataclass_fields__
            if getattr(self, name) is not UNSET
        }


@dataclass(frozen=True, kw_only=True, slots=True)
class NewMessage:
    """An agent-side message (a note, or an outbound reply) to store."""

    conversation_id: str
    kind: str
    text: str | None
    html: str | None = None
    author_id: str | None = None
    attachments: tuple[Attachment, ...] = ()
    created_at: datetime


@dataclass(frozen=True, kw_only=True, slots=True)
class IdempotencyClaim:
    """A caller's idempotency key as stored, and the fingerprint of the request it came with.

    `key` is derived from the caller and the client's key, so one caller never meets another
    caller's key. Replies and notes share one namespace of claims, unique in the store: a key
    seen again with the same fingerprint is a replay (the original answer), with another
    fingerprint (another conversation or body) it raises IdempotencyKeyReused.
    """

    key: str
    fingerprint: str  # over the conversation, the kind and the body


@dataclass(frozen=True, kw_only=True, slots=True)
class ReplyRequest:
    """An outbound reply to store together with its outbox entry, idempotent on the key.

    `idempotency_key` is the outbox entry's (channels send under it); with a `claim`, it is
    the claim's key, and the claim is checked and recorded first.
    """

    message: NewMessage
    idempotency_key: str
    thread: ThreadHints = field(default_factory=ThreadHints)
    claim: IdempotencyClaim | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class ReplyResult:
    message: Message
    outbox: OutboxEntry
    conversation: Conversation
    created: bool  # False: the idempotency key was seen before; nothing new was stored


@dataclass(frozen=True, kw_only=True, slots=True)
class NoteResult:
    message: Message
    conversation: Conversation
    created: bool  # False: the claim was seen before; nothing new was stored


@dataclass(frozen=True, kw_only=True, slots=True)
class SendResult:
    """The outcome of one send attempt, recorded on the outbox entry and its message."""

    outbox_id: str
    delivery_status: DeliveryStatus  # SENT/DELIVERED on success, QUEUED to retry, FAILED
    provider_id: str | None = None
    error: str | None = None
    next_attempt_at: datetime | None = None
    at: datetime
