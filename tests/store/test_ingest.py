"""Store contract: ingest dedupes, resolves the customer, threads and counts, atomically."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

import pytest

from hub.errors import InvalidInput, NotFound
from hub.model import (
    Attachment,
    DeliveryStatus,
    Direction,
    IdentityKind,
    Inbox,
    MessageKind,
    Role,
    Status,
    utcnow,
)
from hub.store import Store
from hub.store.base import ConversationPatch, IngestRequest

from .conftest import REOPEN_WINDOW, Clock, InboundBuilder, IngestHelper


async def _resolve(store: Store, conversation_id: str, at: datetime) -> None:
    await store.update_conversation(
        conversation_id, ConversationPatch(status=Status.RESOLVED, resolved_at=at)
    )


async def _other_inbox(store: Store, channel: str = "email") -> Inbox:
    return await store.create_inbox(
        name=f"Other {channel}", channel=channel, team_id=None, config={}, now=utcnow()
    )


# --- the stored message ---------------------------------------------------------------


async def test_ingest_stores_the_message_as_received(
    store: Store, ingest: IngestHelper, inbox: Inbox
) -> None:
    at = utcnow()
    sent = at - timedelta(minutes=3)
    files = (Attachment(filename="a.pdf", content_type="application/pdf", size=12, url="u"),)
    result = await ingest(
        at=at,
        provider_id="<m1@example.com>",
        text="hi there",
        html="<p>hi there</p>",
        attachments=files,
        message_key="<m1@example.com>",
        sent_at=sent,
    )
    m = result.message
    assert (m.direction, m.kind, m.channel) == (Direction.IN, MessageKind.MESSAGE, "email")
    assert (m.text, m.html, m.attachments) == ("hi there", "<p>hi there</p>", files)
    assert (m.provider_id, m.thread_key) == ("<m1@example.com>", "<m1@example.com>")
    assert m.sender == "alice@example.com"
    assert m.delivery_status == DeliveryStatus.RECEIVED
    assert (m.created_at, m.sent_at) == (at, sent)
    assert (m.conversation_id, m.customer_id) == (result.conversation.id, result.customer.id)
    assert await store.get_message(m.id) == m
    assert result.duplicate is False


async def test_first_message_starts_an_open_conversation_in_the_inbox(
    store: Store, ingest: IngestHelper
) -> None:
    team = await store.create_team("Support", now=utcnow())
    teamed = await store.create_inbox(
        name="Team mail", channel="email", team_id=team.id, config={}, now=utcnow()
    )
    at = utcnow()
    result = await ingest(to=teamed, at=at, subject="Refund")
    c = result.conversation
    assert result.conversation_created is True
    assert result.conversation_reopened is False
    assert (c.inbox_id, c.channel, c.team_id, c.subject) == (teamed.id, "email", team.id, "Refund")
    assert (c.status, c.assignee_id, c.customer_id) == (Status.OPEN, None, result.customer.id)
    assert (c.created_at, c.last_message_at) == (at, at)
    assert await store.get_conversation(c.id) == c


# --- customers ------------------------------------------------------------------------


async def test_new_sender_creates_a_customer_and_identity(
    store: Store, ingest: IngestHelper
) -> None:
    result = await ingest(sender="new@example.com", sender_name="New Person")
    assert result.customer_created is True
    assert result.customer.name == "New Person"
    identity = await store.find_identity(IdentityKind.EMAIL, "new@example.com")
    assert identity is not None
    assert identity.customer_id == result.customer.id
    assert await store.get_customer(result.customer.id) == result.customer


async def test_known_sender_reuses_the_customer(store: Store, ingest: IngestHelper) -> None:
    first = await ingest(sender="a@example.com")
    second = await ingest(sender="a@example.com")
    assert second.customer_created is False
    assert second.customer.id == first.customer.id
    assert (await store.counts())["customers"] == 1


async def test_known_sender_without_a_name_gets_the_senders_name(
    store: Store, ingest: IngestHelper
) -> None:
    await ingest(sender="a@example.com")
    result = await ingest(sender="a@example.com", sender_name="Alice")
    assert result.customer.name == "Alice"
    assert (await store.get_customer(result.customer.id)) == result.customer


async def test_concurrent_first_messages_from_one_sender_create_one_customer(
    store: Store, ingest: IngestHelper
) -> None:
    results = await asyncio.gather(*(ingest(sender="rush@example.com") for _ in range(20)))
    assert len({r.customer.id for r in results}) == 1
    assert sum(r.customer_created for r in results) == 1
    assert (await store.counts())["customers"] == 1


# --- dedupe ---------------------------------------------------------------------------


async def test_duplicate_provider_id_returns_the_stored_message(
    ingest: IngestHelper, inbound: InboundBuilder
) -> None:
    message = inbound(provider_id="p-1")
    first = await ingest(message)
    again = await ingest(message)
    assert again.duplicate is True
    assert again.message == first.message
    assert again.customer.id == first.customer.id
    assert again.conversation.id == first.conversation.id


async def test_duplicate_ingest_changes_nothing(
    store: Store, ingest: IngestHelper, inbound: InboundBuilder
) -> None:
    message = inbound(provider_id="p-1")
    first = await ingest(message)
    counts = await store.counts()
    await ingest(message, at=utcnow() + timedelta(minutes=5))
    assert await store.counts() == counts
    assert await store.get_conversation(first.conversation.id) == first.conversation


async def test_fifty_concurrent_duplicate_ingests_store_one_message(
    store: Store, ingest: IngestHelper, inbound: InboundBuilder
) -> None:
    message = inbound(provider_id="p-storm")
    results = await asyncio.gather(*(ingest(message) for _ in range(50)))
    assert len({r.message.id for r in results}) == 1
    assert [r.duplicate for r in results].count(False) == 1
    conversation = await store.get_conversation(results[0].conversation.id)
    assert conversation is not None
    assert conversation.message_count == 1
    assert (await store.counts())["messages"] == 1


async def test_same_provider_id_on_another_channel_is_not_a_duplicate(
    store: Store, ingest: IngestHelper
) -> None:
    sms = await _other_inbox(store, "sms")
    first = await ingest(provider_id="42")
    other = await ingest(
        to=sms, provider_id="42", sender="+4712345678", sender_kind=IdentityKind.PHONE
    )
    assert other.duplicate is False
    assert other.message.id != first.message.id
    assert (await store.counts())["messages"] == 2


# --- threading ------------------------------------------------------------------------


async def test_reference_to_an_earlier_message_joins_its_conversation_from_another_sender(
    ingest: IngestHelper,
) -> None:
    first = await ingest(sender="alice@example.com", message_key="<k1@x>")
    reply = await ingest(sender="bob@example.com", references=("<k0@x>", "<k1@x>"))
    assert reply.customer.id != first.customer.id
    assert reply.conversation.id == first.conversation.id
    assert reply.conversation_created is False


async def test_reference_reopens_a_resolved_conversation(
    store: Store, ingest: IngestHelper, clock: Clock
) -> None:
    first = await ingest(at=clock(), message_key="<k1@x>")
    await _resolve(store, first.conversation.id, clock() - timedelta(days=30))
    reply = await ingest(at=clock(), references=("<k1@x>",))
    assert reply.conversation.id == first.conversation.id
    assert reply.conversation_reopened is True
    assert reply.conversation.status == Status.OPEN
    assert reply.conversation.resolved_at is None


async def test_reference_to_a_message_in_another_inbox_does_not_match(
    store: Store, ingest: IngestHelper
) -> None:
    other = await _other_inbox(store)
    first = await ingest(to=other, sender="alice@example.com", message_key="<k1@x>")
    reply = await ingest(sender="bob@example.com", references=("<k1@x>",))
    assert reply.conversation.id != first.conversation.id
    assert reply.conversation_created is True


async def test_open_conversation_of_the_customer_is_reused(
    ingest: IngestHelper, clock: Clock
) -> None:
    first = await ingest(at=clock(), subject="one")
    second = await ingest(at=clock(), subject="another subject")
    assert second.conversation.id == first.conversation.id
    assert (second.conversation_created, second.conversation_reopened) == (False, False)


async def test_message_to_another_inbox_starts_a_new_conversation(
    store: Store, ingest: IngestHelper
) -> None:
    other = await _other_inbox(store)
    first = await ingest()
    second = await ingest(to=other)
    assert second.customer.id == first.customer.id
    assert second.conversation.id != first.conversation.id
    assert second.conversation.inbox_id == other.id


async def test_resolved_conversation_within_the_window_is_reopened(
    store: Store, ingest: IngestHelper
) -> None:
    now = utcnow()
    first = await ingest(at=now - timedelta(days=7))
    await _resolve(store, first.conversation.id, now - timedelta(days=6))
    result = await ingest(at=now)
    assert result.conversation.id == first.conversation.id
    assert result.conversation_reopened is True
    assert result.conversation_created is False
    assert (result.conversation.status, result.conversation.resolved_at) == (Status.OPEN, None)


async def test_resolved_conversation_outside_the_window_starts_a_new_one(
    store: Store, ingest: IngestHelper
) -> None:
    now = utcnow()
    first = await ingest(at=now - timedelta(days=9))
    await _resolve(store, first.conversation.id, now - timedelta(days=8))
    result = await ingest(at=now)
    assert result.conversation.id != first.conversation.id
    assert (result.conversation_created, result.conversation_reopened) == (True, False)
    old = await store.get_conversation(first.conversation.id)
    assert old is not None and old.status == Status.RESOLVED


@pytest.mark.parametrize("status", [Status.SNOOZED, Status.PENDING])
async def test_snoozed_or_pending_conversation_is_reopened_by_a_new_inbound(
    store: Store, ingest: IngestHelper, clock: Clock, status: Status
) -> None:
    first = await ingest(at=clock())
    await store.update_conversation(
        first.conversation.id,
        ConversationPatch(status=status, snoozed_until=clock() + timedelta(days=1)),
    )
    result = await ingest(at=clock())
    assert result.conversation.id == first.conversation.id
    assert result.conversation_reopened is True
    assert result.conversation.status == Status.OPEN
    assert result.conversation.snoozed_until is None


# --- validation -----------------------------------------------------------------------


async def test_ingest_into_an_unknown_inbox_is_not_found(
    store: Store, ingest: IngestHelper, inbound: InboundBuilder, inbox: Inbox
) -> None:
    ghost = Inbox(id="inb_missing", name="x", channel="email", created_at=utcnow())
    with pytest.raises(NotFound):
        await ingest(inbound(to=ghost))
    assert (await store.counts())["messages"] == 0


async def test_ingest_into_an_inbox_of_another_channel_is_invalid_and_stores_nothing(
    store: Store, ingest: IngestHelper
) -> None:
    with pytest.raises(InvalidInput):
        await ingest(channel="sms", sender="+4712345678", sender_kind=IdentityKind.PHONE)
    counts = await store.counts()
    assert (counts["messages"], counts["customers"], counts["conversations"]) == (0, 0, 0)


# --- counters -------------------------------------------------------------------------


async def test_ingest_updates_unread_message_count_and_last_message_at(
    ingest: IngestHelper, clock: Clock
) -> None:
    await ingest(at=clock())
    await ingest(at=clock())
    last_at = clock()
    result = await ingest(at=last_at)
    c = result.conversation
    assert (c.unread_count, c.message_count) == (3, 3)
    assert c.last_message_at == last_at
    assert c.updated_at == last_at


async def test_late_arriving_older_message_does_not_move_last_message_at_back(
    ingest: IngestHelper,
) -> None:
    now = utcnow()
    await ingest(at=now)
    result = await ingest(at=now - timedelta(hours=1))
    assert result.conversation.last_message_at == now
    assert result.conversation.message_count == 2


# --- a new conversation is assigned in the same write ---------------------------------


async def test_a_new_conversation_is_stored_assigned_by_the_requests_assign_new(
    store: Store, inbound: InboundBuilder
) -> None:
    team = await store.create_team("Support", now=utcnow())
    inbox = await store.create_inbox(
        name="Team chat", channel="webchat", team_id=team.id, config={}, now=utcnow()
    )
    agent = await store.create_agent(
        email="a@hub.test", name="A", role=Role.AGENT, password_hash=None,
        team_ids=[team.id], now=utcnow(),
    )  # fmt: skip
    asked: list[str | None] = []

    def assign_new(team_id: str | None) -> str | None:
        asked.append(team_id)
        return agent.id

    def request(provider_id: str, text: str) -> IngestRequest:
        message = inbound(
            to=inbox, provider_id=provider_id, text=text,
            sender_kind=IdentityKind.VISITOR, sender="v_assign-me-please",
        )  # fmt: skip
        return IngestRequest(
            inbound=message, sender=message.sender, received_at=utcnow(),
            reopen_window=REOPEN_WINDOW, assign_new=assign_new,
        )  # fmt: skip

    first = await store.ingest(request("p1", "hello"))
    assert first.conversation_created and first.conversation.assignee_id == agent.id
    assert asked == [team.id]
    stored = await store.get_conversation(first.conversation.id)
    assert stored is not None and stored.assignee_id == agent.id
    # neither a follow-up in that conversation nor a redelivery asks again
    follow_up = await store.ingest(request("p2", "are you there?"))
    redelivery = await store.ingest(request("p1", "hello"))
    assert follow_up.conversation.id == first.conversation.id and redelivery.duplicate
    assert asked == [team.id]


async def test_assign_new_answering_none_leaves_the_new_conversation_unassigned(
    store: Store, inbound: InboundBuilder, inbox: Inbox
) -> None:
    message = inbound(provider_id="p1")
    result = await store.ingest(
        IngestRequest(
            inbound=message,
            sender=message.sender,
            received_at=utcnow(),
            reopen_window=REOPEN_WINDOW,
            assign_new=lambda team_id: None,
        )
    )
    assert result.conversation_created and result.conversation.assignee_id is None
