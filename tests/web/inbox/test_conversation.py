"""The conversation view: visibility, messages, timeline, replies, notes, canned, controls."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from hub.actions import do_create_canned_response, do_update_inbox
from hub.events import EventType
from hub.keys import ACTIONS_KEY, BUS_KEY, STORE_KEY
from hub.model import IdentityKind, Priority, Status, utcnow
from tests.conftest import WEBHOOK_SECRET, World
from tests.web.inbox_world import (
    ingest,
    make_inbox,
    message_ids,
    page,
    post_form,
)
from tests.web.signin import Browser, sign_in


@pytest.fixture
async def webhook() -> AsyncIterator[tuple[TestServer, list[dict[str, Any]]]]:
    """A customer-side system receiving the API channel's replies."""
    calls: list[dict[str, Any]] = []

    async def hook(request: web.Request) -> web.Response:
        calls.append(await request.json())
        return web.Response(status=200)

    app = web.Application()
    app.router.add_post("/hook", hook)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    yield server, calls
    await server.close()


async def _wait_for(predicate: Callable[[], Awaitable[bool]], within: float = 5.0) -> None:
    deadline = asyncio.get_running_loop().time() + within
    while not await predicate():
        assert asyncio.get_running_loop().time() < deadline, "condition not met in time"
        await asyncio.sleep(0.02)


# --- visibility -------------------------------------------------------------------------


async def test_another_teams_conversation_is_403_in_the_pages_and_the_api(
    client: TestClient, world: World
) -> None:
    theirs = await ingest(client, world.inbox_b, sender="two@example.com")
    cid, mid = theirs.conversation.id, theirs.message.id
    csrf = await sign_in(client, "a@hub.test")
    assert (await client.get(f"/inbox/c/{cid}")).status == 403
    assert (await client.get(f"/inbox/c/{cid}/earlier")).status == 403
    assert (await client.get(f"/inbox/c/{cid}/sidebar")).status == 403
    assert (await client.get(f"/inbox/m/{mid}")).status == 403
    assert (await client.get(f"/inbox/c/{cid}/canned?q=")).status == 403
    status, _, _ = await post_form(client, f"/inbox/c/{cid}/reply", csrf, text="hi")
    assert status == 403
    status, _, _ = await post_form(client, f"/inbox/c/{cid}/status", csrf, status="resolved")
    assert status == 403
    api = await client.get(f"/api/v1/conversations/{cid}", headers=world.auth("a"))
    assert api.status == 403
    assert (await api.json())["error"]["code"] == "not_your_team"


# --- reading ------------------------------------------------------------------------------


async def test_messages_show_in_order_each_with_its_channel(
    client: TestClient, world: World
) -> None:
    email = await make_inbox(client, "Mail", "email", None)
    made = [
        (await ingest(client, email, sender="kari@example.com", text=f"m{i}")).message
        for i in range(3)
    ]
    await sign_in(client, "admin@hub.test")
    html = await page(client, f"/inbox/c/{made[0].conversation_id}")
    assert message_ids(html) == [m.id for m in made]
    assert html.count('data-testid="message-channel" data-channel="email"') == 3


async def test_opening_a_conversation_marks_it_read(client: TestClient, world: World) -> None:
    found = await ingest(client, world.api_inbox, sender="kari@example.com")
    assert found.conversation.unread_count == 1
    await sign_in(client, "admin@hub.test")
    await page(client, f"/inbox/c/{found.conversation.id}")
    after = await client.app[STORE_KEY].get_conversation(found.conversation.id)
    assert after is not None and after.unread_count == 0


