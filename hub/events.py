"""The in-process event bus: typed events fanned out to subscribers through bounded queues.

Events are published only from `hub/actions/`, after the write is durable. `publish()` is
synchronous and never waits on a subscriber: a subscriber whose queue is full is dropped, and
once it has drained what was already queued its next `get()` raises `ResyncRequired`. A bounded
replay buffer lets a reconnecting client resume from the last event id it saw.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from itertools import islice
from typing import Any

from hub.model import utcnow


class EventType(StrEnum):
    MESSAGE_CREATED = "message.created"
    MESSAGE_UPDATED = "message.updated"  # delivery status changes
    CONVERSATION_CREATED = "conversation.created"
    CONVERSATION_UPDATED = "conversation.updated"  # status, assignee, tags, priority, snooze...
    CUSTOMER_CREATED = "customer.created"
    CUSTOMER_UPDATED = "customer.updated"
    CUSTOMER_MERGED = "customer.merged"
    CUSTOMER_UNMERGED = "customer.unmerged"
    CONVERSATION_TYPING = "conversation.typing"  # ephemeral: nothing is stored
    # a note @mentions agents: {"message": note, "conversation_id": id, "agent_ids": [ids]}
    NOTE_MENTION = "note.mention"
    AGENT_PRESENCE = "agent.presence"  # online / away / offline
    # admin edits (hub/actions/admin.py, hub/actions/canned.py): {"agent"|"team"|...: object}
    AGENT_CREATED = "agent.created"
    AGENT_UPDATED = "agent.updated"  # name, role, teams, active, password reset
    TEAM_CREATED = "team.created"
    TEAM_UPDATED = "team.updated"
    TEAM_DELETED = "team.deleted"  # {"team_id": id}
    INBOX_CREATED = "inbox.created"
    INBOX_UPDATED = "inbox.updated"
    CANNED_RESPONSE_CREATED = "canned_response.created"
    CANNED_RESPONSE_UPDATED = "canned_response.updated"
    CANNED_RESPONSE_DELETED = "canned_response.deleted"  # {"canned_response_id": id}


@dataclass(frozen=True, kw_only=True, slots=True)
class Event:
    id: int  # strictly increasing per bus, starting at 1
    type: EventType
    at: datetime
    data: Mapping[str, Any]  # JSON-ready payload, built by the publisher


class ResyncRequired(Exception):
    """The subscriber missed events; reload state, then resume after `last_id` if possible."""

    def __init__(self, last_id: int) -> None:
        super().__init__(f"events after id {last_id} were lost; resync required")
        self.last_id = last_id


class SubscriptionClosed(Exception):
    """`get()` on a subscription that was closed."""


class BusClosed(SubscriptionClosed):
    """`get()` on a subscription whose bus was closed (after its queue is drained)."""


class Subscription:
    """One subscriber's view of the bus: an async iterator of `Event`.

    `last_id` is the id of the last event handed out by `get()` (before any, the point the
    subscription started from), i.e. the id to resume from. Iteration stops when the
    subscription or the bus is closed; `ResyncRequired` propagates out of it.
    """

    def __init__(
        self,
        bus: EventBus,
        types: frozenset[EventType] | None,
        start: int,
        queue_size: int,
        where: Callable[[Event], bool] | None = None,
    ) -> None:
        self._bus: EventBus | None = bus
        self._types = types
        self._where = where
        self._queue_size = queue_size
        self._backlog: deque[Event] = deque()  # replayed events; not counted against queue_size
        self._queue: deque[Event] = deque()  # live events, at most queue_size
        self._ready = asyncio.Event()
        self._closed = False
        self._bus_closed = False
        self.dropped = False
        self.last_id = start

    def _wants(self, event: Event) -> bool:
        if self._types is not None and event.type not in self._types:
            return False
        return self._where is None or self._where(event)

    async def get(self) -> Event:
        """The next event; raises `ResyncRequired`, `BusClosed` or `SubscriptionClosed`."""
        while True:
            event = self.poll()
            if event is not None:
                return event
            self._ready.clear()
            await self._ready.wait()

    def poll(self) -> Event | None:
        """The next event if one is queued, else None; raises as `get()` does.

        A consumer that wraps `get()` in `asyncio.wait_for` pays a task and a loop turn per
        event; polling first takes the events already queued without either.
        """
        if self._closed:
            raise SubscriptionClosed("subscription is closed")
        if self._backlog or self._queue:
            event = (self._backlog or self._queue).popleft()
            self.last_id = event.id
            return event
        if self.dropped:
            raise ResyncRequired(self.last_id)
        if self._bus_closed:
            raise BusClosed("event bus is closed")
        return None

    def close(self) -> None:
        """Unsubscribe and discard queued events; idempotent."""
        if self._bus is not None:
            self._bus._subscribers.discard(self)
        self._detach()
        self._closed = True
        self._backlog.clear()
        self._queue.clear()

    def _offer(self, event: Event) -> bool:
        """Queue `event`; False (and nothing queued) if the queue is full."""
        if len(self._queue) >= self._queue_size:
            return False
        self._queue.append(event)
        self._ready.set()
        return True

    def _detach(self, *, dropped: bool = False, bus_closed: bool = False) -> None:
        self._bus = None
        self.dropped = self.dropped or dropped
        self._bus_closed = self._bus_closed or bus_closed
        self._ready.set()

    def __aiter__(self) -> Subscription:
        return self

    async def __anext__(self) -> Event:
        try:
            return await self.get()
        except SubscriptionClosed:
            raise StopAsyncIteration from None

    async def __aenter__(self) -> Subscription:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        self.close()


class EventBus:
    """Fans events out to subscribers; `publish()` is sync, O(subscribers) and never blocks."""

    def __init__(self, *, queue_size: int = 1000, replay_size: int = 10000) -> None:
        if queue_size < 1 or replay_size < 0:
            raise ValueError("queue_size must be >= 1 and replay_size >= 0")
        self._queue_size = queue_size
        self._replay: deque[Event] = deque(maxlen=replay_size)
        self._subscribers: set[Subscription] = set()
        self._last_id = 0
        self._closed = False

    @property
    def last_id(self) -> int:
        return self._last_id

    @property
    def subscriber_count(self) -> int:
        return len(self._subscribers)

    def publish(self, type: EventType, data: Mapping[str, Any]) -> Event:
        """Record and fan out an event. Subscribers with a full queue are dropped, not awaited.

        After `close()` the event is still numbered and kept for replay, but nobody receives it.
        """
        self._last_id += 1
        event = Event(id=self._last_id, type=EventType(type), at=utcnow(), data=data)
        self._replay.append(event)
        overflowed = [s for s in self._subscribers if s._wants(event) and not s._offer(event)]
        for sub in overflowed:
            self._subscribers.discard(sub)
            sub._detach(dropped=True)
        return event

    def since(self, last_id: int) -> list[Event] | None:
        """Events with id > `last_id`, or None if the replay buffer cannot fill the gap.

        An id ahead of the bus (e.g. from before a restart, ids restart at 1) is also a gap.
        """
        if last_id == self._last_id:
            return []
        if last_id < 0 or last_id > self._last_id or not self._replay:
            return None
        first = self._replay[0].id  # ids in the buffer are contiguous
        if last_id + 1 < first:
            return None
        return list(islice(self._replay, last_id + 1 - first, None))

    def subscribe(
        self,
        *,
        types: Iterable[EventType] | None = None,
        since: int | None = None,
        where: Callable[[Event], bool] | None = None,
        queue_size: int | None = None,
    ) -> Subscription:
        """A new subscription to events published from now on, of `types` (default: all).

        `where` filters further at publish time (cheap, must not raise), so a subscriber that
        wants a small share of a busy type is neither queued nor woken for the rest.
        `queue_size` overrides the bus default, for an in-process consumer that does no I/O
        and so can take a burst that would drop a network client.

        With `since`, buffered events with id > `since` are replayed first (not counted against
        the queue size); if the buffer no longer reaches back that far, the subscription starts
        dropped and its first `get()` raises `ResyncRequired(last_id=since)`.
        """
        if self._closed:
            raise BusClosed("event bus is closed")
        wanted = None if types is None else frozenset(EventType(t) for t in types)
        start = self._last_id if since is None else since
        size = self._queue_size if queue_size is None else queue_size
        if size < 1:
            raise ValueError("queue_size must be >= 1")
        sub = Subscription(self, wanted, start, size, where)
        if since is not None:
            backlog = self.since(since)
            if backlog is None:
                sub._detach(dropped=True)
                return sub
            sub._backlog.extend(e for e in backlog if sub._wants(e))
        self._subscribers.add(sub)
        return sub

    def close(self) -> None:
        """End every subscription: each drains its queue, then iteration stops (`BusClosed`)."""
        self._closed = True
        subscribers, self._subscribers = self._subscribers, set()
        for sub in subscribers:
            sub._detach(bus_closed=True)
