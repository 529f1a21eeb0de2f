"""The `hub` command: serve, migrate, users, tokens, demo, secrets, transfer."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import logging
import os
import sys
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any

from hub.cli_tokens import add_token_commands
from hub.config import HubConfig, load_config
from hub.errors import ConfigError, HubError

log = logging.getLogger("hub")


def _setup_logging(config: HubConfig) -> None:
    logging.basicConfig(
        level=config.log.level, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )


def _tune_threads() -> None:
    # The SQLite writer runs in its own thread and needs the GIL back after every statement.
    # With the default 5 ms switch interval it waits up to 5 ms each time the event loop is
    # busy; those waits were most of the ack p99 at 1,000 msg/s (bench/ingest.py).
    sys.setswitchinterval(0.0005)


def _install_uvloop() -> None:
    try:
        import uvloop
    except ImportError:  # optional: asyncio works, ~25% slower
        return
    asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())


def cmd_serve(config: HubConfig, args: argparse.Namespace) -> int:
    from aiohttp import web

    from hub.app import create_app, redact_url
    from hub.gc_pacer import pace_gc

    host = args.host or config.server.host
    port = args.port or config.server.port
    _install_uvloop()
    _tune_threads()
    app = create_app(config)
    app.cleanup_ctx.append(pace_gc)  # GC: start-up objects frozen, young ones on a timer

    async def on_startup(_: web.Application) -> None:
        print(
            f"Contact Hub serving on http://{host}:{port}  (store: {redact_url(config.store.url)})",
            flush=True,
        )

    app.on_startup.append(on_startup)
    web.run_app(app, host=host, port=port, print=None, access_log=None)
    return 0


async def _with_store(config: HubConfig, fn: Callable[[Any], Awaitable[int]]) -> int:
    from hub.store import create_store

    store = create_store(config.store.url, synchronous=config.store.synchronous)
    await store.open()
    try:
        return await fn(store)
    finally:
        await store.close()


def cmd_migrate(config: HubConfig, args: argparse.Namespace) -> int:
    from hub.actions import ActionContext
    from hub.actions.inbox_secrets import do_seal_plaintext_secrets
    from hub.events import EventBus

    async def run(store: Any) -> int:
        print(f"schema version {await store.schema_version()} ({store.backend})")
        ctx = ActionContext(store=store, bus=EventBus(), config=config)
        sealed = await do_seal_plaintext_secrets(ctx)
        if sealed:
            print(f"encrypted the secret settings of {sealed} inbox(es) stored in plain text")
        return 0

    return asyncio.run(_with_store(config, run))


def _read_password(args: argparse.Namespace) -> str | None:
    if args.no_password:
        return None
    env = os.environ.get("HUB_NEW_USER_PASSWORD")
    if env:
        return env
    if not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\n")
    first = getpass.getpass("password: ")
    if first != getpass.getpass("again: "):
        raise HubError("the passwords differ", code="password_mismatch")
    return first


def cmd_user_add(config: HubConfig, args: argparse.Namespace) -> int:
    from hub.identity import normalise_email
    from hub.model import Role, utcnow
    from hub.passwords import hash_password

    email = normalise_email(args.email)
    password = _read_password(args)
    password_hash = hash_password(password) if password is not None else None

    async def run(store: Any) -> int:
        teams = {t.name: t.id for t in await store.list_teams()}
        team_ids = []
        for name in args.team or []:
            if name not in teams:
                teams[name] = (await store.create_team(name, now=utcnow())).id
            team_ids.append(teams[name])
        agent = await store.create_agent(
            email=email,
            name=args.name,
            role=Role(args.role),
            password_hash=password_hash,
            team_ids=team_ids,
            now=utcnow(),
        )
        print(f"created {agent.role.value} {agent.email} ({agent.id})")
        return 0

    return asyncio.run(_with_store(config, run))


def cmd_user_list(config: HubConfig, args: argparse.Namespace) -> int:
    from hub.cli_tokens import shown

    async def run(store: Any) -> int:
        teams = {t.id: t.name for t in await store.list_teams()}
        for a in await store.list_agents():
            names = ",".join(shown(teams.get(t, t)) for t in a.team_ids) or "-"
            print(
                f"{a.id}\t{shown(a.email)}\t{shown(a.name)}\t{a.role.value}\t{names}\t"
                f"{'active' if a.active else 'inactive'}"
            )
        return 0

    return asyncio.run(_with_store(config, run))


def cmd_demo(config: HubConfig, args: argparse.Namespace) -> int:
    from hub.actions import ActionContext
    from hub.demo import renew_demo_token, seed_demo
    from hub.events import EventBus

    login_file = Path(args.login_file)

    async def run(store: Any) -> int:
        ctx = ActionContext(store=store, bus=EventBus(), config=config)
        existing = await store.get_agent_by_email(config.demo.admin_email)
        if existing is not None:
            if not args.if_empty:
                raise HubError(
                    "demo data is already there (use --if-empty to skip)", code="demo_exists"
                )
            token = await renew_demo_token(ctx, existing.id)  # the previous one is revoked
            saved = login_file.read_text().strip() if login_file.exists() else "(see first run)"
            _print_login(config, existing.email, saved, token)
            return 0
        login = await seed_demo(
            ctx,
            admin_email=config.demo.admin_email,
            admin_name=config.demo.admin_name,
            password=config.secrets.demo_admin_password or None,
        )
        login_file.parent.mkdir(parents=True, exist_ok=True)
        login_file.write_text(login.password + "\n")
        login_file.chmod(0o600)
        _print_login(config, login.email, login.password, login.token)
        return 0

    return asyncio.run(_with_store(config, run))


def cmd_secrets_rotate(config: HubConfig, args: argparse.Namespace) -> int:
    from hub.key_rotation import rotate_hub_secret

    async def run(store: Any) -> int:
        out: list[str] = []
        try:
            report = await rotate_hub_secret(config, store, args.next_key_file, out=out)
        finally:
            print("\n".join(out), flush=True)
        return 0 if report.ok else 1

    return asyncio.run(_with_store(config, run))


def cmd_transfer(config: HubConfig, args: argparse.Namespace) -> int:
    from hub.transfer import run_transfer

    return asyncio.run(
        run_transfer(
            args.source,
            args.target,
            batch=args.batch,
            synchronous=config.store.synchronous,
            connect_timeout=config.store.connect_timeout_seconds,
        )
    )


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _print_login(config: HubConfig, email: str, password: str, token: str) -> None:
    url = config.server.public_url or f"http://{config.server.host}:{config.server.port}"
    print(
        f"""
