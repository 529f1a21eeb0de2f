"""Session actions: the store writes behind signing in, staying active and signing out.

The web layer (hub/web/sessions.py) makes the random cookie token and CSRF secret and
passes only the token's SHA-256 here; no event is published (sessions are not user data).
"""

from __future__ import annotations

from datetime import timedelta

from hub.actions.context import ActionContext
from hub.model import Session


async def do_start_session(
    ctx: ActionContext, agent_id: str, *, token_hash: str, csrf_secret: str
) -> Session:
    """Store a new session lasting auth.session_lifetime_seconds; drops expired ones."""
    now = ctx.clock()
    await ctx.store.delete_expired_sessions(now=now)
    lifetime = timedelta(seconds=ctx.config.auth.session_lifetime_seconds)
    return await ctx.store.create_session(
        agent_id=agent_id,
        token_hash=token_hash,
        csrf_secret=csrf_secret,
        now=now,
        expires_at=now + lifetime,
    )


async def do_touch_session(ctx: ActionContext, session_id: str) -> None:
    """Record that the session was used now (resets its idle timeout)."""
    await ctx.store.touch_session(session_id, now=ctx.clock())


async def do_end_session(ctx: ActionContext, token_hash: str) -> bool:
    """End one session (sign out, expiry); False if it was already gone."""
    return await ctx.store.delete_session(token_hash)
