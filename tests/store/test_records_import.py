"""Store contract: records import upserts exactly what it is given, and refuses bad records."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from hub.errors import Conflict, InvalidInput
from hub.model import Role, utcnow
from hub.store import Store
from hub.store.record_format import RECORD_FIELDS, Record, RecordKind

from .test_records import dump

# --- hand-made records: every field set, also those no protocol call sets ----------------

T0 = datetime(2024, 5, 6, 7, 8, 9, 123000, tzinfo=UTC)


def at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


def customer(cid: str, merged_into: str | None, minute: int) -> Record:
    return {
        "id": cid,
        "name": f"Customer {cid}",
        "attributes": {"plan": "pro", "n": 3, "nested": {"list": [1, 2.5, None, True]}},
        "tags": ["vip", "beta"],
        "created_at": at(minute),
        "updated_at": at(minute + 1),
        "merged_into": merged_into,
    }


def message(text: str) -> Record:
    return {
        "id": "msg_1",
        "conversation_id": "cnv_1",
        "customer_id": "cus_1",
        "direction": "out",
        "kind": "message",
        "channel": "email",
        "text": text,
        "html": f"<p>{text}</p>",
        "attachments": [{"filename": "a.pdf", "content_type": "application/pdf", "size": 10,
                         "url": None}],
        "provider_id": "p-1",
        "thread_key": "<t1@example.com>",
        "sender": "kari@example.com",
        "author_id": "agt_1",
        "delivery_status": "failed",
        "error": "bounced",
        "created_at": at(30),
        "sent_at": at(31),
    }  # fmt: skip


HAND_MADE: dict[RecordKind, list[Record]] = {
    RecordKind.TEAMS: [{"id": "tem_1", "name": "Support", "created_at": at(0)}],
    RecordKind.AGENTS: [
        {"id": "agt_1", "email": "ada@example.com", "name": "Ada", "role": "admin",
         "active": False, "password_hash": "$argon2id$x", "team_ids": ["tem_1"],
         "created_at": at(1)},
    ],
    RecordKind.INBOXES: [
        {"id": "inb_1", "name": "Mail", "channel": "email", "team_id": "tem_1",
         "config": {"host": "imap.example", "port": 993, "folders": ["INBOX"]},
         "created_at": at(2)},
    ],
    RecordKind.API_TOKENS: [
        {"id": "tok_1", "agent_id": "agt_1", "name": "cli", "token_hash": "abc",
         "created_at": at(3), "last_used_at": at(4), "revoked_at": at(5),
         "expires_at": at(6)},
    ],
    RecordKind.CUSTOMERS: [customer("cus_1", None, 6), customer("cus_2", "cus_1", 8)],
    RecordKind.IDENTITIES: [
        {"id": "idn_1", "customer_id": "cus_1", "kind": "email", "address": "kari@example.com",
         "created_at": at(10)},
    ],
    RecordKind.CONVERSATIONS: [
        {"id": "cnv_1", "customer_id": "cus_1", "inbox_id": "inb_1", "channel": "email",
         "status": "snoozed", "priority": "urgent", "assignee_id": "agt_1", "team_id": "tem_1",
         "tags": ["billing"], "subject": "Invoice", "created_at": at(11), "updated_at": at(12),
         "last_message_at": at(13), "first_response_at": at(14), "resolved_at": at(15),
         "snoozed_until": at(16), "unread_count": 2, "message_count": 3},
    ],
    RecordKind.MESSAGES: [message("Hello from the archive")],
    RecordKind.OUTBOX: [
        {"id": "obx_1", "message_id": "msg_1", "conversation_id": "cnv_1",
         "idempotency_key": "k-1", "status": "failed", "attempts": 6,
         "next_attempt_at": at(40), "last_error": "bounced", "provider_id": "p-1",
         "created_at": at(41), "updated_at": at(42)},
    ],
    RecordKind.MERGES: [
        {"id": "mrg_1", "kept_id": "cus_1", "merged_id": "cus_2", "actor_id": "agt_1",
         "created_at": at(50), "undone_at": at(51),
         "snapshot": {"kept": customer("cus_1", None, 6), "merged": customer("cus_2", None, 8),
                      "identities": ["idn_2"], "conversations": [], "messages": ["msg_9"]}},
    ],
    RecordKind.CANNED_RESPONSES: [
        {"id": "can_1", "shortcut": "thanks", "title": "Thanks", "body": "Thank you, {name}!",
         "created_at": at(60), "updated_at": at(61)},
    ],
}  # fmt: skip


async def import_hand_made(store: Store) -> None:
    for kind in RecordKind:
        assert await store.import_records(kind, HAND_MADE[kind]) == len(HAND_MADE[kind])


async def test_every_field_of_a_hand_made_record_comes_back_as_given(store: Store) -> None:
    assert set(HAND_MADE) == set(RecordKind)
    for kind, records in HAND_MADE.items():
        assert [set(r) for r in records] == [set(RECORD_FIELDS[kind])] * len(records)
    await import_hand_made(store)
    assert await dump(store) == HAND_MADE


async def test_hand_made_records_serve_the_protocol_reads(store: Store) -> None:
    await import_hand_made(store)
    file = await store.customer_file("cus_1")
    assert file is not None
    assert [c.id for c in file.conversations] == ["cnv_1"]
    assert file.conversations[0].tags == ("billing",)
    assert [m.undone_at for m in file.merges] == [at(51)]
    agent = await store.get_agent("agt_1")
    assert agent is not None and agent.team_ids == ("tem_1",) and agent.active is False


async def test_reimporting_a_changed_message_keeps_search_right(store: Store) -> None:
    await import_hand_made(store)
    assert [m.id for m in await store.search_messages("archive")] == ["msg_1"]
    await store.import_records(RecordKind.MESSAGES, [message("Hello from the archive")])
    assert [m.id for m in await store.search_messages("archive")] == ["msg_1"]
    await store.import_records(RecordKind.MESSAGES, [message("Goodbye, attic")])
    assert await store.search_messages("archive") == []
    assert [m.id for m in await store.search_messages("attic")] == ["msg_1"]
    assert (await store.counts())["messages"] == 1


async def test_import_of_a_record_missing_a_field_is_invalid(store: Store) -> None:
    team = {"id": "tem_1", "name": "Support"}
    with pytest.raises(InvalidInput):
        await store.import_records(RecordKind.TEAMS, [team])
    assert (await store.counts())["teams"] == 0


async def test_import_clashing_with_another_records_unique_key_is_a_conflict(
    store: Store,
) -> None:
    await store.create_agent(
        email="ada@example.com", name="Ada", role=Role.AGENT, password_hash=None, team_ids=(),
        now=utcnow(),
    )  # fmt: skip
    clash = {**HAND_MADE[RecordKind.AGENTS][0], "team_ids": []}
    with pytest.raises(Conflict):
        await store.import_records(RecordKind.AGENTS, [clash])
    assert (await store.counts())["agents"] == 1
