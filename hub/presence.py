"""Agent presence: online while a tab is open, away on request, offline after a grace period.

The agent websocket calls `connect` when a tab opens and `disconnect` when it closes. An agent
whose last tab closed stays online for `grace_seconds` (a page reload, a flaky network), and
only then goes offline. Every state change is reported to `on_change`, which the app wires to
the presence action (hub/actions/presence.py) so that the event goes out from hub/actions/.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

DEFAULT_GRACE_SECONDS = 30.0


class PresenceState(StrEnum):
    ONLINE = "online"
    AWAY = "away"  # connected, but not taking conversations
    OFFLINE = "offline"


@dataclass(frozen=True, kw_only=True, slots=True)
class PresenceChange:
    """One agent's state moved from `previous` to `state`."""

    agent_id: str
    state: PresenceState
    previous: PresenceState


class _Agent:
    """Per-agent bookkeeping: open tabs, the away flag and a pending offline timer."""

    __slots__ = ("away", "state", "tabs", "timer")

    def __init__(self) -> None:
        self.tabs = 0
        self.away = False
        self.state = PresenceState.OFFLINE
        self.timer: asyncio.TimerHandle | None = None


class PresenceTracker:
    """Tracks the agents' open connections in this process; the source of `online_agents()`."""

    def __init__(
        self,
        *,
        grace_seconds: float = DEFAULT_GRACE_SECONDS,
        on_change: Callable[[PresenceChange], None] | None = None,
    ) -> None:
        if grace_seconds < 0:
            raise ValueError("grace_seconds must be >= 0")
        self.grace_seconds = grace_seconds
        self.on_change = on_change
        self._agents: dict[str, _Agent] = {}

    def connect(self, agent_id: str) -> None:
        """An agent opened a tab (or reconnected): online, or away if they said so."""
        agent = self._agents.setdefault(agent_id, _Agent())
        agent.tabs += 1
        self._cancel_timer(agent)
        if agent.state == PresenceState.OFFLINE:
            agent.away = False  # a new session starts available
        self._set(agent_id, agent, PresenceState.AWAY if agent.away else PresenceState.ONLINE)

    def disconnect(self, agent_id: str) -> None:
        """An agent closed a tab; with none left they go offline after the grace period."""
        agent = self._agents.get(agent_id)
        if agent is None or agent.tabs == 0:
            return
        agent.tabs -= 1
        if agent.tabs > 0:
            return
        if self.grace_seconds == 0:
            self._expire(agent_id)
            return
        self._cancel_timer(agent)
        loop = asyncio.get_running_loop()
        agent.timer = loop.call_later(self.grace_seconds, self._expire, agent_id)

    def set_away(self, agent_id: str, away: bool = True) -> None:
        """Mark a connected agent away (or back); ignored for an agent with no open tab."""
        agent = self._agents.get(agent_id)
        if agent is None or agent.state == PresenceState.OFFLINE:
            return
        agent.away = away
        if agent.tabs > 0:
            self._set(agent_id, agent, PresenceState.AWAY if away else PresenceState.ONLINE)

    def state(self, agent_id: str) -> PresenceState:
        """The agent's current state (offline if never seen)."""
        agent = self._agents.get(agent_id)
        return PresenceState.OFFLINE if agent is None else agent.state

    def online_agents(self) -> frozenset[str]:
        """Agents that are online and not away: the ones who can take a conversation now."""
        return frozenset(a for a, s in self._agents.items() if s.state == PresenceState.ONLINE)

    def snapshot(self) -> dict[str, PresenceState]:
        """Every agent not offline, with their state."""
        return {a: s.state for a, s in self._agents.items() if s.state != PresenceState.OFFLINE}

    def close(self) -> None:
        """Cancel pending offline timers (at shutdown); no events are published for them."""
        for agent in self._agents.values():
            self._cancel_timer(agent)

    def _expire(self, agent_id: str) -> None:
        agent = self._agents.get(agent_id)
        if agent is None or agent.tabs > 0:
            return
        agent.timer = None
        agent.away = False
        self._set(agent_id, agent, PresenceState.OFFLINE)
        del self._agents[agent_id]  # an offline agent needs no bookkeeping

    def _set(self, agent_id: str, agent: _Agent, state: PresenceState) -> None:
        previous, agent.state = agent.state, state
        if previous != state and self.on_change is not None:
            self.on_change(PresenceChange(agent_id=agent_id, state=state, previous=previous))

    @staticmethod
    def _cancel_timer(agent: _Agent) -> None:
        if agent.timer is not None:
            agent.timer.cancel()
            agent.timer = None
