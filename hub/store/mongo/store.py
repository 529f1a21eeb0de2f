"""MongoStore: the Store protocol on PyMongo's AsyncMongoClient (replica set or standalone).

No method uses a multi-document transaction, so a standalone server, a replica set and a
sharded cluster behave alike: unique indexes and conditional single-document writes decide
every race, and multi-step writes (ingest, replies, merges) record their plan first so any
caller can finish them (see ingest.py, outbox.py and merges.py).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
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
from hub.store.mongo import (
    claims,
    conversations,
    customers,
    ingest,
    merges,
    messages,
    outbox,
    search,
)
from hub.store.mongo import records as record_jobs
from hub.store.mongo.store_admin import AdminMethods


class MongoStore(AdminMethods):
    """The Store protocol on one MongoDB database (named by the URL's path).

    Each method's contract is its docstring in hub/store/base.py; the Mongo specifics are in
    the job modules each one calls.
    """

    # --- whole-hub transfer ----------------------------------------------------------------
    async def export_records(
        self, kind: RecordKind, *, after: str | None, limit: int
    ) -> list[Record]:
        return await self.run(record_jobs.export_records, kind, after=after, limit=limit)

    async def import_records(self, kind: RecordKind, records: Sequence[Record]) -> int:
        return await self.run(record_jobs.import_records, kind, records)

    # --- ingest ---------------------------------------------------------------------------
    async def ingest(self, req: IngestRequest) -> IngestResult:
        return await self.run(ingest.run_ingest, req)

    async def ingest_many(self, reqs: Sequence[IngestRequest]) -> list[IngestResult | HubError]:
        return await self.run(ingest.run_ingest_many, reqs, self.url)

    # --- customers ------------------------------------------------------------------------
    async def create_customer(
        self,
        *,
        name: str | None,
        attributes: Mapping[str, Any],
        tags: Sequence[str],
        identities: Sequence[tuple[IdentityKind, str]],
        now: datetime,
    ) -> CustomerFile:
        return await self.run(
            customers.create_customer,
            name=name,
            attributes=attributes,
            tags=tags,
            identities=identities,
            now=now,
        )

    async def get_customer(self, customer_id: str) -> Customer | None:
        return await self.run(customers.get_customer, customer_id)

    async def find_identity(self, kind: IdentityKind, address: str) -> Identity | None:
        return await self.run(customers.find_identity, kind, address)

    async def resolve_customer(
        self, kind: IdentityKind, address: str, *, name: str | None, now: datetime
    ) -> tuple[Customer, Identity, bool]:
        return await self.run(customers.resolve_customer, kind, address, name=name, now=now)

    async def add_identity(
        self, customer_id: str, kind: IdentityKind, address: str, *, now: datetime
    ) -> Identity:
        return await self.run(customers.add_identity, customer_id, kind, address, now=now)

    async def update_customer(
        self,
        customer_id: str,
        *,
        name: str | None = UNSET,
        attributes: Mapping[str, Any] = UNSET,
        tags: Sequence[str] = UNSET,
        now: datetime,
    ) -> Customer:
        return await self.run(
            customers.update_customer,
            customer_id,
            name=name,
            attributes=attributes,
            tags=tags,
            now=now,
        )

    async def list_customers(
        self, *, query: str | None = None, limit: int = 25, cursor: str | None = None
    ) -> Page[Customer]:
        return await self.run(customers.list_customers, query=query, limit=limit, cursor=cursor)

    async def customer_file(self, customer_id: str) -> CustomerFile | None:
        return await self.run(customers.customer_file, customer_id)

    async def customer_inbox_ids(self, customer_ids: Sequence[str]) -> dict[str, frozenset[str]]:
        if not customer_ids:
            return {}
        return await self.run(customers.customer_inbox_ids, list(customer_ids))

    async def merge_customers(
        self, kept_id: str, merged_id: str, *, actor_id: str | None, now: datetime
    ) -> MergeRecord:
        return await self.run(
            merges.merge_customers, kept_id, merged_id, actor_id=actor_id, now=now
        )

    async def undo_merge(self, merge_id: str, *, now: datetime) -> MergeRecord:
        return await self.run(merges.undo_merge, merge_id, now=now)

    async def get_merge(self, merge_id: str) -> MergeRecord | None:
        return await self.run(merges.get_merge, merge_id)

    # --- conversations --------------------------------------------------------------------
    async def get_conversation(self, conversation_id: str) -> Conversation | None:
        return await self.run(ingest.load_conversation, conversation_id)

    async def list_conversations(
        self, flt: ConversationFilter, *, limit: int = 25, cursor: str | None = None
    ) -> Page[Conversation]:
        return await self.run(conversations.list_conversations, flt, limit=limit, cursor=cursor)

    async def update_conversation(
        self, conversation_id: str, patch: ConversationPatch
    ) -> tuple[Conversation, Conversation]:
        return await self.run(conversations.update_conversation, conversation_id, patch)

    async def claim_conversation(
        self, conversation_id: str, agent_id: str, *, now: datetime
    ) -> Conversation | None:
        return await self.run(conversations.claim_conversation, conversation_id, agent_id, now=now)

    async def due_snoozed(self, now: datetime, *, limit: int = 100) -> list[Conversation]:
        return await self.run(conversations.due_snoozed, now, limit=limit)

    # --- messages -------------------------------------------------------------------------
    async def get_message(self, message_id: str) -> Message | None:
        return await self.run(messages.get_message, message_id)

    async def list_messages(
        self, conversation_id: str, *, limit: int = 50, cursor: str | None = None
    ) -> Page[Message]:
        return await self.run(messages.list_messages, conversation_id, limit=limit, cursor=cursor)

    async def list_customer_messages(
        self,
        customer_id: str,
        *,
        limit: int = 50,
        cursor: str | None = None,
        inbox_ids: Sequence[str] | None = None,
    ) -> Page[Message]:
        return await self.run(
            messages.list_customer_messages,
            customer_id,
            limit=limit,
            cursor=cursor,
            inbox_ids=inbox_ids,
        )

    async def add_note(self, note: NewMessage) -> tuple[Message, Conversation]:
        return await self.run(messages.add_note, note)

    async def add_note_once(self, note: NewMessage, claim: IdempotencyClaim) -> NoteResult:
        return await self.run(claims.add_note_once, note, claim)

    async def search_messages(
        self, query: str, *, limit: int = 25, inbox_ids: Sequence[str] | None = None
    ) -> list[Message]:
        return await self.run(search.search_messages, query, limit=limit, inbox_ids=inbox_ids)

    # --- outbox ---------------------------------------------------------------------------
    async def enqueue_reply(self, req: ReplyRequest) -> ReplyResult:
        return await self.run(outbox.enqueue_reply, req)

    async def claim_outbox(self, now: datetime, *, limit: int = 50) -> list[OutboxEntry]:
        return await self.run(outbox.claim_outbox, now, limit=limit)

    async def get_outbox(self, outbox_id: str) -> OutboxEntry | None:
        return await self.run(outbox.get_outbox, outbox_id)

    async def record_send(self, result: SendResult) -> tuple[OutboxEntry, Message]:
        return await self.run(outbox.record_send, result)

    async def set_delivery_status(
        self, channel: str, provider_id: str, status: DeliveryStatus, *, error: str | None
    ) -> Message | None:
        return await self.run(outbox.set_delivery_status, channel, provider_id, status, error=error)
