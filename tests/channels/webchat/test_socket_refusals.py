"""Every refusal on the visitor socket is a clear error frame, stores nothing, keeps it open."""

from __future__ import annotations

import asyncio
import time

import pytest
from aiohttp import WSServerHandshakeError
from aiohttp.test_utils import TestClient

from channels.webchat.tokens import VisitorTokens, identifier_hash
from hub.model import Inbox
from tests.channels.webchat.conftest import (
    IDENTITY_SECRET,
    SECRET_KEY,
    connect,
    make_inbox,
    open_chat,
    store_counts,
    stored_messages,
)


async def test_forged_token_is_refused_and_nothing_is_stored(
    client: TestClient, inbox: Inbox
) -> None:
    before = await store_counts(client)
    forged = VisitorTokens(b"some-other-secret").issue("v_attacker-chosen", inbox.id)
    chat = await connect(client, inbox.id)
    await chat.send(type="hello", token=forged)
    error = await chat.next("error")
    assert error["code"] == "token_invalid"
    await chat.send(type="message", client_id="c1", text="let me in")
    assert (await chat.next("error", client_id="c1"))["code"] == "hello_required"
    assert await store_counts(client) == before


async def test_expired_token_is_refused_and_nothing_is_stored(
    client: TestClient, inbox: Inbox
) -> None:
    before = await store_counts(client)
    long_ago = VisitorTokens(SECRET_KEY.encode(), clock=lambda: time.time() - 31 * 86_400)
    chat = await connect(client, inbox.id)
    await chat.send(type="hello", token=long_ago.issue("v_returning-visitor", inbox.id))
    error = await chat.next("error")
    assert error["code"] == "token_expired"
    assert "expired" in error["message"]
    await chat.send(type="message", client_id="c1", text="still there?")
    assert (await chat.next("error", client_id="c1"))["code"] == "hello_required"
    assert await store_counts(client) == before


async def test_token_of_another_inbox_is_refused(client: TestClient, inbox: Inbox) -> None:
    other = await make_inbox(client)
    chat = await open_chat(client, other.id)
    token = chat.welcome["token"]
    chat2 = await connect(client, inbox.id)
    await chat2.send(type="hello", token=token)
    assert (await chat2.next("error"))["code"] == "token_invalid"


async def test_wrong_hmac_rejects_the_first_and_every_later_frame(client: TestClient) -> None:
    inbox = await make_inbox(client, identity_secret=IDENTITY_SECRET, require_identity=True)
    before = await store_counts(client)
    chat = await connect(client, inbox.id)
    wrong = identifier_hash("not-the-secret-of-this-inbox", "user-42")
    await chat.send(type="hello", identifier="user-42", identifier_hash=wrong)
    assert (await chat.next("error"))["code"] == "identity_unverified"
    await chat.send(type="message", client_id="c1", text="unverified message")
    later = await chat.next("error", client_id="c1")
    assert later["code"] == "identity_unverified"
    await chat.send(type="typing", typing=True)
    assert (await chat.next("error"))["code"] == "identity_unverified"
    await chat.send(type="resume", after=None)
    assert (await chat.next("error"))["code"] == "identity_unverified"
    assert await store_counts(client) == before


async def test_required_identity_without_identifier_is_refused(client: TestClient) -> None:
    inbox = await make_inbox(client, identity_secret=IDENTITY_SECRET, require_identity=True)
    before = await store_counts(client)
    chat = await connect(client, inbox.id)
    await chat.send(type="hello")
    assert (await chat.next("error"))["code"] == "identity_unverified"
    await chat.send(type="message", client_id="c1", text="hi")
    assert (await chat.next("error", client_id="c1"))["code"] == "identity_unverified"
    assert await store_counts(client) == before


async def test_a_verified_user_is_the_same_visitor_from_any_browser(client: TestClient) -> None:
    inbox = await make_inbox(client, identity_secret=IDENTITY_SECRET, require_identity=True)
    proof = {
        "identifier": "user-42",
        "identifier_hash": identifier_hash(IDENTITY_SECRET, "user-42"),
    }
    first = await open_chat(client, inbox.id, **proof)
    ack = await first.say("c1", "from my laptop")
    second = await open_chat(client, inbox.id, **proof)  # no token: another browser
    assert second.welcome["visitor_id"] == first.welcome["visitor_id"]
    assert "user-42" not in second.welcome["visitor_id"]
    assert (await second.say("c2", "from my phone"))["conversation_id"] == ack["conversation_id"]


async def test_oversize_frame_is_refused_and_the_connection_still_works(
    client: TestClient,
) -> None:
    inbox = await make_inbox(client, max_frame_bytes=1024)
    chat = await open_chat(client, inbox.id)
    before = await store_counts(client)
    await chat.send(type="message", client_id="big", text="x" * 2000)
    error = await chat.next("error")
    assert error["code"] == "frame_too_large"
    assert "1024" in error["message"]
    assert await store_counts(client) == before
    assert (await chat.say("small", "short one"))["id"]
    assert (await store_counts(client))["messages"] == before["messages"] + 1


