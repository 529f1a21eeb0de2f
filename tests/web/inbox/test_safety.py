"""Customer content is untrusted: it is escaped or sanitised, and no page runs inline script."""

from __future__ import annotations

from html.parser import HTMLParser

from aiohttp.test_utils import TestClient

from hub.model import Attachment
from hub.web.page_guard import CONTENT_SECURITY_POLICY
from tests.conftest import World
from tests.web.inbox_world import ingest, make_inbox, page
from tests.web.signin import sign_in

SCRIPT_TEXT = "<script>alert('pwned')</script>"
IMG_TEXT = "<img src=x onerror=alert('pwned')>"
EVIL_HTML = (
    "<p>Hello <b>there</b></p><script>alert('pwned')</script>"
    "<img src=x onerror=alert('pwned')><a href=\"javascript:alert('pwned')\">click</a>"
    '<style>body{display:none}</style><iframe src="https://evil.example"></iframe>'
)


class Markup(HTMLParser):
    """Collects what could run script: script tags, on* attributes, javascript: URLs, and
    the documents inside iframes' srcdoc (parsed the same way)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.scripts: list[dict[str, str | None]] = []
        self.handlers: list[tuple[str, str]] = []
        self.script_urls: list[str] = []
        self.srcdocs: list[str] = []
        self.iframes: list[dict[str, str | None]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "script":
            self.scripts.append(found)
        if tag == "iframe":
            self.iframes.append(found)
            if found.get("srcdoc") is not None:
                self.srcdocs.append(found["srcdoc"] or "")
        for name, value in attrs:
            if name.startswith("on"):
                self.handlers.append((tag, name))
            if value and value.strip().lower().startswith("javascript:"):
                self.script_urls.append(value)


def parse(html: str) -> Markup:
    markup = Markup()
    markup.feed(html)
    return markup


def assert_nothing_runs(html: str) -> Markup:
    """No inline script, handler or script URL in the page or in any srcdoc document."""
    markup = parse(html)
    assert all((s.get("src") or "").startswith("/static/") for s in markup.scripts)
    assert markup.handlers == [] and markup.script_urls == []
    for doc in markup.srcdocs:
        inner = parse(doc)
        assert inner.scripts == [] and inner.handlers == [] and inner.script_urls == []
        assert inner.iframes == []
    return markup


async def test_a_script_in_a_customer_message_is_shown_as_text(
    client: TestClient, world: World
) -> None:
    found = await ingest(client, world.api_inbox, sender="eve@example.com", text=SCRIPT_TEXT)
    await sign_in(client, "admin@hub.test")
    for path in (f"/inbox/c/{found.conversation.id}", f"/inbox/m/{found.message.id}"):
        html = await page(client, path)
        assert_nothing_runs(html)
        assert "&lt;script&gt;alert(&#39;pwned&#39;)&lt;/script&gt;" in html


async def test_an_image_with_a_handler_in_a_message_is_shown_as_text(
    client: TestClient, world: World
) -> None:
    found = await ingest(client, world.api_inbox, sender="eve@example.com", text=IMG_TEXT)
    await sign_in(client, "admin@hub.test")
    html = await page(client, f"/inbox/c/{found.conversation.id}")
    assert_nothing_runs(html)
    assert "&lt;img src=x onerror=alert(&#39;pwned&#39;)&gt;" in html


async def test_email_html_is_sanitised_into_a_sandboxed_frame(
    client: TestClient, world: World
) -> None:
    email = await make_inbox(client, "Mail", "email", None)
    found = await ingest(client, email, sender="eve@example.com", text=None, html=EVIL_HTML)
    await sign_in(client, "admin@hub.test")
    html = await page(client, f"/inbox/c/{found.conversation.id}")
    markup = assert_nothing_runs(html)
    frames = [f for f in markup.iframes if f.get("data-testid") == "email-html"]
    assert len(frames) == 1 and frames[0]["sandbox"] == ""
    body = frames[0]["srcdoc"] or ""
    assert "<p>Hello <b>there</b></p>" in body
    assert "pwned" not in body and "<style" not in body and "evil.example" not in body


async def test_a_customer_name_with_markup_is_escaped_in_the_list_and_the_sidebar(
    client: TestClient, world: World
) -> None:
    name = '<b onmouseover="alert(1)">Eve</b>'
    found = await ingest(client, world.api_inbox, sender="eve@example.com", name=name)
    await sign_in(client, "admin@hub.test")
    for path in (
        "/inbox?view=all",
        f"/inbox/c/{found.conversation.id}",
        f"/inbox/row/{found.conversation.id}?view=all",
    ):
        html = await page(client, path)
        assert_nothing_runs(html)
        assert "&lt;b onmouseover=&#34;alert(1)&#34;&gt;Eve&lt;/b&gt;" in html


async def test_an_attachment_with_a_script_url_is_not_linked(
    client: TestClient, world: World
) -> None:
    evil = Attachment(
        filename="invoice.pdf", content_type="application/pdf", size=10, url="javascript:alert(1)"
    )
    fine = Attachment(
        filename="photo.jpg", content_type="image/jpeg", size=20, url="https://cdn.example/p.jpg"
    )
    found = await ingest(
        client, world.api_inbox, sender="eve@example.com", attachments=(evil, fine)
    )
    await sign_in(client, "admin@hub.test")
    html = await page(client, f"/inbox/c/{found.conversation.id}")
    assert_nothing_runs(html)
    assert "invoice.pdf" in html and 'href="https://cdn.example/p.jpg"' in html


async def test_a_search_hit_is_escaped(client: TestClient, world: World) -> None:
    await ingest(client, world.api_inbox, sender="eve@example.com", text=f"parcel {SCRIPT_TEXT}")
    await sign_in(client, "admin@hub.test")
    html = await page(client, "/inbox?q=parcel")
    assert_nothing_runs(html)
    assert 'data-testid="search-hit">parcel &lt;script&gt;' in html


async def test_inbox_pages_carry_the_content_security_policy(
    client: TestClient, world: World
) -> None:
    found = await ingest(client, world.api_inbox, sender="eve@example.com")
    await sign_in(client, "admin@hub.test")
    for path in ("/inbox", f"/inbox/c/{found.conversation.id}"):
        resp = await client.get(path)
        assert resp.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
        assert "script-src 'self'" in CONTENT_SECURITY_POLICY
        assert ' style="' not in await resp.text()  # style-src 'self' forbids style attributes
