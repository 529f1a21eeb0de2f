"""POST /api/v1/conversations/{id}/messages with an Idempotency-Key: the key is the agent's own,
a replay answers the original (200), the key reused for another request is a 409."""

from __future__ import annotations

from typing import Any

from aiohttp.test_utils import TestClient

from hub.keys import STORE_KEY
from tests.conftest import World, inbound_body

MESSAGES = "/api/v1/conversations/{}/messages"


async def _conversation(client: TestClient, world: World, inbox_id: str, pid: str) -> str:
    body = inbound_body(inbox_id, pid, sender={"kind": "email", "address": f"{pid}@example.com"})
    resp = await client.post("/api/v1/inbound", json=body, headers=world.auth())
    assert resp.status in (200, 201), await resp.text()
    return str((await resp.json())["conversation_id"])


async def _post(
    client: TestClient, world: World, who: str, cid: str, key: str, **body: Any
) -> tuple[int, dict[str, Any]]:
    resp = await client.post(
        MESSAGES.format(cid), headers={**world.auth(who), "Idempotency-Key": key}, json=body
    )
    return resp.status, await resp.json()


async def _texts(client: TestClient, cid: str) -> list[str | None]:
    return [m.text for m in (await client.app[STORE_KEY].list_messages(cid)).items]


async def test_a_key_another_teams_agent_used_stores_the_callers_own_reply(
    client: TestClient, world: World
) -> None:
    theirs = await _conversation(client, world, world.inbox_b.id, "b1")
    mine = await _conversation(client, world, world.inbox_a.id, "a1")
    status, _ = await _post(client, world, "b", theirs, "order-42", text="team B's private reply")
    assert status == 201
    status, answer = await _post(client, world, "a", mine, "order-42", text="team A's reply")
    assert status == 201
    assert answer["text"] == "team A's reply" and answer["conversation_id"] == mine
    assert "team A's reply" in await _texts(client, mine)


async def test_a_replay_answers_the_callers_own_message_when_another_agent_used_the_key(
    client: TestClient, world: World
) -> None:
    theirs = await _conversation(client, world, world.inbox_b.id, "b1")
    mine = await _conversation(client, world, world.inbox_a.id, "a1")
    await _post(client, world, "b", theirs, "k", text="from B")
    _, first = await _post(client, world, "a", mine, "k", text="from A")
    status, again = await _post(client, world, "a", mine, "k", text="from A")
    assert status == 200
    assert (again["id"], again["text"]) == (first["id"], "from A")


async def test_a_key_reused_with_another_text_is_a_409_and_stores_nothing(
    client: TestClient, world: World
) -> None:
    cid = await _conversation(client, world, world.api_inbox.id, "c1")
    await _post(client, world, "admin", cid, "k", text="first")
    status, answer = await _post(client, world, "admin", cid, "k", text="second")
    assert status == 409
    assert answer["error"]["code"] == "idempotency_key_reused"
    assert "different body" in answer["error"]["message"]
    assert "first" not in str(answer)  # the stored reply is not given back
    assert "second" not in await _texts(client, cid)


async def test_a_key_reused_with_html_added_is_a_409(client: TestClient, world: World) -> None:
    cid = await _conversation(client, world, world.api_inbox.id, "c1")
    await _post(client, world, "admin", cid, "k", text="hi")
    status, answer = await _post(client, world, "admin", cid, "k", text="hi", html="<p>hi</p>")
    assert (status, answer["error"]["code"]) == (409, "idempotency_key_reused")


async def test_a_key_reused_on_another_conversation_is_a_409_and_stores_nothing(
    client: TestClient, world: World
) -> None:
    one = await _conversation(client, world, world.api_inbox.id, "c1")
    two = await _conversation(client, world, world.api_inbox.id, "c2")
    await _post(client, world, "admin", one, "k", text="same text")
    status, answer = await _post(client, world, "admin", two, "k", text="same text")
    assert (status, answer["error"]["code"]) == (409, "idempotency_key_reused")
    assert "another conversation" in answer["error"]["message"]
    assert "same text" not in await _texts(client, two)


async def test_a_reply_key_reused_for_a_note_is_a_409(client: TestClient, world: World) -> None:
    cid = await _conversation(client, world, world.api_inbox.id, "c1")
    await _post(client, world, "admin", cid, "k", text="hello")
    status, answer = await _post(client, world, "admin", cid, "k", text="hello", kind="note")
    assert (status, answer["error"]["code"]) == (409, "idempotency_key_reused")


async def test_two_notes_with_one_key_store_one_note(client: TestClient, world: World) -> None:
    cid = await _conversation(client, world, world.api_inbox.id, "c1")
    for _ in range(2):
        await _post(client, world, "admin", cid, "n", text="check the refund", kind="note")
    assert (await _texts(client, cid)).count("check the refund") == 1


async def test_a_note_replayed_answers_the_original_note_with_200(
    client: TestClient, world: World
) -> None:
    cid = await _conversation(client, world, world.api_inbox.id, "c1")
    status, first = await _post(client, world, "admin", cid, "n", text="internal", kind="note")
    assert status == 201
    status, again = await _post(client, world, "admin", cid, "n", text="internal", kind="note")
    assert (status, again["id"]) == (200, first["id"])


async def test_the_openapi_document_lists_the_replays_200(client: TestClient) -> None:
    doc = await (await client.get("/api/openapi.json")).json()
    responses = doc["paths"]["/api/v1/conversations/{conversation_id}/messages"]["post"]
    assert {"200", "201"} <= set(responses["responses"])
