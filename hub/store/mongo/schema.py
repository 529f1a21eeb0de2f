"""The MongoDB layout: collections, their indexes (created idempotently) and the schema version."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pymongo import ASCENDING, DESCENDING, TEXT

SCHEMA_VERSION = 1

Doc = dict[str, Any]

# The driver's AsyncCollection, or the test mock that masquerades as one; typed loosely so the
# same code serves both, and nothing of it leaves this package.
Collection = Any


@dataclass(frozen=True, slots=True)
class Collections:
    """The hub's collections in one database."""

    teams: Collection
    agents: Collection
    inboxes: Collection
    tokens: Collection
    customers: Collection  # identities are embedded: [{id, kind, address, created_at}]
    conversations: Collection
    messages: Collection
    outbox: Collection
    message_keys: Collection  # idempotency claims of replies and notes, _id = the scoped key
    merges: Collection
    canned: Collection
    sessions: Collection
    meta: Collection


def collections_of(db: Any) -> Collections:
    """The hub's collections in a database."""
    return Collections(
        teams=db["teams"],
        agents=db["agents"],
        inboxes=db["inboxes"],
        tokens=db["api_tokens"],
        customers=db["customers"],
        conversations=db["conversations"],
        messages=db["messages"],
        outbox=db["outbox"],
        message_keys=db["message_keys"],
        merges=db["merges"],
        canned=db["canned_responses"],
        sessions=db["sessions"],
        meta=db["meta"],
    )


@dataclass(frozen=True, slots=True)
class IndexSpec:
    """One index: its collection attribute, keys, name and options."""

    collection: str
    keys: list[tuple[str, Any]]
    name: str
    options: Doc


def _index(collection: str, name: str, *keys: tuple[str, Any], **options: Any) -> IndexSpec:
    return IndexSpec(collection=collection, keys=list(keys), name=name, options=options)


_NEWEST = (("last_message_at", DESCENDING), ("_id", DESCENDING))

INDEXES: tuple[IndexSpec, ...] = (
    _index("teams", "teams_name", ("name", ASCENDING), unique=True),
    _index("agents", "agents_email", ("email", ASCENDING), unique=True),
    _index("agents", "agents_name", ("name", ASCENDING), ("_id", ASCENDING)),
    _index("inboxes", "inboxes_name", ("name", ASCENDING)),
    _index("tokens", "tokens_hash", ("token_hash", ASCENDING), unique=True),
    _index("tokens", "tokens_agent", ("agent_id", ASCENDING), ("created_at", ASCENDING)),
    # One identity can never belong to two customers: a unique multikey index works across
    # documents. Partial, so customers without identities do not all collide on (null, null).
    _index(
        "customers",
        "customers_identity",
        ("identities.kind", ASCENDING),
        ("identities.address", ASCENDING),
        unique=True,
        partialFilterExpression={"identities.address": {"$exists": True}},
    ),
    _index("customers", "customers_identity_id", ("identities.id", ASCENDING)),
    _index("customers", "customers_newest", ("created_at", DESCENDING), ("_id", DESCENDING)),
    _index("conversations", "conv_recent", *_NEWEST),
    _index("conversations", "conv_assignee", ("assignee_id", ASCENDING), *_NEWEST),
    _index("conversations", "conv_status", ("status", ASCENDING), *_NEWEST),
    _index("conversations", "conv_inbox", ("inbox_id", ASCENDING), *_NEWEST),
    _index("conversations", "conv_tags", ("tags", ASCENDING), *_NEWEST),
    _index(
        "conversations", "conv_customer", ("customer_id", ASCENDING), ("inbox_id", ASCENDING),
        *_NEWEST,
    ),
    _index(
        "conversations", "conv_snoozed", ("snoozed_until", ASCENDING),
        partialFilterExpression={"status": "snoozed"},
    ),
    # Dedupe: the unique index decides which of two concurrent ingests stores the message.
    _index(
        "messages", "messages_provider", ("channel", ASCENDING), ("provider_id", ASCENDING),
        unique=True, partialFilterExpression={"provider_id": {"$type": "string"}},
    ),
    _index(
        "messages", "messages_conversation", ("conversation_id", ASCENDING),
        ("created_at", DESCENDING), ("_id", DESCENDING),
    ),
    _index(
        "messages", "messages_thread", ("thread_key", ASCENDING), ("inbox_id", ASCENDING),
        partialFilterExpression={"thread_key": {"$type": "string"}},
    ),
    _index("messages", "messages_customer", ("customer_id", ASCENDING)),
    # "none": no stemming and no stop words, like the SQLite FTS5 tokenizer
    _index("messages", "messages_text", ("text", TEXT), default_language="none"),
    _index("outbox", "outbox_key", ("idempotency_key", ASCENDING), unique=True),
    _index("outbox", "outbox_due", ("status", ASCENDING), ("next_attempt_at", ASCENDING)),
    _index(
        "outbox", "outbox_pending", ("pending.since", ASCENDING),
        partialFilterExpression={"pending": {"$exists": True}},
    ),
    # a note's claim holds the note as a plan until it is stored; the dispatcher finishes
    # plans a dead process left behind
    _index(
        "message_keys", "message_keys_pending", ("pending.since", ASCENDING),
        partialFilterExpression={"pending": {"$exists": True}},
    ),
    _index("merges", "merges_kept", ("kept_id", ASCENDING)),
    _index("merges", "merges_merged", ("merged_id", ASCENDING)),
    _index(
        "merges", "merges_unfinished", ("lease_until", ASCENDING),
        partialFilterExpression={"state": {"$exists": True}},
    ),
    _index("canned", "canned_shortcut", ("shortcut", ASCENDING), unique=True),
    _index("sessions", "sessions_token", ("token_hash", ASCENDING), unique=True),
    _index("sessions", "sessions_agent", ("agent_id", ASCENDING)),
    _index("sessions", "sessions_expiry", ("expires_at", ASCENDING)),
)  # fmt: skip


def _present(spec: IndexSpec, existing: Doc) -> bool:
    """Whether an index of this name and these keys exists already."""
    found = existing.get(spec.name)
    return found is not None and [tuple(k) for k in found["key"]] == spec.keys


async def ensure_indexes(cols: Collections) -> None:
    """Create every missing index; run at each open, so it is idempotent.

    An index of the same name and keys is left alone (one listing per collection instead of
    a command per index). One whose definition changed is created again, which the server
    refuses loudly instead of running on the old definition. One call per index (not
    create_indexes): a partial filter must reach the server as given.
    """
    existing: dict[str, Doc] = {}
    for spec in INDEXES:
        collection = getattr(cols, spec.collection)
        if spec.collection not in existing:
            existing[spec.collection] = await collection.index_information()
        if not _present(spec, existing[spec.collection]):
            await collection.create_index(spec.keys, name=spec.name, **spec.options)


async def record_schema_version(cols: Collections) -> None:
    """Record the layout version (never lowered, so an older process cannot roll it back)."""
    await cols.meta.update_one(
        {"_id": "schema"}, {"$max": {"version": SCHEMA_VERSION}}, upsert=True
    )


async def read_schema_version(cols: Collections) -> int:
    """The recorded layout version (0 before the first open)."""
    doc = await cols.meta.find_one({"_id": "schema"})
    return int(doc["version"]) if doc else 0
