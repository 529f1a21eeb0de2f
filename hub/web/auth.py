"""Signing in and out: /login (form + argon2id check + rate limit) and /logout.

    add_auth_routes(app)    # GET/POST /login, POST /logout on the root app

A failed sign-in says the same thing whether the email is unknown or the password is
wrong (no account enumeration), and costs the same time (a dummy hash is checked).
Failures are throttled per account and address, per address and (softly) per account
with growing delays (hub/web/ratelimit.py); while a delay runs, the form answers 429 with
an honest Retry-After and the password is not even checked. The right password from an
address that has not failed always signs in. `api_session_agent` lets /api accept the
session cookie too (with the CSRF header on unsafe methods), for the pages' own fetch calls.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import hashlib
import ipaddress
import math

from aiohttp import web
from yarl import URL

from hub.errors import InvalidAddress, Unauthorized
from hub.identity import normalise_email
from hub.keys import CONFIG_KEY, STORE_KEY
from hub.model import Agent
from hub.passwords import hash_password, verify_password
from hub.web.bodies import read_form_data
from hub.web.csrf import (
    UNSAFE_METHODS,
    check_csrf,
    check_login_csrf,
    login_csrf_token,
    set_login_csrf_cookie,
)
from hub.web.page_guard import checks_own_csrf, public
from hub.web.ratelimit import LOGIN_THROTTLE_KEY
from hub.web.sessions import (
    SESSION_COOKIE,
    SESSION_KEY,
    current_session,
    is_https,
    sign_in,
    sign_out,
)
from hub.web.templating import LOGIN_CSRF_KEY, render, see_other

DEFAULT_NEXT = "/inbox"
BAD_LOGIN = "Email or password is incorrect."
MAX_FIELD = 1024
MAX_ACCOUNT_KEY = 320


def safe_next(value: str | None, default: str = DEFAULT_NEXT) -> str:
    """`value` if it is a path on this site, else `default` (no open redirect)."""
    if not value or len(value) > 2048 or not value.startswith("/") or value.startswith("//"):
        return default
    if "\\" in value or any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in value):
        return default  # browsers read "/\evil" as "//evil" and drop tabs and newlines
    url = URL(value)
    if url.is_absolute() or url.scheme or url.path in ("/login", "/logout"):
        return default
    return value


def client_ip(request: web.Request) -> str:
    """The client's address; behind a trusted proxy, the one the proxy saw.

    The proxy adds the address it saw last: to the client's own header line or as a line of
    its own, so the last hop of the last line is the trusted one. Whatever the client wrote
    before it is the client's word and is never read. A last hop that is not an IP address
    (a misconfigured proxy) is not trusted either: the peer's address counts then.
    """
    if request.config_dict[CONFIG_KEY].server.behind_proxy:
        lines = request.headers.getall("X-Forwarded-For", ())
        hops = [hop.strip() for hop in ",".join(lines).split(",") if hop.strip()]
        if hops:
            with contextlib.suppress(ValueError):
                return str(ipaddress.ip_address(hops[-1]))
    return request.remote or "unknown"


def account_key(email: str) -> str:
    """The rate-limit key of a typed email (normalised when it is one), at most 320 characters.

    An email address is at most 320 characters (RFC 5321); a longer typed value is kept as
    its hash, so a flood of huge made-up emails cannot make the throttle's tables huge.
    """
    try:
        key = normalise_email(email)
    except InvalidAddress:
        key = email.strip().lower()
    if len(key) > MAX_ACCOUNT_KEY:
        return "sha256:" + hashlib.sha256(key.encode()).hexdigest()
    return key


@functools.cache
def _dummy_hash() -> str:
    return hash_password("not-a-real-password-for-timing")


async def _password_ok(agent: Agent | None, password: str) -> bool:
    stored = agent.password_hash if agent is not None else None
    # checked even without an agent, so an unknown email takes as long as a wrong password
    ok = await asyncio.to_thread(verify_password, stored or _dummy_hash(), password)
    return ok and stored is not None


def _duration(seconds: int) -> str:
    """'1 second', '40 seconds', '3 minutes': the wait as a person reads it."""
    if seconds < 60:
        return f"{seconds} second" + ("s" if seconds != 1 else "")
    minutes = math.ceil(seconds / 60)
    return f"{minutes} minute" + ("s" if minutes != 1 else "")


def _login_page(
    request: web.Request,
    *,
    email: str = "",
    next_url: str = DEFAULT_NEXT,
    error: str | None = None,
    notice: str | None = None,
    status: int = 200,
) -> web.Response:
    token = login_csrf_token(request)
    request[LOGIN_CSRF_KEY] = token
    context = {"email": email, "next": next_url, "error": error, "notice": notice}
    response = render(request, "auth/login.html", context, status=status)
    set_login_csrf_cookie(response, token, secure=is_https(request))
    return response


@public
async def login_form(request: web.Request) -> web.StreamResponse:
    """GET /login: the sign-in form (signed-in agents go straight on)."""
    next_url = safe_next(request.query.get("next"))
    if request.get(SESSION_KEY) is not None:  # loaded by the page middleware
        raise web.HTTPSeeOther(next_url)
    notice = "You are signed out." if "signed_out" in request.query else None
    return _login_page(request, next_url=next_url, notice=notice)


@public
@checks_own_csrf
async def login_submit(request: web.Request) -> web.StreamResponse:
    """POST /login: check the password, start a session, go to `next`."""
    await check_login_csrf(request)
    form = await read_form_data(request)
    email = str(form.get("email", ""))[:MAX_FIELD]
    password = str(form.get("password", ""))[:MAX_FIELD]
    next_url = safe_next(str(form.get("next", "")))
    throttle = request.config_dict[LOGIN_THROTTLE_KEY]
    address, account = client_ip(request), account_key(email)
    wait = throttle.retry_after(account=account, address=address)
    if wait is not None:
        error = f"Too many failed sign-in attempts. Try again in {_duration(wait)}."
        response = _login_page(request, email=email, next_url=next_url, error=error, status=429)
        response.headers["Retry-After"] = str(wait)
        return response
    # counted as failed before the slow check and refunded on success, so a burst of
    # parallel guesses cannot all pass the wait check above before any of them is counted
    throttle.failed(account=account, address=address)
    agent = await request.config_dict[STORE_KEY].get_agent_by_email(account)
    password_ok = await _password_ok(agent, password)
    if agent is None or not password_ok:
        return _login_page(request, email=email, next_url=next_url, error=BAD_LOGIN, status=401)
    throttle.succeeded(account=account, address=address)
    if not agent.active:
        message = "This account is deactivated. Ask an administrator to reactivate it."
        return _login_page(request, email=email, next_url=next_url, error=message, status=403)
    response = see_other(next_url)
    await sign_in(request, response, agent)
    return response


@public
async def logout(request: web.Request) -> web.StreamResponse:
    """POST /logout: end the session server-side (CSRF-checked by the page middleware)."""
    response = see_other("/login?signed_out=1")
    await sign_out(request, response)
    return response


async def api_session_agent(request: web.Request) -> Agent:
    """The agent of an /api request authenticated by the session cookie (CSRF on writes)."""
    found = await current_session(request)
    if found is None:
        raise Unauthorized(
            "the session cookie is invalid or expired: sign in again", code="invalid_session"
        )
    session, agent = found
    if request.method in UNSAFE_METHODS:
        await check_csrf(request, session.csrf_secret)
    return agent


def has_session_cookie(request: web.Request) -> bool:
    """Whether the request carries a session cookie (and so may be a browser's)."""
    return bool(request.cookies.get(SESSION_COOKIE))


def add_auth_routes(app: web.Application) -> None:
    """Register /login and /logout on the root app."""
    app.router.add_get("/login", login_form, name="login")
    app.router.add_post("/login", login_submit)
    app.router.add_post("/logout", logout, name="logout")
