"""In a real browser: the reply box's idempotency key, when it comes back with another text."""

from __future__ import annotations

from typing import Any

from hub.actions import do_ingest
from hub.keys import ACTIONS_KEY, STORE_KEY
from hub.model import IdentityKind, Inbound, new_id, utcnow

from .conftest import ChatWorld, sign_in

WAIT_MS = 10_000
KEY_INPUT = "[data-testid=reply-form] input[name=idempotency_key]"
OUTGOING = "[data-testid=message][data-direction=out]"


async def test_a_reused_key_shows_the_reason_and_the_next_send_goes_out_as_a_new_message(
    browser: Any, chat_world: ChatWorld
) -> None:
    app = chat_world.app
    inbox = await app[STORE_KEY].create_inbox(
        name="A's API", channel="api", team_id=chat_world.team_a.id, config={}, now=utcnow()
    )
    found = await do_ingest(
        app[ACTIONS_KEY],
        Inbound(
            channel="api", inbox_id=inbox.id, provider_id=new_id("p"),
            sender_kind=IdentityKind.EMAIL, sender="kari@example.com", text="refund?",
        ),
    )  # fmt: skip
    cid = found.conversation.id
    ctx = await browser.new_context()
    page = await ctx.new_page()
    await sign_in(page, chat_world, chat_world.agent_a.email)
    await page.goto(chat_world.url(f"/inbox/c/{cid}"))
    first_key = await page.input_value(KEY_INPUT)
    await page.fill("[data-testid=reply-box]", "It is on its way")
    await page.click("[data-testid=send-button]")
    await page.locator(OUTGOING).first.wait_for(timeout=WAIT_MS)

    # as if the first answer had been lost and the agent then edited the text
    await page.eval_on_selector(KEY_INPUT, "(el, key) => { el.value = key; }", first_key)
    await page.fill("[data-testid=reply-box]", "It is on its way, tracking 42")
    await page.click("[data-testid=send-button]")
    error = page.locator("[data-testid=reply-error]")
    await error.wait_for(state="visible", timeout=WAIT_MS)
    assert "already sent a different text" in await error.inner_text()
    assert await page.input_value(KEY_INPUT) != first_key

    await page.click("[data-testid=send-button]")
    await page.locator(OUTGOING).nth(1).wait_for(timeout=WAIT_MS)
    texts = [m.text for m in (await app[STORE_KEY].list_messages(cid)).items]
    assert texts == ["It is on its way, tracking 42", "It is on its way", "refund?"]
    await ctx.close()
