"""Middlewares: every error becomes the JSON error shape; tokens authenticate /api."""

from __future__ import annotations

import hashlib
import logging
import secrets
from collections.abc import Awaitable, Callable

from aiohttp import web

from hub.actions.tokens import do_touch_token, touch_due
from hub.errors import Forbidden, HubError, Unauthorized
from hub.keys import ACTIONS_KEY, AGENT_KEY, LOOKUPS_KEY, TOKEN_KEY
from hub.web.auth import api_session_agent, has_session_cookie
from hub.web.bad_requests import client_went_away, went_away_response
from hub.web.jsonio import error_body, error_response, json_response

log = logging.getLogger(__name__)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

TOKEN_PREFIX = "hub_"


def new_token() -> str:
    """A fresh API token (shown once; only its hash is stored)."""
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    """SHA-256 of a token: tokens are 256-bit random, so a slow hash adds nothing."""
    return hashlib.sha256(token.encode()).hexdigest()


_BODY_HEADERS = frozenset({"content-type", "content-length", "content-encoding"})


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Typed errors → their status; aiohttp HTTP errors → JSON; anything else → logged 500."""
    try:
        return await handler(request)
    except HubError as exc:
        return error_response(exc)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        code = {
            404: "not_found",
            405: "method_not_allowed",
            413: "payload_too_large",
        }.get(exc.status, "http_error")
        message = exc.text if exc.text and not exc.text.startswith(str(exc.status)) else exc.reason
        # the exception's own headers stay (a 405's Allow, RFC 9110); the body is ours
        kept = {k: v for k, v in exc.headers.items() if k.lower() not in _BODY_HEADERS}
        return json_response(
            error_body(code, message or exc.reason), status=exc.status, headers=kept
        )
    except Exception as exc:
        if client_went_away(request, exc):
            return went_away_response(request)
        log.exception("unhandled error on %s %s", request.method, request.path)
        return json_response(
            error_body("internal_error", "an internal error occurred; it has been logged"),
            status=500,
        )


PUBLIC_PATHS = frozenset({"/openapi.json"})


@web.middleware
async def token_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Bearer-token auth for the API sub-app: the agent lands in request[AGENT_KEY], the
    token in request[TOKEN_KEY] (a session-cookie call has none)."""
    if request.path.removeprefix("/api") in PUBLIC_PATHS:
        return await handler(request)
    header = request.headers.get("Authorization", "")
    if not header and has_session_cookie(request):
        # the pages' own fetch calls: the session cookie, plus the CSRF header on writes
        request[AGENT_KEY] = await api_session_agent(request)
        return await handler(request)
    scheme, _, token = header.partition(" ")
    if not header:
        raise Unauthorized("missing credentials: send 'Authorization: Bearer <token>'")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("malformed Authorization header: expected 'Bearer <token>'")
    lookups, ctx = request.config_dict[LOOKUPS_KEY], request.config_dict[ACTIONS_KEY]
    token_hash = hash_token(token.strip())
    found = await lookups.agent_for_token(token_hash)
    if found is None:
        raise Unauthorized("invalid or revoked token", code="invalid_token")
    agent, api_token = found
    now = ctx.clock()
    if api_token.expires_at is not None and now >= api_token.expires_at:
        raise Unauthorized("this token has expired: create a new one", code="token_expired")
    if not agent.active:
        raise Forbidden("this agent account is deactivated", code="agent_inactive")
    if touch_due(api_token, now):
        # the cached copy first: concurrent requests then do not each write the same stamp
        lookups.token_used(token_hash, now)
        try:
            await do_touch_token(ctx, api_token.id, now=now)
        except Exception:  # bookkeeping only: the request itself is still good
            log.exception("could not record the use of token %s", api_token.id)
    request[AGENT_KEY] = agent
    request[TOKEN_KEY] = api_token
    return await handler(request)
