"""The reply box's idempotency key: one reply or note per form, the key is the agent's own,
and the key sent again with another text is refused with the reason (not a 500)."""

from __future__ import annotations

from aiohttp.test_utils import TestClient

from hub.keys import STORE_KEY
from tests.conftest import World
from tests.web.inbox_world import ingest, message_ids, post_form
from tests.web.signin import Browser, sign_in


async def _texts(client: TestClient, cid: str) -> list[str | None]:
    return [m.text for m in (await client.app[STORE_KEY].list_messages(cid)).items]


async def test_a_note_form_submitted_twice_stores_one_note(
    client: TestClient, world: World
) -> None:
    cid = (await ingest(client, world.api_inbox, sender="kari@example.com")).conversation.id
    csrf = await sign_in(client, "admin@hub.test")
    for _ in range(2):
        status, _, _ = await post_form(
            client, f"/inbox/c/{cid}/reply", csrf, text="vip", mode="note", idempotency_key="w:1"
        )
        assert status == 303
    assert (await _texts(client, cid)).count("vip") == 1


async def test_a_script_sending_a_note_twice_gets_the_stored_note_back(
    client: TestClient, world: World
) -> None:
    cid = (await ingest(client, world.api_inbox, sender="kari@example.com")).conversation.id
    csrf = await sign_in(client, "admin@hub.test")
    answers = []
    for _ in range(2):
        resp = await client.post(
            f"/inbox/c/{cid}/reply",
            data={"text": "vip", "mode": "note", "idempotency_key": "w:1"},
            headers={"X-CSRF-Token": csrf, "X-Hub-Fragment": "1"},
        )
        answers.append((resp.status, message_ids(await resp.text())))
    assert [status for status, _ in answers] == [201, 200]
    assert answers[0][1] == answers[1][1] and len(answers[0][1]) == 1


async def test_the_form_key_sent_again_with_another_text_shows_the_reason(
    client: TestClient, world: World
) -> None:
    cid = (await ingest(client, world.api_inbox, sender="kari@example.com")).conversation.id
    csrf = await sign_in(client, "admin@hub.test")
    path = f"/inbox/c/{cid}/reply"
    await post_form(client, path, csrf, text="first try", idempotency_key="w:1")
    status, _, html = await post_form(client, path, csrf, text="edited", idempotency_key="w:1")
    assert status == 409
    assert "already sent a different text" in html
    assert "edited" not in await _texts(client, cid)


async def test_a_script_sending_the_form_key_with_another_text_gets_a_409_with_the_reason(
    client: TestClient, world: World
) -> None:
    cid = (await ingest(client, world.api_inbox, sender="kari@example.com")).conversation.id
    csrf = await sign_in(client, "admin@hub.test")
    for text, expected in (("first try", 201), ("edited", 409)):
        resp = await client.post(
            f"/inbox/c/{cid}/reply",
            data={"text": text, "mode": "reply", "idempotency_key": "w:1"},
            headers={"X-CSRF-Token": csrf, "X-Hub-Fragment": "1"},
        )
        assert resp.status == expected
    error = (await resp.json())["error"]
    assert error["code"] == "idempotency_key_reused"
    assert "Send it again to send it as a new message" in error["message"]


async def test_a_form_key_another_agent_used_still_sends_this_agents_reply(
    client: TestClient, world: World
) -> None:
    theirs = (await ingest(client, world.inbox_b, sender="b@example.com")).conversation.id
    mine = (await ingest(client, world.inbox_a, sender="a@example.com")).conversation.id
    async with Browser(client) as other:
        csrf_b = await sign_in(other, "b@hub.test")
        await post_form(other, f"/inbox/c/{theirs}/reply", csrf_b, text="B", idempotency_key="k")
    csrf_a = await sign_in(client, "a@hub.test")
    status, _, _ = await post_form(
        client, f"/inbox/c/{mine}/reply", csrf_a, text="A's own reply", idempotency_key="k"
    )
    assert status == 303
    assert "A's own reply" in await _texts(client, mine)
