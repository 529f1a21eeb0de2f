"""The widget script and the demo host page, served from the package's static files."""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

STATIC = Path(__file__).resolve().parent / "static"


class StaticPages:
    """Files read once at start-up and served from memory (they are small)."""

    def __init__(self) -> None:
        self._widget = (STATIC / "widget.js").read_bytes()
        self._demo = (STATIC / "demo.html").read_bytes()

    async def widget(self, _: web.Request) -> web.Response:
        """GET widget.js: embed with <script src=".../widget.js" data-inbox="...">."""
        return web.Response(
            body=self._widget,
            content_type="application/javascript",
            charset="utf-8",
            headers={"Cache-Control": "public, max-age=300", "X-Content-Type-Options": "nosniff"},
        )

    async def demo(self, _: web.Request) -> web.Response:
        """GET demo?inbox=<id>: a host page with the widget on it (for trying and for tests)."""
        return web.Response(
            body=self._demo,
            content_type="text/html",
            charset="utf-8",
            headers={
                "Cache-Control": "no-cache",
                "X-Content-Type-Options": "nosniff",
                # the page's own script reads ?inbox; nothing from the URL is ever rendered
                "Content-Security-Policy": "default-src 'self'; style-src 'self' 'unsafe-inline'; "
                "connect-src 'self' ws: wss:",
            },
        )
