"""Store contract: reading and paging messages, notes, and full-text search."""

from __future__ import annotations

from datetime import datetime

import pytest

from hub.errors import InvalidInput, NotFound
from hub.model import Agent, Direction, Inbox, Message, MessageKind, utcnow
from hub.store import Store
from hub.store.base import NewMessage

from .conftest import Clock, IngestHelper


def _note(conversation_id: str, text: str, author: Agent, at: datetime) -> NewMessage:
    return NewMessage(
        conversation_id=conversation_id,
        kind=MessageKind.NOTE.value,
        text=text,
        author_id=author.id,
        created_at=at,
    )


# --- get and list ---------------------------------------------------------------------


async def test_get_message_of_an_unknown_id_is_none(store: Store) -> None:
    assert await store.get_message("msg_missing") is None


async def test_list_messages_returns_newest_first(
    store: Store, ingest: IngestHelper, clock: Clock
) -> None:
    made = [(await ingest(text=f"m{i}", at=clock())).message for i in range(3)]
    page = await store.list_messages(made[0].conversation_id)
    assert page.items == tuple(reversed(made))
    assert page.next_cursor is None


async def test_list_messages_pages_back_in_time_without_gaps_or_duplicates(
    store: Store, ingest: IngestHelper, clock: Clock
) -> None:
    made = [(await ingest(text=f"m{i}", at=clock())).message for i in range(7)]
    seen: list[Message] = []
    cursor: str | None = None
    pages = 0
    while True:
        page = await store.list_messages(made[0].conversation_id, limit=3, cursor=cursor)
        seen += page.items
        pages += 1
        if (cursor := page.next_cursor) is None:
            break
    assert pages == 3
    assert seen == list(reversed(made))


async def test_list_messages_pages_messages_of_the_same_millisecond(
    store: Store, ingest: IngestHelper
) -> None:
    at = utcnow()
    made = {(await ingest(text=f"m{i}", at=at)).message.id for i in range(5)}
    last = await ingest(text="last", at=at)
    conversation_id = last.conversation.id
    made.add(last.message.id)
    seen: list[str] = []
    cursor: str | None = None
    while True:
        page = await store.list_messages(conversation_id, limit=2, cursor=cursor)
        seen += [m.id for m in page.items]
        if (cursor := page.next_cursor) is None:
            break
    assert len(seen) == 6
    assert set(seen) == made


async def test_list_messages_shows_only_that_conversation(
    store: Store, ingest: IngestHelper
) -> None:
    mine = await ingest(sender="a@example.com")
    await ingest(sender="b@example.com")
    page = await store.list_messages(mine.conversation.id)
    assert page.items == (mine.message,)


# --- notes ----------------------------------------------------------------------------


async def test_add_note_stores_a_private_note_by_the_agent(
    store: Store, ingest: IngestHelper, agent: Agent
) -> None:
    conversation = (await ingest()).conversation
    at = utcnow()
    note, _ = await store.add_note(_note(conversation.id, "call back tomorrow", agent, at))
    assert (note.kind, note.author_id, note.text) == (
        MessageKind.NOTE,
        agent.id,
        "call back tomorrow",
    )
    assert (note.conversation_id, note.customer_id) == (conversation.id, conversation.customer_id)
    assert note.channel == conversation.channel
    assert note.direction == Direction.OUT
    assert (note.created_at, note.provider_id) == (at, None)
    assert await store.get_message(note.id) == note


async def test_add_note_counts_the_message_and_appears_in_the_conversation(
    store: Store, ingest: IngestHelper, agent: Agent, clock: Clock
) -> None:
    inbound = await ingest(at=clock())
    note, conversation = await store.add_note(_note(inbound.conversation.id, "hmm", agent, clock()))
    assert conversation.message_count == 2
    assert conversation.unread_count == inbound.conversation.unread_count
    assert await store.get_conversation(conversation.id) == conversation
    assert (await store.list_messages(conversation.id)).items == (note, inbound.message)


