"""CSRF protection for everything a cookie authenticates.

A signed-in browser's token is its session's `csrf_secret`. Every unsafe request
(POST/PUT/PATCH/DELETE) carrying the session cookie must send it back, either as the
hidden form field `csrf_token` or as the `X-CSRF-Token` header (fetch/htmx; hub.js adds
it from `<meta name="csrf-token">`). The page middleware and the API's token middleware
call `check_csrf`; a miss raises CsrfRejected (403, code "csrf_failed").

In templates: `<input type="hidden" name="csrf_token" value="{{ csrf_token }}">`.

The sign-in form has no session yet: it uses a double-submit cookie instead
(`login_csrf_token` + `check_login_csrf`), so another site cannot sign a browser in.
"""

from __future__ import annotations

import hmac
import secrets

from aiohttp import web

from hub.errors import Forbidden
from hub.web.bodies import read_form_data

CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
LOGIN_CSRF_COOKIE = "hub_login_csrf"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_FORM_TYPES = frozenset({"application/x-www-form-urlencoded", "multipart/form-data"})


class CsrfRejected(Forbidden):
    """An unsafe request without the right CSRF token."""

    code = "csrf_failed"


async def _sent_token(request: web.Request) -> str:
    header = request.headers.get(CSRF_HEADER)
    if header is not None:
        return header
    if request.content_type in _FORM_TYPES:
        value = (await read_form_data(request)).get(CSRF_FIELD)  # aiohttp caches the form
        return value if isinstance(value, str) else ""
    return ""


def _same(sent: str, expected: str) -> bool:
    return bool(sent) and hmac.compare_digest(sent.encode(), expected.encode())


async def check_csrf(request: web.Request, expected: str) -> None:
    """Raise CsrfRejected unless the request carries `expected` (header or form field)."""
    sent = await _sent_token(request)
    if not sent:
        raise CsrfRejected(
            "this request is missing its CSRF token: reload the page and try again"
            f" (forms send the {CSRF_FIELD!r} field, scripts the {CSRF_HEADER} header)"
        )
    if not _same(sent, expected):
        raise CsrfRejected(
            "the CSRF token does not match this session (it may have expired):"
            " reload the page and try again"
        )


def login_csrf_token(request: web.Request) -> str:
    """The sign-in form's token: the browser's current login cookie, or a new one."""
    return request.cookies.get(LOGIN_CSRF_COOKIE) or secrets.token_urlsafe(32)


def set_login_csrf_cookie(response: web.StreamResponse, token: str, *, secure: bool) -> None:
    """Set the double-submit cookie the sign-in form's field must match."""
    response.set_cookie(
        LOGIN_CSRF_COOKIE, token, path="/login", httponly=True, samesite="Lax", secure=secure
    )


async def check_login_csrf(request: web.Request) -> None:
    """Raise CsrfRejected unless the sign-in form's field matches its cookie."""
    cookie = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not cookie:
        raise CsrfRejected(
            "your browser did not send the sign-in cookie: allow cookies and reload the page"
        )
    await check_csrf(request, cookie)
