"""Presence action: an agent's online/away/offline change goes out as an `agent.presence` event."""

from __future__ import annotations

from hub.actions.context import ActionContext
from hub.events import EventType
from hub.presence import PresenceChange


def do_publish_presence(ctx: ActionContext, change: PresenceChange) -> None:
    """Publish one presence change (the tracker calls this; nothing is stored)."""
    ctx.bus.publish(
        EventType.AGENT_PRESENCE,
        {
            "agent_id": change.agent_id,
            "state": change.state.value,
            "previous": change.previous.value,
        },
    )


def wire_presence(ctx: ActionContext, *, grace_seconds: float) -> None:
    """Give the context's tracker its grace period and make its changes publish events."""
    ctx.presence.grace_seconds = grace_seconds
    ctx.presence.on_change = lambda change: do_publish_presence(ctx, change)
