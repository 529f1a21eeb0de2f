"""MongoStore's idempotency claims under interleaving and after a crash mid-write.

InterleavingClient makes concurrent calls interleave between their reads and writes (the bare
mock runs them one after another), and injects a crash at a chosen driver call.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest

from hub.errors import IdempotencyKeyReused, StoreUnavailable
from hub.model import Conversation, IdentityKind, Inbound, MessageKind, ThreadHints, utcnow
from hub.store.base import IdempotencyClaim, IngestRequest, NewMessage, ReplyRequest
from hub.store.mongo import MongoStore

from .conftest import MOCK_URL, InterleavingClient, mock_client


@pytest.fixture
async def client() -> InterleavingClient:
    return InterleavingClient(mock_client())


@pytest.fixture
async def store(client: InterleavingClient) -> AsyncIterator[MongoStore]:
    opened = MongoStore(MOCK_URL, client=client)
    await opened.open()
    yield opened
    await opened.close()


@pytest.fixture
async def conversation(store: MongoStore) -> Conversation:
    inbox = await store.create_inbox(
        name="Support", channel="email", team_id=None, config={}, now=utcnow()
    )
    inbound = Inbound(
        channel="email",
        inbox_id=inbox.id,
        provider_id="p-1",
        sender_kind=IdentityKind.EMAIL,
        sender="rush@example.com",
        text="hello",
        thread=ThreadHints(),
    )
    request = IngestRequest(
        inbound=inbound,
        sender=inbound.sender,
        received_at=utcnow(),
        reopen_window=timedelta(days=7),
    )
    return (await store.ingest(request)).conversation


def _new(conversation: Conversation, kind: MessageKind, text: str) -> NewMessage:
    return NewMessage(
        conversation_id=conversation.id, kind=kind.value, text=text, created_at=utcnow()
    )


async def test_a_note_and_a_reply_racing_on_one_key_store_only_one_of_them(
    store: MongoStore, conversation: Conversation
) -> None:
    async def note() -> Any:
        claim = IdempotencyClaim(key="key:1", fingerprint="as-note")
        return await store.add_note_once(_new(conversation, MessageKind.NOTE, "x"), claim)

    async def reply() -> Any:
        claim = IdempotencyClaim(key="key:1", fingerprint="as-reply")
        message = _new(conversation, MessageKind.MESSAGE, "x")
        return await store.enqueue_reply(
            ReplyRequest(message=message, idempotency_key=claim.key, claim=claim)
        )

    outcomes = await asyncio.gather(note(), reply(), return_exceptions=True)
    assert sum(isinstance(o, IdempotencyKeyReused) for o in outcomes) == 1
    assert len((await store.list_messages(conversation.id)).items) == 2  # inbound + the winner


async def test_concurrent_notes_with_one_claim_store_one_note(
    store: MongoStore, conversation: Conversation
) -> None:
    claim = IdempotencyClaim(key="key:1", fingerprint="f")
    note = _new(conversation, MessageKind.NOTE, "once")
    results = await asyncio.gather(*(store.add_note_once(note, claim) for _ in range(6)))
    assert [r.created for r in results].count(True) == 1
    after = await store.get_conversation(conversation.id)
    assert after is not None and after.message_count == 2


async def test_a_note_whose_write_crashed_is_stored_by_its_replay(
    store: MongoStore, client: InterleavingClient, conversation: Conversation
) -> None:
    claim = IdempotencyClaim(key="key:1", fingerprint="f")
    note = _new(conversation, MessageKind.NOTE, "after the crash")
    client.crash_at.append(("messages", "insert_one"))
    with pytest.raises(StoreUnavailable):
        await store.add_note_once(note, claim)
    replay = await store.add_note_once(note, claim)
    assert replay.created and replay.message.text == "after the crash"
    assert replay.conversation.message_count == 2


async def test_the_dispatcher_finishes_a_note_whose_write_crashed(
    store: MongoStore, client: InterleavingClient, conversation: Conversation
) -> None:
    claim = IdempotencyClaim(key="key:1", fingerprint="f")
    client.crash_at.append(("messages", "insert_one"))
    with pytest.raises(StoreUnavailable):
        await store.add_note_once(_new(conversation, MessageKind.NOTE, "left behind"), claim)
    old = utcnow() - timedelta(minutes=10)
    await client.inner["contact_hub_test"]["message_keys"].update_many(
        {}, {"$set": {"pending.since": old}}
    )
    await store.claim_outbox(utcnow())
    texts = [m.text for m in (await store.list_messages(conversation.id)).items]
    assert texts == ["left behind", "hello"]
    after = await store.get_conversation(conversation.id)
    assert after is not None and after.message_count == 2