async def test_too_long_message_is_refused_with_its_client_id(client: TestClient) -> None:
    inbox = await make_inbox(client, max_message_chars=10)
    before = await store_counts(client)
    chat = await open_chat(client, inbox.id)
    await chat.send(type="message", client_id="long", text="more than ten characters")
    assert (await chat.next("error", client_id="long"))["code"] == "message_too_long"
    assert await store_counts(client) == before


async def test_rate_limit_breach_is_refused_then_the_connection_works_again(
    client: TestClient,
) -> None:
    inbox = await make_inbox(client, visitor_burst=3, visitor_per_second=2.0)
    chat = await open_chat(client, inbox.id)
    for n in range(5):  # all at once: 3 pass, 2 are over the burst
        await chat.send(type="message", client_id=f"c{n}", text=f"message {n}")
    for n in range(3):
        await chat.next("ack", client_id=f"c{n}")
    limited = [await chat.next("error", client_id=f"c{n}") for n in (3, 4)]
    assert [f["code"] for f in limited] == ["rate_limited", "rate_limited"]
    assert all(0 < f["retry_after"] <= 0.5 for f in limited)
    assert await stored_messages(client) == 3
    await asyncio.sleep(0.6)
    assert (await chat.say("c3", "message 3"))["duplicate"] is False
    assert await stored_messages(client) == 4


async def test_frames_before_hello_are_limited_per_socket(client: TestClient) -> None:
    inbox = await make_inbox(client, visitor_burst=2, visitor_per_second=0.001)
    chat = await connect(client, inbox.id)
    for _ in range(3):
        await chat.send(type="typing", typing=True)
    codes = [(await chat.next("error"))["code"] for _ in range(3)]
    assert codes == ["hello_required", "hello_required", "rate_limited"]
    other = await open_chat(client, inbox.id)  # another socket at the address is not limited
    assert (await other.say("c1", "hi"))["id"]


async def test_malformed_json_is_refused_and_the_connection_still_works(
    client: TestClient, inbox: Inbox
) -> None:
    before = await store_counts(client)
    chat = await open_chat(client, inbox.id)
    await chat.ws.send_str('{"type": "message", "client_id": "c1", "text": ')
    error = await chat.next("error")
    assert error["code"] == "malformed_json"
    assert await store_counts(client) == before
    assert (await chat.say("c1", "now valid"))["id"]


@pytest.mark.parametrize(
    ("frame", "code"),
    [
        ('["not", "an", "object"]', "invalid_frame"),
        ('{"type": "launch_missiles"}', "unknown_type"),
        ('{"type": "message", "client_id": "has spaces", "text": "x"}', "invalid_frame"),
        ('{"type": "message", "client_id": "c1", "text": "   "}', "invalid_frame"),
        ('{"type": "resume", "after": 42}', "invalid_frame"),
        ('{"type": "email", "address": "not-an-email"}', "invalid_email"),
    ],
)
async def test_invalid_frames_get_a_named_error(
    client: TestClient, inbox: Inbox, frame: str, code: str
) -> None:
    before = await store_counts(client)
    chat = await open_chat(client, inbox.id)
    await chat.ws.send_str(frame)
    assert (await chat.next("error"))["code"] == code
    assert await store_counts(client) == before


async def test_binary_frame_is_refused(client: TestClient, inbox: Inbox) -> None:
    chat = await open_chat(client, inbox.id)
    await chat.ws.send_bytes(b'{"type": "message", "client_id": "c1", "text": "hi"}')
    assert (await chat.next("error"))["code"] == "invalid_frame"
    assert await stored_messages(client) == 0


async def test_message_before_hello_is_refused(client: TestClient, inbox: Inbox) -> None:
    before = await store_counts(client)
    chat = await connect(client, inbox.id)
    await chat.send(type="message", client_id="c1", text="hi")
    assert (await chat.next("error", client_id="c1"))["code"] == "hello_required"
    assert await store_counts(client) == before


@pytest.mark.parametrize("query", ["", "?inbox=inb_missing", "?inbox=API"])
async def test_socket_for_no_webchat_inbox_is_404(
    client: TestClient, inbox: Inbox, query: str
) -> None:
    if query.endswith("API"):
        from tests.conftest import build_world

        query = f"?inbox={(await build_world(client)).api_inbox.id}"
    with pytest.raises(WSServerHandshakeError) as caught:
        await client.ws_connect(f"/api/v1/webchat/ws{query}")
    assert caught.value.status == 404


async def test_socket_from_a_page_not_allowed_is_403(client: TestClient) -> None:
    inbox = await make_inbox(client, allowed_origins=["https://shop.example"])
    with pytest.raises(WSServerHandshakeError) as caught:
        await client.ws_connect(
            f"/api/v1/webchat/ws?inbox={inbox.id}", headers={"Origin": "https://evil.example"}
        )
    assert caught.value.status == 403
    ws = await client.ws_connect(
        f"/api/v1/webchat/ws?inbox={inbox.id}", headers={"Origin": "https://shop.example"}
    )
    await ws.close()
