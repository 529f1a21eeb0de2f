"""The one vocabulary: frozen dataclasses shared by the store, actions, channels and web."""

from __future__ import annotations

import os
import threading
import time
from base64 import b32encode
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Generic, TypeVar

T = TypeVar("T")

# base32 → Crockford's alphabet (no I, L, O, U), as one C-level translate
_CROCKFORD = bytes.maketrans(
    b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", b"0123456789ABCDEFGHJKMNPQRSTVWXYZ"
)


_id_lock = threading.Lock()  # the loop and the store's writer thread both make ids
_last_id = [0]
os.register_at_fork(after_in_child=lambda: _last_id.__setitem__(0, 0))  # its own sequence


def new_id(prefix: str) -> str:
    """A time-ordered unique id (ULID layout: 48-bit ms time, 80 random bits) with a prefix.

    Time order keeps B-tree inserts local and makes ids sortable by creation: within one
    process strictly, so two conversations opened in the same millisecond still queue in the
    order they came (a later one takes the last id + 1 when its random part is lower). Every stored
    row gets one, so it is encoded in C: 20 bytes give 32 base32 characters, the last 26 of
    which are the 130 low bits that hold the ULID (3x faster than a Python digit loop).
    """
    value = (time.time_ns() // 1_000_000 << 80) | int.from_bytes(os.urandom(10), "big")
    with _id_lock:  # strictly increasing in this process, so the same millisecond keeps order
        if value <= _last_id[0]:
            value = _last_id[0] + 1
        _last_id[0] = value
    return f"{prefix}_{b32encode(value.to_bytes(20, 'big'))[6:].translate(_CROCKFORD).decode()}"


def utcnow() -> datetime:
    """The current time, timezone-aware UTC, truncated to milliseconds (the store's precision)."""
    now = datetime.now(UTC)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


class IdentityKind(StrEnum):
    """Kinds of customer address; SMS and WhatsApp share `phone`."""

    EMAIL = "email"
    PHONE = "phone"
    XMPP = "xmpp"
    VISITOR = "visitor"


class Status(StrEnum):
    OPEN = "open"
    PENDING = "pending"
    SNOOZED = "snoozed"
    RESOLVED = "resolved"


class Priority(StrEnum):
    NONE = "none"
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    URGENT = "urgent"


class Direction(StrEnum):
    IN = "in"
    OUT = "out"


class MessageKind(StrEnum):
    MESSAGE = "message"
    NOTE = "note"


class DeliveryStatus(StrEnum):
    RECEIVED = "received"  # inbound, stored
    QUEUED = "queued"  # outbound, in the outbox
    SENT = "sent"  # handed to the provider
    DELIVERED = "delivered"  # provider confirmed delivery
    READ = "read"
    FAILED = "failed"


class Role(StrEnum):
    ADMIN = "admin"
    AGENT = "agent"


@dataclass(frozen=True, kw_only=True, slots=True)
class Attachment:
    filename: str
    content_type: str
    size: int
    url: str | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class Customer:
    id: str
    name: str | None
    attributes: Mapping[str, Any] = field(default_factory=dict)
    tags: tuple[str, ...] = ()
    created_at: datetime
    updated_at: datetime
    merged_into: str | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class Identity:
    id: str
    customer_id: str
    kind: IdentityKind
    address: str  # normalised
    created_at: datetime


@dataclass(frozen=True, kw_only=True, slots=True)
class Conversation:
    id: str
    customer_id: str
    inbox_id: str
    channel: str
    status: Status = Status.OPEN
    priority: Priority = Priority.NONE
    assignee_id: str | None = None
    team_id: str | None = None
    tags: tuple[str, ...] = ()
    subject: str | None = None
    created_at: datetime
    updated_at: datetime
    last_message_at: datetime
    first_response_at: datetime | None = None
    resolved_at: datetime | None = None
    snoozed_until: datetime | None = None
    unread_count: int = 0
    message_count: int = 0


@dataclass(frozen=True, kw_only=True, slots=True)
class Message:
    id: str
    conversation_id: str
    customer_id: str
    direction: Direction
    kind: MessageKind = MessageKind.MESSAGE
    channel: str
    text: str | None = None
    html: str | None = None
    attachments: tuple[Attachment, ...] = ()
    provider_id: str | None = None  # the channel's message id; dedupe key with `channel`
    thread_key: str | None = None  # e.g. the RFC 5322 Message-ID, matched by later replies
    sender: str | None = None  # normalised customer address for inbound
    author_id: str | None = None  # agent id for outbound messages and notes
    delivery_status: DeliveryStatus = DeliveryStatus.RECEIVED
    error: str | None = None
    created_at: datetime
    sent_at: datetime | None = None  # the time the channel says it was sent


@dataclass(frozen=True, kw_only=True, slots=True)
class Team:
    id: str
    name: str
    created_at: datetime


@dataclass(frozen=True, kw_only=True, slots=True)
class Agent:
    id: str
    email: str
    name: str
    role: Role = Role.AGENT
    team_ids: tuple[str, ...] = ()
    active: bool = True
    created_at: datetime
    password_hash: str | None = field(default=None, repr=False)


@dataclass(frozen=True, kw_only=True, slots=True)
class Inbox:
    id: str
    name: str
    channel: str
    team_id: str | None = None
    config: Mapping[str, Any] = field(default_factory=dict)
    created_at: datetime

    def __repr__(self) -> str:
        # settings may hold secrets (which ones, only the channel knows): names, never values
        return (
            f"Inbox(id={self.id!r}, name={self.name!r}, channel={self.channel!r}, "
            f"team_id={self.team_id!r}, config=<keys: {', '.join(sorted(self.config))}>, "
            f"created_at={self.created_at!r})"
        )


@dataclass(frozen=True, kw_only=True, slots=True)
class ApiToken:
    """A bearer token's metadata; the secret is never stored, only its hash (in the store)."""

    id: str
    agent_id: str
    name: str
    created_at: datetime
    last_used_at: datetime | None = None  # kept to within a minute (hub/actions/tokens.py)
    expires_at: datetime | None = None  # None: never expires
    revoked_at: datetime | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class IssuedApiToken(ApiToken):
    """A token just created: its metadata plus the secret, which is shown this once."""

    secret: str


@dataclass(frozen=True, kw_only=True, slots=True)
class ThreadHints:
    """What a channel knows about where a message belongs."""

    message_key: str | None = None  # this message's own thread key (email Message-ID)
    references: tuple[str, ...] = ()  # keys of earlier messages (In-Reply-To, References)


@dataclass(frozen=True, kw_only=True, slots=True)
class Inbound:
    """One customer message as a channel adapter parsed it, before ingest."""

    channel: str
    inbox_id: str
    provider_id: str
    sender_kind: IdentityKind
    sender: str  # raw address; ingest normalises it
    sender_name: str | None = None
    text: str | None = None
    html: str | None = None
    subject: str | None = None
    attachments: tuple[Attachment, ...] = ()
    thread: ThreadHints = ThreadHints()
    sent_at: datetime | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class Outbound:
    """One agent message handed to a channel adapter for sending."""

    outbox_id: str
    message_id: str
    conversation_id: str
    inbox_id: str
    channel: str
    recipient_kind: IdentityKind
    recipient: str
    text: str | None
    html: str | None = None
    subject: str | None = None
    attachments: tuple[Attachment, ...] = ()
    thread: ThreadHints = ThreadHints()
    idempotency_key: str
    attempt: int = 1


@dataclass(frozen=True, kw_only=True, slots=True)
class Receipt:
    """What a channel returns after a send."""

    provider_id: str | None
    status: DeliveryStatus = DeliveryStatus.SENT


class OutboxStatus(StrEnum):
    QUEUED = "queued"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"


@dataclass(frozen=True, kw_only=True, slots=True)
class OutboxEntry:
    id: str
    message_id: str
    conversation_id: str
    idempotency_key: str
    status: OutboxStatus
    attempts: int
    next_attempt_at: datetime
    last_error: str | None = None
    provider_id: str | None = None
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, kw_only=True, slots=True)
class MergeRecord:
    """An audit record of a customer merge; `undone_at` is set once undone."""

    id: str
    kept_id: str
    merged_id: str
    actor_id: str | None
    created_at: datetime
    undone_at: datetime | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class CustomerFile:
    """Everything an agent needs about one customer, in one read."""

    customer: Customer
    identities: tuple[Identity, ...]
    conversations: tuple[Conversation, ...]
    merges: tuple[MergeRecord, ...] = ()


