"""Store contract: outbound replies, the outbox, send results and delivery callbacks."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

import pytest

from hub.errors import NotFound
from hub.model import (
    Agent,
    Conversation,
    DeliveryStatus,
    Direction,
    MessageKind,
    OutboxEntry,
    OutboxStatus,
    ThreadHints,
    utcnow,
)
from hub.store import Store
from hub.store.base import NewMessage, ReplyRequest, ReplyResult, SendResult

from .conftest import IngestHelper


@pytest.fixture
async def conversation(ingest: IngestHelper) -> Conversation:
    return (await ingest(message_key="<in-1@example.com>")).conversation


Reply = Callable[..., Awaitable[ReplyResult]]


@pytest.fixture
def reply(store: Store, conversation: Conversation, agent: Agent) -> Reply:
    """Enqueues a reply on `conversation` (keyword args: key, text, at, message_key)."""

    async def enqueue(
        key: str = "k-1",
        *,
        text: str = "thanks, on it",
        at: datetime | None = None,
        message_key: str | None = None,
    ) -> ReplyResult:
        message = NewMessage(
            conversation_id=conversation.id,
            kind=MessageKind.MESSAGE.value,
            text=text,
            author_id=agent.id,
            created_at=at or utcnow(),
        )
        thread = ThreadHints(message_key=message_key, references=("<in-1@example.com>",))
        return await store.enqueue_reply(
            ReplyRequest(message=message, idempotency_key=key, thread=thread)
        )

    return enqueue


async def _sent(store: Store, entry: OutboxEntry, provider_id: str) -> None:
    await store.record_send(
        SendResult(
            outbox_id=entry.id,
            delivery_status=DeliveryStatus.SENT,
            provider_id=provider_id,
            at=utcnow(),
        )
    )


# --- enqueue --------------------------------------------------------------------------


async def test_enqueue_reply_stores_a_queued_outbound_message(
    store: Store, reply: Reply, conversation: Conversation, agent: Agent
) -> None:
    at = utcnow()
    result = await reply(at=at, message_key="<out-1@example.com>")
    m = result.message
    assert result.created is True
    assert (m.direction, m.kind, m.delivery_status) == (
        Direction.OUT,
        MessageKind.MESSAGE,
        DeliveryStatus.QUEUED,
    )
    assert (m.text, m.author_id, m.thread_key) == ("thanks, on it", agent.id, "<out-1@example.com>")
    assert (m.conversation_id, m.customer_id) == (conversation.id, conversation.customer_id)
    assert (m.channel, m.created_at) == (conversation.channel, at)
    assert await store.get_message(m.id) == m


async def test_enqueue_reply_creates_a_due_outbox_entry(store: Store, reply: Reply) -> None:
    at = utcnow()
    result = await reply("key-9", at=at)
    entry = result.outbox
    assert (entry.message_id, entry.conversation_id) == (result.message.id, result.conversation.id)
    assert (entry.idempotency_key, entry.status, entry.attempts) == (
        "key-9",
        OutboxStatus.QUEUED,
        0,
    )
    assert (entry.next_attempt_at, entry.created_at) == (at, at)
    assert (entry.last_error, entry.provider_id) == (None, None)
    assert await store.get_outbox(entry.id) == entry


async def test_enqueue_reply_updates_the_conversation(
    store: Store, reply: Reply, conversation: Conversation
) -> None:
    at = conversation.last_message_at + timedelta(seconds=5)
    result = await reply(at=at)
    c = result.conversation
    assert (c.message_count, c.unread_count) == (2, 0)
    assert (c.last_message_at, c.first_response_at) == (at, at)
    assert await store.get_conversation(c.id) == c


async def test_first_response_at_keeps_the_first_reply_time(
    reply: Reply, conversation: Conversation
) -> None:
    first = conversation.last_message_at + timedelta(seconds=5)
    await reply("a", at=first)
    result = await reply("b", at=first + timedelta(minutes=1))
    assert result.conversation.first_response_at == first


async def test_enqueue_reply_twice_with_one_key_stores_one_message(
    store: Store, reply: Reply, conversation: Conversation
) -> None:
    first = await reply("same")
    again = await reply("same", text="a different text")
    assert again.created is False
    assert (again.message, again.outbox) == (first.message, first.outbox)
    assert again.conversation.message_count == 2
    assert len((await store.list_messages(conversation.id)).items) == 2


async def test_concurrent_enqueues_with_one_key_store_one_message(
    store: Store, reply: Reply, conversation: Conversation
) -> None:
    results = await asyncio.gather(*(reply("same") for _ in range(10)))
    assert [r.created for r in results].count(True) == 1
    assert len({r.message.id for r in results}) == 1
    assert len((await store.list_messages(conversation.id)).items) == 2


async def test_enqueue_reply_on_an_unknown_conversation_is_not_found(store: Store) -> None:
    message = NewMessage(
        conversation_id="cnv_missing", kind="message", text="x", created_at=utcnow()
    )
    with pytest.raises(NotFound):
        await store.enqueue_reply(ReplyRequest(message=message, idempotency_key="k"))


async def test_customer_answer_to_a_reply_joins_its_conversation(
    ingest: IngestHelper, reply: Reply, conversation: Conversation
) -> None:
    await reply(message_key="<out-1@example.com>")
    answer = await ingest(sender="someone.else@example.com", references=("<out-1@example.com>",))
    assert answer.conversation.id == conversation.id


async def test_get_outbox_of_an_unknown_id_is_none(store: Store) -> None:
    assert await store.get_outbox("obx_missing") is None


# --- claim ----------------------------------------------------------------------------


async def test_claim_outbox_marks_due_entries_sending_and_counts_the_attempt(
    store: Store, reply: Reply
) -> None:
    entry = (await reply(at=utcnow())).outbox
    claimed = await store.claim_outbox(utcnow() + timedelta(seconds=1))
    assert [c.id for c in claimed] == [entry.id]
    assert (claimed[0].status, claimed[0].attempts) == (OutboxStatus.SENDING, 1)
    assert await store.get_outbox(entry.id) == claimed[0]


async def test_claimed_entries_are_not_claimed_again(store: Store, reply: Reply) -> None:
    await reply(at=utcnow())
    later = utcnow() + timedelta(seconds=1)
    assert len(await store.claim_outbox(later)) == 1
    assert await store.claim_outbox(later) == []


async def test_concurrent_claims_share_nothing(store: Store, reply: Reply) -> None:
    for i in range(6):
        await reply(f"k{i}")
    later = utcnow() + timedelta(seconds=1)
    batches = await asyncio.gather(*(store.claim_outbox(later, limit=2) for _ in range(4)))
    ids = [e.id for batch in batches for e in batch]
    assert len(ids) == len(set(ids)) == 6


async def test_entries_not_yet_due_are_not_claimed(store: Store, reply: Reply) -> None:
    at = utcnow()
    await reply(at=at + timedelta(minutes=5))
    assert await store.claim_outbox(at) == []
    assert len(await store.claim_outbox(at + timedelta(minutes=5))) == 1


async def test_claim_outbox_respects_the_limit(store: Store, reply: Reply) -> None:
    for i in range(3):
        await reply(f"k{i}")
    later = utcnow() + timedelta(seconds=1)
    assert len(await store.claim_outbox(later, limit=2)) == 2
    assert len(await store.claim_outbox(later, limit=2)) == 1


# --- record_send ----------------------------------------------------------------------


async def test_record_send_success_marks_entry_and_message_sent(store: Store, reply: Reply) -> None:
    queued = await reply()
    (entry,) = await store.claim_outbox(utcnow() + timedelta(seconds=1))
    at = utcnow()
    result = SendResult(
        outbox_id=entry.id, delivery_status=DeliveryStatus.SENT, provider_id="prov-1", at=at
    )
    done, message = await store.record_send(result)
    assert (done.status, done.provider_id, done.last_error, done.updated_at) == (
        OutboxStatus.SENT,
        "prov-1",
        None,
        at,
    )
    assert (message.id, message.delivery_status) == (queued.message.id, DeliveryStatus.SENT)
    assert (message.provider_id, message.sent_at, message.error) == ("prov-1", at, None)
    assert await store.get_outbox(entry.id) == done
    assert await store.get_message(message.id) == message


async def test_record_send_retry_requeues_the_entry_for_later(store: Store, reply: Reply) -> None:
    await reply()
    (entry,) = await store.claim_outbox(utcnow() + timedelta(seconds=1))
    retry_at = utcnow() + timedelta(minutes=2)
    done, message = await store.record_send(
        SendResult(
            outbox_id=entry.id,
            delivery_status=DeliveryStatus.QUEUED,
            error="421 try later",
            next_attempt_at=retry_at,
            at=utcnow(),
        )
    )
    assert (done.status, done.next_attempt_at, done.last_error) == (
        OutboxStatus.QUEUED,
        retry_at,
        "421 try later",
    )
    assert (message.delivery_status, message.error) == (DeliveryStatus.QUEUED, "421 try later")
    assert await store.claim_outbox(retry_at - timedelta(seconds=1)) == []
    (again,) = await store.claim_outbox(retry_at)
    assert (again.id, again.attempts) == (entry.id, 2)


async def test_record_send_failure_marks_entry_and_message_failed(
    store: Store, reply: Reply
) -> None:
    await reply()
    (entry,) = await store.claim_outbox(utcnow() + timedelta(seconds=1))
    done, message = await store.record_send(
        SendResult(
            outbox_id=entry.id,
            delivery_status=DeliveryStatus.FAILED,
            error="550 no such user",
            at=utcnow(),
        )
    )
    assert (done.status, done.last_error) == (OutboxStatus.FAILED, "550 no such user")
    assert (message.delivery_status, message.error) == (DeliveryStatus.FAILED, "550 no such user")
    assert await store.claim_outbox(utcnow() + timedelta(days=1)) == []


async def test_record_send_for_an_unknown_entry_is_not_found(store: Store) -> None:
    with pytest.raises(NotFound):
        await store.record_send(
            SendResult(outbox_id="obx_missing", delivery_status=DeliveryStatus.SENT, at=utcnow())
        )


# --- delivery callbacks ---------------------------------------------------------------


async def test_set_delivery_status_for_an_unknown_provider_id_is_none(store: Store) -> None:
    status = DeliveryStatus.DELIVERED
    assert await store.set_delivery_status("email", "nope", status, error=None) is None


async def test_set_delivery_status_needs_the_same_channel(store: Store, reply: Reply) -> None:
    await _sent(store, (await reply()).outbox, "prov-1")
    status = DeliveryStatus.DELIVERED
    assert await store.set_delivery_status("sms", "prov-1", status, error=None) is None


async def test_set_delivery_status_moves_forward(store: Store, reply: Reply) -> None:
    queued = await reply()
    await _sent(store, queued.outbox, "prov-1")
    status = DeliveryStatus.DELIVERED
    message = await store.set_delivery_status("email", "prov-1", status, error=None)
    assert message is not None
    assert (message.id, message.delivery_status) == (queued.message.id, DeliveryStatus.DELIVERED)
    assert await store.get_message(message.id) == message


async def test_set_delivery_status_never_moves_backwards(store: Store, reply: Reply) -> None:
    queued = await reply()
    await _sent(store, queued.outbox, "prov-1")
    await store.set_delivery_status("email", "prov-1", DeliveryStatus.READ, error=None)
    late = await store.set_delivery_status("email", "prov-1", DeliveryStatus.DELIVERED, error=None)
    assert late is not None and late.delivery_status == DeliveryStatus.READ
    late = await store.set_delivery_status("email", "prov-1", DeliveryStatus.SENT, error=None)
    assert late is not None and late.delivery_status == DeliveryStatus.READ
    stored = await store.get_message(queued.message.id)
    assert stored is not None and stored.delivery_status == DeliveryStatus.READ


async def test_set_delivery_status_failed_is_always_allowed(store: Store, reply: Reply) -> None:
    queued = await reply()
    await _sent(store, queued.outbox, "prov-1")
    await store.set_delivery_status("email", "prov-1", DeliveryStatus.DELIVERED, error=None)
    failed = await store.set_delivery_status(
        "email", "prov-1", DeliveryStatus.FAILED, error="bounced"
    )
    assert failed is not None
    assert (failed.delivery_status, failed.error) == (DeliveryStatus.FAILED, "bounced")


async def test_an_entry_stuck_sending_is_reclaimed_after_the_lease(
    store: Store, reply: Reply
) -> None:
    await reply()
    now = utcnow()
    [first] = await store.claim_outbox(now)
    assert await store.claim_outbox(now + timedelta(minutes=1)) == []
    [again] = await store.claim_outbox(now + timedelta(minutes=6))
    assert again.id == first.id
    assert again.attempts == first.attempts + 1
