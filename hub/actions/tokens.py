"""API-token actions: create, revoke, and the throttled last-used stamp.

The caller makes the secret (hub/web/middleware.py `new_token`) and passes only its SHA-256,
as for browser sessions. Who may touch whose token is decided here, once: an agent manages
their own tokens, an admin everyone's, and the shell operator (actor None) any. Another
agent's token is NotFound to a non-admin, so token ids do not leak. No event is published
(tokens are credentials, not data an inbox shows).

A request made with an expiring token (`via`) is held to that expiry, so a short-lived or
stolen token cannot outlive itself: it may create only tokens that expire no later than it
does, and revoke, of its own agent's tokens, only itself and those that expire no later
(403 token_outlives_caller). A session, a never-expiring token and the shell are not limited;
an admin's expiring token still revokes other agents' tokens.

    token = await do_create_token(ctx, agent.id, name="CI", token_hash=hash_token(secret),
                                  expires_at=expiry_in_days(ctx, 90))
    await do_revoke_token(ctx, token.id, actor=agent)
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from hub.actions.admin import clean_name, require_agent
from hub.actions.context import ActionContext
from hub.errors import Forbidden, InvalidInput, NotFound
from hub.model import Agent, ApiToken, Role

MAX_EXPIRY_DAYS = 3650
# last_used_at is written at most this often per token: a write per request would cost a
# commit each, and "used in the last minute" is as precise as anyone needs it
TOUCH_INTERVAL = timedelta(seconds=60)


def token_status(token: ApiToken, now: datetime) -> str:
    """'revoked', 'expired' or 'active'."""
    if token.revoked_at is not None:
        return "revoked"
    if token.expires_at is not None and now >= token.expires_at:
        return "expired"
    return "active"


def expiry_in_days(ctx: ActionContext, days: int) -> datetime:
    """The expiry `days` from now (1 to MAX_EXPIRY_DAYS); InvalidInput on `expires_in_days`."""
    if not 1 <= days <= MAX_EXPIRY_DAYS:
        raise InvalidInput(
            f"expires_in_days must be between 1 and {MAX_EXPIRY_DAYS}", field="expires_in_days"
        )
    return ctx.clock() + timedelta(days=days)


def _check_expiry(ctx: ActionContext, expires_at: datetime | None) -> None:
    if expires_at is None:
        return
    if expires_at.tzinfo is None:
        raise InvalidInput("expires_at needs a timezone (e.g. a trailing Z)", field="expires_at")
    now = ctx.clock()
    if expires_at <= now:
        raise InvalidInput("expires_at must be in the future", field="expires_at")
    if expires_at > now + timedelta(days=MAX_EXPIRY_DAYS):
        raise InvalidInput(f"expires_at must be within {MAX_EXPIRY_DAYS} days", field="expires_at")


def _outlives(via: ApiToken | None, expires_at: datetime | None) -> bool:
    """Whether a token expiring at `expires_at` (None: never) outlives the caller's token."""
    if via is None or via.expires_at is None:
        return False
    return expires_at is None or expires_at > via.expires_at


def _outlives_error(via: ApiToken, doing: str) -> Forbidden:
    assert via.expires_at is not None
    latest = via.expires_at.isoformat().replace("+00:00", "Z")
    return Forbidden(
        f"the token this request came with expires at {latest}: it cannot {doing} a token"
        " that expires later or never (sign in, or use a token without an expiry)",
        code="token_outlives_caller",
        latest_expires_at=latest,
    )


def _may_manage(actor: Agent | None, agent_id: str) -> bool:
    return actor is None or actor.role == Role.ADMIN or actor.id == agent_id


async def tokens_of(ctx: ActionContext, agent_id: str, *, actor: Agent | None) -> list[ApiToken]:
    """The agent's unrevoked tokens, if `actor` may see them; else NotFound (ids stay hidden)."""
    if not _may_manage(actor, agent_id):
        raise NotFound(f"agent {agent_id!r} does not exist", code="agent_not_found")
    await require_agent(ctx, agent_id)
    return await ctx.store.list_tokens(agent_id)


async def do_create_token(
    ctx: ActionContext,
    agent_id: str,
    *,
    name: str,
    token_hash: str,
    expires_at: datetime | None = None,
    actor: Agent | None = None,
    via: ApiToken | None = None,
) -> ApiToken:
    """Store a new token for the agent (by its hash); InvalidInput on `name`/`expires_at`,
    Forbidden if it would outlive `via`, the expiring token the request came with."""
    if not _may_manage(actor, agent_id):
        raise NotFound(f"agent {agent_id!r} does not exist", code="agent_not_found")
    clean = clean_name(name, what="token name")
    _check_expiry(ctx, expires_at)
    if _outlives(via, expires_at):
        assert via is not None
        raise _outlives_error(via, "create")
    return await ctx.store.create_token(
        agent_id=agent_id,
        name=clean,
        token_hash=token_hash,
        now=ctx.clock(),
        expires_at=expires_at,
    )


async def do_revoke_token(
    ctx: ActionContext, token_id: str, *, actor: Agent | None, via: ApiToken | None = None
) -> ApiToken:
    """Revoke a live token the actor may manage; NotFound otherwise (or if revoked already),
    Forbidden for another of its agent's tokens that outlives `via` (see the module doc).

    Callers in the web layer also call `Lookups.forget()`, so it stops working at once here.
    """
    token = await ctx.store.get_token(token_id)
    if token is None or token.revoked_at is not None or not _may_manage(actor, token.agent_id):
        raise NotFound(f"no live token {token_id!r}", code="token_not_found")
    if (
        via is not None
        and token.agent_id == via.agent_id
        and token.id != via.id
        and _outlives(via, token.expires_at)
    ):
        raise _outlives_error(via, "revoke")
    now = ctx.clock()
    if not await ctx.store.revoke_token(token_id, now=now):  # revoked meanwhile
        raise NotFound(f"no live token {token_id!r}", code="token_not_found")
    return replace(token, revoked_at=now)


def touch_due(token: ApiToken, now: datetime) -> bool:
    """Whether a use now should be recorded (the last one is TOUCH_INTERVAL old)."""
    return token.last_used_at is None or now - token.last_used_at >= TOUCH_INTERVAL


async def do_touch_token(ctx: ActionContext, token_id: str, *, now: datetime) -> None:
    """Record that the token was used at `now` (callers throttle with `touch_due`)."""
    await ctx.store.touch_token(token_id, now=now)
