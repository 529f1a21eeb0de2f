"""The status board: queue positions oldest first, a long queue, online agents per team."""

from __future__ import annotations

from channels.webchat.config import WebchatInboxConfig
from channels.webchat.status import StatusBoard
from hub.actions import ActionContext, do_assign, do_ingest
from hub.channel import ChannelReads
from hub.model import Agent, Conversation, IdentityKind, Inbound, Inbox, Role, utcnow


async def webchat_inbox(ctx: ActionContext, team_id: str | None = None) -> Inbox:
    return await ctx.store.create_inbox(
        name="Web", channel="webchat", team_id=team_id, config={}, now=utcnow()
    )


async def visit(ctx: ActionContext, inbox: Inbox, visitor: str, n: int = 0) -> Conversation:
    inbound = Inbound(
        channel="webchat",
        inbox_id=inbox.id,
        provider_id=f"{visitor}:{n}",
        sender_kind=IdentityKind.VISITOR,
        sender=visitor,
        text="hello",
    )
    return (await do_ingest(ctx, inbound)).conversation


async def agent(ctx: ActionContext, email: str, team_ids: list[str] | None = None) -> Agent:
    return await ctx.store.create_agent(
        email=email, name=email, role=Role.AGENT, password_hash=None,
        team_ids=team_ids or [], now=utcnow(),
    )  # fmt: skip


def board(ctx: ActionContext, online: frozenset[str] = frozenset(), **kw: int) -> StatusBoard:
    return StatusBoard(ChannelReads(ctx.store), lambda: online, **kw)  # type: ignore[arg-type]


async def test_positions_count_oldest_first_not_by_latest_message(ctx: ActionContext) -> None:
    inbox = await webchat_inbox(ctx)
    first = await visit(ctx, inbox, "v_first-visitor")
    second = await visit(ctx, inbox, "v_second-visitor")
    await visit(ctx, inbox, "v_first-visitor", 1)  # first is now the most recently active
    positions = await board(ctx).positions(inbox.id)
    assert positions == {first.id: 1, second.id: 2}


async def test_assigned_conversations_leave_the_queue(ctx: ActionContext) -> None:
    inbox = await webchat_inbox(ctx)
    taker = await agent(ctx, "a@x.test")
    first = await visit(ctx, inbox, "v_first-visitor")
    second = await visit(ctx, inbox, "v_second-visitor")
    await do_assign(ctx, first.id, agent_id=taker.id)
    assert await board(ctx).positions(inbox.id) == {second.id: 1}


async def test_a_queue_longer_than_the_scan_gives_no_numbers(ctx: ActionContext) -> None:
    inbox = await webchat_inbox(ctx)
    conversations = [await visit(ctx, inbox, f"v_visitor-{n:04d}") for n in range(5)]
    long_board = board(ctx, max_scan=3)
    assert await long_board.positions(inbox.id) == {}
    status = await long_board.status(inbox, WebchatInboxConfig(), conversations[0])
    assert (status["queue_position"], status["queue_long"]) == (None, True)
    full_board = board(ctx, max_scan=5)
    status = await full_board.status(inbox, WebchatInboxConfig(), conversations[4])
    positions = await full_board.positions(inbox.id)
    # conversations opened in the same millisecond may rank either way (then by id)
    assert sorted(positions.values()) == [1, 2, 3, 4, 5]
    assert set(positions) == {c.id for c in conversations}
    assert (status["queue_position"], status["queue_long"]) == (
        positions[conversations[4].id],
        False,
    )


async def test_estimated_wait_divides_the_queue_among_online_agents(
    ctx: ActionContext,
) -> None:
    inbox = await webchat_inbox(ctx)
    agents = [await agent(ctx, f"a{n}@x.test") for n in range(2)]
    conversations = [await visit(ctx, inbox, f"v_visitor-{n:04d}") for n in range(3)]
    config = WebchatInboxConfig(wait_seconds_per_conversation=60)
    online = frozenset(a.id for a in agents)
    positions = await board(ctx, online).positions(inbox.id)
    # conversations opened in the same millisecond may rank either way (then by id)
    last = next(c for c in conversations if positions[c.id] == 3)
    status = await board(ctx, online).status(inbox, config, last)
    assert (status["online"], status["queue_position"]) == (True, 3)
    assert status["estimated_wait_seconds"] == 120  # ceil(3 / 2) x 60
    offline = await board(ctx).status(inbox, config, last)
    assert (offline["online"], offline["estimated_wait_seconds"]) == (False, None)


async def test_only_agents_of_the_inbox_team_count_as_online(ctx: ActionContext) -> None:
    team = await ctx.store.create_team("Sales", now=utcnow())
    inbox = await webchat_inbox(ctx, team.id)
    member = await agent(ctx, "m@x.test", [team.id])
    other = await agent(ctx, "o@x.test")
    assert await board(ctx, frozenset({other.id})).online_count(inbox) == 0
    assert await board(ctx, frozenset({other.id, member.id})).online_count(inbox) == 1
