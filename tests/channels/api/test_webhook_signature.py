"""Webhook deliveries are signed; the receiver code of docs/webhooks.md verifies a real one."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import orjson
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from hub.actions import do_reply
from hub.keys import ACTIONS_KEY, STORE_KEY
from tests.conftest import WEBHOOK_SECRET, World, build_world, inbound_body

DOC = Path(__file__).parents[3] / "docs" / "webhooks.md"
Verify = Callable[..., bool]


def doc_receiver(name: str = "verify_webhook") -> Verify:
    """A function of the Python receiver of docs/webhooks.md, run exactly as printed there."""
    [code] = re.findall(r"```python\n(.*?)```", DOC.read_text(), flags=re.S)
    namespace: dict[str, Any] = {}
    exec(compile(code, str(DOC), "exec"), namespace)  # our own documentation
    return namespace[name]  # type: ignore[no-any-return]


def doc_verifier() -> Verify:
    """verify_webhook of docs/webhooks.md."""
    return doc_receiver("verify_webhook")


@pytest.fixture
async def receiver() -> AsyncIterator[tuple[TestServer, list[web.Request], list[bytes]]]:
    """A real HTTP server receiving the hub's webhook deliveries."""
    requests: list[web.Request] = []
    bodies: list[bytes] = []

    async def hook(request: web.Request) -> web.Response:
        bodies.append(await request.read())
        requests.append(request)
        return web.Response(status=204)

    app = web.Application()
    app.router.add_post("/hook", hook)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    yield server, requests, bodies
    await server.close()


async def _deliver(client: TestClient, world: World, text: str) -> str:
    resp = await client.post(
        "/api/v1/inbound", headers=world.auth(), json=inbound_body(world.api_inbox.id, "p1")
    )
    assert resp.status == 201, await resp.text()
    cid = (await resp.json())["conversation_id"]
    result = await do_reply(client.app[ACTIONS_KEY], cid, author_id=world.admin.id, text=text)
    return result.message.id


async def _wait(check: Callable[[], Awaitable[bool]], within: float = 5.0) -> None:
    deadline = asyncio.get_running_loop().time() + within
    while not await check():
        assert asyncio.get_running_loop().time() < deadline, "condition not met in time"
        await asyncio.sleep(0.02)


def _count(bodies: list[bytes], n: int) -> Callable[[], Awaitable[bool]]:
    async def reached() -> bool:
        return len(bodies) >= n

    return reached


async def test_a_delivery_carries_a_signature_the_documented_receiver_accepts(
    client: TestClient, receiver: tuple[TestServer, list[web.Request], list[bytes]]
) -> None:
    server, requests, bodies = receiver
    world = await build_world(
        client,
        api_inbox_config={
            "webhook_url": str(server.make_url("/hook")),
            "webhook_secret": WEBHOOK_SECRET,
        },
    )
    await _deliver(client, world, "Your refund is on its way")
    await _wait(_count(bodies, 1))
    header = requests[0].headers["X-Hub-Signature"]
    verify = doc_verifier()
    assert verify(WEBHOOK_SECRET, header, bodies[0])
    assert b"Your refund is on its way" in bodies[0]


async def test_the_receiver_rejects_a_tampered_body_a_wrong_secret_and_an_old_timestamp(
    client: TestClient, receiver: tuple[TestServer, list[web.Request], list[bytes]]
) -> None:
    server, requests, bodies = receiver
    world = await build_world(
        client,
        api_inbox_config={
            "webhook_url": str(server.make_url("/hook")),
            "webhook_secret": WEBHOOK_SECRET,
        },
    )
    await _deliver(client, world, "Refund of 10 EUR approved")
    await _wait(_count(bodies, 1))
    header, body = requests[0].headers["X-Hub-Signature"], bodies[0]
    signed_at = int(dict(p.split("=", 1) for p in header.split(","))["t"])
    verify = doc_verifier()
    assert verify(WEBHOOK_SECRET, header, body, now=signed_at + 10)
    assert not verify(WEBHOOK_SECRET, header, body.replace(b"10 EUR", b"9999 EUR"))
    assert not verify("another-secret-0123456789", header, body)
    assert not verify(WEBHOOK_SECRET, header, body, now=signed_at + 301)  # a replay, later


async def test_a_webhook_url_without_a_secret_is_refused(client: TestClient) -> None:
    world = await build_world(client)
    resp = await client.post(
        "/api/v1/inboxes",
        headers=world.auth(),
        json={"name": "Shop", "channel": "api", "config": {"webhook_url": "https://x.test/h"}},
    )
    assert resp.status == 422
    assert (await resp.json())["error"]["details"]["field"] == "webhook_secret"


async def test_a_legacy_inbox_without_a_secret_gets_no_unsigned_delivery(
    client: TestClient, receiver: tuple[TestServer, list[web.Request], list[bytes]]
) -> None:
    server, _, bodies = receiver
    world = await build_world(client)
    store = client.app[STORE_KEY]
    # as stored by a release that did not sign: a webhook_url and no secret
    await store.update_inbox(
        world.api_inbox.id, config={"webhook_url": str(server.make_url("/hook"))}
    )
    message_id = await _deliver(client, world, "hello")

    async def failed() -> bool:
        message = await store.get_message(message_id)
        return message is not None and message.delivery_status == "failed"

    await _wait(failed)
    message = await store.get_message(message_id)
    assert message is not None and "webhook_secret" in (message.error or "")
    assert bodies == []


async def test_a_delivery_replayed_with_a_fresh_idempotency_key_is_a_repeat_to_the_receiver(
    client: TestClient, receiver: tuple[TestServer, list[web.Request], list[bytes]]
) -> None:
    server, requests, bodies = receiver
    world = await build_world(
        client,
        api_inbox_config={
            "webhook_url": str(server.make_url("/hook")),
            "webhook_secret": WEBHOOK_SECRET,
        },
    )
    await _deliver(client, world, "Refund of 10 EUR approved")
    await _wait(_count(bodies, 1))
    captured, body = dict(requests[0].headers), bodies[0]
    check = doc_receiver("check_delivery")
    handled: set[str] = set()
    assert check(WEBHOOK_SECRET, captured, body, handled) == "new"
    handled.add(orjson.loads(body)["idempotency_key"])  # the receiver handled it
    replayed = {**captured, "Idempotency-Key": "attacker-chosen-fresh-key"}
    assert check(WEBHOOK_SECRET, replayed, body, handled) == "repeat"
    # the body's key is the one the hub retries under, which the header only copies
    assert orjson.loads(body)["idempotency_key"] == captured["Idempotency-Key"]
    forged = body.replace(captured["Idempotency-Key"].encode(), b"another-key")
    assert forged != body
    assert check(WEBHOOK_SECRET, replayed, forged, handled) == "forged"
