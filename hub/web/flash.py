"""One-shot messages across a Post/Redirect/Get ("Agent created"), kept in a cookie.

    response = see_other("/admin/agents")
    flash(request, response, "Agent Ada created")          # kind "success" (or "error")
    return response

The next page shows it (base.html reads `flashes`) and the cookie is cleared. The value
is signed with the session's CSRF secret, so another site cannot plant a message.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

import orjson
from aiohttp import web

from hub.web.sessions import SESSION_KEY

FLASH_COOKIE = "hub_flash"
MAX_MESSAGE = 500


def _signature(secret: str, payload: str) -> str:
    return hmac.new(secret.encode(), payload.encode(), hashlib.sha256).hexdigest()[:32]


def flash(
    request: web.Request, response: web.StreamResponse, message: str, kind: str = "success"
) -> None:
    """Show `message` on the next page this browser loads (needs a signed-in session)."""
    session = request.get(SESSION_KEY)
    if session is None:
        return
    raw = orjson.dumps([kind, message[:MAX_MESSAGE]])
    payload = base64.urlsafe_b64encode(raw).decode().rstrip("=")
    value = f"{payload}.{_signature(session.csrf_secret, payload)}"
    response.set_cookie(FLASH_COOKIE, value, path="/", httponly=True, samesite="Lax")


def read_flashes(request: web.Request) -> list[tuple[str, str]]:
    """The pending message as [(kind, text)], or [] (missing, forged or unreadable)."""
    value = request.cookies.get(FLASH_COOKIE)
    session = request.get(SESSION_KEY)
    if not value or session is None:
        return []
    payload, _, signature = value.partition(".")
    if not hmac.compare_digest(signature, _signature(session.csrf_secret, payload)):
        return []
    try:
        kind, message = orjson.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (ValueError, TypeError):
        return []
    return [(str(kind), str(message))]


def clear_shown_flash(request: web.Request, response: web.StreamResponse) -> None:
    """Drop the flash cookie once a page (not a redirect) was sent with it."""
    if FLASH_COOKIE not in request.cookies or FLASH_COOKIE in response.cookies:
        return
    if 300 <= response.status < 400:
        return
    if response.content_type == "text/html":
        response.del_cookie(FLASH_COOKIE, path="/")
