"""SqliteStore: the embedded default Store on aiosqlite (WAL, FTS5, group commit)."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Mapping, Sequence
from datetime import datetime
from functools import partial
from typing import Any

from hub.errors import HubError
from hub.model import (
    Conversation,
    ConversationFilter,
    Customer,
    CustomerFile,
    DeliveryStatus,
    Identity,
    IdentityKind,
    IngestResult,
    MergeRecord,
    Message,
    OutboxEntry,
    Page,
)
from hub.store.base import (
    UNSET,
    ConversationPatch,
    IdempotencyClaim,
    IngestRequest,
    NewMessage,
    NoteResult,
    Record,
    RecordKind,
    ReplyRequest,
    ReplyResult,
    SendResult,
)
from hub.store.sqlite import (
    conversations,
    customers,
    migrations,
    outbox,
)
from hub.store.sqlite import records as record_io
from hub.store.sqlite.engine import SqliteEngine
from hub.store.sqlite.ingest import (
    load_conversation,
    load_customer,
    run_ingest,
    run_ingest_many,
)
from hub.store.sqlite.search_index import SearchIndexer
from hub.store.sqlite.store_admin import AdminMethods


def _counts(conn: sqlite3.Connection) -> dict[str, int]:
    out = {
        kind.value: conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]
        for kind, table in record_io.TABLES.items()
    }
    out["live_customers"] = conn.execute(
        "SELECT COUNT(*) FROM customers WHERE merged_into IS NULL"
    ).fetchone()[0]
    return out


class SqliteStore(AdminMethods):
    """The Store protocol on one SQLite file (the administrative part: AdminMethods)."""

    backend = "sqlite"

    def __init__(self, path: str, *, synchronous: str = "full", batch_max: int = 256) -> None:
        if path != ":memory:":
            parent = os.path.dirname(os.path.abspath(path))
            os.makedirs(parent, exist_ok=True)
        self.path = path
        self.engine = SqliteEngine(path, synchronous=synchronous, batch_max=batch_max)
        self.indexer = SearchIndexer(self.engine)

    async def open(self) -> None:
        await self.engine.open(migrations.migrate)
        self.indexer.start()

    async def close(self) -> None:
        await self.indexer.stop()
        await self.engine.close()

    async def schema_version(self) -> int:
        return await self.engine.read(migrations.current_version)

    async def counts(self) -> dict[str, int]:
        return await self.engine.read(_counts)

    # --- whole-hub transfer -------------------------------------------------------------
    async def export_records(
        self, kind: RecordKind, *, after: str | None, limit: int
    ) -> list[Record]:
        job = partial(record_io.export_records, kind=kind, after=after, limit=limit)
        return await self.engine.read(job)

    async def import_records(self, kind: RecordKind, records: Sequence[Record]) -> int:
        if not records:
            return 0
        # one write job per batch: the batch commits (or fails) as a whole
        job = partial(record_io.import_records, kind=kind, records=list(records))
        return await self.engine.write(job)

    # --- ingest -------------------------------------------------------------------------
    async def ingest(self, req: IngestRequest) -> IngestResult:
        return await self.engine.write(partial(run_ingest, req=req))

    async def ingest_many(self, reqs: Sequence[IngestRequest]) -> list[IngestResult | HubError]:
        if not reqs:
            return []
        return await self.engine.write(partial(run_ingest_many, reqs=list(reqs)))

    # --- customers ----------------------------------------------------------------------
    async def create_customer(
        self,
        *,
        name: str | None,
        attributes: Mapping[str, Any],
        tags: Sequence[str],
        identities: Sequence[tuple[IdentityKind, str]],
        now: datetime,
    ) -> CustomerFile:
        job = partial(
            customers.create_customer,
            name=name,
            attributes=attributes,
            tags=tags,
            identities=identities,
            now=now,
        )
        return await self.engine.write(job)

    async def get_customer(self, customer_id: str) -> Customer | None:
        return await self.engine.read(partial(load_customer, customer_id=customer_id))

    async def find_identity(self, kind: IdentityKind, address: str) -> Identity | None:
        return await self.engine.read(partial(customers.find_identity, kind=kind, address=address))

    async def resolve_customer(
        self, kind: IdentityKind, address: str, *, name: str | None, now: datetime
    ) -> tuple[Customer, Identity, bool]:
        found = await self.find_identity(kind, address)  # the common case needs no write
        if found is not None:
            customer = await self.get_customer(found.customer_id)
            if customer is not None:
                return customer, found, False
        job = partial(customers.resolve_customer, kind=kind, address=address, name=name, now=now)
        return await self.engine.write(job)

    async def add_identity(
        self, customer_id: str, kind: IdentityKind, address: str, *, now: datetime
    ) -> Identity:
        job = partial(
            customers.add_identity, customer_id=customer_id, kind=kind, address=address, now=now
        )
        return await self.engine.write(job)

    async def update_customer(
        self,
        customer_id: str,
        *,
        name: str | None = UNSET,
        attributes: Mapping[str, Any] = UNSET,
        tags: Sequence[str] = UNSET,
        now: datetime,
    ) -> Customer:
        job = partial(
            customers.update_customer,
            customer_id=customer_id,
            name=name,
            attributes=attributes,
            tags=tags,
            now=now,
        )
        return await self.engine.write(job)

    async def list_customers(
        self, *, query: str | None = None, limit: int = 25, cursor: str | None = None
    ) -> Page[Customer]:
        job = partial(customers.list_customers, query=query, limit=limit, cursor=cursor)
        return await self.engine.read(job)

    async def customer_file(self, customer_id: str) -> CustomerFile | None:
        return await self.engine.read(partial(customers.customer_file, customer_id=customer_id))

    async def customer_inbox_ids(self, customer_ids: Sequence[str]) -> dict[str, frozenset[str]]:
        if not customer_ids:
            return {}
        job = partial(customers.customer_inbox_ids, customer_ids=list(customer_ids))
        return await self.engine.read(job)

    async def merge_customers(
        self, kept_id: str, merged_id: str, *, actor_id: str | None, now: datetime
    ) -> MergeRecord:
        job = partial(
            customers.merge_customers,
            kept_id=kept_id,
            merged_id=merged_id,
            actor_id=actor_id,
            now=now,
        )
        return await self.engine.write(job)

    async def undo_merge(self, merge_id: str, *, now: datetime) -> MergeRecord:
        return await self.engine.write(partial(customers.undo_merge, merge_id=merge_id, now=now))

    async def get_merge(self, merge_id: str) -> MergeRecord | None:
        return await self.engine.read(partial(customers.get_merge, merge_id=merge_id))

    # --- conversations ------------------------------------------------------------------
    async def get_conversation(self, conversation_id: str) -> Conversation | None:
        job = partial(load_conversation, conversation_id=conversation_id)
        return await self.engine.read(job)

    async def list_conversations(
        self, flt: ConversationFilter, *, limit: int = 25, cursor: str | None = None
    ) -> Page[Conversation]:
        job = partial(conversations.list_conversations, flt=flt, limit=limit, cursor=cursor)
        return await self.engine.read(job)

    async def update_conversation(
        self, conversation_id: str, patch: ConversationPatch
    ) -> tuple[Conversation, Conversation]:
        job = partial(
            conversations.update_conversation, conversation_id=conversation_id, patch=patch
        )
        return await self.engine.write(job)

    async def claim_conversation(
        self, conversation_id: str, agent_id: str, *, now: datetime
    ) -> Conversation | None:
        job = partial(
            conversations.claim_conversation,
            conversation_id=conversation_id,
            agent_id=agent_id,
            now=now,
        )
        return await self.engine.write(job)

    async def due_snoozed(self, now: datetime, *, limit: int = 100) -> list[Conversation]:
        return await self.engine.read(partial(conversations.due_snoozed, now=now, limit=limit))

    # --- messages -----------------------------------------------------------------------
    async def get_message(self, message_id: str) -> Message | None:
        return await self.engine.read(partial(conversations.get_message, message_id=message_id))

    async def list_messages(
        self, conversation_id: str, *, limit: int = 50, cursor: str | None = None
    ) -> Page[Message]:
        job = partial(
            conversations.list_messages,
            conversation_id=conversation_id,
            limit=limit,
            cursor=cursor,
        )
        return await self.engine.read(job)

    async def list_customer_messages(
        self,
        customer_id: str,
        *,
        limit: int = 50,
        cursor: str | None = None,
        inbox_ids: Sequence[str] | None = None,
    ) -> Page[Message]:
        job = partial(
            customers.list_customer_messages,
            customer_id=customer_id,
            limit=limit,
            cursor=cursor,
            inbox_ids=inbox_ids,
        )
        return await self.engine.read(job)

    async def add_note(self, note: NewMessage) -> tuple[Message, Conversation]:
        return await self.engine.write(partial(conversations.add_note, note=note))

    async def add_note_once(self, note: NewMessage, claim: IdempotencyClaim) -> NoteResult:
        return await self.engine.write(partial(conversations.add_note_once, note=note, claim=claim))

    async def search_messages(
        self, query: str, *, limit: int = 25, inbox_ids: Sequence[str] | None = None
    ) -> list[Message]:
        await self.indexer.drain_for_search()  # search sees every committed message
        job = partial(conversations.search_messages, query=query, limit=limit, inbox_ids=inbox_ids)
        return await self.engine.read(job)

    # --- outbox -------------------------------------------------------------------------
    async def enqueue_reply(self, req: ReplyRequest) -> ReplyResult:
        return await self.engine.write(partial(outbox.enqueue_reply, req=req))

    async def claim_outbox(self, now: datetime, *, limit: int = 50) -> list[OutboxEntry]:
        return await self.engine.write(partial(outbox.claim_outbox, now=now, limit=limit))

    async def get_outbox(self, outbox_id: str) -> OutboxEntry | None:
        return await self.engine.read(partial(outbox.get_outbox, outbox_id=outbox_id))

    async def record_send(self, result: SendResult) -> tuple[OutboxEntry, Message]:
        return await self.engine.write(partial(outbox.record_send, result=result))

    async def set_delivery_status(
        self, channel: str, provider_id: str, status: DeliveryStatus, *, error: str | None
    ) -> Message | None:
        job = partial(
            outbox.set_delivery_status,
            channel=channel,
            provider_id=provider_id,
            status=status,
            error=error,
        )
        return await self.engine.write(job)