async def test_a_note_is_not_a_first_response(
    store: Store, ingest: IngestHelper, agent: Agent
) -> None:
    conversation = (await ingest()).conversation
    _, after = await store.add_note(_note(conversation.id, "internal", agent, utcnow()))
    assert after.first_response_at is None


async def test_add_note_of_an_unknown_kind_is_invalid_and_stores_nothing(
    store: Store, ingest: IngestHelper
) -> None:
    conversation = (await ingest()).conversation
    bogus = NewMessage(conversation_id=conversation.id, kind="memo", text="x", created_at=utcnow())
    with pytest.raises(InvalidInput):
        await store.add_note(bogus)
    assert len((await store.list_messages(conversation.id)).items) == 1


async def test_list_messages_rejects_a_garbage_cursor(store: Store, ingest: IngestHelper) -> None:
    conversation = (await ingest()).conversation
    with pytest.raises(InvalidInput):
        await store.list_messages(conversation.id, cursor="not-a-cursor")


async def test_add_note_to_an_unknown_conversation_is_not_found(store: Store, agent: Agent) -> None:
    with pytest.raises(NotFound):
        await store.add_note(_note("cnv_missing", "x", agent, utcnow()))


# --- search ---------------------------------------------------------------------------


async def test_search_finds_a_message_by_a_word(store: Store, ingest: IngestHelper) -> None:
    wanted = (await ingest(text="my invoice is wrong")).message
    await ingest(text="hello there")
    assert await store.search_messages("invoice") == [wanted]


async def test_search_ignores_case(store: Store, ingest: IngestHelper) -> None:
    wanted = (await ingest(text="Refund please")).message
    assert await store.search_messages("REFUND") == [wanted]


async def test_search_needs_every_word(store: Store, ingest: IngestHelper) -> None:
    both = (await ingest(text="broken printer driver")).message
    await ingest(text="broken window")
    assert await store.search_messages("printer broken") == [both]


async def test_search_without_a_match_is_empty(store: Store, ingest: IngestHelper) -> None:
    await ingest(text="hello there")
    assert await store.search_messages("zebra") == []


@pytest.mark.parametrize(
    "query",
    ['"foo AND (', "*", "foo*", "NEAR(a b", "-foo", "text:foo", "'", '"', "(", "^", "", "   "],
)
async def test_search_with_query_syntax_characters_does_not_raise(
    store: Store, ingest: IngestHelper, query: str
) -> None:
    await ingest(text="foo and bar")
    result = await store.search_messages(query)
    assert isinstance(result, list)


async def test_search_matches_words_even_inside_query_syntax(
    store: Store, ingest: IngestHelper
) -> None:
    wanted = (await ingest(text="foo bar")).message
    assert await store.search_messages("(foo)") == [wanted]


async def test_search_restricted_to_inboxes_skips_other_inboxes(
    store: Store, ingest: IngestHelper, inbox: Inbox
) -> None:
    other = await store.create_inbox(
        name="Other", channel="email", team_id=None, config={}, now=utcnow()
    )
    mine = (await ingest(text="shared word", sender="a@example.com")).message
    theirs = (await ingest(to=other, text="shared word", sender="b@example.com")).message
    assert await store.search_messages("shared", inbox_ids=[inbox.id]) == [mine]
    assert await store.search_messages("shared", inbox_ids=[other.id]) == [theirs]
    found = await store.search_messages("shared", inbox_ids=[inbox.id, other.id])
    assert {m.id for m in found} == {mine.id, theirs.id}


async def test_search_restricted_to_no_inboxes_is_empty(store: Store, ingest: IngestHelper) -> None:
    await ingest(text="shared word")
    assert await store.search_messages("shared", inbox_ids=[]) == []


async def test_search_respects_the_limit(store: Store, ingest: IngestHelper) -> None:
    for i in range(4):
        await ingest(text=f"common {i}", sender=f"s{i}@example.com")
    assert len(await store.search_messages("common", limit=2)) == 2
