"""Records: the backend-neutral interchange form of a whole hub (`hub transfer`, counts)."""

from __future__ import annotations

from enum import StrEnum
from typing import Any


class RecordKind(StrEnum):
    """The kinds of record a whole hub consists of, in the order a transfer copies them.

    `counts()` returns one entry per kind under these names (plus backend extras such as
    `live_customers`), so a transfer can verify itself.
    """

    TEAMS = "teams"
    AGENTS = "agents"
    INBOXES = "inboxes"
    API_TOKENS = "api_tokens"
    CUSTOMERS = "customers"
    IDENTITIES = "identities"
    CONVERSATIONS = "conversations"
    MESSAGES = "messages"
    OUTBOX = "outbox"
    MERGES = "merges"
    CANNED_RESPONSES = "canned_responses"
    # Sessions are deliberately no kind: they are short-lived browser credentials, so a
    # transferred hub starts with none and everyone signs in again.


# A record is the backend-neutral interchange form of one stored row/document: a dict with
# exactly the fields listed here. Times are timezone-aware datetimes (UTC), enums are their
# string values, and JSON-ish fields (attributes, tags, config, attachments, team_ids,
# snapshot) are plain Python lists/dicts. Every record has a unique, stable `id`. A merge's
# `snapshot` is {"kept": <customer record>, "merged": <customer record>, "identities": [ids],
# "conversations": [ids], "messages": [ids]}: what undo needs, the same on every backend.
RECORD_FIELDS: dict[RecordKind, tuple[str, ...]] = {
    RecordKind.TEAMS: ("id", "name", "created_at"),
    RecordKind.AGENTS: (
        "id", "email", "name", "role", "active", "password_hash", "team_ids", "created_at",
    ),
    RecordKind.INBOXES: ("id", "name", "channel", "team_id", "config", "created_at"),
    RecordKind.API_TOKENS: (
        "id", "agent_id", "name", "token_hash", "created_at", "last_used_at", "revoked_at",
        "expires_at",
    ),
    RecordKind.CUSTOMERS: (
        "id", "name", "attributes", "tags", "created_at", "updated_at", "merged_into",
    ),
    RecordKind.IDENTITIES: ("id", "customer_id", "kind", "address", "created_at"),
    RecordKind.CONVERSATIONS: (
        "id", "customer_id", "inbox_id", "channel", "status", "priority", "assignee_id",
        "team_id", "tags", "subject", "created_at", "updated_at", "last_message_at",
        "first_response_at", "resolved_at", "snoozed_until", "unread_count", "message_count",
    ),
    RecordKind.MESSAGES: (
        "id", "conversation_id", "customer_id", "direction", "kind", "channel", "text", "html",
        "attachments", "provider_id", "thread_key", "sender", "author_id", "delivery_status",
        "error", "created_at", "sent_at",
    ),
    RecordKind.OUTBOX: (
        "id", "message_id", "conversation_id", "idempotency_key", "status", "attempts",
        "next_attempt_at", "last_error", "provider_id", "created_at", "updated_at",
    ),
    RecordKind.MERGES: (
        "id", "kept_id", "merged_id", "actor_id", "created_at", "undone_at", "snapshot",
    ),
    RecordKind.CANNED_RESPONSES: (
        "id", "shortcut", "title", "body", "created_at", "updated_at",
    ),
}  # fmt: skip

Record = dict[str, Any]
