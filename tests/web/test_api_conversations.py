"""Conversations over the API: filters, changes, replies through the outbox, notes, search."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from hub.keys import STORE_KEY
from hub.model import utcnow
from tests.conftest import WEBHOOK_SECRET, World, build_world, inbound_body


async def _ingest(
    client: TestClient,
    world: World,
    pid: str,
    inbox: str | None = None,
    address: str = "c@example.com",
    text: str | None = None,
) -> dict[str, Any]:
    body = inbound_body(
        inbox or world.api_inbox.id, pid, sender={"kind": "email", "address": address}
    )
    if text:
        body["text"] = text
    resp = await client.post("/api/v1/inbound", json=body, headers=world.auth())
    assert resp.status in (200, 201), await resp.text()
    return await resp.json()  # type: ignore[no-any-return]


async def _wait_for(predicate: Any, within: float = 5.0) -> None:
    deadline = asyncio.get_running_loop().time() + within
    while not await predicate():
        assert asyncio.get_running_loop().time() < deadline, "condition not met in time"
        await asyncio.sleep(0.02)


async def test_list_filters_by_status_assignee_and_tag(client: TestClient, world: World) -> None:
    one = await _ingest(client, world, "1", address="one@example.com")
    two = await _ingest(client, world, "2", address="two@example.com")
    cid = one["conversation_id"]
    resp = await client.patch(
        f"/api/v1/conversations/{cid}",
        headers=world.auth(),
        json={"status": "resolved", "add_tags": ["Billing"], "unassign": True},
    )
    assert resp.status == 200, await resp.text()
    got = await resp.json()
    assert got["status"] == "resolved" and got["tags"] == ["billing"]
    assert got["resolved_at"] is not None

    async def ids(query: str) -> set[str]:
        r = await client.get(f"/api/v1/conversations?{query}", headers=world.auth())
        assert r.status == 200, await r.text()
        return {c["id"] for c in (await r.json())["items"]}

    assert await ids("status=resolved") == {cid}
    assert await ids("status=open") == {two["conversation_id"]}
    assert await ids("tag=billing") == {cid}
    assert cid in await ids("assignee=none")
    bad = await client.get("/api/v1/conversations?status=bogus", headers=world.auth())
    assert bad.status == 422
    assert "status" in (await bad.json())["error"]["message"]


async def test_new_conversations_are_assigned_round_robin(client: TestClient, world: World) -> None:
    first = await _ingest(client, world, "r1", address="r1@example.com")
    second = await _ingest(client, world, "r2", address="r2@example.com")
    store = client.app[STORE_KEY]
    a = await store.get_conversation(first["conversation_id"])
    b = await store.get_conversation(second["conversation_id"])
    assert a is not None and b is not None
    assert a.assignee_id is not None and b.assignee_id is not None
    assert a.assignee_id != b.assignee_id


async def test_snooze_needs_a_future_time(client: TestClient, world: World) -> None:
    cid = (await _ingest(client, world, "s1"))["conversation_id"]
    resp = await client.patch(
        f"/api/v1/conversations/{cid}", headers=world.auth(), json={"status": "snoozed"}
    )
    assert resp.status == 422
    past = (utcnow() - timedelta(hours=1)).isoformat()
    resp = await client.patch(
        f"/api/v1/conversations/{cid}",
        headers=world.auth(),
        json={"status": "snoozed", "snoozed_until": past},
    )
    assert resp.status == 422
    future = (utcnow() + timedelta(hours=1)).isoformat()
    resp = await client.patch(
        f"/api/v1/conversations/{cid}",
        headers=world.auth(),
        json={"status": "snoozed", "snoozed_until": future},
    )
    assert resp.status == 200
    assert (await resp.json())["status"] == "snoozed"


async def test_patch_with_a_bad_tag_changes_nothing(client: TestClient, world: World) -> None:
    cid = (await _ingest(client, world, "t1"))["conversation_id"]
    resp = await client.patch(
        f"/api/v1/conversations/{cid}",
        headers=world.auth(),
        json={"status": "resolved", "add_tags": ["x" * 65]},
    )
    assert resp.status == 422
    conversation = await client.app[STORE_KEY].get_conversation(cid)
    assert conversation is not None and conversation.status == "open"


async def test_reply_is_sent_once_per_idempotency_key(client: TestClient, world: World) -> None:
    cid = (await _ingest(client, world, "q1"))["conversation_id"]
    headers = {**world.auth(), "Idempotency-Key": "reply-1"}
    first = await client.post(
        f"/api/v1/conversations/{cid}/messages",
        headers=headers,
        json={"text": "Hello from support"},
    )
    assert first.status == 201
    again = await client.post(
        f"/api/v1/conversations/{cid}/messages",
        headers=headers,
        json={"text": "Hello from support"},
    )
    assert again.status == 200
    message_id = (await first.json())["id"]
    assert (await again.json())["id"] == message_id
    store = client.app[STORE_KEY]

    async def sent() -> bool:
        m = await store.get_message(message_id)
        return m is not None and m.delivery_status == "sent"

    await _wait_for(sent)
    assert (await store.counts())["outbox"] == 1


async def _webhook(statuses: list[int]) -> tuple[TestServer, list[dict[str, Any]]]:
    calls: list[dict[str, Any]] = []

    async def hook(request: web.Request) -> web.Response:
        calls.append({"key": request.headers.get("Idempotency-Key"), **await request.json()})
        return web.Response(status=statuses[min(len(calls), len(statuses)) - 1])

    app = web.Application()
    app.router.add_post("/hook", hook)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    return server, calls


async def test_reply_to_a_failing_webhook_is_retried_under_the_same_key(
    make_config: Any, aiohttp_client: Any
) -> None:
    from hub.app import create_app

    config = make_config(HUB_OUTBOX_BASE_DELAY_SECONDS="0.05", HUB_OUTBOX_MAX_DELAY_SECONDS="0.1")
    client = await aiohttp_client(create_app(config))
    server, calls = await _webhook([503, 500, 200])
    try:
        store = client.app[STORE_KEY]
        world = await build_world(
            client,
            api_inbox_config={
                "webhook_url": str(server.make_url("/hook")),
                "webhook_secret": WEBHOOK_SECRET,
            },
        )
        cid = (await _ingest(client, world, "w1"))["conversation_id"]
        resp = await client.post(
            f"/api/v1/conversations/{cid}/messages",
            headers=world.auth(),
            json={"text": "Your refund is on its way"},
        )
        message_id = (await resp.json())["id"]

        async def sent() -> bool:
            m = await store.get_message(message_id)
            return m is not None and m.delivery_status == "sent"

        await _wait_for(sent)
        assert len(calls) == 3
        assert len({c["key"] for c in calls}) == 1
        assert calls[-1]["text"] == "Your refund is on its way"
        assert calls[-1]["recipient"] == {"kind": "email", "address": "c@example.com"}
    finally:
        await server.close()


async def test_reply_rejected_by_the_webhook_fails_with_the_reason(
    make_config: Any, aiohttp_client: Any
) -> None:
    from hub.app import create_app

    client = await aiohttp_client(create_app(make_config()))
    server, calls = await _webhook([400])
    try:
        world = await build_world(
            client,
            api_inbox_config={
                "webhook_url": str(server.make_url("/hook")),
                "webhook_secret": WEBHOOK_SECRET,
            },
        )
        cid = (await _ingest(client, world, "w2"))["conversation_id"]
        resp = await client.post(
            f"/api/v1/conversations/{cid}/messages", headers=world.auth(), json={"text": "hi"}
        )
        message_id = (await resp.json())["id"]
        store = client.app[STORE_KEY]

        async def failed() -> bool:
            m = await store.get_message(message_id)
            return m is not None and m.delivery_status == "failed"

        await _wait_for(failed)
        message = await store.get_message(message_id)
        assert message is not None and "HTTP 400" in (message.error or "")
        assert len(calls) == 1
    finally:
        await server.close()


async def test_note_is_stored_but_never_sent(client: TestClient, world: World) -> None:
    cid = (await _ingest(client, world, "n1"))["conversation_id"]
    resp = await client.post(
        f"/api/v1/conversations/{cid}/messages",
        headers=world.auth(),
        json={"kind": "note", "text": "@Agent a please check"},
    )
    assert resp.status == 201
    note = await resp.json()
    assert note["kind"] == "note"
    assert (await client.app[STORE_KEY].counts())["outbox"] == 0


async def test_search_finds_message_text(client: TestClient, world: World) -> None:
    await _ingest(client, world, "f1", text="my parcel never arrived")
    await _ingest(client, world, "f2", text="invoice question")
    resp = await client.get("/api/v1/search?q=parcel", headers=world.auth())
    assert resp.status == 200
    assert [m["text"] for m in (await resp.json())["items"]] == ["my parcel never arrived"]
    empty = await client.get("/api/v1/search", headers=world.auth())
    assert empty.status == 422


async def test_agent_cannot_open_another_teams_conversation(
    client: TestClient, world: World
) -> None:
    cid = (await _ingest(client, world, "v1", inbox=world.inbox_b.id))["conversation_id"]
    resp = await client.get(f"/api/v1/conversations/{cid}", headers=world.auth("a"))
    assert resp.status == 403
    assert (await resp.json())["error"]["code"] == "not_your_team"
    listed = await client.get("/api/v1/conversations", headers=world.auth("a"))
    assert cid not in {c["id"] for c in (await listed.json())["items"]}
    own = await client.get(f"/api/v1/conversations/{cid}", headers=world.auth("b"))
    assert own.status == 200


async def test_unknown_conversation_is_404_json(client: TestClient, world: World) -> None:
    resp = await client.get("/api/v1/conversations/cnv_nope", headers=world.auth())
    assert resp.status == 404
    assert (await resp.json())["error"]["code"] == "conversation_not_found"


async def test_snoozed_conversation_reopens_when_its_time_comes(
    client: TestClient, world: World
) -> None:
    cid = (await _ingest(client, world, "z1"))["conversation_id"]
    soon = (utcnow() + timedelta(milliseconds=300)).isoformat()
    resp = await client.patch(
        f"/api/v1/conversations/{cid}",
        headers=world.auth(),
        json={"status": "snoozed", "snoozed_until": soon},
    )
    assert resp.status == 200
    store = client.app[STORE_KEY]

    async def reopened() -> bool:
        c = await store.get_conversation(cid)
        return c is not None and c.status == "open" and c.snoozed_until is None

    await _wait_for(reopened, within=8.0)
