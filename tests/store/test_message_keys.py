"""Store contract: idempotency claims of replies and notes (one namespace, unique on the key)."""

from __future__ import annotations

import asyncio

import pytest

from hub.errors import IdempotencyKeyReused, InvalidInput
from hub.model import Agent, Conversation, MessageKind, utcnow
from hub.store import Store
from hub.store.base import IdempotencyClaim, NewMessage, ReplyRequest, ReplyResult

from .conftest import IngestHelper


@pytest.fixture
async def conversation(ingest: IngestHelper) -> Conversation:
    return (await ingest(sender="alice@example.com")).conversation


@pytest.fixture
async def other(ingest: IngestHelper) -> Conversation:
    return (await ingest(sender="bob@example.com")).conversation


def _message(conversation: Conversation, agent: Agent, kind: MessageKind, text: str) -> NewMessage:
    return NewMessage(
        conversation_id=conversation.id,
        kind=kind.value,
        text=text,
        author_id=agent.id,
        created_at=utcnow(),
    )


def _claim(fingerprint: str, key: str = "key:1") -> IdempotencyClaim:
    return IdempotencyClaim(key=key, fingerprint=fingerprint)


async def _reply(
    store: Store, conversation: Conversation, agent: Agent, claim: IdempotencyClaim, text: str
) -> ReplyResult:
    message = _message(conversation, agent, MessageKind.MESSAGE, text)
    return await store.enqueue_reply(
        ReplyRequest(message=message, idempotency_key=claim.key, claim=claim)
    )


async def _note_count(store: Store, conversation: Conversation) -> int:
    items = (await store.list_messages(conversation.id)).items
    return sum(1 for m in items if m.kind == MessageKind.NOTE)


# --- replies ------------------------------------------------------------------------------


async def test_a_claimed_reply_replayed_answers_the_stored_reply(
    store: Store, conversation: Conversation, agent: Agent
) -> None:
    first = await _reply(store, conversation, agent, _claim("f-1"), "on it")
    again = await _reply(store, conversation, agent, _claim("f-1"), "on it")
    assert first.created and not again.created
    assert again.message == first.message and again.outbox.id == first.outbox.id
    assert (await store.counts())["outbox"] == 1


async def test_a_reply_claim_made_again_with_another_body_is_refused_and_stores_nothing(
    store: Store, conversation: Conversation, agent: Agent
) -> None:
    await _reply(store, conversation, agent, _claim("f-1"), "on it")
    with pytest.raises(IdempotencyKeyReused) as caught:
        await _reply(store, conversation, agent, _claim("f-2"), "something else")
    assert (caught.value.status, caught.value.details) == (409, {"reason": "body"})
    assert (await store.counts())["outbox"] == 1


async def test_a_reply_claim_made_again_on_another_conversation_is_refused(
    store: Store, conversation: Conversation, other: Conversation, agent: Agent
) -> None:
    await _reply(store, conversation, agent, _claim("f-1"), "on it")
    with pytest.raises(IdempotencyKeyReused) as caught:
        await _reply(store, other, agent, _claim("f-other"), "on it")
    assert caught.value.details == {"reason": "conversation"}
    assert len((await store.list_messages(other.id)).items) == 1  # the customer's only


async def test_replies_under_different_claim_keys_are_both_stored(
    store: Store, conversation: Conversation, agent: Agent
) -> None:
    one = await _reply(store, conversation, agent, _claim("f", key="key:a"), "same text")
    two = await _reply(store, conversation, agent, _claim("f", key="key:b"), "same text")
    assert one.created and two.created and one.message.id != two.message.id


# --- notes --------------------------------------------------------------------------------


