"""Fixtures for the action tests (the `ctx` fixture itself is in tests/conftest.py)."""

from __future__ import annotations

import pytest

from hub.actions import ActionContext, do_ingest
from hub.model import IdentityKind, Inbound, utcnow


@pytest.fixture
async def conversation_id(ctx: ActionContext) -> str:
    """A conversation started by one customer message in an API inbox."""
    inbox = await ctx.store.create_inbox(
        name="api", channel="api", team_id=None, config={}, now=utcnow()
    )
    inbound = Inbound(
        channel="api",
        inbox_id=inbox.id,
        provider_id="p1",
        sender_kind=IdentityKind.EMAIL,
        sender="kari@example.com",
        text="hi",
    )
    return (await do_ingest(ctx, inbound)).conversation.id
