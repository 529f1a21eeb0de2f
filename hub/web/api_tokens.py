"""API: an agent's own API tokens (admins: anyone's), listed, created and revoked.

The secret is in the 201 answer of POST /v1/tokens and nowhere else, ever; the store keeps
only its SHA-256. Who may see or revoke which token is decided in hub/actions/tokens.py; a
request made with an expiring token is held to its expiry there (403 token_outlives_caller).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from aiohttp import web
from pydantic import BeforeValidator, ConfigDict, Field

from hub.actions import ActionContext, do_create_token, do_revoke_token
from hub.actions.tokens import MAX_EXPIRY_DAYS, expiry_in_days, tokens_of
from hub.errors import InvalidInput
from hub.keys import ACTIONS_KEY, CONFIG_KEY, LOOKUPS_KEY, TOKEN_KEY
from hub.model import Agent, ApiToken, IssuedApiToken
from hub.web.jsonio import json_response, read_json, validate
from hub.web.middleware import hash_token, new_token
from hub.web.routes import Route, agent_of
from hub.web.schemas import Id, ShortText, Strict, whole

# JSON Schema's integer includes 1.0, so a whole float is taken as the integer
ExpiryDays = Annotated[int, Field(ge=1, le=MAX_EXPIRY_DAYS), BeforeValidator(whole)]


class TokenIn(Strict):
    name: ShortText = Field(description="What the token is for, e.g. 'CI deploys'")
    expires_at: datetime | None = Field(default=None, description="When it stops working")
    expires_in_days: ExpiryDays | None = Field(
        default=None, description="Or: how many days from now it stops working"
    )


class TokenQuery(Strict):
    """Query string of GET /tokens."""

    model_config = ConfigDict(extra="forbid", strict=False, frozen=True)
    agent_id: Id | None = Field(default=None, description="Another agent's tokens (admins)")


async def mint_token(
    ctx: ActionContext,
    agent_id: str,
    *,
    name: str,
    expires_at: datetime | None = None,
    actor: Agent | None = None,
    via: ApiToken | None = None,
) -> IssuedApiToken:
    """A new token for the agent, with its secret (show it once: only its hash is kept)."""
    secret = new_token()
    token = await do_create_token(
        ctx,
        agent_id,
        name=name,
        token_hash=hash_token(secret),
        expires_at=expires_at,
        actor=actor,
        via=via,
    )
    return IssuedApiToken(
        id=token.id,
        agent_id=token.agent_id,
        name=token.name,
        created_at=token.created_at,
        last_used_at=token.last_used_at,
        expires_at=token.expires_at,
        revoked_at=token.revoked_at,
        secret=secret,
    )


async def list_tokens(request: web.Request) -> web.Response:
    agent = agent_of(request)
    q = validate(TokenQuery, dict(request.query))
    ctx = request.config_dict[ACTIONS_KEY]
    tokens = await tokens_of(ctx, q.agent_id or agent.id, actor=agent)
    return json_response({"items": tokens, "next_cursor": None})


async def create_token(request: web.Request) -> web.Response:
    agent = agent_of(request)
    body = await read_json(
        request, TokenIn, max_bytes=request.config_dict[CONFIG_KEY].server.max_body_bytes
    )
    ctx = request.config_dict[ACTIONS_KEY]
    if body.expires_at is not None and body.expires_in_days is not None:
        raise InvalidInput("send expires_at or expires_in_days, not both", field="expires_at")
    expires_at = body.expires_at
    if body.expires_in_days is not None:
        expires_at = expiry_in_days(ctx, body.expires_in_days)
    issued = await mint_token(
        ctx,
        agent.id,
        name=body.name,
        expires_at=expires_at,
        actor=agent,
        via=request.get(TOKEN_KEY),
    )
    return json_response(issued, status=201, headers={"Cache-Control": "no-store"})


async def revoke_token(request: web.Request) -> web.Response:
    ctx = request.config_dict[ACTIONS_KEY]
    token = await do_revoke_token(
        ctx, request.match_info["token_id"], actor=agent_of(request), via=request.get(TOKEN_KEY)
    )
    request.config_dict[LOOKUPS_KEY].forget()  # it stops working at once in this process
    return json_response(token)


ROUTES = [
    Route(
        method="GET",
        path="/v1/tokens",
        handler=list_tokens,
        tag="tokens",
        summary="The caller's unrevoked API tokens (admins: any agent's, with agent_id)",
        query=TokenQuery,
        response="Page[ApiToken]",
    ),
    Route(
        method="POST",
        path="/v1/tokens",
        handler=create_token,
        tag="tokens",
        summary="Create an API token for the caller; the secret is in this answer only."
        " Called with an expiring token, the new one must expire no later (403 otherwise)",
        body=TokenIn,
        response="IssuedApiToken",
        status=201,
    ),
    Route(
        method="DELETE",
        path="/v1/tokens/{token_id}",
        handler=revoke_token,
        tag="tokens",
        summary="Revoke one of the caller's tokens (admins: anyone's); it stops working at once."
        " An expiring token revokes only itself and the caller's tokens expiring no later",
        response="ApiToken",
    ),
]
