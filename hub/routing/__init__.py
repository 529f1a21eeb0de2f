"""Assignment: the default round-robin selector (the full routing engine comes later)."""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from collections.abc import Callable, Sequence

from hub.model import Agent, Conversation
from hub.store.base import Store

AGENTS_TTL = 5.0  # seconds: bounds how long an edit made by another process goes unseen


class RoundRobinSelector:
    """Hands conversations to active agents of the conversation's team in turn.

    With no team, every active agent is eligible. Presence and capacity are not modelled
    yet, so an agent counts as available while active.

    The agent list is cached: every new conversation used to read it from the store, a
    thread hop in the path of the customer's first message. Agent edits made through the
    hub call `agents_changed()`; edits from another process (`hub user add`) are seen
    within AGENTS_TTL seconds.
    """

    def __init__(
        self,
        store: Store,
        *,
        ttl: float = AGENTS_TTL,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._store = store
        self._ttl = ttl
        self._clock = clock
        self._agents: Sequence[Agent] | None = None
        self._loaded_at = 0.0
        self._generation = 0  # bumped by agents_changed: a read begun before it is stale
        self._last: dict[str | None, str] = defaultdict(str)
        self._turns = threading.Lock()  # `take` also runs in the SQLite writer's thread

    def agents_changed(self) -> None:
        """Forget the cached agent list (an agent was added or edited)."""
        self._agents = None
        self._generation += 1

    async def _active_agents(self) -> Sequence[Agent]:
        while self._agents is None or self._clock() - self._loaded_at > self._ttl:
            loaded_at, generation = self._clock(), self._generation
            agents = [a for a in await self._store.list_agents() if a.active]
            if generation != self._generation:
                continue  # an edit landed while reading: that list may predate it
            self._agents, self._loaded_at = agents, loaded_at
        return self._agents

    async def pick(self, conversation: Conversation) -> str | None:
        """The next agent after the one picked last for this team, by id order."""
        await self._active_agents()
        return self._take(conversation.team_id)

    async def for_new_conversations(self) -> Callable[[str | None], str | None]:
        """`take`, with the agent list loaded: the store calls it for a new conversation."""
        await self._active_agents()
        return self._take

    def _take(self, team_id: str | None) -> str | None:
        """Synchronous, and safe from any thread: the next agent of the team, or None."""
        agents = self._agents or ()
        if team_id is not None:
            agents = [a for a in agents if team_id in a.team_ids]
        if not agents:
            return None
        ids = sorted(a.id for a in agents)
        with self._turns:
            last = self._last[team_id]
            chosen = next((i for i in ids if i > last), ids[0])
            self._last[team_id] = chosen
        return chosen
