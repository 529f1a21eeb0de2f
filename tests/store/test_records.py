"""Store contract: whole-hub records export/import (the ground `hub transfer` stands on)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum
from pathlib import Path

import pytest

from hub.errors import InvalidInput
from hub.model import (
    Attachment,
    DeliveryStatus,
    IdentityKind,
    Inbox,
    Message,
    Page,
    Priority,
    Role,
    Status,
    ThreadHints,
    utcnow,
)
from hub.store import Store
from hub.store.base import (
    ConversationPatch,
    NewMessage,
    Record,
    RecordKind,
    ReplyRequest,
    SendResult,
)
from hub.store.record_format import RECORD_FIELDS

from .conftest import BACKENDS, Clock, IngestHelper, StoreFactory

EMAIL, PHONE = IdentityKind.EMAIL, IdentityKind.PHONE
PAGE = 3  # small, so every round trip below crosses page boundaries


@pytest.fixture
async def target(
    request: pytest.FixtureRequest, store_factory: StoreFactory, tmp_path: Path
) -> AsyncIterator[Store]:
    """A second open store of the same backend as `store`, on its own empty data."""
    backend = request.node.callspec.params["store_factory"]
    place = tmp_path / "target"
    place.mkdir()
    async with BACKENDS[backend](place) as factory:
        opened = factory()
        await opened.open()
        yield opened
        await opened.close()


async def export_all(store: Store, kind: RecordKind) -> list[Record]:
    out: list[Record] = []
    after: str | None = None
    while True:
        page = await store.export_records(kind, after=after, limit=PAGE)
        out += page
        if len(page) < PAGE:
            return out
        after = page[-1]["id"]


async def copy_all(source: Store, target: Store) -> None:
    for kind in RecordKind:
        records = await export_all(source, kind)
        for start in range(0, len(records), PAGE):
            await target.import_records(kind, records[start : start + PAGE])


async def dump(store: Store) -> dict[RecordKind, list[Record]]:
    return {kind: await export_all(store, kind) for kind in RecordKind}


@dataclass
class Seeded:
    merge_id: str
    customer_ids: list[str]
    conversation_ids: list[str]


@pytest.fixture
async def seeded(store: Store, ingest: IngestHelper, inbox: Inbox, clock: Clock) -> Seeded:
    """A small hub with at least one record of every kind, through the Store protocol only."""
    support = await store.create_team("Support", now=clock())
    sales = await store.create_team("Sales", now=clock())
    admin = await store.create_agent(
        email="admin@example.com",
        name="Admin",
        role=Role.ADMIN,
        password_hash="$argon2id$v=19$fake",
        team_ids=[support.id, sales.id],
        now=clock(),
    )
    sam = await store.create_agent(
        email="sam@example.com",
        name="Sam",
        role=Role.AGENT,
        password_hash=None,
        team_ids=[support.id],
        now=clock(),
    )
    sms = await store.create_inbox(
        name="SMS",
        channel="sms",
        team_id=support.id,
        config={"from": "+4799999999", "limits": {"per_second": 1}},
        now=clock(),
    )
    await store.create_token(
        agent_id=admin.id, name="cli", token_hash="hash-1", now=clock(), expires_at=clock()
    )
    old = await store.create_token(agent_id=sam.id, name="old", token_hash="hash-2", now=clock())
    await store.revoke_token(old.id, now=clock())
    kari = await store.create_customer(
        name="Kari",
        attributes={"plan": "pro", "address": {"city": "Oslo"}},
        tags=["vip"],
        identities=[(EMAIL, "kari@example.com")],
        now=clock(),
    )
    home = await store.create_customer(
        name=None,
        attributes={"lang": "nb"},
        tags=["beta"],
        identities=[(EMAIL, "kari@home.example"), (PHONE, "+4712345679")],
        now=clock(),
    )
    first = await ingest(
        sender="kari@example.com",
        text="The invoice is wrong",
        html="<p>The invoice is wrong</p>",
        subject="Invoice",
        attachments=(
            Attachment(filename="inv.pdf", content_type="application/pdf", size=1234, url="u"),
        ),
        message_key="<m1@example.com>",
        sent_at=clock(),
        at=clock(),
    )
    second = await ingest(
        to=sms, sender="+4712345679", sender_kind=PHONE, text="Parcel invoice lost", at=clock()
    )
    await store.update_conversation(
        first.conversation.id,
        ConversationPatch(
            priority=Priority.HIGH,
            assignee_id=sam.id,
            tags=("billing", "vip"),
            status=Status.SNOOZED,
            snoozed_until=clock() + timedelta(hours=2),
            updated_at=clock(),
        ),
    )
    await store.update_conversation(
        second.conversation.id,
        ConversationPatch(status=Status.RESOLVED, resolved_at=clock(), updated_at=clock()),
    )
    await store.add_note(
        NewMessage(
            conversation_id=first.conversation.id,
            kind="note",
            text="check the invoice in Stripe",
            author_id=admin.id,
            created_at=clock(),
        )
    )
    for key, outcome in (("reply-1", DeliveryStatus.QUEUED), ("reply-2", DeliveryStatus.SENT)):
        reply = await store.enqueue_reply(
            ReplyRequest(
                message=NewMessage(
                    conversation_id=first.conversation.id,
                    kind="message",
                    text=f"We are on it ({key})",
                    html="<b>We are on it</b>",
                    author_id=sam.id,
                    created_at=clock(),
                ),
                idempotency_key=key,
                thread=ThreadHints(message_key=f"<{key}@hub>"),
            )
        )
        await store.claim_outbox(clock(), limit=10)
        await store.record_send(
            SendResult(
                outbox_id=reply.outbox.id,
                delivery_status=outcome,
                provider_id=f"prov-{key}" if outcome is DeliveryStatus.SENT else None,
                error="timeout" if outcome is DeliveryStatus.QUEUED else None,
                next_attempt_at=clock() + timedelta(minutes=1),
                at=clock(),
            )
        )
    await store.set_delivery_status("email", "prov-reply-2", DeliveryStatus.DELIVERED, error=None)
    await store.create_canned_response(
        shortcut="thanks", title="Thanks", body="Thank you for writing, {name}!", now=clock()
    )
    # one merge that was undone (undone_at set), and one that stands
    x = await store.create_customer(
        name="X", attributes={}, tags=[], identities=[(EMAIL, "x@example.com")], now=clock()
    )
    y = await store.create_customer(
        name="Y", attributes={}, tags=[], identities=[(EMAIL, "y@example.com")], now=clock()
    )
    undone = await store.merge_customers(x.customer.id, y.customer.id, actor_id=None, now=clock())
    await store.undo_merge(undone.id, now=clock())
    merge = await store.merge_customers(
        kari.customer.id, home.customer.id, actor_id=admin.id, now=clock()
    )
    return Seeded(
        merge_id=merge.id,
        customer_ids=[kari.customer.id, home.customer.id, x.customer.id, y.customer.id],
        conversation_ids=[first.conversation.id, second.conversation.id],
    )


# --- export ------------------------------------------------------------------------------


async def test_export_pages_in_ascending_id_order_after_the_given_id(store: Store) -> None:
    for n in range(7):
        await store.create_team(f"Team {n}", now=utcnow())
    everything = await store.export_records(RecordKind.TEAMS, after=None, limit=100)
    ids = [r["id"] for r in everything]
    assert len(ids) == 7 and ids == sorted(ids)
    assert [r["id"] for r in await export_all(store, RecordKind.TEAMS)] == ids
    rest = await store.export_records(RecordKind.TEAMS, after=ids[2], limit=100)
    assert [r["id"] for r in rest] == ids[3:]
    assert await store.export_records(RecordKind.TEAMS, after=ids[-1], limit=100) == []


async def test_export_gives_exactly_the_record_fields_in_neutral_form(
    store: Store, seeded: Seeded
) -> None:
    for kind, records in (await dump(store)).items():
        assert records, f"the seed has no {kind.value}"
        for record in records:
            assert set(record) == set(RECORD_FIELDS[kind])
            for name, value in record.items():
                assert not isinstance(value, Enum), f"{kind.value}.{name} is an enum member"
                if isinstance(value, datetime):
                    assert value.utcoffset() == timedelta(0), f"{kind.value}.{name} is not UTC"
                if name.endswith("_at") and value is not None:
                    assert isinstance(value, datetime), f"{kind.value}.{name} is not a datetime"


async def test_an_agent_record_carries_its_team_ids(store: Store, seeded: Seeded) -> None:
    by_email = {r["email"]: r for r in await export_all(store, RecordKind.AGENTS)}
    teams = {t.name: t.id for t in await store.list_teams()}
    assert sorted(by_email["admin@example.com"]["team_ids"]) == sorted(teams.values())
    assert by_email["sam@example.com"]["team_ids"] == [teams["Support"]]


async def test_a_merge_record_carries_the_neutral_snapshot(store: Store, seeded: Seeded) -> None:
    merges = {r["id"]: r for r in await export_all(store, RecordKind.MERGES)}
    snapshot = merges[seeded.merge_id]["snapshot"]
    assert set(snapshot) == {"kept", "merged", "identities", "conversations", "messages"}
    kept = snapshot["kept"]
    assert set(kept) == set(RECORD_FIELDS[RecordKind.CUSTOMERS])
    assert kept["attributes"] == {"plan": "pro", "address": {"city": "Oslo"}}
    assert kept["tags"] == ["vip"] and isinstance(kept["created_at"], datetime)
    assert len(snapshot["identities"]) == 2 and len(snapshot["messages"]) == 1


async def test_counts_have_one_entry_per_record_kind(store: Store, seeded: Seeded) -> None:
    counts = await store.counts()
    for kind in RecordKind:
        assert counts[kind.value] == len(await export_all(store, kind))


async def test_export_of_a_limit_below_one_is_invalid(store: Store) -> None:
    with pytest.raises(InvalidInput):
        await store.export_records(RecordKind.TEAMS, after=None, limit=0)


# --- round trips -------------------------------------------------------------------------


async def test_every_record_round_trips_to_a_fresh_store(
    store: Store, seeded: Seeded, target: Store
) -> None:
    await copy_all(store, target)
    assert await dump(target) == await dump(store)
    assert await target.counts() == await store.counts()


async def test_importing_again_changes_nothing(store: Store, seeded: Seeded, target: Store) -> None:
    await copy_all(store, target)
    counts, records = await target.counts(), await dump(target)
    await copy_all(store, target)
    assert await target.counts() == counts
    assert await dump(target) == records


async def message_pages(store: Store, conversation_id: str) -> list[Page[Message]]:
    """Every page of a conversation's messages, two at a time (so cursors are used)."""
    pages: list[Page[Message]] = []
    cursor: str | None = None
    while True:
        page = await store.list_messages(conversation_id, limit=2, cursor=cursor)
        pages.append(page)
        if page.next_cursor is None:
            return pages
        cursor = page.next_cursor


