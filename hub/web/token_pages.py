"""What the admin's agent page and an agent's own /account/tokens page share about tokens.

Both list an agent's unrevoked tokens (name, created, last used, expiry, status), revoke one
with a CSRF-checked POST, and create one from a form whose answer shows the secret once:
the page is rendered in the POST's own answer (no redirect), so the secret never travels in
a cookie or a URL, and pages are sent with Cache-Control: no-store (hub/web/page_guard.py).
Templates use the `token_section` macro of templates/_tokens.html with `token_context()`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from aiohttp import web

from hub.actions import do_revoke_token
from hub.actions.admin import clean_name
from hub.actions.tokens import MAX_EXPIRY_DAYS, expiry_in_days, token_status, tokens_of
from hub.errors import HubError, InvalidInput, NotFound
from hub.keys import ACTIONS_KEY, AGENT_KEY
from hub.model import ApiToken, IssuedApiToken, as_utc
from hub.web.admin.forms import Form, read_form
from hub.web.api_tokens import mint_token


@dataclass(frozen=True, kw_only=True, slots=True)
class TokenRow:
    """One token as the pages show it."""

    id: str
    name: str
    created: str
    last_used: str
    expires: str
    status: str


def _shown(value: datetime | None, none: str) -> str:
    return none if value is None else as_utc(value).strftime("%Y-%m-%d %H:%M UTC")


def token_row(token: ApiToken, now: datetime) -> TokenRow:
    """The page's view of one token."""
    return TokenRow(
        id=token.id,
        name=token.name,
        created=_shown(token.created_at, "-"),
        last_used=_shown(token.last_used_at, "never"),
        expires=_shown(token.expires_at, "never"),
        status=token_status(token, now),
    )


async def token_context(
    request: web.Request,
    agent_id: str,
    *,
    base: str,
    form: Form | None = None,
    issued: IssuedApiToken | None = None,
) -> dict[str, Any]:
    """The template names of the token section for `agent_id`'s tokens."""
    ctx = request.config_dict[ACTIONS_KEY]
    tokens = await tokens_of(ctx, agent_id, actor=request[AGENT_KEY])
    now = ctx.clock()
    return {
        "token_rows": [token_row(t, now) for t in tokens],
        "token_form": form or Form(),
        "token_base": base,
        "issued": issued,
        "max_expiry_days": MAX_EXPIRY_DAYS,
    }


def _days(value: str) -> int | None:
    value = value.strip()
    if not value:
        return None
    if not value.isdigit() or not 1 <= int(value) <= MAX_EXPIRY_DAYS:
        raise InvalidInput(f"a whole number of days from 1 to {MAX_EXPIRY_DAYS}, or empty")
    return int(value)


async def create_from_form(
    request: web.Request, agent_id: str
) -> tuple[Form, IssuedApiToken | None]:
    """Create a token from the submitted form; (form with errors, None) if it is invalid."""
    ctx = request.config_dict[ACTIONS_KEY]
    form = await read_form(request)
    # field names of their own: the admin's agent page has another form with a "name"
    name = form.check("token_name", lambda v: clean_name(v, field="token_name", what="name"))
    days = form.check("token_expires_days", _days)
    if not form.ok or name is None:
        return form, None
    try:
        expires_at = expiry_in_days(ctx, days) if days is not None else None
        issued = await mint_token(
            ctx, agent_id, name=name, expires_at=expires_at, actor=request[AGENT_KEY]
        )
    except HubError as exc:
        form.fail(exc)
        return form, None
    return Form(), issued


async def revoke_for(request: web.Request, agent_id: str, token_id: str) -> ApiToken:
    """Revoke the agent's token (NotFound if it is someone else's or not live)."""
    ctx = request.config_dict[ACTIONS_KEY]
    token = await ctx.store.get_token(token_id)
    if token is None or token.agent_id != agent_id:
        raise NotFound(f"no live token {token_id!r}", code="token_not_found")
    return await do_revoke_token(ctx, token_id, actor=request[AGENT_KEY])
