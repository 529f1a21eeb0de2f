"""Assignment: the default round-robin selector (the full routing engine comes later)."""

from __future__ import annotations

from collections import defaultdict

from hub.model import Conversation
from hub.store.base import Store


class RoundRobinSelector:
    """Hands conversations to active agents of the conversation's team in turn.

    With no team, every active agent is eligible. Presence and capacity are not modelled
    yet, so an agent counts as available while active.
    """

    def __init__(self, store: Store) -> None:
        self._store = store
        self._last: dict[str | None, str] = defaultdict(str)

    async def pick(self, conversation: Conversation) -> str | None:
        """The next agent after the one picked last for this team, by id order."""
        agents = [a for a in await self._store.list_agents() if a.active]
        if conversation.team_id is not None:
            agents = [a for a in agents if conversation.team_id in a.team_ids]
        if not agents:
            return None
        ids = sorted(a.id for a in agents)
        last = self._last[conversation.team_id]
        chosen = next((i for i in ids if i > last), ids[0])
        self._last[conversation.team_id] = chosen
        return chosen
