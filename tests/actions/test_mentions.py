"""@mentions in notes: who a text names, and the note.mention event."""

from __future__ import annotations

from hub.actions import ActionContext, do_note
from hub.actions.mentions import mention_spans, mentioned_agents
from hub.events import EventType
from hub.model import Agent, Role, utcnow


def _agent(agent_id: str, email: str, *, active: bool = True) -> Agent:
    return Agent(
        id=agent_id,
        email=email,
        name=email.split("@")[0].title(),
        active=active,
        created_at=utcnow(),
    )


ADA = _agent("agt_ada", "ada@hub.test")
BOB = _agent("agt_bob", "bob@hub.test")
BOB_OTHER = _agent("agt_bob2", "bob@elsewhere.test")
GONE = _agent("agt_gone", "gone@hub.test", active=False)


def test_a_handle_mentions_the_agent_with_that_email_local_part() -> None:
    assert mentioned_agents("@ada please call her", [ADA, BOB]) == ("agt_ada",)


def test_a_full_email_mentions_its_agent_even_when_the_handle_is_shared() -> None:
    agents = [BOB, BOB_OTHER]
    assert mentioned_agents("@bob can you?", agents) == ()
    assert mentioned_agents("@bob@elsewhere.test can you?", agents) == ("agt_bob2",)


def test_an_address_in_the_text_is_no_mention() -> None:
    assert mentioned_agents("she wrote from kari@ada.example", [ADA]) == ()


def test_a_mention_may_end_a_sentence_and_repeat() -> None:
    assert mentioned_agents("Thanks @Ada. And @bob, @ada!", [ADA, BOB]) == ("agt_ada", "agt_bob")


def test_an_inactive_agent_cannot_be_mentioned() -> None:
    assert mentioned_agents("@gone look", [GONE]) == ()


def test_spans_cut_the_text_at_the_mentions_and_keep_it_whole() -> None:
    text = "Hi @ada. Ask @nobody."
    spans = mention_spans(text, [ADA])
    assert spans == [("Hi ", None), ("@ada", "agt_ada"), (". Ask @nobody.", None)]
    assert "".join(part for part, _ in spans) == text


async def test_a_note_tells_the_agents_it_mentions_but_never_its_author(
    ctx: ActionContext, conversation_id: str
) -> None:
    people = {}
    for handle in ("ada", "bob"):
        people[handle] = await ctx.store.create_agent(
            email=f"{handle}@hub.test",
            name=handle.title(),
            role=Role.AGENT,
            password_hash=None,
            team_ids=(),
            now=utcnow(),
        )
    sub = ctx.bus.subscribe(types=[EventType.NOTE_MENTION])
    note = await do_note(ctx, conversation_id, author_id=people["ada"].id, text="@ada @bob look")
    event = await sub.get()
    sub.close()
    assert event.data == {
        "message": note,
        "conversation_id": conversation_id,
        "agent_ids": (people["bob"].id,),
    }


async def test_a_note_without_a_mention_publishes_no_mention(
    ctx: ActionContext, conversation_id: str
) -> None:
    start = ctx.bus.last_id
    await do_note(ctx, conversation_id, author_id=None, text="mail me at x@y.example")
    published = ctx.bus.since(start) or []
    assert [e.type for e in published] == [
        EventType.MESSAGE_CREATED,
        EventType.CONVERSATION_UPDATED,
    ]
