"""The registry of open agent sockets (hub/web/agent_ws.py) and what they share.

One per app (AGENT_SOCKETS_KEY): the tabs of each agent (an agent is away only when every
tab says so), a bounded cache of conversation → inbox for the visibility checks, and each
event's encoded frame, so an event goes through JSON once however many tabs receive it.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from typing import TYPE_CHECKING, Any

from aiohttp import WSCloseCode, web

from hub.actions import ActionContext
from hub.events import Event
from hub.model import Conversation
from hub.store.base import Store
from hub.web.jsonio import dumps

if TYPE_CHECKING:
    from hub.web.agent_ws import AgentSocket

INBOX_CACHE_SIZE = 100_000  # conversation id → inbox id (it never changes)
ENCODED_CACHE_SIZE = 256


class AgentSockets:
    """Every open agent socket of this process, plus what they share."""

    def __init__(self) -> None:
        self._by_agent: dict[str, set[AgentSocket]] = {}
        self._inbox_of: OrderedDict[str, str] = OrderedDict()
        self._encoded: OrderedDict[int, bytes] = OrderedDict()

    def __len__(self) -> int:
        return sum(len(tabs) for tabs in self._by_agent.values())

    def add(self, socket: AgentSocket) -> None:
        self._by_agent.setdefault(socket.agent.id, set()).add(socket)

    def discard(self, socket: AgentSocket) -> None:
        tabs = self._by_agent.get(socket.agent.id)
        if tabs is not None:
            tabs.discard(socket)
            if not tabs:
                del self._by_agent[socket.agent.id]

    def refresh_away(self, ctx: ActionContext, agent_id: str) -> None:
        """An agent is away when every tab of theirs says so (one visible tab: online)."""
        tabs = self._by_agent.get(agent_id)
        if tabs:
            ctx.presence.set_away(agent_id, all(t.away for t in tabs))

    def remember(self, conversation: Conversation) -> None:
        """Note a conversation's inbox (events carrying it keep the cache warm)."""
        self._inbox_of[conversation.id] = conversation.inbox_id
        self._inbox_of.move_to_end(conversation.id)
        if len(self._inbox_of) > INBOX_CACHE_SIZE:
            self._inbox_of.popitem(last=False)

    async def inbox_of(self, store: Store, conversation_id: Any) -> str | None:
        """The inbox of a conversation (None if there is no such conversation)."""
        if not isinstance(conversation_id, str) or not conversation_id:
            return None
        inbox_id = self._inbox_of.get(conversation_id)
        if inbox_id is None:
            conversation = await store.get_conversation(conversation_id)
            if conversation is None:
                return None
            self.remember(conversation)
            inbox_id = conversation.inbox_id
        return inbox_id

    def encode(self, event: Event) -> bytes:
        """The event's frame, encoded once however many sockets send it."""
        frame = self._encoded.get(event.id)
        if frame is None:
            frame = dumps(
                {
                    "type": "event",
                    "id": event.id,
                    "event": event.type.value,
                    "at": event.at,
                    "data": event.data,
                }
            )
            self._encoded[event.id] = frame
            if len(self._encoded) > ENCODED_CACHE_SIZE:
                self._encoded.popitem(last=False)
        return frame

    async def close_all(self) -> None:
        """Close every socket (shutdown): tabs reconnect and resume."""
        sockets = [s for tabs in self._by_agent.values() for s in tabs]
        await asyncio.gather(
            *(s.ws.close(code=WSCloseCode.GOING_AWAY, message=b"server shutting down")
              for s in sockets),
            return_exceptions=True,
        )  # fmt: skip


AGENT_SOCKETS_KEY: web.AppKey[AgentSockets] = web.AppKey("agent_sockets", AgentSockets)
