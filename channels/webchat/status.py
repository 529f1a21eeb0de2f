"""What the widget shows above the chat: online or not, assigned agent, or place in the queue.

Queue position: the visitor's conversation's place among the inbox's open, unassigned
conversations, oldest first (1 = next). The estimated wait is deliberately simple:
ceil(position / online agents of the inbox) x the inbox's wait_seconds_per_conversation,
i.e. each online agent takes the next waiting conversation every that-many seconds.
Positions are computed at most every MIN_RECOMPUTE_SECONDS per inbox, from at most
MAX_QUEUE_SCAN waiting conversations: with a longer queue nobody gets a number (the store
lists by recent activity, so a partial scan would give wrong ones) and the status says
"queue_long" instead. Agents are cached for AGENTS_TTL seconds.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Callable
from typing import Any

from channels.webchat.config import WebchatInboxConfig
from hub.channel import ChannelReads
from hub.model import Agent, Conversation, ConversationFilter, Inbox, Status

MIN_RECOMPUTE_SECONDS = 1.0
MAX_QUEUE_SCAN = 300
AGENTS_TTL = 10.0
_PAGE = 100


def is_waiting(conversation: Conversation | None) -> bool:
    """Open and unassigned: in the queue."""
    return (
        conversation is not None
        and conversation.status == Status.OPEN
        and conversation.assignee_id is None
    )


class StatusBoard:
    """Per-inbox queue positions and the agent list, shared by every visitor connection."""

    def __init__(
        self,
        reads: ChannelReads,
        online_agents: Callable[[], frozenset[str]],
        *,
        clock: Callable[[], float] = time.monotonic,
        max_scan: int = MAX_QUEUE_SCAN,
    ) -> None:
        self._reads = reads
        self._max_scan = max_scan
        self._online_agents = online_agents
        self._clock = clock
        self._agents: dict[str, Agent] = {}
        self._agents_at = -math.inf
        self._positions: dict[str, dict[str, int]] = {}
        self._long: set[str] = set()  # inboxes whose queue is longer than MAX_QUEUE_SCAN
        self._computed_at: dict[str, float] = {}
        self._dirty: set[str] = set()
        self._inflight: dict[str, asyncio.Task[dict[str, int]]] = {}

    async def agents(self) -> dict[str, Agent]:
        """Every agent by id (cached briefly: agents change rarely)."""
        if self._clock() - self._agents_at > AGENTS_TTL:
            self._agents = {a.id: a for a in await self._reads.list_agents()}
            self._agents_at = self._clock()
        return self._agents

    async def agent_name(self, agent_id: str | None) -> str | None:
        """An agent's display name."""
        if agent_id is None:
            return None
        agent = (await self.agents()).get(agent_id)
        return agent.name if agent is not None else None

    async def online_count(self, inbox: Inbox) -> int:
        """Agents of the inbox's team (any, for a teamless inbox) who are online now."""
        online = self._online_agents()
        if not online:
            return 0
        agents = await self.agents()
        return sum(
            1
            for agent_id in online
            if (agent := agents.get(agent_id)) is not None
            and agent.active
            and (inbox.team_id is None or inbox.team_id in agent.team_ids)
        )

    def mark_dirty(self, inbox_id: str) -> None:
        """The inbox's queue changed (a conversation was created, assigned, resolved...)."""
        self._dirty.add(inbox_id)

    def next_recompute_in(self, inbox_id: str) -> float:
        """Seconds until the inbox's positions may be recomputed (0: now)."""
        last = self._computed_at.get(inbox_id, -math.inf)
        return max(0.0, last + MIN_RECOMPUTE_SECONDS - self._clock())

    async def positions(self, inbox_id: str) -> dict[str, int]:
        """Conversation id → queue position, for the inbox's waiting conversations."""
        fresh = inbox_id in self._positions and inbox_id not in self._dirty
        if fresh or self.next_recompute_in(inbox_id) > 0:
            return self._positions.get(inbox_id, {})
        task = self._inflight.get(inbox_id)
        if task is None:  # one computation per inbox at a time, shared by all callers
            task = asyncio.ensure_future(self._compute(inbox_id))
            self._inflight[inbox_id] = task
            task.add_done_callback(lambda _: self._inflight.pop(inbox_id, None))
        return await asyncio.shield(task)

    async def _compute(self, inbox_id: str) -> dict[str, int]:
        self._dirty.discard(inbox_id)
        self._computed_at[inbox_id] = self._clock()
        flt = ConversationFilter(status=Status.OPEN, unassigned=True, inbox_id=inbox_id)
        found: list[Conversation] = []
        cursor = None
        while True:
            limit = min(_PAGE, self._max_scan + 1 - len(found))
            page = await self._reads.list_conversations(flt, limit=limit, cursor=cursor)
            found.extend(page.items)
            cursor = page.next_cursor
            if cursor is None or len(found) > self._max_scan:
                break
        if cursor is None:
            self._long.discard(inbox_id)
            found.sort(key=lambda c: (c.created_at, c.id))
            positions = {c.id: place for place, c in enumerate(found, 1)}
        else:
            self._long.add(inbox_id)
            positions = {}
        self._positions[inbox_id] = positions
        return positions

    async def status(
        self, inbox: Inbox, config: WebchatInboxConfig, conversation: Conversation | None
    ) -> dict[str, Any]:
        """The status frame for a visitor whose current conversation is `conversation`."""
        online = await self.online_count(inbox)
        position = None
        wait = None
        if is_waiting(conversation):
            assert conversation is not None
            position = (await self.positions(inbox.id)).get(conversation.id)
            if position is not None and online:
                wait = math.ceil(position / online) * config.wait_seconds_per_conversation
        assignee = conversation.assignee_id if conversation is not None else None
        return {
            "type": "status",
            "online": online > 0,
            "assigned": assignee is not None,
            "agent_name": await self.agent_name(assignee),
            "queue_position": position,
            "queue_long": is_waiting(conversation) and inbox.id in self._long,
            "estimated_wait_seconds": wait,
        }
