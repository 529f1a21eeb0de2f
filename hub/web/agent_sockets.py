"""The registry of open agent sockets (hub/web/agent_ws.py) and what they share.

One per app (AGENT_SOCKETS_KEY): the tabs of each agent (an agent is away only when every
tab says so), a bounded cache of conversation → inbox for the visibility checks, each
customer's inboxes per customer event (for the customer access policy), and each
event's encoded frame, so an event goes through JSON once however many tabs receive it.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from typing import TYPE_CHECKING, Any

from aiohttp import WSCloseCode, web

from hub.actions import ActionContext
from hub.customer_access import CustomerMode, Need, Verdict, Viewer, decide
from hub.events import Event, EventType
from hub.model import Conversation
from hub.store.base import Store
from hub.web.jsonio import dumps

if TYPE_CHECKING:
    from hub.web.agent_ws import AgentSocket

CUSTOMER_EVENTS = frozenset(
    {EventType.CUSTOMER_UPDATED, EventType.CUSTOMER_MERGED, EventType.CUSTOMER_UNMERGED}
)
log = logging.getLogger(__name__)

INBOX_CACHE_SIZE = 100_000  # conversation id → inbox id (it never changes)
ENCODED_CACHE_SIZE = 256


def customer_ids(event: Event) -> list[str]:
    """The customers a `customer.*` event is about (a merge: the kept one, then the merged)."""
    customer = event.data.get("customer")
    if customer is not None:
        return [customer.id]
    merge = event.data.get("merge")
    return [merge.kept_id, merge.merged_id] if merge is not None else []


class AgentSockets:
    """Every open agent socket of this process, plus what they share."""

    def __init__(self) -> None:
        self._by_agent: dict[str, set[AgentSocket]] = {}
        self._inbox_of: OrderedDict[str, str] = OrderedDict()
        self._encoded: OrderedDict[int, bytes] = OrderedDict()
        self._customer_inboxes: OrderedDict[
            tuple[int, str], asyncio.Future[dict[str, frozenset[str]]]
        ] = OrderedDict()

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

    async def customer_allowed(
        self, store: Store, mode: CustomerMode, event_id: int, customer_id: str, viewer: Viewer
    ) -> bool:
        """Whether the customer access policy lets this viewer hear of a customer's change.

        The customer's inboxes are read once per event, however many tabs ask (a visitor
        leaving an email address publishes `customer.updated`). If the store fails, the
        answer is no: the tab misses one sidebar refresh.
        """
        if viewer.inbox_ids is None:
            return True  # admins hear of every customer: no read needed
        key = (event_id, customer_id)
        asked = self._customer_inboxes.get(key)
        if asked is None:  # the tabs' pumps ask at once: they share one query
            asked = asyncio.ensure_future(store.customer_inbox_ids([customer_id]))
            self._customer_inboxes[key] = asked
            if len(self._customer_inboxes) > ENCODED_CACHE_SIZE:
                self._customer_inboxes.popitem(last=False)
        try:
            inboxes = (await asyncio.shield(asked))[customer_id]
        except Exception:  # not cached: a replay after the tab reconnects asks again
            if self._customer_inboxes.get(key) is asked:
                del self._customer_inboxes[key]
            log.warning("customer %s: visibility lookup failed; event not sent", customer_id)
            return False  # a missed sidebar refresh, never a closed socket or a leak
        return decide(mode, viewer, inboxes, Need.NOTIFY) == Verdict.ALLOW

    def encode(self, event: Event) -> bytes:
        """The event's frame, encoded once however many sockets send it."""
        frame = self._encoded.get(event.id)
        if frame is None:
            data = event.data
            # Only which customers: the tab fetches the file, access-checked, itself. A merge
            # names both, as the kept customer's file does (its undo list shows the other).
            if event.type in CUSTOMER_EVENTS:
                data = {"customer_ids": customer_ids(event)}
            frame = dumps(
                {
                    "type": "event",
                    "id": event.id,
                    "event": event.type.value,
                    "at": event.at,
                    "data": data,
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
