"""Browser sessions: the cookie, loading a request's session, signing in and out.

The cookie holds a random 256-bit token; the store keeps only its SHA-256 (like API
tokens), with the agent, a per-session CSRF secret and the expiry. A session ends at
`auth.session_lifetime_seconds` after sign-in, or after `auth.session_idle_seconds`
without a request, or when its agent is deactivated or changes password.

    found = await current_session(request)     # (Session, Agent) or None; checks expiry
    await sign_in(request, response, agent)    # new session + Set-Cookie (ends the old one)
    await sign_out(request, response)          # ends it server-side + clears the cookie

The page middleware (hub/web/page_guard.py) puts the results in request[SESSION_KEY] and
request[AGENT_KEY]; handlers read them from there.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from aiohttp import web

from hub.actions import do_end_session, do_start_session, do_touch_session
from hub.keys import ACTIONS_KEY, CONFIG_KEY
from hub.model import Agent, Session

SESSION_COOKIE = "hub_session"
SESSION_KEY: web.RequestKey[Session] = web.RequestKey("session", Session)
# last_seen_at is written at most this often: a write per request would cost a commit each
TOUCH_INTERVAL = timedelta(seconds=60)


def hash_session_token(token: str) -> str:
    """SHA-256 of a session token (256-bit random, so a slow hash would add nothing)."""
    return hashlib.sha256(token.encode()).hexdigest()


def is_https(request: web.Request) -> bool:
    """Whether the browser talks https to us (directly, or to a trusted proxy)."""
    if request.secure:
        return True
    if not request.config_dict[CONFIG_KEY].server.behind_proxy:
        return False
    proto = request.headers.get("X-Forwarded-Proto", "").split(",")[0].strip().lower()
    return proto == "https"


def set_session_cookie(request: web.Request, response: web.StreamResponse, token: str) -> None:
    """Set-Cookie for a session: HttpOnly, SameSite=Lax, Path=/, Secure over https."""
    auth = request.config_dict[CONFIG_KEY].auth
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=auth.session_lifetime_seconds,
        path="/",
        httponly=True,
        samesite="Lax",
        secure=is_https(request),
    )


def clear_session_cookie(response: web.StreamResponse) -> None:
    """Tell the browser to drop the session cookie."""
    response.del_cookie(SESSION_COOKIE, path="/")


async def current_session(request: web.Request) -> tuple[Session, Agent] | None:
    """The request's live session and its (active) agent; a stale one is ended here."""
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        return None
    ctx = request.config_dict[ACTIONS_KEY]
    token_hash = hash_session_token(token)
    found = await ctx.store.get_session(token_hash)
    if found is None:
        return None
    session, agent = found
    now = ctx.clock()
    idle = timedelta(seconds=ctx.config.auth.session_idle_seconds)
    if now >= session.expires_at or now - session.last_seen_at >= idle or not agent.active:
        await do_end_session(ctx, token_hash)
        return None
    if now - session.last_seen_at >= TOUCH_INTERVAL:
        await do_touch_session(ctx, session.id)
    return session, agent


async def sign_in(request: web.Request, response: web.StreamResponse, agent: Agent) -> Session:
    """Start a session for `agent` and set its cookie; any session the browser had ends."""
    ctx = request.config_dict[ACTIONS_KEY]
    old = request.cookies.get(SESSION_COOKIE)
    if old:  # a fresh token on every sign-in: a planted cookie never becomes a session
        await do_end_session(ctx, hash_session_token(old))
    token = secrets.token_urlsafe(32)
    session = await do_start_session(
        ctx, agent.id, token_hash=hash_session_token(token), csrf_secret=secrets.token_urlsafe(32)
    )
    set_session_cookie(request, response, token)
    return session


async def sign_out(request: web.Request, response: web.StreamResponse) -> None:
    """End the browser's session server-side (the cookie stops working) and clear it."""
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        await do_end_session(request.config_dict[ACTIONS_KEY], hash_session_token(token))
    clear_session_cookie(response)
