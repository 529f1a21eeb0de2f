"""Request bodies and query strings of the JSON API: strict, unknown fields rejected."""

from __future__ import annotations

import math
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    WithJsonSchema,
)

from hub.model import IdentityKind, Priority, Status

Text = Annotated[str, StringConstraints(max_length=65_536)]
ShortText = Annotated[str, StringConstraints(min_length=1, max_length=200)]
Id = Annotated[str, StringConstraints(min_length=1, max_length=64)]
Tag = Annotated[str, StringConstraints(min_length=1, max_length=64)]
INT64_MAX = 2**63 - 1


def whole(value: object) -> object:
    """1.0 as 1 (a BeforeValidator for integer fields); anything else unchanged."""
    # JSON Schema's "integer" includes 1.0, and the document promises JSON Schema
    return int(value) if isinstance(value, float) and value.is_integer() else value


def _storable(value: dict[str, Any]) -> dict[str, Any]:
    # both stores keep JSON in 64-bit integers and finite doubles (SQLite via orjson, BSON)
    pending: list[Any] = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, dict):
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
        elif isinstance(item, int) and not isinstance(item, bool):
            if not -INT64_MAX - 1 <= item <= INT64_MAX:
                raise ValueError("integers must fit in 64 bits")
        elif isinstance(item, float) and not math.isfinite(item):
            raise ValueError("numbers must be finite")
    return value


WholeNumber = Annotated[int, Field(ge=0, le=INT64_MAX), BeforeValidator(whole)]

# what _storable lets through, as JSON Schema (openapi.py adds it to the components)
JSON_VALUE_SCHEMA: dict[str, Any] = {
    "description": "Any JSON value with 64-bit integers and finite numbers",
    "anyOf": [
        {"type": ["string", "boolean", "null"]},
        {"type": "integer", "minimum": -INT64_MAX - 1, "maximum": INT64_MAX},
        {"type": "number", "not": {"type": "integer"}},
        {"type": "array", "items": {"$ref": "#/components/schemas/JsonValue"}},
        {"type": "object", "additionalProperties": {"$ref": "#/components/schemas/JsonValue"}},
    ],
}
JsonObject = Annotated[
    dict[str, Any],
    AfterValidator(_storable),
    WithJsonSchema(
        {"type": "object", "additionalProperties": {"$ref": "#/components/schemas/JsonValue"}}
    ),
]


class Strict(BaseModel):
    """Unknown fields are errors; no silent coercion of types."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class AddressIn(Strict):
    kind: IdentityKind = Field(description="email, phone, xmpp or visitor")
    address: Annotated[str, StringConstraints(min_length=1, max_length=1024)]


class CustomerCreateIn(Strict):
    name: Annotated[str, StringConstraints(max_length=200)] | None = None
    identities: Annotated[list[AddressIn], Field(max_length=50)] = []
    attributes: JsonObject = {}
    tags: Annotated[list[Tag], Field(max_length=50)] = []


class CustomerPatchIn(Strict):
    name: Annotated[str, StringConstraints(max_length=200)] | None = None
    attributes: JsonObject | None = Field(
        default=None, description="Merge patch: a null value deletes the key."
    )
    tags: Annotated[list[Tag], Field(max_length=50)] | None = None


class MergeIn(Strict):
    customer_id: Id = Field(description="The duplicate to merge INTO the customer in the path.")


class ConversationPatchIn(Strict):
    status: Status | None = None
    snoozed_until: datetime | None = None
    priority: Priority | None = None
    assignee_id: Id | None = None
    unassign: bool = False
    team_id: Id | None = None
    tags: Annotated[list[Tag], Field(max_length=50)] | None = None
    add_tags: Annotated[list[Tag], Field(max_length=50)] = []
    remove_tags: Annotated[list[Tag], Field(max_length=50)] = []
    mark_read: bool = False


class MessageIn(Strict):
    kind: Literal["reply", "note"] = "reply"
    text: Text | None = None
    html: Annotated[str, StringConstraints(max_length=1_048_576)] | None = None


SETTINGS_DESCRIPTION = (
    "The channel's settings for this inbox. A secret setting (e.g. identity_secret, "
    "webhook_secret) is a string to set or replace it, null to clear it, or "
    '{"set": true|false} (as read back) or left out to keep it; it is stored encrypted and '
    'never returned: agents do not see it, admins see only {"set": true|false}.'
)


class InboxIn(Strict):
    name: ShortText
    channel: ShortText
    team_id: Id | None = None
    config: JsonObject = Field(default={}, description=SETTINGS_DESCRIPTION)


class InboxPatchIn(Strict):
    """Fields left out are unchanged; `config` replaces the settings whole, except secrets."""

    name: ShortText | None = None
    team_id: Id | None = Field(default=None, description="null: no team (every agent sees it)")
    config: JsonObject | None = Field(default=None, description=SETTINGS_DESCRIPTION)


class ConversationQuery(Strict):
    """Query string of GET /conversations (values arrive as strings; lax parsing here)."""

    model_config = ConfigDict(extra="forbid", strict=False, frozen=True)
    status: Status | None = None
    assignee: Annotated[str, StringConstraints(max_length=64)] | None = Field(
        default=None, description="An agent id, 'me', or 'none' for unassigned"
    )
    inbox: Id | None = None
    team: Id | None = None
    tag: Tag | None = None
    channel: Id | None = None
    customer: Id | None = None
    limit: Annotated[int, Field(ge=1, le=100)] = 25
    cursor: Annotated[str, StringConstraints(max_length=512)] | None = None


class PageQuery(Strict):
    model_config = ConfigDict(extra="forbid", strict=False, frozen=True)
    q: Annotated[str, StringConstraints(max_length=200)] | None = None
    limit: Annotated[int, Field(ge=1, le=100)] = 25
    cursor: Annotated[str, StringConstraints(max_length=512)] | None = None


class SearchQuery(Strict):
    """Query string of GET /search: the words are required; one page, so no cursor."""

    model_config = ConfigDict(extra="forbid", strict=False, frozen=True)
    q: Annotated[str, StringConstraints(min_length=1, max_length=200, pattern=r"\S")] = Field(
        description="The words to find (not only spaces)"
    )
    limit: Annotated[int, Field(ge=1, le=100)] = 25