async def test_timeline_shows_the_customers_messages_from_every_channel(
    client: TestClient, world: World
) -> None:
    sms = await make_inbox(client, "SMS", "sms", None)
    by_mail = await ingest(client, world.api_inbox, sender="kari@example.com", text="by api")
    await client.app[STORE_KEY].add_identity(
        by_mail.customer.id, IdentityKind.PHONE, "+4712345678", now=utcnow()
    )
    by_sms = await ingest(client, sms, sender="+4712345678", kind=IdentityKind.PHONE, text="sms")
    await sign_in(client, "admin@hub.test")
    cid = by_mail.conversation.id
    assert message_ids(await page(client, f"/inbox/c/{cid}")) == [by_mail.message.id]
    html = await page(client, f"/inbox/c/{cid}?timeline=customer")
    assert message_ids(html) == [by_mail.message.id, by_sms.message.id]
    assert 'data-testid="message-channel" data-channel="sms"' in html
    assert (
        f'data-testid="message-conversation-link" href="/inbox/c/{by_sms.conversation.id}"' in html
    )


async def test_the_timeline_leaves_out_conversations_of_other_teams(
    client: TestClient, world: World
) -> None:
    mine = await ingest(client, world.inbox_a, sender="kari@example.com", text="to team a")
    theirs = await ingest(client, world.inbox_b, sender="kari@example.com", text="to team b")
    assert mine.customer.id == theirs.customer.id
    await sign_in(client, "a@hub.test")
    html = await page(client, f"/inbox/c/{mine.conversation.id}?timeline=customer")
    assert message_ids(html) == [mine.message.id]
    assert "to team b" not in html


# --- replying -----------------------------------------------------------------------------


async def test_a_reply_from_the_page_goes_out_on_the_conversations_channel(
    client: TestClient, world: World, webhook: tuple[TestServer, list[dict[str, Any]]]
) -> None:
    server, calls = webhook
    await do_update_inbox(
        client.app[ACTIONS_KEY],
        world.api_inbox.id,
        config={"webhook_url": str(server.make_url("/hook")), "webhook_secret": WEBHOOK_SECRET},
    )
    found = await ingest(client, world.api_inbox, sender="kari@example.com")
    cid = found.conversation.id
    csrf = await sign_in(client, "admin@hub.test")
    status, location, _ = await post_form(
        client,
        f"/inbox/c/{cid}/reply",
        csrf,
        text="Your refund is on its way",
        mode="reply",
        idempotency_key="web:test-1",
        return_to=f"/inbox/c/{cid}?view=all",
    )
    assert (status, location) == (303, f"/inbox/c/{cid}?view=all")

    async def delivered() -> bool:
        return len(calls) == 1

    await _wait_for(delivered)
    assert calls[0]["text"] == "Your refund is on its way"
    assert calls[0]["conversation_id"] == cid
    assert calls[0]["recipient"] == {"kind": "email", "address": "kari@example.com"}
    stored = (await client.app[STORE_KEY].list_messages(cid)).items[0]
    assert stored.channel == found.conversation.channel and stored.author_id == world.admin.id


async def test_the_same_idempotency_key_sends_a_reply_once(
    client: TestClient, world: World
) -> None:
    found = await ingest(client, world.api_inbox, sender="kari@example.com")
    cid = found.conversation.id
    csrf = await sign_in(client, "admin@hub.test")
    for _ in range(2):
        await post_form(client, f"/inbox/c/{cid}/reply", csrf, text="once", idempotency_key="k1")
    texts = [m.text for m in (await client.app[STORE_KEY].list_messages(cid)).items]
    assert texts.count("once") == 1


async def test_a_script_gets_the_sent_message_as_a_fragment(
    client: TestClient, world: World
) -> None:
    found = await ingest(client, world.api_inbox, sender="kari@example.com")
    csrf = await sign_in(client, "admin@hub.test")
    resp = await client.post(
        f"/inbox/c/{found.conversation.id}/reply",
        data={"text": "On it!", "mode": "reply"},
        headers={"X-CSRF-Token": csrf, "X-Hub-Fragment": "1"},
    )
    assert resp.status == 201
    html = await resp.text()
    assert len(message_ids(html)) == 1 and "On it!" in html and "<html" not in html