@dataclass(frozen=True, kw_only=True, slots=True)
class Page(Generic[T]):
    """A page of results; pass `next_cursor` back to get the next one (None: no more)."""

    items: tuple[T, ...]
    next_cursor: str | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class ConversationFilter:
    status: Status | None = None
    assignee_id: str | None = None
    unassigned: bool = False
    inbox_id: str | None = None
    inbox_ids: tuple[str, ...] | None = None  # visibility restriction (None: all)
    team_id: str | None = None
    tag: str | None = None
    customer_id: str | None = None
    channel: str | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class IngestResult:
    """What ingest did: `duplicate` means the message was already stored and nothing changed."""

    message: Message
    conversation: Conversation
    customer: Customer
    duplicate: bool = False
    customer_created: bool = False
    conversation_created: bool = False
    conversation_reopened: bool = False


_UNSET: Any = object()


def as_utc(value: datetime) -> datetime:
    """Make a datetime timezone-aware UTC (naive values are taken as UTC)."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


@dataclass(frozen=True, kw_only=True, slots=True)
class Session:
    """A signed-in browser: stored by the SHA-256 of its cookie token (never the token)."""

    id: str
    agent_id: str
    csrf_secret: str = field(repr=False)  # the per-session CSRF token of its forms
    created_at: datetime
    last_seen_at: datetime  # refreshed at most once a minute; drives the idle timeout
    expires_at: datetime  # absolute end, whatever the activity


@dataclass(frozen=True, kw_only=True, slots=True)
class CannedResponse:
    """A reusable reply; `body` may hold placeholders such as `{{ customer.name }}`."""

    id: str
    shortcut: str  # unique, typed after "/" in the reply box
    title: str
    body: str
    created_at: datetime
    updated_at: datetime
