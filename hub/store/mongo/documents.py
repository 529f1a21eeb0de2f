"""Conversions between MongoDB documents and hub.model objects; driver types stop here.

A document holds its record's fields (RECORD_FIELDS in hub/store/record_format.py) under the same
names, with `_id` for `id`, datetimes as BSON dates and enums as their values. A few
documents carry more: customers embed their identities, messages carry their inbox id (for
threading and search), and in-flight writes carry a `pending` plan until they complete.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, TypeVar

from hub.errors import InvalidInput
from hub.model import (
    Agent,
    ApiToken,
    Attachment,
    CannedResponse,
    Conversation,
    Customer,
    DeliveryStatus,
    Direction,
    Identity,
    IdentityKind,
    Inbox,
    MergeRecord,
    Message,
    MessageKind,
    OutboxEntry,
    OutboxStatus,
    Page,
    Priority,
    Role,
    Session,
    Status,
    Team,
    as_utc,
)
from hub.store.common import decode_cursor, dtn, encode_cursor, ms

Doc = dict[str, Any]
T = TypeVar("T")


def stored(value: datetime) -> datetime:
    """A time as the store keeps it: UTC, truncated to the millisecond (BSON's precision).

    Writing this (not the caller's value) means what a write returns equals what a later
    read returns, even for a caller's microseconds.
    """
    utc = as_utc(value)
    return utc.replace(microsecond=utc.microsecond // 1000 * 1000)


def stored_or_none(value: datetime | None) -> datetime | None:
    """`stored` for an optional time."""
    return None if value is None else stored(value)


def when(value: datetime) -> datetime:
    """A stored date as hub.model wants it: timezone-aware UTC (the driver's tzinfo dropped)."""
    return as_utc(value)


def when_or_none(value: datetime | None) -> datetime | None:
    """`when` for an optional date."""
    return None if value is None else as_utc(value)


def customer(doc: Doc) -> Customer:
    """A Customer from its document (identities are read separately)."""
    return Customer(
        id=doc["_id"],
        name=doc.get("name"),
        attributes=dict(doc.get("attributes") or {}),
        tags=tuple(doc.get("tags") or ()),
        created_at=when(doc["created_at"]),
        updated_at=when(doc["updated_at"]),
        merged_into=doc.get("merged_into"),
    )


def identity(entry: Doc, customer_id: str) -> Identity:
    """One embedded identity of the customer `customer_id`."""
    return Identity(
        id=entry["id"],
        customer_id=customer_id,
        kind=IdentityKind(entry["kind"]),
        address=entry["address"],
        created_at=when(entry["created_at"]),
    )


def identities(doc: Doc) -> tuple[Identity, ...]:
    """A customer's identities, oldest first."""
    found = [identity(entry, doc["_id"]) for entry in doc.get("identities") or ()]
    return tuple(sorted(found, key=lambda i: (i.created_at, i.id)))


def identity_entry(identity_id: str, kind: IdentityKind, address: str, now: datetime) -> Doc:
    """The embedded form of a new identity."""
    return {"id": identity_id, "kind": kind.value, "address": address, "created_at": now}


def conversation(doc: Doc) -> Conversation:
    """A Conversation from its document."""
    return Conversation(
        id=doc["_id"],
        customer_id=doc["customer_id"],
        inbox_id=doc["inbox_id"],
        channel=doc["channel"],
        status=Status(doc["status"]),
        priority=Priority(doc["priority"]),
        assignee_id=doc.get("assignee_id"),
        team_id=doc.get("team_id"),
        tags=tuple(doc.get("tags") or ()),
        subject=doc.get("subject"),
        created_at=when(doc["created_at"]),
        updated_at=when(doc["updated_at"]),
        last_message_at=when(doc["last_message_at"]),
        first_response_at=when_or_none(doc.get("first_response_at")),
        resolved_at=when_or_none(doc.get("resolved_at")),
        snoozed_until=when_or_none(doc.get("snoozed_until")),
        unread_count=doc.get("unread_count", 0),
        message_count=doc.get("message_count", 0),
    )


def attachments_doc(items: Sequence[Attachment]) -> list[Doc]:
    """Attachments as stored: plain dicts."""
    return [
        {"filename": a.filename, "content_type": a.content_type, "size": a.size, "url": a.url}
        for a in items
    ]


def message(doc: Doc) -> Message:
    """A Message from its document."""
    return Message(
        id=doc["_id"],
        conversation_id=doc["conversation_id"],
        customer_id=doc["customer_id"],
        direction=Direction(doc["direction"]),
        kind=MessageKind(doc["kind"]),
        channel=doc["channel"],
        text=doc.get("text"),
        html=doc.get("html"),
        attachments=tuple(Attachment(**a) for a in doc.get("attachments") or ()),
        provider_id=doc.get("provider_id"),
        thread_key=doc.get("thread_key"),
        sender=doc.get("sender"),
        author_id=doc.get("author_id"),
        delivery_status=DeliveryStatus(doc["delivery_status"]),
        error=doc.get("error"),
        created_at=when(doc["created_at"]),
        sent_at=when_or_none(doc.get("sent_at")),
    )


def team(doc: Doc) -> Team:
    """A Team from its document."""
    return Team(id=doc["_id"], name=doc["name"], created_at=when(doc["created_at"]))


def agent(doc: Doc) -> Agent:
    """An Agent from its document (team ids sorted, as every backend lists them)."""
    return Agent(
        id=doc["_id"],
        email=doc["email"],
        name=doc["name"],
        role=Role(doc["role"]),
        team_ids=tuple(sorted(doc.get("team_ids") or ())),
        active=bool(doc.get("active", True)),
        created_at=when(doc["created_at"]),
        password_hash=doc.get("password_hash"),
    )


def inbox(doc: Doc) -> Inbox:
    """An Inbox from its document."""
    return Inbox(
        id=doc["_id"],
        name=doc["name"],
        channel=doc["channel"],
        team_id=doc.get("team_id"),
        config=dict(doc.get("config") or {}),
        created_at=when(doc["created_at"]),
    )


def token(doc: Doc) -> ApiToken:
    """An ApiToken from its document (the hash stays in the store)."""
    return ApiToken(
        id=doc["_id"],
        agent_id=doc["agent_id"],
        name=doc["name"],
        created_at=when(doc["created_at"]),
        last_used_at=when_or_none(doc.get("last_used_at")),
        expires_at=when_or_none(doc.get("expires_at")),
        revoked_at=when_or_none(doc.get("revoked_at")),
    )


def outbox(doc: Doc) -> OutboxEntry:
    """An OutboxEntry from its document."""
    return OutboxEntry(
        id=doc["_id"],
        message_id=doc["message_id"],
        conversation_id=doc["conversation_id"],
        idempotency_key=doc["idempotency_key"],
        status=OutboxStatus(doc["status"]),
        attempts=doc["attempts"],
        next_attempt_at=when(doc["next_attempt_at"]),
        last_error=doc.get("last_error"),
        provider_id=doc.get("provider_id"),
        created_at=when(doc["created_at"]),
        updated_at=when(doc["updated_at"]),
    )


def merge(doc: Doc) -> MergeRecord:
    """A MergeRecord from its document (the snapshot stays in the store)."""
    return MergeRecord(
        id=doc["_id"],
        kept_id=doc["kept_id"],
        merged_id=doc["merged_id"],
        actor_id=doc.get("actor_id"),
        created_at=when(doc["created_at"]),
        undone_at=when_or_none(doc.get("undone_at")),
    )


def session(doc: Doc) -> Session:
    """A Session from its document."""
    return Session(
        id=doc["_id"],
        agent_id=doc["agent_id"],
        csrf_secret=doc["csrf_secret"],
        created_at=when(doc["created_at"]),
        last_seen_at=when(doc["last_seen_at"]),
        expires_at=when(doc["expires_at"]),
    )


def canned_response(doc: Doc) -> CannedResponse:
    """A CannedResponse from its document."""
    return CannedResponse(
        id=doc["_id"],
        shortcut=doc["shortcut"],
        title=doc["title"],
        body=doc["body"],
        created_at=when(doc["created_at"]),
        updated_at=when(doc["updated_at"]),
    )


# --- keyset paging ----------------------------------------------------------------------


def after_cursor(cursor: str | None, time_field: str) -> Doc:
    """The filter for "strictly after this cursor" in (time_field, _id) DESC order ({} if none).

    The cursor format is the one both backends share (hub/store/common.py): ms and id.
    """
    if not cursor:
        return {}
    at_ms, last_id = decode_cursor(cursor, 2)
    if not isinstance(at_ms, int) or not isinstance(last_id, str):
        raise InvalidInput("invalid cursor", code="invalid_cursor")
    at = dtn(at_ms)
    return {"$or": [{time_field: {"$lt": at}}, {time_field: at, "_id": {"$lt": last_id}}]}


def keyset_page(
    found: list[Doc], limit: int, convert: Callable[[Doc], T], time_field: str
) -> Page[T]:
    """A page from `limit + 1` documents in (time_field, _id) DESC order, with the next cursor."""
    next_cursor = None
    if len(found) > limit:
        last = found[limit - 1]
        next_cursor = encode_cursor(ms(last[time_field]), last["_id"])
    return Page(items=tuple(convert(d) for d in found[:limit]), next_cursor=next_cursor)
