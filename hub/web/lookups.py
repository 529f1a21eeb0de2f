"""Short-lived caches for the per-request lookups of the API (token → agent, inboxes).

Every store read is a thread hop (~50 µs here, PERFORMANCE.md) and the bench showed them
costing ~120 µs per inbound message. Agents and inboxes change rarely; a few seconds of
staleness is the price: a token revoked by another process stops working here within
TOKEN_TTL (10) seconds, while this process forgets changes it makes itself at once. Expiry
needs no cache turn: the cached token carries expires_at, checked on every request.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from cachetools import TTLCache

from hub.model import Agent, ApiToken, Inbox
from hub.store.base import Store

TOKEN_TTL = 10.0
INBOX_TTL = 5.0


class Lookups:
    """Cached reads of tokens and inboxes, one per app."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._tokens: TTLCache[str, tuple[Agent, ApiToken]] = TTLCache(10_000, TOKEN_TTL)
        self._inboxes: TTLCache[str, tuple[Inbox, ...]] = TTLCache(1, INBOX_TTL)

    async def agent_for_token(self, token_hash: str) -> tuple[Agent, ApiToken] | None:
        """The live token's agent (only hits are cached, so a new token works at once)."""
        found = self._tokens.get(token_hash)
        if found is None:
            found = await self._store.agent_for_token(token_hash)
            if found is not None:
                self._tokens[token_hash] = found
        return found

    def token_used(self, token_hash: str, now: datetime) -> None:
        """Note a recorded use in the cached copy, so the next request does not record it too."""
        found = self._tokens.get(token_hash)
        if found is not None:
            agent, token = found
            self._tokens[token_hash] = (agent, replace(token, last_used_at=now))

    async def inboxes(self) -> tuple[Inbox, ...]:
        """All inboxes."""
        found = self._inboxes.get("all")
        if found is None:
            found = tuple(await self._store.list_inboxes())
            self._inboxes["all"] = found
        return found

    async def inbox(self, inbox_id: str) -> Inbox | None:
        """One inbox by id; a miss asks the store (another process may have just made it)."""
        found = next((i for i in await self.inboxes() if i.id == inbox_id), None)
        if found is None:
            found = await self._store.get_inbox(inbox_id)
            if found is not None:
                self._inboxes.clear()
        return found

    def forget(self) -> None:
        """Drop everything (after this process changed agents, tokens or inboxes)."""
        self._tokens.clear()
        self._inboxes.clear()