async def test_a_claimed_note_replayed_stores_one_note_and_answers_it(
    store: Store, conversation: Conversation, agent: Agent
) -> None:
    note = _message(conversation, agent, MessageKind.NOTE, "call back")
    first = await store.add_note_once(note, _claim("n-1"))
    again = await store.add_note_once(note, _claim("n-1"))
    assert first.created and not again.created
    assert again.message == first.message
    assert await _note_count(store, conversation) == 1
    assert again.conversation.message_count == first.conversation.message_count == 2


async def test_a_note_claim_made_again_with_another_body_is_refused(
    store: Store, conversation: Conversation, agent: Agent
) -> None:
    await store.add_note_once(_message(conversation, agent, MessageKind.NOTE, "a"), _claim("n-1"))
    with pytest.raises(IdempotencyKeyReused) as caught:
        await store.add_note_once(
            _message(conversation, agent, MessageKind.NOTE, "b"), _claim("n-2")
        )
    assert caught.value.details == {"reason": "body"}
    assert await _note_count(store, conversation) == 1


async def test_a_note_claim_made_again_on_another_conversation_is_refused(
    store: Store, conversation: Conversation, other: Conversation, agent: Agent
) -> None:
    await store.add_note_once(_message(conversation, agent, MessageKind.NOTE, "a"), _claim("n-1"))
    with pytest.raises(IdempotencyKeyReused) as caught:
        await store.add_note_once(_message(other, agent, MessageKind.NOTE, "a"), _claim("n-o"))
    assert caught.value.details == {"reason": "conversation"}
    assert await _note_count(store, other) == 0


async def test_concurrent_notes_with_one_claim_store_one_note_and_one_is_created(
    store: Store, conversation: Conversation, agent: Agent
) -> None:
    note = _message(conversation, agent, MessageKind.NOTE, "racing")
    results = await asyncio.gather(*(store.add_note_once(note, _claim("n-1")) for _ in range(4)))
    assert sum(r.created for r in results) == 1
    assert len({r.message.id for r in results}) == 1
    assert await _note_count(store, conversation) == 1
    after = await store.get_conversation(conversation.id)
    assert after is not None and after.message_count == 2


# --- replies and notes share the namespace ------------------------------------------------


async def test_a_reply_claim_is_refused_for_a_note(
    store: Store, conversation: Conversation, agent: Agent
) -> None:
    await _reply(store, conversation, agent, _claim("as-reply"), "hello")
    with pytest.raises(IdempotencyKeyReused):
        await store.add_note_once(
            _message(conversation, agent, MessageKind.NOTE, "hello"), _claim("as-note")
        )
    assert await _note_count(store, conversation) == 0


async def test_a_note_claim_is_refused_for_a_reply(
    store: Store, conversation: Conversation, agent: Agent
) -> None:
    note = _message(conversation, agent, MessageKind.NOTE, "hello")
    await store.add_note_once(note, _claim("as-note"))
    with pytest.raises(IdempotencyKeyReused):
        await _reply(store, conversation, agent, _claim("as-reply"), "hello")
    assert (await store.counts())["outbox"] == 0


async def test_a_plain_outbox_key_is_not_a_claim(
    store: Store, conversation: Conversation, agent: Agent
) -> None:
    # an outbox key without a claim (as rows from before claims have) does not answer a claim
    message = _message(conversation, agent, MessageKind.MESSAGE, "old")
    await store.enqueue_reply(ReplyRequest(message=message, idempotency_key="key:1"))
    note = _message(conversation, agent, MessageKind.NOTE, "new")
    assert (await store.add_note_once(note, _claim("n-1"))).created


async def test_a_refused_claimed_reply_leaves_the_key_free(
    store: Store, conversation: Conversation, agent: Agent
) -> None:
    bogus = NewMessage(conversation_id=conversation.id, kind="memo", text="x", created_at=utcnow())
    with pytest.raises(InvalidInput):
        await store.enqueue_reply(
            ReplyRequest(message=bogus, idempotency_key="key:1", claim=_claim("as-memo"))
        )
    assert (await _reply(store, conversation, agent, _claim("f-1"), "on it")).created
