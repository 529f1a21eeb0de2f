"""The HTML pages' middleware: sessions, sign-in redirects, CSRF, roles and error pages.

For every request outside /api, /healthz and /static, `page_middleware`:
1. loads the session cookie (hub/web/sessions.py) into request[SESSION_KEY] and the
   agent into request[AGENT_KEY], as the API's token middleware does;
2. sends anonymous visitors of a non-public page to /login?next=<the page> (GET), or
   answers 401 (other methods);
3. checks the CSRF token of every unsafe request that the cookie authenticates;
4. requires the admin role under /admin (403 otherwise);
5. turns errors into an HTML error page (JSON for fetch calls, see `wants_json`).

Mark a handler that needs no sign-in with `@public`, and one that checks CSRF itself (the
sign-in form) with `@checks_own_csrf`. `security_headers` (an on_response_prepare hook)
adds CSP, frame, sniffing and referrer headers to every response outside /api.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from aiohttp import web
from yarl import URL

from hub.errors import Forbidden, HubError, Unauthorized
from hub.keys import AGENT_KEY
from hub.model import Role
from hub.web.bad_requests import client_went_away, went_away_response
from hub.web.csrf import UNSAFE_METHODS, check_csrf
from hub.web.flash import clear_shown_flash
from hub.web.jsonio import error_body, json_response
from hub.web.sessions import SESSION_KEY, current_session
from hub.web.templating import STATIC_URL, render

log = logging.getLogger(__name__)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
H = TypeVar("H", bound=Callable[..., Any])

NOT_PAGES = ("/api/", STATIC_URL + "/")
NOT_PAGE_PATHS = frozenset({"/api", "/healthz"})
ADMIN_PREFIX = "/admin"
CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
        "object-src 'none'",
    )
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}
_TITLES = {
    400: "Bad request",
    401: "Please sign in",
    403: "Not allowed",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    413: "Too large",
    422: "Invalid input",
    429: "Too many attempts",
}


def public(handler: H) -> H:
    """Mark a page handler as open to visitors who are not signed in."""
    handler.__dict__["hub_public"] = True
    return handler


def checks_own_csrf(handler: H) -> H:
    """Mark a handler that does its own CSRF check (the sign-in form)."""
    handler.__dict__["hub_own_csrf"] = True
    return handler


def is_page(request: web.Request) -> bool:
    """Whether the path belongs to the HTML pages (not the API, health or static files)."""
    path = request.path
    return path not in NOT_PAGE_PATHS and not path.startswith(NOT_PAGES)


def wants_json(request: web.Request) -> bool:
    """Whether the caller is a script that expects a JSON error (fetch with a header)."""
    if request.headers.get("HX-Request") == "true":
        return False  # htmx swaps HTML
    if "X-CSRF-Token" in request.headers or request.content_type == "application/json":
        return True
    accept = request.headers.get("Accept", "")
    return "application/json" in accept and "text/html" not in accept


def _flag(request: web.Request, name: str) -> bool:
    return bool(getattr(request.match_info.route.handler, name, False))


def login_url(request: web.Request) -> str:
    """/login?next=<this page>."""
    return str(URL("/login").with_query(next=request.rel_url.path_qs))


def error_page(
    request: web.Request, status: int, message: str, code: str = "error"
) -> web.Response:
    """The error as an HTML page, or as the JSON error shape for scripts."""
    if wants_json(request):
        return json_response(error_body(code, message), status=status)
    context = {
        "status": status,
        "title": _TITLES.get(status, "Something went wrong"),
        "message": message,
    }
    return render(request, "errors/error.html", context, status=status)


async def _guarded(request: web.Request, handler: Handler) -> web.StreamResponse:
    found = await current_session(request)
    if found is not None:
        request[SESSION_KEY], request[AGENT_KEY] = found
    matched = request.match_info.http_exception is None
    if found is None and matched and not _flag(request, "hub_public"):
        if request.method in ("GET", "HEAD"):
            raise web.HTTPSeeOther(login_url(request))
        raise Unauthorized("your session has ended: sign in again", code="not_signed_in")
    if (
        found is not None
        and request.method in UNSAFE_METHODS
        and not _flag(request, "hub_own_csrf")
    ):
        await check_csrf(request, found[0].csrf_secret)
    path = request.path
    if (path == ADMIN_PREFIX or path.startswith(ADMIN_PREFIX + "/")) and (
        found is None or found[1].role != Role.ADMIN
    ):
        raise Forbidden("the admin pages need the admin role", code="admin_only")
    return await handler(request)


@web.middleware
async def page_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Sessions, sign-in redirects, CSRF, admin role and HTML errors for the pages."""
    if not is_page(request):
        return await handler(request)
    try:
        response = await _guarded(request, handler)
    except HubError as exc:
        response = error_page(request, exc.status, exc.message, exc.code)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        message = {
            404: "There is no page at this address.",
            405: f"{request.method} is not allowed on this page.",
        }.get(exc.status, exc.reason)
        response = error_page(request, exc.status, message, "http_error")
        if "Allow" in exc.headers:  # a 405 names the methods the page takes (RFC 9110)
            response.headers["Allow"] = exc.headers["Allow"]
    except Exception as exc:
        if client_went_away(request, exc):
            return went_away_response(request)
        log.exception("unhandled error on %s %s", request.method, request.path)
        message = "an internal error occurred; it has been logged"
        response = error_page(request, 500, message, "internal_error")
    clear_shown_flash(request, response)
    return response


async def security_headers(request: web.Request, response: web.StreamResponse) -> None:
    """on_response_prepare: browser security headers on everything outside /api."""
    if request.path == "/api" or request.path.startswith("/api/"):
        return
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    if response.content_type == "text/html":
        response.headers.setdefault("Cache-Control", "no-store")  # pages hold private data
