"""Store contract: one customer's messages from all their channels and conversations."""

from __future__ import annotations

from hub.model import Agent, IdentityKind, Inbox, Message, MessageKind
from hub.store import Store
from hub.store.base import NewMessage

from .conftest import Clock, IngestHelper

PHONE = IdentityKind.PHONE


async def _sms_inbox(store: Store, clock: Clock) -> Inbox:
    return await store.create_inbox(name="SMS", channel="sms", team_id=None, config={}, now=clock())


async def _two_channel_customer(
    store: Store, ingest: IngestHelper, clock: Clock
) -> tuple[list[Message], Inbox]:
    """A customer writing by email and by SMS (one customer, two conversations)."""
    sms = await _sms_inbox(store, clock)
    first = await ingest(sender="kari@example.com", text="by email", at=clock())
    await store.add_identity(first.customer.id, PHONE, "+4712345678", now=clock())
    second = await ingest(
        to=sms, sender="+4712345678", sender_kind=PHONE, text="by sms", at=clock()
    )
    third = await ingest(sender="kari@example.com", text="email again", at=clock())
    assert second.customer.id == first.customer.id
    assert second.conversation.id != first.conversation.id
    return [first.message, second.message, third.message], sms


async def test_customer_messages_span_every_conversation_newest_first(
    store: Store, ingest: IngestHelper, clock: Clock
) -> None:
    made, _ = await _two_channel_customer(store, ingest, clock)
    page = await store.list_customer_messages(made[0].customer_id)
    assert page.items == tuple(reversed(made))
    assert {m.channel for m in page.items} == {"email", "sms"}
    assert page.next_cursor is None


async def test_customer_messages_leave_out_other_customers(
    store: Store, ingest: IngestHelper, clock: Clock
) -> None:
    mine = (await ingest(sender="kari@example.com", at=clock())).message
    await ingest(sender="someone@example.com", at=clock())
    page = await store.list_customer_messages(mine.customer_id)
    assert page.items == (mine,)


async def test_customer_messages_include_notes(
    store: Store, ingest: IngestHelper, clock: Clock, agent: Agent
) -> None:
    inbound = (await ingest(sender="kari@example.com", at=clock())).message
    note, _ = await store.add_note(
        NewMessage(
            conversation_id=inbound.conversation_id,
            kind=MessageKind.NOTE.value,
            text="call her back",
            author_id=agent.id,
            created_at=clock(),
        )
    )
    page = await store.list_customer_messages(inbound.customer_id)
    assert [m.id for m in page.items] == [note.id, inbound.id]


async def test_customer_messages_page_back_in_time_without_gaps_or_duplicates(
    store: Store, ingest: IngestHelper, clock: Clock
) -> None:
    made, sms = await _two_channel_customer(store, ingest, clock)
    for i in range(4):
        made.append(
            (
                await ingest(
                    to=sms, sender="+4712345678", sender_kind=PHONE, text=f"m{i}", at=clock()
                )
            ).message
        )
    seen: list[Message] = []
    cursor: str | None = None
    while True:
        page = await store.list_customer_messages(made[0].customer_id, limit=3, cursor=cursor)
        seen += page.items
        if (cursor := page.next_cursor) is None:
            break
    assert seen == list(reversed(made))


async def test_customer_messages_restricted_to_inboxes_skip_the_others(
    store: Store, ingest: IngestHelper, clock: Clock, inbox: Inbox
) -> None:
    made, sms = await _two_channel_customer(store, ingest, clock)
    customer_id = made[0].customer_id
    only_sms = await store.list_customer_messages(customer_id, inbox_ids=[sms.id])
    assert only_sms.items == (made[1],)
    both = await store.list_customer_messages(customer_id, inbox_ids=[sms.id, inbox.id])
    assert both.items == tuple(reversed(made))
    assert (await store.list_customer_messages(customer_id, inbox_ids=[])).items == ()


async def test_customer_messages_follow_a_merge_and_its_undo(
    store: Store, ingest: IngestHelper, clock: Clock
) -> None:
    kept = (await ingest(sender="kari@example.com", at=clock())).message
    other = (await ingest(sender="kari@home.example", at=clock())).message
    merge = await store.merge_customers(
        kept.customer_id, other.customer_id, actor_id=None, now=clock()
    )
    merged_view = await store.list_customer_messages(kept.customer_id)
    assert [m.id for m in merged_view.items] == [other.id, kept.id]
    await store.undo_merge(merge.id, now=clock())
    assert [m.id for m in (await store.list_customer_messages(kept.customer_id)).items] == [kept.id]
    back = await store.list_customer_messages(other.customer_id)
    assert [m.id for m in back.items] == [other.id]