Inbox:       {url}/login
Demo admin:  {email}
Password:    {password}
API token:   {token}
             (a new one on every run: the previous demo token no longer works)
Try:         curl -H 'Authorization: Bearer {token}' {url}/api/v1/conversations
API docs:    {url}/api/openapi.json
""",
        flush=True,
    )


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (exposed for tests)."""
    parser = argparse.ArgumentParser(prog="hub", description="Contact Hub")
    parser.add_argument(
        "--config",
        action="append",
        type=Path,
        help="a TOML config file (repeatable; default: $HUB_CONFIG)",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="serve the hub")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    serve.set_defaults(fn=cmd_serve)
    sub.add_parser("migrate", help="bring the store's schema up to date").set_defaults(
        fn=cmd_migrate
    )
    user = sub.add_parser("user", help="agents").add_subparsers(dest="user_command", required=True)
    add = user.add_parser(
        "add", help="add an agent (password from $HUB_NEW_USER_PASSWORD, stdin, or a prompt)"
    )
    add.add_argument("--email", required=True)
    add.add_argument("--name", required=True)
    add.add_argument("--role", choices=["admin", "agent"], default="agent")
    add.add_argument("--team", action="append", help="team name (created if new); repeatable")
    add.add_argument("--no-password", action="store_true", help="API-token-only agent")
    add.set_defaults(fn=cmd_user_add)
    user.add_parser("list", help="list agents").set_defaults(fn=cmd_user_list)
    add_token_commands(sub)
    demo = sub.add_parser("demo", help="seed demo data and print the admin login")
    demo.add_argument(
        "--if-empty",
        action="store_true",
        help="if already seeded, print the login with a new token (the old one is revoked)",
    )
    demo.add_argument("--login-file", default="var/demo-login.txt")
    demo.set_defaults(fn=cmd_demo)
    secrets_cmd = sub.add_parser("secrets", help="secret inbox settings").add_subparsers(
        dest="secrets_command", required=True
    )
    rotate = secrets_cmd.add_parser(
        "rotate", help="re-encrypt every secret inbox setting under a new hub secret key"
    )
    rotate.add_argument(
        "--next-key-file",
        type=Path,
        help="the new key (generated there if the file is missing or empty; default: "
        "secret_key.next beside the kept key)",
    )
    rotate.set_defaults(fn=cmd_secrets_rotate)
    transfer = sub.add_parser(
        "transfer",
        help="copy a whole hub from one store to another and verify the counts (re-runnable)",
    )
    transfer.add_argument("--from", dest="source", required=True, metavar="URL")
    transfer.add_argument("--to", dest="target", required=True, metavar="URL")
    transfer.add_argument(
        "--batch", type=_positive_int, default=500, help="records per page (default 500)"
    )
    transfer.set_defaults(fn=cmd_transfer)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `hub` console script."""
    args = build_parser().parse_args(argv)
    try:
        config = load_config(args.config)
        _setup_logging(config)
        result: int = args.fn(config, args)
        return result
    except ConfigError as exc:
        print(exc.message, file=sys.stderr)
        return 2
    except HubError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
