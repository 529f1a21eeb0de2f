"""Agent presence: tabs, away, the offline grace period, and the agent.presence events."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from hub.actions import ActionContext, wire_presence
from hub.config import load_config
from hub.events import EventBus, EventType
from hub.presence import PresenceChange, PresenceState, PresenceTracker

ONLINE, AWAY, OFFLINE = PresenceState.ONLINE, PresenceState.AWAY, PresenceState.OFFLINE


def tracker(grace: float = 0.05) -> tuple[PresenceTracker, list[tuple[str, str, str]]]:
    changes: list[tuple[str, str, str]] = []

    def record(change: PresenceChange) -> None:
        changes.append((change.agent_id, change.previous.value, change.state.value))

    return PresenceTracker(grace_seconds=grace, on_change=record), changes


async def test_connect_makes_an_agent_online() -> None:
    presence, changes = tracker()
    presence.connect("agt_1")
    assert presence.state("agt_1") == ONLINE
    assert presence.online_agents() == {"agt_1"}
    assert changes == [("agt_1", "offline", "online")]


async def test_a_second_tab_changes_nothing() -> None:
    presence, changes = tracker()
    presence.connect("agt_1")
    presence.connect("agt_1")
    presence.disconnect("agt_1")
    await asyncio.sleep(0.1)
    assert presence.state("agt_1") == ONLINE
    assert len(changes) == 1


async def test_last_tab_closed_goes_offline_after_the_grace_period() -> None:
    presence, changes = tracker(grace=0.05)
    presence.connect("agt_1")
    presence.disconnect("agt_1")
    assert presence.state("agt_1") == ONLINE  # still within the grace period
    await asyncio.sleep(0.1)
    assert presence.state("agt_1") == OFFLINE
    assert presence.online_agents() == frozenset()
    assert changes[-1] == ("agt_1", "online", "offline")


async def test_reconnect_within_the_grace_period_stays_online() -> None:
    presence, changes = tracker(grace=0.05)
    presence.connect("agt_1")
    presence.disconnect("agt_1")
    presence.connect("agt_1")  # a page reload
    await asyncio.sleep(0.1)
    assert presence.state("agt_1") == ONLINE
    assert changes == [("agt_1", "offline", "online")]


async def test_zero_grace_goes_offline_at_once() -> None:
    presence, _ = tracker(grace=0)
    presence.connect("agt_1")
    presence.disconnect("agt_1")
    assert presence.state("agt_1") == OFFLINE


async def test_away_agents_are_not_online_for_chats() -> None:
    presence, changes = tracker()
    presence.connect("agt_1")
    presence.set_away("agt_1")
    assert presence.state("agt_1") == AWAY
    assert presence.online_agents() == frozenset()
    assert presence.snapshot() == {"agt_1": AWAY}
    presence.set_away("agt_1", away=False)
    assert presence.online_agents() == {"agt_1"}
    assert [c[2] for c in changes] == ["online", "away", "online"]


async def test_away_survives_a_reload_but_not_going_offline() -> None:
    presence, _ = tracker(grace=0.05)
    presence.connect("agt_1")
    presence.set_away("agt_1")
    presence.disconnect("agt_1")
    presence.connect("agt_1")
    assert presence.state("agt_1") == AWAY
    presence.disconnect("agt_1")
    await asyncio.sleep(0.1)
    presence.connect("agt_1")
    assert presence.state("agt_1") == ONLINE


async def test_unknown_agents_are_offline_and_stray_calls_are_ignored() -> None:
    presence, changes = tracker()
    presence.disconnect("agt_x")
    presence.set_away("agt_x")
    assert presence.state("agt_x") == OFFLINE
    assert changes == []


async def test_close_cancels_pending_offline_timers() -> None:
    presence, changes = tracker(grace=0.05)
    presence.connect("agt_1")
    presence.disconnect("agt_1")
    presence.close()
    await asyncio.sleep(0.1)
    assert changes == [("agt_1", "offline", "online")]


def test_negative_grace_is_refused() -> None:
    with pytest.raises(ValueError):
        PresenceTracker(grace_seconds=-1)


async def test_changes_are_published_as_agent_presence_events(tmp_path: Path) -> None:
    config = load_config(files=[], env={"HUB_STORE_URL": f"sqlite:///{tmp_path}/hub.db"})
    bus = EventBus()
    ctx = ActionContext(store=None, bus=bus, config=config)  # type: ignore[arg-type]
    wire_presence(ctx, grace_seconds=0.01)
    subscription = bus.subscribe(types=[EventType.AGENT_PRESENCE])
    ctx.presence.connect("agt_1")
    ctx.presence.disconnect("agt_1")
    await asyncio.sleep(0.05)
    first, second = subscription.get(), subscription.get()
    assert dict((await first).data) == {
        "agent_id": "agt_1",
        "state": "online",
        "previous": "offline",
    }
    assert (await second).data["state"] == "offline"
