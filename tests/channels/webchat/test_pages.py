"""The widget script and the demo page: public, and the script never renders text as HTML."""

from __future__ import annotations

import re

from aiohttp.test_utils import TestClient

from channels.webchat.pages import STATIC


async def test_widget_script_is_served_without_a_token(client: TestClient) -> None:
    resp = await client.get("/api/v1/webchat/widget.js")
    assert resp.status == 200
    assert resp.content_type == "application/javascript"
    assert "data-inbox" in await resp.text()


async def test_demo_page_embeds_the_widget(client: TestClient) -> None:
    resp = await client.get("/api/v1/webchat/demo?inbox=inb_anything")
    assert resp.status == 200
    assert resp.content_type == "text/html"
    assert "default-src 'self'" in resp.headers["Content-Security-Policy"]
    body = await resp.text()
    assert '<script src="widget.js" data-inbox-param="inbox"' in body
    assert "inb_anything" not in body  # nothing from the URL is rendered by the server


async def test_api_routes_still_need_a_token(client: TestClient) -> None:
    resp = await client.get("/api/v1/conversations")
    assert resp.status == 401


def test_widget_never_uses_html_sinks() -> None:
    script = (STATIC / "widget.js").read_text()
    code = "\n".join(line for line in script.splitlines() if not line.strip().startswith("*"))
    for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval("):
        assert sink not in code, sink
    assert "textContent" in code


def test_widget_documents_every_test_id_it_creates() -> None:
    script = (STATIC / "widget.js").read_text()
    header = script.split("*/", 1)[0]
    used = set(re.findall(r'"data-testid": "([a-z-]+)"', script))
    assert used >= {"chat-bubble", "chat-panel", "chat-input", "chat-send", "chat-message"}
    missing = {t for t in used if t not in header}
    assert missing <= {"chat-greeting", "chat-offline-message"}, missing
