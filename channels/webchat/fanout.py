"""One bus subscription for all visitor connections, routed by visitor, customer and inbox.

A subscription per connection would make every event cost O(connections) (10,000 queues
woken per message); here each event costs a few dict lookups. Visitor messages are routed by
their sender (the visitor id), conversation changes by customer, agent typing by
conversation, presence to every inbox. Status frames (queue, assignment, online) are
recomputed per inbox after a short delay, so a burst of events costs one refresh.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import defaultdict
from typing import TYPE_CHECKING, Any

from channels.webchat.frames import encode, message_frame, message_view
from channels.webchat.parse import CHANNEL
from channels.webchat.status import StatusBoard, is_waiting
from hub.channel import Subscribe
from hub.events import Event, EventType, ResyncRequired, SubscriptionClosed
from hub.model import Conversation, Direction, Message, MessageKind

if TYPE_CHECKING:
    from channels.webchat.socket import VisitorSession

log = logging.getLogger(__name__)
WANTED = (
    EventType.MESSAGE_CREATED,
    EventType.CONVERSATION_CREATED,
    EventType.CONVERSATION_UPDATED,
    EventType.CONVERSATION_TYPING,
    EventType.AGENT_PRESENCE,
    EventType.CUSTOMER_MERGED,
)


def relevant(event: Event) -> bool:
    """Whether web chat cares: its own messages and conversations, and the hub-wide kinds.

    Checked at publish time, so the traffic of other channels (an API batch, an IMAP
    backfill) neither fills the fan-out's queue nor wakes it.
    """
    data = event.data
    if event.type == EventType.MESSAGE_CREATED:
        return bool(data["message"].channel == CHANNEL)
    if event.type in (EventType.CONVERSATION_CREATED, EventType.CONVERSATION_UPDATED):
        return bool(data["conversation"].channel == CHANNEL)
    return True


# routing is CPU-only and quick, so a deep queue absorbs bursts (an API batch of 100 messages
# publishes ~250 events at once) that would otherwise make every visitor resync
FANOUT_QUEUE = 100_000
REFRESH_DELAY = 0.05  # coalesce a burst of events into one status refresh per inbox
_QUEUE_FIELDS = frozenset({"assignee_id", "status"})


class VisitorRegistry:
    """Open visitor connections, indexed for routing events to them."""

    def __init__(self, board: StatusBoard) -> None:
        self._board = board
        self._by_visitor: dict[str, list[VisitorSession]] = {}
        self._by_customer: dict[str, set[str]] = defaultdict(set)  # customer → visitor ids
        self._by_inbox: dict[str, set[VisitorSession]] = defaultdict(set)
        self._by_conversation: dict[str, set[VisitorSession]] = defaultdict(set)
        self._waiting: dict[str, set[VisitorSession]] = defaultdict(set)  # by inbox
        self._pending: dict[str, set[VisitorSession] | None] = {}  # None: all of the inbox
        self._refreshers: set[asyncio.Task[None]] = set()

    def __len__(self) -> int:
        return sum(len(s) for s in self._by_visitor.values())

    # --- membership -----------------------------------------------------------------------
    def add(self, session: VisitorSession) -> None:
        """A connection whose visitor is known (after hello)."""
        assert session.visitor_id is not None
        self._by_visitor.setdefault(session.visitor_id, []).append(session)
        self._by_inbox[session.inbox.id].add(session)
        if session.customer_id is not None:
            self._by_customer[session.customer_id].add(session.visitor_id)

    def remove(self, session: VisitorSession) -> None:
        """A connection closed (or said hello again)."""
        visitor = session.visitor_id
        sessions = self._by_visitor.get(visitor or "")
        if visitor is None or sessions is None or session not in sessions:
            return
        sessions.remove(session)
        if not sessions:
            del self._by_visitor[visitor]
            if session.customer_id is not None:
                self._discard(self._by_customer, session.customer_id, visitor)
        self._discard(self._by_inbox, session.inbox.id, session)
        self._discard(self._waiting, session.inbox.id, session)
        if session.conversation is not None:
            self._discard(self._by_conversation, session.conversation.id, session)

    @staticmethod
    def _discard(index: dict[str, Any], key: str, member: object) -> None:
        members = index.get(key)
        if members is not None:
            members.discard(member)
            if not members:
                del index[key]

    def bind(self, visitor_id: str, customer_id: str) -> None:
        """The visitor's customer is known now (their first message, or an email left)."""
        for session in self._by_visitor.get(visitor_id, ()):
            if session.customer_id != customer_id:
                if session.customer_id is not None:
                    self._discard(self._by_customer, session.customer_id, visitor_id)
                session.customer_id = customer_id
        if visitor_id in self._by_visitor:
            self._by_customer[customer_id].add(visitor_id)

    def set_conversation(self, session: VisitorSession, conversation: Conversation) -> None:
        """Make `conversation` the session's current one, keeping the indexes right."""
        old = session.conversation
        if old is not None and old.id != conversation.id:
            self._discard(self._by_conversation, old.id, session)
        session.conversation = conversation
        if session not in self._by_inbox.get(session.inbox.id, ()):
            return  # not registered (closed meanwhile)
        self._by_conversation[conversation.id].add(session)
        if is_waiting(conversation):
            self._waiting[session.inbox.id].add(session)
        else:
            self._discard(self._waiting, session.inbox.id, session)

    def sessions_of(self, visitor_id: str) -> list[VisitorSession]:
        """The visitor's open connections."""
        return list(self._by_visitor.get(visitor_id, ()))

    def push_message(self, visitor_id: str, message: Message, author: str | None) -> int:
        """Send a message to every connection of the visitor; how many there were."""
        sessions = self._by_visitor.get(visitor_id, ())
        if any(session.streaming for session in sessions):
            frame = message_frame(message_view(message, author))
            for session in sessions:
                session.deliver_message(message.id, frame)
        return len(sessions)

    # --- the event loop -------------------------------------------------------------------
    async def run(self, subscribe: Subscribe) -> None:
        """Route bus events until the bus closes; a lost subscription makes visitors resync."""
        while True:
            try:
                subscription = subscribe(types=WANTED, where=relevant, queue_size=FANOUT_QUEUE)
            except SubscriptionClosed:
                return
            try:
                async for event in subscription:
                    try:
                        self._route(event)
                    except Exception:  # one bad event must not stop the stream for everyone
                        log.exception("routing web-chat event %s failed", event.id)
                return
            except ResyncRequired:
                log.warning("web-chat fan-out fell behind the event bus; visitors resync")
                resync = encode({"type": "resync"})
                for sessions in self._by_visitor.values():
                    for session in sessions:
                        session.send(resync)
            finally:
                subscription.close()

    def _route(self, event: Event) -> None:
        data = event.data
        if event.type == EventType.MESSAGE_CREATED:
            self._on_message(data["message"])
        elif event.type == EventType.CONVERSATION_TYPING:
            if data.get("who") == "agent":
                frame = encode({"type": "typing", "who": "agent", "typing": data["typing"]})
                for session in self._by_conversation.get(data["conversation_id"], ()):
                    session.send(frame)
        elif event.type == EventType.AGENT_PRESENCE:
            for inbox_id in list(self._by_inbox):
                self.kick(inbox_id, None)
        elif event.type == EventType.CUSTOMER_MERGED:
            record = data["merge"]
            for visitor_id in list(self._by_customer.get(record.merged_id, ())):
                self.bind(visitor_id, record.kept_id)
        else:
            self._on_conversation(data["conversation"], data.get("changes"))

    def _on_message(self, message: Message) -> None:
        if (
            message.channel != CHANNEL
            or message.kind != MessageKind.MESSAGE
            or message.direction != Direction.IN  # agent replies arrive through send()
            or message.sender is None
        ):
            return
        if message.sender in self._by_visitor:
            self.bind(message.sender, message.customer_id)
            self.push_message(message.sender, message, None)

    def _on_conversation(self, conversation: Conversation, changes: list[str] | None) -> None:
        if conversation.channel != CHANNEL:
            return
        inbox_id = conversation.inbox_id
        # a new message changes last_message_at and unread_count: nothing the widget shows
        queue_changed = changes is None or not _QUEUE_FIELDS.isdisjoint(changes)
        if queue_changed:
            self._board.mark_dirty(inbox_id)
        touched: set[VisitorSession] = set()
        for visitor_id in self._by_customer.get(conversation.customer_id, ()):
            for session in self._by_visitor.get(visitor_id, ()):
                if session.inbox.id == inbox_id and session.observe(conversation):
                    current = session.conversation
                    self.set_conversation(session, conversation)
                    if queue_changed or current is None or current.id != conversation.id:
                        touched.add(session)
        if queue_changed:
            touched |= self._waiting.get(inbox_id, set())
        if touched:
            self.kick(inbox_id, touched)

    # --- status refresh -------------------------------------------------------------------
    def kick(self, inbox_id: str, sessions: set[VisitorSession] | None) -> None:
        """Refresh the status of these sessions (None: all of the inbox) shortly."""
        if inbox_id in self._pending:
            current = self._pending[inbox_id]
            if current is not None:
                self._pending[inbox_id] = None if sessions is None else current | sessions
            return
        self._pending[inbox_id] = None if sessions is None else set(sessions)
        task = asyncio.get_running_loop().create_task(self._refresh(inbox_id))
        self._refreshers.add(task)
        task.add_done_callback(self._refreshers.discard)

    async def _refresh(self, inbox_id: str) -> None:
        await asyncio.sleep(max(REFRESH_DELAY, self._board.next_recompute_in(inbox_id)))
        targets = self._pending.pop(inbox_id, set())
        sessions = list(self._by_inbox.get(inbox_id, ()) if targets is None else targets)
        for session in sessions:
            try:
                await session.refresh_status()
            except Exception:  # a failed read leaves the old status; the next event retries
                log.exception("web-chat status refresh failed")

    async def close(self) -> None:
        """Stop pending refreshes."""
        for task in list(self._refreshers):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
