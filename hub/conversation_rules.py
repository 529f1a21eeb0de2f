"""The one rule for which conversation an inbound message joins; backends only fetch candidates."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from hub.model import Conversation, Status


@dataclass(frozen=True, kw_only=True, slots=True)
class Placement:
    """Where a message goes: an existing conversation (maybe reopened) or a new one (None)."""

    conversation: Conversation | None
    reopen: bool = False


def choose_conversation(
    *,
    by_thread: Conversation | None,
    latest_unresolved: Conversation | None,
    latest_resolved: Conversation | None,
    now: datetime,
    reopen_window: timedelta,
) -> Placement:
    """Explicit thread hints first, then the open conversation, then a recent resolved one.

    A thread match wins even when the conversation is resolved: the customer answered that
    exact message, so reopening keeps the history together (CW #15869, changed subjects).
    """
    if by_thread is not None:
        return Placement(conversation=by_thread, reopen=by_thread.status != Status.OPEN)
    if latest_unresolved is not None:
        return Placement(
            conversation=latest_unresolved, reopen=latest_unresolved.status != Status.OPEN
        )
    if latest_resolved is not None and latest_resolved.resolved_at is not None:
        if now - latest_resolved.resolved_at <= reopen_window:
            return Placement(conversation=latest_resolved, reopen=True)
    return Placement(conversation=None)
