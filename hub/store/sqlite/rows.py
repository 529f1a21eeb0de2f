"""Conversions between sqlite rows and hub.model objects; sqlite types stop here."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from typing import Any, TypeVar

import orjson

from hub.model import (
    Agent,
    ApiToken,
    Attachment,
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
    Status,
    Team,
)
from hub.store.common import decode_cursor as decode_cursor
from hub.store.common import dt as dt
from hub.store.common import dtn as dtn
from hub.store.common import encode_cursor as encode_cursor
from hub.store.common import ms as ms
from hub.store.common import msn as msn

T = TypeVar("T")


def dumps(value: Any) -> str:
    """JSON text for a column."""
    return orjson.dumps(value).decode()


def loads(value: str) -> Any:
    """A value from a JSON column."""
    return orjson.loads(value)


def keyset_page(
    found: list[sqlite3.Row], limit: int, convert: Callable[[sqlite3.Row], T], time_column: str
) -> Page[T]:
    """A page from `limit + 1` rows ordered by (time_column, id) DESC, with the next cursor."""
    next_cursor = None
    if len(found) > limit:
        last = found[limit - 1]
        next_cursor = encode_cursor(last[time_column], last["id"])
    return Page(items=tuple(convert(r) for r in found[:limit]), next_cursor=next_cursor)


def customer(row: sqlite3.Row) -> Customer:
    return Customer(
        id=row["id"],
        name=row["name"],
        attributes=loads(row["attributes"]),
        tags=tuple(loads(row["tags"])),
        created_at=dtn(row["created_at"]),
        updated_at=dtn(row["updated_at"]),
        merged_into=row["merged_into"],
    )


def identity(row: sqlite3.Row) -> Identity:
    return Identity(
        id=row["id"],
        customer_id=row["customer_id"],
        kind=IdentityKind(row["kind"]),
        address=row["address"],
        created_at=dtn(row["created_at"]),
    )


def conversation(row: sqlite3.Row) -> Conversation:
    return Conversation(
        id=row["id"],
        customer_id=row["customer_id"],
        inbox_id=row["inbox_id"],
        channel=row["channel"],
        status=Status(row["status"]),
        priority=Priority(row["priority"]),
        assignee_id=row["assignee_id"],
        team_id=row["team_id"],
        tags=tuple(loads(row["tags"])),
        subject=row["subject"],
        created_at=dtn(row["created_at"]),
        updated_at=dtn(row["updated_at"]),
        last_message_at=dtn(row["last_message_at"]),
        first_response_at=dt(row["first_response_at"]),
        resolved_at=dt(row["resolved_at"]),
        snoozed_until=dt(row["snoozed_until"]),
        unread_count=row["unread_count"],
        message_count=row["message_count"],
    )


def attachments_json(items: tuple[Attachment, ...]) -> str:
    return dumps(
        [
            {"filename": a.filename, "content_type": a.content_type, "size": a.size, "url": a.url}
            for a in items
        ]
    )


def message(row: sqlite3.Row) -> Message:
    return Message(
        id=row["id"],
        conversation_id=row["conversation_id"],
        customer_id=row["customer_id"],
        direction=Direction(row["direction"]),
        kind=MessageKind(row["kind"]),
        channel=row["channel"],
        text=row["text"],
        html=row["html"],
        attachments=tuple(Attachment(**a) for a in loads(row["attachments"])),
        provider_id=row["provider_id"],
        thread_key=row["thread_key"],
        sender=row["sender"],
        author_id=row["author_id"],
        delivery_status=DeliveryStatus(row["delivery_status"]),
        error=row["error"],
        created_at=dtn(row["created_at"]),
        sent_at=dt(row["sent_at"]),
    )


def team(row: sqlite3.Row) -> Team:
    return Team(id=row["id"], name=row["name"], created_at=dtn(row["created_at"]))


def agent(row: sqlite3.Row, team_ids: tuple[str, ...]) -> Agent:
    return Agent(
        id=row["id"],
        email=row["email"],
        name=row["name"],
        role=Role(row["role"]),
        team_ids=team_ids,
        active=bool(row["active"]),
        created_at=dtn(row["created_at"]),
        password_hash=row["password_hash"],
    )


def inbox(row: sqlite3.Row) -> Inbox:
    return Inbox(
        id=row["id"],
        name=row["name"],
        channel=row["channel"],
        team_id=row["team_id"],
        config=loads(row["config"]),
        created_at=dtn(row["created_at"]),
    )


def token(row: sqlite3.Row) -> ApiToken:
    return ApiToken(
        id=row["id"],
        agent_id=row["agent_id"],
        name=row["name"],
        created_at=dtn(row["created_at"]),
        last_used_at=dt(row["last_used_at"]),
        expires_at=dt(row["expires_at"]),
        revoked_at=dt(row["revoked_at"]),
    )


def outbox(row: sqlite3.Row) -> OutboxEntry:
    return OutboxEntry(
        id=row["id"],
        message_id=row["message_id"],
        conversation_id=row["conversation_id"],
        idempotency_key=row["idempotency_key"],
        status=OutboxStatus(row["status"]),
        attempts=row["attempts"],
        next_attempt_at=dtn(row["next_attempt_at"]),
        last_error=row["last_error"],
        provider_id=row["provider_id"],
        created_at=dtn(row["created_at"]),
        updated_at=dtn(row["updated_at"]),
    )


def merge(row: sqlite3.Row) -> MergeRecord:
    return MergeRecord(
        id=row["id"],
        kept_id=row["kept_id"],
        merged_id=row["merged_id"],
        actor_id=row["actor_id"],
        created_at=dtn(row["created_at"]),
        undone_at=dt(row["undone_at"]),
    )
