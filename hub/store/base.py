"""The Store contract: async methods that speak only hub.model, never a driver's types."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, Protocol

from hub.errors import HubError
from hub.model import (
    Agent,
    ApiToken,
    CannedResponse,
    Conversation,
    ConversationFilter,
    Customer,
    CustomerFile,
    DeliveryStatus,
    Identity,
    IdentityKind,
    Inbox,
    IngestResult,
    MergeRecord,
    Message,
    OutboxEntry,
    Page,
    Role,
    Session,
    Team,
)
from hub.store.record_format import Record, RecordKind
from hub.store.requests import (
    UNSET,
    ConversationPatch,
    IdempotencyClaim,
    IngestRequest,
    NewMessage,
    NoteResult,
    ReplyRequest,
    ReplyResult,
    SendResult,
)

# the requests and records are imported from here too: one place to import the contract from
__all__ = [
    "UNSET",
    "ConversationPatch",
    "IdempotencyClaim",
    "IngestRequest",
    "NewMessage",
    "NoteResult",
    "Record",
    "RecordKind",
    "ReplyRequest",
    "ReplyResult",
    "SendResult",
    "Store",
]


class Store(Protocol):
    """What every backend implements; the contract suite in tests/store runs against each."""

    backend: str

    async def open(self) -> None:
        """Connect and bring the schema up to date."""

    async def close(self) -> None:
        """Flush pending writes and disconnect."""

    async def schema_version(self) -> int:
        """The applied schema version."""

    async def counts(self) -> dict[str, int]:
        """Counts per RecordKind value (and backend extras), for health and transfer checks."""

    # --- whole-hub transfer (`hub transfer`) ---------------------------------------------
    async def export_records(
        self, kind: RecordKind, *, after: str | None, limit: int
    ) -> list[Record]:
        """Up to `limit` records of one kind in ascending id order, with ids above `after`."""

    async def import_records(self, kind: RecordKind, records: Sequence[Record]) -> int:
        """Upsert records by id, exactly as given (re-running a transfer is safe)."""

    # --- ingest -------------------------------------------------------------------------
    async def ingest(self, req: IngestRequest) -> IngestResult:
        """Dedupe, resolve the customer, thread and store one inbound message, atomically."""

    async def ingest_many(self, reqs: Sequence[IngestRequest]) -> list[IngestResult | HubError]:
        """`ingest` for each request, in order; a request that fails gets its error in its
        place and does not affect the others (a batch costs one round trip, not one each)."""

    # --- customers and identities -------------------------------------------------------
    async def create_customer(
        self,
        *,
        name: str | None,
        attributes: Mapping[str, Any],
        tags: Sequence[str],
        identities: Sequence[tuple[IdentityKind, str]],
        now: datetime,
    ) -> CustomerFile:
        """Create a customer with identities; Conflict if an identity belongs to someone."""

    async def get_customer(self, customer_id: str) -> Customer | None:
        """One customer (merged ones too, with merged_into set)."""

    async def find_identity(self, kind: IdentityKind, address: str) -> Identity | None:
        """The identity with this normalised address."""

    async def resolve_customer(
        self, kind: IdentityKind, address: str, *, name: str | None, now: datetime
    ) -> tuple[Customer, Identity, bool]:
        """The owner of an address, created if none; the bool says it was created."""

    async def add_identity(
        self, customer_id: str, kind: IdentityKind, address: str, *, now: datetime
    ) -> Identity:
        """Attach an address to a customer; Conflict if another customer owns it."""

    async def update_customer(
        self,
        customer_id: str,
        *,
        name: str | None = UNSET,
        attributes: Mapping[str, Any] = UNSET,
        tags: Sequence[str] = UNSET,
        now: datetime,
    ) -> Customer:
        """Change a customer; attributes are merged (a None value deletes the key)."""

    async def list_customers(
        self, *, query: str | None = None, limit: int = 25, cursor: str | None = None
    ) -> Page[Customer]:
        """Live (unmerged) customers, newest first, optionally matching name or address."""

    async def customer_file(self, customer_id: str) -> CustomerFile | None:
        """The customer with identities, conversations and merge history, in one read."""

    async def customer_inbox_ids(self, customer_ids: Sequence[str]) -> dict[str, frozenset[str]]:
        """The inboxes of each customer's conversations, in one read (none: an empty set)."""

    async def merge_customers(
        self, kept_id: str, merged_id: str, *, actor_id: str | None, now: datetime
    ) -> MergeRecord:
        """Move everything of `merged_id` onto `kept_id`, recording how to undo it."""

    async def undo_merge(self, merge_id: str, *, now: datetime) -> MergeRecord:
        """Restore both customers exactly as they were before the merge."""

    async def get_merge(self, merge_id: str) -> MergeRecord | None:
        """One merge record."""

    # --- conversations ------------------------------------------------------------------
    async def get_conversation(self, conversation_id: str) -> Conversation | None:
        """One conversation."""

    async def list_conversations(
        self, flt: ConversationFilter, *, limit: int = 25, cursor: str | None = None
    ) -> Page[Conversation]:
        """Conversations matching the filter, most recent activity first (keyset paged)."""

    async def update_conversation(
        self, conversation_id: str, patch: ConversationPatch
    ) -> tuple[Conversation, Conversation]:
        """Apply a patch; returns (before, after)."""

    async def claim_conversation(
        self, conversation_id: str, agent_id: str, *, now: datetime
    ) -> Conversation | None:
        """Assign only if still unassigned (atomic); None if someone else holds it."""

    async def due_snoozed(self, now: datetime, *, limit: int = 100) -> list[Conversation]:
        """Snoozed conversations whose time has come."""

    # --- messages -----------------------------------------------------------------------
    async def get_message(self, message_id: str) -> Message | None:
        """One message."""

    async def list_messages(
        self, conversation_id: str, *, limit: int = 50, cursor: str | None = None
    ) -> Page[Message]:
        """Messages of a conversation, newest first (keyset paged back in time)."""

    async def list_customer_messages(
        self,
        customer_id: str,
        *,
        limit: int = 50,
        cursor: str | None = None,
        inbox_ids: Sequence[str] | None = None,
    ) -> Page[Message]:
        """A customer's messages from all their conversations, newest first (keyset paged),
        optionally only those of conversations in `inbox_ids`."""

    async def add_note(self, note: NewMessage) -> tuple[Message, Conversation]:
        """Store a private note on a conversation."""

    async def add_note_once(self, note: NewMessage, claim: IdempotencyClaim) -> NoteResult:
        """Store a private note once per claim; a replay answers the stored note."""

    async def search_messages(
        self, query: str, *, limit: int = 25, inbox_ids: Sequence[str] | None = None
    ) -> list[Message]:
        """Full-text search over message text, best match first."""

    # --- outbox -------------------------------------------------------------------------
    async def enqueue_reply(self, req: ReplyRequest) -> ReplyResult:
        """Store an outbound message and its outbox entry; idempotent on the key (and the
        claim: IdempotencyKeyReused if it was made for another request)."""

    async def claim_outbox(self, now: datetime, *, limit: int = 50) -> list[OutboxEntry]:
        """Due entries (and ones stuck sending for 5 minutes), marked sending, attempts + 1."""

    async def get_outbox(self, outbox_id: str) -> OutboxEntry | None:
        """One outbox entry."""

    async def record_send(self, result: SendResult) -> tuple[OutboxEntry, Message]:
        """Record one attempt's outcome on the entry and its message."""

    async def set_delivery_status(
        self, channel: str, provider_id: str, status: DeliveryStatus, *, error: str | None
    ) -> Message | None:
        """A provider's status callback; None if no such message."""

    # --- agents, teams, inboxes, tokens -------------------------------------------------
    async def create_team(self, name: str, *, now: datetime) -> Team:
        """A new team; Conflict on a duplicate name."""

    async def list_teams(self) -> list[Team]:
        """All teams by name."""

    async def create_agent(
        self,
        *,
        email: str,
        name: str,
        role: Role,
        password_hash: str | None,
        team_ids: Sequence[str],
        now: datetime,
    ) -> Agent:
        """A new agent; Conflict on a duplicate email."""

    async def get_agent(self, agent_id: str) -> Agent | None:
        """One agent."""

    async def get_agent_by_email(self, email: str) -> Agent | None:
        """The agent with this (normalised) email."""

    async def list_agents(self) -> list[Agent]:
        """All agents by name."""

    async def create_inbox(
        self,
        *,
        name: str,
        channel: str,
        team_id: str | None,
        config: Mapping[str, Any],
        now: datetime,
    ) -> Inbox:
        """A new inbox."""

    async def get_inbox(self, inbox_id: str) -> Inbox | None:
        """One inbox."""

    async def list_inboxes(self) -> list[Inbox]:
        """All inboxes by name."""

    async def create_token(
        self,
        *,
        agent_id: str,
        name: str,
        token_hash: str,
        now: datetime,
        expires_at: datetime | None = None,
    ) -> ApiToken:
        """Store a token by its hash (the secret itself is never stored); NotFound agent."""

    async def agent_for_token(self, token_hash: str) -> tuple[Agent, ApiToken] | None:
        """The agent an unrevoked token belongs to (the caller checks expires_at)."""

    async def get_token(self, token_id: str) -> ApiToken | None:
        """One token by id, revoked or not."""

    async def list_tokens(self, agent_id: str) -> list[ApiToken]:
        """An agent's unrevoked tokens (expired ones included), oldest first."""

    async def revoke_token(self, token_id: str, *, now: datetime) -> bool:
        """Revoke a token; False if it did not exist or was revoked already."""

    async def touch_token(self, token_id: str, *, now: datetime) -> None:
        """Record a use: last_used_at becomes `now` unless it is later already."""

    # --- admin edits (agents, teams, inboxes) -----------------------------------------
    async def update_agent(
        self,
        agent_id: str,
        *,
        name: str = UNSET,
        role: Role = UNSET,
        team_ids: Sequence[str] = UNSET,
        active: bool = UNSET,
        password_hash: str | None = UNSET,
    ) -> Agent:
        """Change an agent (UNSET fields are left alone); NotFound for the agent or a team."""

    async def update_inbox(
        self,
        inbox_id: str,
        *,
        name: str = UNSET,
        team_id: str | None = UNSET,
        config: Mapping[str, Any] = UNSET,
    ) -> Inbox:
        """Change an inbox (config is replaced whole); NotFound for the inbox or the team."""

    async def rename_team(self, team_id: str, name: str) -> Team:
        """Rename a team; NotFound if it does not exist, Conflict if the name is taken."""

    async def delete_team(self, team_id: str) -> bool:
        """Delete an unused team (False if it did not exist).

        Conflict while inboxes or agents still use it; the error's details name them
        (`inboxes` and `agents`: lists of ids).
        """

    # --- sessions (browser sign-ins) --------------------------------------------------
    async def create_session(
        self,
        *,
        agent_id: str,
        token_hash: str,
        csrf_secret: str,
        now: datetime,
        expires_at: datetime,
    ) -> Session:
        """Store a session by its token's hash; NotFound if the agent does not exist."""

    async def get_session(self, token_hash: str) -> tuple[Session, Agent] | None:
        """The session with this token hash and its agent, expired or not (callers check)."""

    async def touch_session(self, session_id: str, *, now: datetime) -> bool:
        """Record activity (last_seen_at = now); False if the session is gone."""

    async def delete_session(self, token_hash: str) -> bool:
        """End one session (logout); False if there was none."""

    async def delete_agent_sessions(self, agent_id: str) -> int:
        """End every session of an agent (deactivation, password change); how many."""

    async def delete_expired_sessions(self, *, now: datetime) -> int:
        """Drop sessions whose absolute expiry has passed; how many."""

    # --- canned responses -------------------------------------------------------------
    async def create_canned_response(
        self, *, shortcut: str, title: str, body: str, now: datetime
    ) -> CannedResponse:
        """A new canned response; Conflict on a duplicate shortcut."""

    async def list_canned_responses(self) -> list[CannedResponse]:
        """All canned responses by shortcut."""

    async def get_canned_response(self, canned_id: str) -> CannedResponse | None:
        """One canned response."""

    async def update_canned_response(
        self,
        canned_id: str,
        *,
        shortcut: str = UNSET,
        title: str = UNSET,
        body: str = UNSET,
        now: datetime,
    ) -> CannedResponse:
        """Change a canned response; NotFound if missing, Conflict if the shortcut is taken."""

    async def delete_canned_response(self, canned_id: str) -> bool:
        """Delete a canned response; False if it did not exist."""
