"""The round-robin selector: turns within a team, and its cached agent list stays current."""

from __future__ import annotations

from dataclasses import replace

from hub.actions import ActionContext
from hub.actions.admin import do_create_agent, do_create_team, do_update_agent
from hub.model import Conversation, Role, utcnow
from hub.routing import RoundRobinSelector


def _conversation(team_id: str | None) -> Conversation:
    now = utcnow()
    return Conversation(
        id="cnv_x",
        customer_id="cus_x",
        inbox_id="inb_x",
        channel="api",
        team_id=team_id,
        created_at=now,
        updated_at=now,
        last_message_at=now,
    )


async def _agent(ctx: ActionContext, name: str, team_ids: list[str]) -> str:
    agent = await do_create_agent(
        ctx, email=f"{name}@hub.test", name=name, role=Role.AGENT, team_ids=team_ids, password=None
    )
    return agent.id


async def test_turns_go_round_within_the_team(ctx: ActionContext) -> None:
    selector = RoundRobinSelector(ctx.store)
    ctx = replace(ctx, assigner=selector)
    team = await do_create_team(ctx, "Billing")
    a, b = sorted([await _agent(ctx, "a", [team.id]), await _agent(ctx, "b", [team.id])])
    outsider = await _agent(ctx, "c", [])
    picks = [await selector.pick(_conversation(team.id)) for _ in range(4)]
    assert picks == [a, b, a, b]
    assert outsider not in picks
    no_team = {await selector.pick(_conversation(None)) for _ in range(3)}
    assert no_team == {a, b, outsider}


async def test_agent_edits_reach_the_cached_list_at_once(ctx: ActionContext) -> None:
    selector = RoundRobinSelector(ctx.store, ttl=3600)
    ctx = replace(ctx, assigner=selector)
    team = await do_create_team(ctx, "Sales")
    first = await _agent(ctx, "first", [team.id])
    assert await selector.pick(_conversation(team.id)) == first  # the list is cached now
    second = await _agent(ctx, "second", [team.id])
    picks = {await selector.pick(_conversation(team.id)) for _ in range(2)}
    assert picks == {first, second}, "a new agent was not seen"
    await do_update_agent(ctx, first, active=False)
    assert {await selector.pick(_conversation(team.id)) for _ in range(3)} == {second}
    await do_update_agent(ctx, second, team_ids=[])
    assert await selector.pick(_conversation(team.id)) is None


async def test_edits_from_another_process_are_seen_after_the_ttl(ctx: ActionContext) -> None:
    now = [0.0]
    selector = RoundRobinSelector(ctx.store, ttl=5.0, clock=lambda: now[0])
    assert await selector.pick(_conversation(None)) is None
    # straight into the store, as `hub user add` in another process would
    await ctx.store.create_agent(
        email="cli@hub.test", name="Cli", role=Role.AGENT, password_hash=None, team_ids=[],
        now=utcnow(),
    )  # fmt: skip
    now[0] = 4.0
    assert await selector.pick(_conversation(None)) is None, "within the TTL: still cached"
    now[0] = 5.5
    assert await selector.pick(_conversation(None)) is not None


async def test_a_first_message_opens_its_conversation_already_assigned(
    ctx: ActionContext,
) -> None:
    """One commit stores the message and the assignment; conversation.created carries it."""
    from hub.actions import do_ingest
    from hub.events import EventType
    from hub.model import IdentityKind, Inbound

    selector = RoundRobinSelector(ctx.store)
    ctx = replace(ctx, assigner=selector)
    team = await do_create_team(ctx, "Chat")
    agents = sorted([await _agent(ctx, "x", [team.id]), await _agent(ctx, "y", [team.id])])
    inbox = await ctx.store.create_inbox(
        name="Chat", channel="webchat", team_id=team.id, config={}, now=utcnow()
    )
    seen = ctx.bus.last_id
    commits = ctx.store.engine.batches  # type: ignore[attr-defined]

    async def first_message(visitor: str) -> Conversation:
        inbound = Inbound(
            channel="webchat", inbox_id=inbox.id, provider_id=f"{visitor}:1",
            sender_kind=IdentityKind.VISITOR, sender=visitor, text="hi",
        )  # fmt: skip
        return (await do_ingest(ctx, inbound)).conversation

    first = await first_message("v_first-visitor-0001")
    assert ctx.store.engine.batches - commits == 1  # type: ignore[attr-defined]
    second = await first_message("v_second-visitor-002")
    assert [first.assignee_id, second.assignee_id] == agents
    events = ctx.bus.since(seen) or []
    created = [e for e in events if e.type == EventType.CONVERSATION_CREATED]
    assert [e.data["conversation"].assignee_id for e in created] == agents
    assert not [e for e in events if e.type == EventType.CONVERSATION_UPDATED]


