"""What every action needs: the store, the event bus, settings, the assigner and presence."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

from hub.config import HubConfig
from hub.events import EventBus
from hub.inbox_settings import InboxSettings
from hub.model import Conversation, utcnow
from hub.presence import PresenceTracker
from hub.store.base import Store


class Assigner(Protocol):
    """Picks an agent for an unassigned conversation (the routing engine implements this)."""

    async def pick(self, conversation: Conversation) -> str | None:
        """An agent id, or None to leave it in the queue."""

    async def for_new_conversations(self) -> Callable[[str | None], str | None] | None:
        """A cheap, thread-safe team id -> agent id function for the store to call when an
        ingest opens a conversation (assigned in the same commit); None: assign after."""

    def agents_changed(self) -> None:
        """An agent was added or edited (role, teams, active): drop any cached view."""


@dataclass(kw_only=True)
class ActionContext:
    """Shared by all actions of one hub process."""

    store: Store
    bus: EventBus
    config: HubConfig
    assigner: Assigner | None = None
    wake_outbox: Callable[[], None] = lambda: None
    clock: Callable[[], datetime] = field(default=utcnow)
    # agents' open connections; the app sets its grace period and event publishing
    presence: PresenceTracker = field(default_factory=PresenceTracker)
    # secret inbox settings: the app sets it; else built on first use (hub/actions/admin.py)
    inbox_settings: InboxSettings | None = None

    @property
    def reopen_window(self) -> timedelta:
        return timedelta(seconds=self.config.ingest.reopen_window_seconds)
