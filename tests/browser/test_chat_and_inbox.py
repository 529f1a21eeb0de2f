"""In a real browser: a visitor chats through the widget, an agent answers from the inbox.

Each test drives Debian's Chromium through playwright against the whole hub on a real port.
The widget lives in a shadow root; playwright's CSS selectors pierce it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hub.actions import do_ingest, do_reply, do_update_customer
from hub.keys import ACTIONS_KEY, STORE_KEY
from hub.model import ConversationFilter, IdentityKind, Inbound, new_id

from .conftest import ChatWorld, sign_in

WAIT_MS = 10_000
VISITOR_MESSAGES = "[data-testid=chat-message][data-from=visitor][data-state=sent]"
AGENT_MESSAGES = "[data-testid=chat-message][data-from=agent]"

XSS_CORPUS = (
    "<script>window.__pwned = 'script'; alert(1)</script>",
    "<img src=x onerror=\"window.__pwned = 'onerror'; alert(2)\">",
    '<a href="javascript:window.__pwned=\'href\';alert(3)" id="evil">click me</a>',
    "<svg onload=\"window.__pwned = 'svg'; alert(4)\"><circle r=5></circle></svg>",
    "<svg><script>window.__pwned = 'svg-script'</script></svg>",
    '"><iframe srcdoc="<script>parent.__pwned=\'iframe\'</script>"></iframe>',
    "<details open ontoggle=\"window.__pwned='toggle'\">x</details>",
)


def watch_dialogs(page: Any) -> list[str]:
    """Every dialog (alert/confirm/prompt) the page opens, dismissed and recorded."""
    opened: list[str] = []

    async def on_dialog(dialog: Any) -> None:
        opened.append(dialog.message)
        await dialog.dismiss()

    page.on("dialog", on_dialog)
    return opened


async def visitor_says(page: Any, text: str) -> None:
    """Type a message into the open widget and wait for its durable ack."""
    before = await page.locator(VISITOR_MESSAGES).count()
    await page.fill("[data-testid=chat-input]", text)
    await page.click("[data-testid=chat-send]")
    await page.locator(VISITOR_MESSAGES).nth(before).wait_for(timeout=WAIT_MS)


async def open_widget(page: Any, world: ChatWorld) -> None:
    await page.goto(world.widget_page)
    panel = page.locator("[data-testid=chat-panel]")
    if await panel.get_attribute("data-state") != "open":
        await page.click("[data-testid=chat-bubble]")
    await page.wait_for_selector("#contact-hub-chat[data-connection=open]", timeout=WAIT_MS)


async def test_visitor_message_reaches_the_inbox_live_and_the_reply_reaches_the_widget(
    browser: Any, chat_world: ChatWorld, screenshot_dir: Path
) -> None:
    agent_ctx, visitor_ctx = await browser.new_context(), await browser.new_context()
    agent, visitor = await agent_ctx.new_page(), await visitor_ctx.new_page()
    await sign_in(agent, chat_world, chat_world.agent_a.email)
    await agent.goto(chat_world.url("/inbox?view=all"))
    await agent.wait_for_selector("[data-testid=live-indicator][data-state=live]")
    rows = agent.locator("[data-testid=conversation-row]")
    assert await rows.count() == 0

    await open_widget(visitor, chat_world)
    await visitor_says(visitor, "Hello, my parcel never arrived")

    await rows.first.wait_for(timeout=WAIT_MS)  # appeared without a reload
    assert (
        await rows.first.locator("[data-testid=channel-icon]").get_attribute("data-channel")
        == "webchat"
    )
    await rows.first.click()
    incoming = agent.locator("[data-testid=message][data-direction=in]")
    await incoming.first.wait_for(timeout=WAIT_MS)
    assert "parcel never arrived" in await incoming.first.inner_text()
    await agent.fill("[data-testid=reply-box]", "Sorry! I am checking with the courier.")
    await agent.click("[data-testid=send-button]")

    reply = visitor.locator(AGENT_MESSAGES)
    await reply.first.wait_for(timeout=WAIT_MS)
    assert "checking with the courier" in await reply.first.inner_text()
    await agent.screenshot(path=str(screenshot_dir / "inbox-conversation.png"), full_page=True)
    await visitor.screenshot(path=str(screenshot_dir / "widget-conversation.png"))
    await agent_ctx.close()
    await visitor_ctx.close()


# Lets a test cut the widget's network: every socket is remembered so it can be dropped, and
# while __cut is set new connections go to a dead port (as if the network were down).
# (Chromium's offline emulation does not touch open websockets, so it cannot do this.)
NETWORK_SWITCH = """
(() => {
  const Real = window.WebSocket;
  window.__sockets = [];
  window.__cut = false;
  window.WebSocket = function (url, protocols) {
    const ws = new Real(window.__cut ? "ws://127.0.0.1:9/" : url, protocols);
    window.__sockets.push(ws);
    return ws;
  };
  window.WebSocket.prototype = Real.prototype;
  Object.assign(window.WebSocket, {CONNECTING: 0, OPEN: 1, CLOSING: 2, CLOSED: 3});
  window.__dropNetwork = () => { window.__cut = true; window.__sockets.forEach(s => s.close()); };
  window.__restoreNetwork = () => { window.__cut = false; };
})();
"""


async def _message_ids(page: Any) -> list[str]:
    ids = await page.eval_on_selector_all(
        "[data-testid=chat-message]", "els => els.map(e => e.dataset.id || '')"
    )
    return [i for i in ids if i]


async def test_reload_keeps_the_conversation_and_a_reconnect_resumes_without_loss_or_duplicates(
    browser: Any, chat_world: ChatWorld
) -> None:
    ctx = await browser.new_context()
    await ctx.add_init_script(NETWORK_SWITCH)
    visitor = await ctx.new_page()
    await open_widget(visitor, chat_world)
    await visitor_says(visitor, "first message")
    await visitor_says(visitor, "second message")
    before = await _message_ids(visitor)
    assert len(before) == 2

    await visitor.reload()
    await open_widget(visitor, chat_world)
    await visitor.locator(VISITOR_MESSAGES).nth(1).wait_for(timeout=WAIT_MS)
    assert await _message_ids(visitor) == before  # same conversation, same messages, once

    store, actions = chat_world.app[STORE_KEY], chat_world.app[ACTIONS_KEY]
    page = await store.list_conversations(ConversationFilter(inbox_id=chat_world.chat.id))
    conversation = page.items[0]
    await visitor.evaluate("() => window.__dropNetwork()")  # replies meanwhile must not be lost
    await visitor.wait_for_selector(
        "#contact-hub-chat:not([data-connection=open])", timeout=WAIT_MS
    )
    for n in range(3):
        await do_reply(
            actions, conversation.id, author_id=chat_world.agent_a.id, text=f"while away {n}"
        )
    await visitor.evaluate("() => window.__restoreNetwork()")
    await visitor.locator(AGENT_MESSAGES).nth(2).wait_for(timeout=20_000)
    ids = await _message_ids(visitor)
    assert len(ids) == len(set(ids)) == 5, ids
    texts = await visitor.locator(AGENT_MESSAGES).all_inner_texts()
    away = [t.splitlines()[-1] for t in texts if "while away" in t]  # lines: author, text
    assert away == [f"while away {n}" for n in range(3)]  # each once, in order
    await ctx.close()


async def test_xss_corpus_from_a_visitor_renders_inert_in_the_inbox_and_the_widget(
    browser: Any, chat_world: ChatWorld, screenshot_dir: Path
) -> None:
    visitor_ctx, agent_ctx = await browser.new_context(), await browser.new_context()
    visitor, agent = await visitor_ctx.new_page(), await agent_ctx.new_page()
    dialogs = watch_dialogs(visitor)
    agent_dialogs = watch_dialogs(agent)
    await open_widget(visitor, chat_world)
    for payload in XSS_CORPUS:
        await visitor_says(visitor, payload)

    await sign_in(agent, chat_world, chat_world.agent_a.email)
    store = chat_world.app[STORE_KEY]
    page = await store.list_conversations(ConversationFilter(inbox_id=chat_world.chat.id))
    await agent.goto(chat_world.url(f"/inbox/c/{page.items[0].id}"))
    shown = agent.locator("[data-testid=message][data-direction=in]")
    await shown.nth(len(XSS_CORPUS) - 1).wait_for(timeout=WAIT_MS)
    texts = await agent.locator(
        "[data-testid=message][data-direction=in] [data-testid=message-text]"
    ).all_inner_texts()
    for payload in XSS_CORPUS:  # shown literally, as text
        assert any(payload in text for text in texts), payload
    # an email-like HTML body goes through the sanitiser into the sandboxed frame
    await do_ingest(
        chat_world.app[ACTIONS_KEY],
        Inbound(
            channel="webchat", inbox_id=chat_world.chat.id, provider_id=new_id("p"),
            sender_kind=IdentityKind.EMAIL, sender="mallory@example.com",
            text="html body", html="".join(XSS_CORPUS),
        ),
    )  # fmt: skip
    await agent.goto(chat_world.url("/inbox?view=all"))
    await agent.locator("[data-testid=conversation-row]").nth(1).wait_for(timeout=WAIT_MS)
    await agent.screenshot(path=str(screenshot_dir / "inbox-list.png"), full_page=True)
    for p in (visitor, agent):
        assert await p.evaluate("() => window.__pwned === undefined"), "a payload ran"
        assert await p.locator("#evil").count() == 0
    assert dialogs == [] and agent_dialogs == []
    await visitor.screenshot(path=str(screenshot_dir / "widget-xss.png"))
    await visitor_ctx.close()
    await agent_ctx.close()


async def test_the_customer_file_follows_changes_live_but_never_under_the_agents_typing(
    browser: Any, chat_world: ChatWorld
) -> None:
    visitor_ctx, agent_ctx = await browser.new_context(), await browser.new_context()
    visitor, agent = await visitor_ctx.new_page(), await agent_ctx.new_page()
    await open_widget(visitor, chat_world)
    await visitor_says(visitor, "Can I upgrade my plan?")
    store, actions = chat_world.app[STORE_KEY], chat_world.app[ACTIONS_KEY]
    page = await store.list_conversations(ConversationFilter(inbox_id=chat_world.chat.id))
    conversation = page.items[0]
    await sign_in(agent, chat_world, chat_world.agent_a.email)
    await agent.goto(chat_world.url(f"/inbox/c/{conversation.id}?view=all"))
    await agent.wait_for_selector("[data-testid=live-indicator][data-state=live]")
    await agent.evaluate("() => { window.__samePage = true; }")  # gone if the page reloads

    await do_update_customer(actions, conversation.customer_id, attributes={"plan": "pro"})
    plan = agent.locator("[data-testid=attribute-row][data-key=plan]")
    await plan.wait_for(timeout=WAIT_MS)
    assert await plan.locator("[data-testid=attribute-edit]").input_value() == "pro"

    key = agent.locator("[data-testid=attribute-key]")
    await key.click()
    await key.type("vip")  # the agent is typing in the sidebar: an update must wait
    await do_update_customer(actions, conversation.customer_id, attributes={"tier": "gold"})
    tier = agent.locator("[data-testid=attribute-row][data-key=tier]")
    await agent.wait_for_timeout(1_000)
    assert await tier.count() == 0
    assert await key.input_value() == "vip"
    sidebar = agent.locator("[data-testid=customer-sidebar]")
    assert await sidebar.get_attribute("data-stale") == "true"  # the agent is told
    await agent.locator("[data-testid=message-list]").click()  # focus leaves the sidebar,
    await agent.wait_for_timeout(500)  # but the unsaved "vip" still holds the refresh back
    assert await tier.count() == 0
    assert await key.input_value() == "vip"
    await key.fill("")  # the agent gives the edit up
    await agent.locator("[data-testid=message-list]").click()
    await tier.wait_for(timeout=WAIT_MS)
    assert await sidebar.get_attribute("data-stale") is None
    assert await agent.evaluate("() => window.__samePage === true")
    # the refreshed forms still post, with the page's own filters to come back to
    back = agent.locator("[data-testid=customer-sidebar] input[name=return_to]").first
    assert await back.input_value() == f"/inbox/c/{conversation.id}?view=all"
    await agent_ctx.close()
    await visitor_ctx.close()


async def test_an_agent_of_team_a_cannot_open_team_bs_conversation_in_the_ui_or_the_api(
    browser: Any, chat_world: ChatWorld
) -> None:
    result = await do_ingest(
        chat_world.app[ACTIONS_KEY],
        Inbound(
            channel="api", inbox_id=chat_world.inbox_b.id, provider_id=new_id("p"),
            sender_kind=IdentityKind.EMAIL, sender="secret@example.com", text="team B only",
        ),
    )  # fmt: skip
    cid = result.conversation.id
    ctx = await browser.new_context()
    page = await ctx.new_page()
    await sign_in(page, chat_world, chat_world.agent_a.email)

    response = await page.goto(chat_world.url(f"/inbox/c/{cid}"))
    assert response is not None and response.status == 403
    assert "team B only" not in await page.content()
    api = await page.request.get(chat_world.url(f"/api/v1/conversations/{cid}"))
    assert api.status == 403
    assert (await api.json())["error"]["code"] == "not_your_team"
    messages = await page.request.get(chat_world.url(f"/api/v1/conversations/{cid}/messages"))
    assert messages.status == 403
    await page.goto(chat_world.url("/inbox?view=all"))
    assert await page.locator(f"[data-conversation-id='{cid}']").count() == 0
    await ctx.close()


async def test_a_cross_origin_form_post_without_the_csrf_token_is_rejected(
    browser: Any, chat_world: ChatWorld, aiohttp_server: Any
) -> None:
    from aiohttp import web

    result = await do_ingest(
        chat_world.app[ACTIONS_KEY],
        Inbound(
            channel="webchat", inbox_id=chat_world.chat.id, provider_id=new_id("p"),
            sender_kind=IdentityKind.VISITOR, sender="v_csrf_target", text="please help",
        ),
    )  # fmt: skip
    cid = result.conversation.id
    target = chat_world.url(f"/inbox/c/{cid}/status")

    async def attacker(_: web.Request) -> web.Response:  # another origin, same site
        return web.Response(
            content_type="text/html",
            text=f'<form id="f" method="post" action="{target}">'
            '<input name="status" value="resolved"></form>'
            "<script>document.getElementById('f').submit()</script>",
        )

    evil = web.Application()
    evil.router.add_get("/", attacker)
    evil_server = await aiohttp_server(evil, host="127.0.0.1")

    ctx = await browser.new_context()
    page = await ctx.new_page()
    await sign_in(page, chat_world, chat_world.agent_a.email)
    async with page.expect_response(target) as caught:
        await page.goto(str(evil_server.make_url("/")))
    response = await caught.value
    assert response.status == 403
    after = await chat_world.app[STORE_KEY].get_conversation(cid)
    assert after is not None and after.status.value == "open"

    # the same form from the hub's own page, with its token, works
    await page.goto(chat_world.url(f"/inbox/c/{cid}"))
    await page.select_option("[data-testid=status-select]", "resolved")
    await page.click("[data-testid=status-submit]")
    await page.wait_for_selector("[data-testid=conversation-status]")
    after = await chat_world.app[STORE_KEY].get_conversation(cid)
    assert after is not None and after.status.value == "resolved"
    await ctx.close()