async def test_a_batch_run_again_after_a_failed_job_takes_each_turn_once(
    ctx: ActionContext,
) -> None:
    """The SQLite engine re-runs a whole batch when one job fails; turns must not skip."""
    import asyncio

    from hub.actions import do_ingest
    from hub.errors import NotFound
    from hub.model import IdentityKind, Inbound

    selector = RoundRobinSelector(ctx.store)
    ctx = replace(ctx, assigner=selector)
    a, b, c = sorted([await _agent(ctx, name, []) for name in ("a", "b", "c")])
    inbox = await ctx.store.create_inbox(
        name="Chat", channel="webchat", team_id=None, config={}, now=utcnow()
    )

    def first_message(visitor: str, inbox_id: str) -> Inbound:
        return Inbound(
            channel="webchat", inbox_id=inbox_id, provider_id=f"{visitor}:1",
            sender_kind=IdentityKind.VISITOR, sender=visitor, text="hi",
        )  # fmt: skip

    await ctx.store.indexer.stop()  # type: ignore[attr-defined]  # no drain job in between
    await selector.for_new_conversations()  # agents cached: the four writes queue at once
    commits = ctx.store.engine.batches  # type: ignore[attr-defined]
    results = await asyncio.gather(
        do_ingest(ctx, first_message("v_visitor-number-0001", inbox.id)),
        do_ingest(ctx, first_message("v_visitor-number-0002", inbox.id)),
        do_ingest(ctx, first_message("v_visitor-number-0003", "inb_missing")),  # fails
        do_ingest(ctx, first_message("v_visitor-number-0004", inbox.id)),
        return_exceptions=True,
    )
    assert ctx.store.engine.batches - commits == 1, "the four writes should share a batch"  # type: ignore[attr-defined]
    assert isinstance(results[2], NotFound)
    assignees = [r.conversation.assignee_id for r in results if not isinstance(r, BaseException)]
    # two turns were taken before the failure; the re-run must not take two more
    assert assignees == [a, b, c]
    assert await selector.pick(_conversation(None)) == a


async def test_an_edit_during_a_read_of_the_agents_is_not_lost(ctx: ActionContext) -> None:
    """A list read before an edit committed must not be cached as current."""
    import asyncio

    from hub.store import Store

    gate = asyncio.Event()

    class SlowAgents:  # the store, with list_agents held at the gate after its read
        def __init__(self, store: Store) -> None:
            self._store = store

        async def list_agents(self) -> object:
            agents = await self._store.list_agents()
            await gate.wait()
            return agents

    selector = RoundRobinSelector(SlowAgents(ctx.store))  # type: ignore[arg-type]
    ctx = replace(ctx, assigner=selector)
    leaving = await _agent(ctx, "leaving", [])
    staying = await _agent(ctx, "staying", [])
    picking = asyncio.ensure_future(selector.pick(_conversation(None)))
    await asyncio.sleep(0.05)  # the read has the old list and waits at the gate
    await do_update_agent(ctx, leaving, active=False)
    gate.set()
    assert await picking == staying
    assert {await selector.pick(_conversation(None)) for _ in range(3)} == {staying}