async def test_customer_files_and_message_pages_on_the_target_equal_the_source(
    store: Store, seeded: Seeded, target: Store
) -> None:
    await copy_all(store, target)
    for customer_id in seeded.customer_ids:
        assert await target.customer_file(customer_id) == await store.customer_file(customer_id)
    for conversation_id in seeded.conversation_ids:
        pages = await message_pages(target, conversation_id)
        assert pages == await message_pages(store, conversation_id)
    assert len(await message_pages(target, seeded.conversation_ids[0])) > 1


async def test_reads_on_the_target_equal_the_source(
    store: Store, seeded: Seeded, target: Store
) -> None:
    """Search, the read that needs the target's own text index (named in MOCK_GAPS)."""
    await copy_all(store, target)
    for query in ("invoice", "Stripe", "parcel"):
        found = sorted(m.id for m in await target.search_messages(query))
        assert found and found == sorted(m.id for m in await store.search_messages(query))


async def test_a_merge_made_on_the_source_can_be_undone_on_the_target(
    store: Store, seeded: Seeded, target: Store
) -> None:
    await copy_all(store, target)
    now = utcnow() + timedelta(days=1)
    undone = await target.undo_merge(seeded.merge_id, now=now)
    assert undone == await store.undo_merge(seeded.merge_id, now=now)
    kept_id, merged_id = seeded.customer_ids[:2]
    merged = await target.customer_file(merged_id)
    assert merged is not None and merged.customer.merged_into is None
    assert len(merged.identities) == 2
    for customer_id in (kept_id, merged_id):
        assert await target.customer_file(customer_id) == await store.customer_file(customer_id)
