"""`hub token create|list|revoke`: API tokens from the shell, through hub/actions/tokens.py.

The shell operator may manage every agent's tokens (the actions' actor None). A secret is
printed once, by `create`, on stdout alone so scripts can capture it.
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from hub.config import HubConfig
from hub.errors import HubError


def shown(text: str) -> str:
    """`text` safe for the operator's terminal: non-printable characters (ESC, NUL, bidi
    overrides, tabs) as Python escapes, e.g. a name stored by an older release."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def _when(value: datetime | None, none: str = "-") -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ") if value is not None else none


async def _run(config: HubConfig, fn: Callable[[Any, Any], Awaitable[int]]) -> int:
    from hub.actions import ActionContext
    from hub.events import EventBus
    from hub.store import create_store

    store = create_store(config.store.url, synchronous=config.store.synchronous)
    await store.open()
    try:
        return await fn(store, ActionContext(store=store, bus=EventBus(), config=config))
    finally:
        await store.close()


async def _agent_by_email(store: Any, email: str) -> Any:
    from hub.identity import normalise_email

    agent = await store.get_agent_by_email(normalise_email(email))
    if agent is None:
        raise HubError(f"no agent with email {email!r}", code="agent_not_found")
    return agent


def cmd_token_create(config: HubConfig, args: argparse.Namespace) -> int:
    """Print a new token for the agent (its secret is shown this once)."""
    from hub.actions.tokens import expiry_in_days
    from hub.web.api_tokens import mint_token

    async def run(store: Any, ctx: Any) -> int:
        agent = await _agent_by_email(store, args.email)
        expires = expiry_in_days(ctx, args.expires_days) if args.expires_days else None
        issued = await mint_token(ctx, agent.id, name=args.name, expires_at=expires)
        print(issued.secret)
        return 0

    return asyncio.run(_run(config, run))


def cmd_token_list(config: HubConfig, args: argparse.Namespace) -> int:
    """One line per unrevoked token: id, agent, name, created, last used, expiry, status."""
    from hub.actions.tokens import token_status, tokens_of

    async def run(store: Any, ctx: Any) -> int:
        agents = (
            [await _agent_by_email(store, args.email)] if args.email else await store.list_agents()
        )
        now = ctx.clock()
        print("id\tagent\tname\tcreated\tlast_used\texpires\tstatus")
        for agent in agents:
            for t in await tokens_of(ctx, agent.id, actor=None):
                print(
                    f"{t.id}\t{shown(agent.email)}\t{shown(t.name)}\t{_when(t.created_at)}\t"
                    f"{_when(t.last_used_at, 'never')}\t{_when(t.expires_at, 'never')}\t"
                    f"{token_status(t, now)}"
                )
        return 0

    return asyncio.run(_run(config, run))


def cmd_token_revoke(config: HubConfig, args: argparse.Namespace) -> int:
    """Revoke one token by id (it stops working at once here, within 10 s in a running hub)."""
    from hub.actions import do_revoke_token

    async def run(store: Any, ctx: Any) -> int:
        token = await do_revoke_token(ctx, args.token_id, actor=None)
        print(f"revoked {token.id} ({shown(token.name)})")
        return 0

    return asyncio.run(_run(config, run))


def _expiry_days(text: str) -> int:
    from hub.actions.tokens import MAX_EXPIRY_DAYS

    try:
        value = int(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a number of days: {text!r}") from exc
    if not 1 <= value <= MAX_EXPIRY_DAYS:
        raise argparse.ArgumentTypeError(f"must be between 1 and {MAX_EXPIRY_DAYS}, got {value}")
    return value


def add_token_commands(sub: Any) -> None:
    """Add `token create|list|revoke` to the `hub` parser's subcommands."""
    token = sub.add_parser("token", help="API tokens").add_subparsers(
        dest="token_command", required=True
    )
    create = token.add_parser("create", help="create a token for an agent (printed once)")
    create.add_argument("--email", required=True)
    create.add_argument("--name", default="cli")
    create.add_argument(
        "--expires-days", type=_expiry_days, help="it stops working after this many days"
    )
    create.set_defaults(fn=cmd_token_create)
    listing = token.add_parser("list", help="list unrevoked tokens (no secrets)")
    listing.add_argument("--email", help="only this agent's")
    listing.set_defaults(fn=cmd_token_list)
    revoke = token.add_parser("revoke", help="revoke a token by its id")
    revoke.add_argument("token_id")
    revoke.set_defaults(fn=cmd_token_revoke)