async def test_an_empty_reply_is_refused_with_the_reason(client: TestClient, world: World) -> None:
    found = await ingest(client, world.api_inbox, sender="kari@example.com")
    csrf = await sign_in(client, "admin@hub.test")
    resp = await client.post(
        f"/inbox/c/{found.conversation.id}/reply",
        data={"text": "  ", "mode": "reply"},
        headers={"X-CSRF-Token": csrf, "X-Hub-Fragment": "1"},
    )
    assert resp.status == 422
    assert "text" in (await resp.json())["error"]["message"]


async def test_a_note_with_a_mention_tells_the_agent_and_is_highlighted_for_them(
    client: TestClient, world: World
) -> None:
    found = await ingest(client, world.api_inbox, sender="kari@example.com")
    cid = found.conversation.id
    csrf = await sign_in(client, "admin@hub.test")
    sub = client.app[BUS_KEY].subscribe(types=[EventType.NOTE_MENTION])
    status, _, _ = await post_form(
        client, f"/inbox/c/{cid}/reply", csrf, text="@a can you call her?", mode="note"
    )
    assert status == 303
    event = await asyncio.wait_for(sub.get(), 2)
    sub.close()
    assert event.data["agent_ids"] == (world.agent_a.id,)
    assert event.data["message"].kind == "note"
    async with Browser(client) as other:
        await sign_in(other, "a@hub.test")
        html = await page(other, f"/inbox/c/{cid}")
    assert 'data-mentions-me="true"' in html
    assert f'<span class="mention mention-me" data-agent-id="{world.agent_a.id}">@a</span>' in html
    assert 'data-kind="note"' in html
    outbox = (await client.app[STORE_KEY].counts())["outbox"]
    assert outbox == 0  # a note is never sent


async def test_canned_responses_are_offered_filled_for_the_customer(
    client: TestClient, world: World
) -> None:
    ctx = client.app[ACTIONS_KEY]
    await do_create_canned_response(
        ctx,
        shortcut="hello",
        title="Greeting",
        body="Hi {{ customer.first_name }}, {{ agent.name }} here.",
    )
    await do_create_canned_response(ctx, shortcut="bye", title="Closing", body="Bye!")
    found = await ingest(client, world.api_inbox, sender="kari@example.com", name="Kari Nordmann")
    await sign_in(client, "admin@hub.test")
    resp = await client.get(f"/inbox/c/{found.conversation.id}/canned?q=/he")
    assert resp.status == 200
    assert (await resp.json())["items"] == [
        {"shortcut": "hello", "title": "Greeting", "text": "Hi Kari, Agent admin here."}
    ]
    every = await client.get(f"/inbox/c/{found.conversation.id}/canned?q=")
    assert [i["shortcut"] for i in (await every.json())["items"]] == ["bye", "hello"]


# --- controls -----------------------------------------------------------------------------


async def test_status_changes_and_returns_to_the_page(client: TestClient, world: World) -> None:
    found = await ingest(client, world.api_inbox, sender="kari@example.com")
    cid = found.conversation.id
    csrf = await sign_in(client, "admin@hub.test")
    status, location, _ = await post_form(
        client, f"/inbox/c/{cid}/status", csrf, status="pending", return_to=f"/inbox/c/{cid}"
    )
    assert (status, location) == (303, f"/inbox/c/{cid}")
    html = await page(client, location)
    assert 'data-testid="conversation-status">pending<' in html
    assert "Status: pending." in html  # the flash message


async def test_snooze_with_a_preset_sets_the_wake_up_time(client: TestClient, world: World) -> None:
    found = await ingest(client, world.api_inbox, sender="kari@example.com")
    csrf = await sign_in(client, "admin@hub.test")
    before = utcnow()
    await post_form(
        client, f"/inbox/c/{found.conversation.id}/status", csrf, status="snoozed", snooze="4h"
    )
    after = await client.app[STORE_KEY].get_conversation(found.conversation.id)
    assert after is not None and after.status == Status.SNOOZED and after.snoozed_until
    assert timedelta(hours=4) <= after.snoozed_until - before < timedelta(hours=4, minutes=1)


