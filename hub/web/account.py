"""An agent's own account pages: /account/tokens, where they manage their API tokens.

Any signed-in agent may use them, for their own tokens only (the page middleware signs
them in and checks CSRF on every POST; hub/actions/tokens.py decides ownership).
"""

from __future__ import annotations

from aiohttp import web

from hub.keys import AGENT_KEY
from hub.model import IssuedApiToken
from hub.web.admin.forms import Form, done
from hub.web.templating import render
from hub.web.token_pages import create_from_form, revoke_for, token_context

TOKENS_URL = "/account/tokens"


async def _page(
    request: web.Request,
    *,
    form: Form | None = None,
    issued: IssuedApiToken | None = None,
    status: int = 200,
) -> web.Response:
    agent = request[AGENT_KEY]
    context = await token_context(request, agent.id, base=TOKENS_URL, form=form, issued=issued)
    return render(request, "account/tokens.html", context, status=status)


async def own_tokens(request: web.Request) -> web.StreamResponse:
    """GET /account/tokens: the signed-in agent's tokens."""
    return await _page(request)


async def create_own_token(request: web.Request) -> web.StreamResponse:
    """POST /account/tokens: a new token for oneself, its secret shown in this answer only."""
    form, issued = await create_from_form(request, request[AGENT_KEY].id)
    return await _page(request, form=form, issued=issued, status=200 if issued else 422)


async def revoke_own_token(request: web.Request) -> web.StreamResponse:
    """POST /account/tokens/{token_id}/revoke: one's own token only (else 404)."""
    token = await revoke_for(request, request[AGENT_KEY].id, request.match_info["token_id"])
    return done(request, TOKENS_URL, f"Token {token.name} revoked.")


def add_account_routes(app: web.Application) -> None:
    """Register the account pages."""
    app.router.add_get(TOKENS_URL, own_tokens, name="account_tokens")
    app.router.add_post(TOKENS_URL, create_own_token)
    app.router.add_post(TOKENS_URL + "/{token_id}/revoke", revoke_own_token)