async def test_snooze_until_a_local_time_reads_the_browsers_offset(
    client: TestClient, world: World
) -> None:
    found = await ingest(client, world.api_inbox, sender="kari@example.com")
    csrf = await sign_in(client, "admin@hub.test")
    await post_form(
        client,
        f"/inbox/c/{found.conversation.id}/status",
        csrf,
        status="snoozed",
        snoozed_until="2099-03-01T09:30",
        tz_offset="-60",  # UTC+1, as getTimezoneOffset() says it
    )
    after = await client.app[STORE_KEY].get_conversation(found.conversation.id)
    assert after is not None and after.snoozed_until is not None
    assert after.snoozed_until.isoformat() == "2099-03-01T08:30:00+00:00"


async def test_snooze_without_a_time_is_refused(client: TestClient, world: World) -> None:
    found = await ingest(client, world.api_inbox, sender="kari@example.com")
    csrf = await sign_in(client, "admin@hub.test")
    status, _, body = await post_form(
        client, f"/inbox/c/{found.conversation.id}/status", csrf, status="snoozed"
    )
    assert status == 422 and "wake up" in body


async def test_priority_changes(client: TestClient, world: World) -> None:
    found = await ingest(client, world.api_inbox, sender="kari@example.com")
    csrf = await sign_in(client, "admin@hub.test")
    await post_form(client, f"/inbox/c/{found.conversation.id}/priority", csrf, priority="urgent")
    after = await client.app[STORE_KEY].get_conversation(found.conversation.id)
    assert after is not None and after.priority == Priority.URGENT


async def test_assign_to_an_agent_then_transfer_to_a_team(client: TestClient, world: World) -> None:
    found = await ingest(client, world.api_inbox, sender="kari@example.com")
    cid = found.conversation.id
    csrf = await sign_in(client, "admin@hub.test")
    await post_form(client, f"/inbox/c/{cid}/assign", csrf, agent_id=world.agent_a.id, team_id="")
    store = client.app[STORE_KEY]
    assigned = await store.get_conversation(cid)
    assert assigned is not None and assigned.assignee_id == world.agent_a.id
    team_b = world.inbox_b.team_id
    assert team_b
    await post_form(client, f"/inbox/c/{cid}/assign", csrf, agent_id="", team_id=team_b)
    moved = await store.get_conversation(cid)
    assert moved is not None and (moved.assignee_id, moved.team_id) == (None, team_b)


async def test_assigning_an_unknown_agent_is_404(client: TestClient, world: World) -> None:
    found = await ingest(client, world.api_inbox, sender="kari@example.com")
    csrf = await sign_in(client, "admin@hub.test")
    status, _, _ = await post_form(
        client, f"/inbox/c/{found.conversation.id}/assign", csrf, agent_id="agt_nobody"
    )
    assert status == 404


async def test_tags_are_added_and_removed(client: TestClient, world: World) -> None:
    found = await ingest(client, world.api_inbox, sender="kari@example.com")
    cid = found.conversation.id
    csrf = await sign_in(client, "admin@hub.test")
    await post_form(client, f"/inbox/c/{cid}/tags", csrf, add="Billing, vip")
    html = await page(client, f"/inbox/c/{cid}")
    assert 'data-testid="conversation-tag" data-tag="billing"' in html
    await post_form(client, f"/inbox/c/{cid}/tags", csrf, remove="billing")
    after = await client.app[STORE_KEY].get_conversation(cid)
    assert after is not None and after.tags == ("vip",)


async def test_control_forms_need_the_csrf_token(client: TestClient, world: World) -> None:
    found = await ingest(client, world.api_inbox, sender="kari@example.com")
    await sign_in(client, "admin@hub.test")
    resp = await client.post(
        f"/inbox/c/{found.conversation.id}/status",
        data={"status": "resolved"},
        allow_redirects=False,
    )
    assert resp.status == 403
    after = await client.app[STORE_KEY].get_conversation(found.conversation.id)
    assert after is not None and after.status == Status.OPEN
