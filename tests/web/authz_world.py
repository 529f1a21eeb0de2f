"""The callers and targets of the authorization matrix (tests/web/test_authz_matrix.py).

    world = await signable_world(client)     # tests.conftest's World; everyone can sign in
    await check_row(client, world, ("GET", "/inbox/c/{conversation_id}"), R(303, 403, 200, 200))

Each caller (anonymous, agent of team A, agent of team B, admin) gets fresh team-B targets,
named by the placeholders of the row's path and body: conversation_id, message_id and
customer_id (one conversation in team B's inbox), other_customer_id, merge_id (two team-B
customers merged), canned_id, agent_id (a team-B agent), inbox_id (a team-B inbox), token_id
(an API token of agent B), team_id (a team of its own, so that it can be deleted) and who (the
caller, for unique values).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from string import Formatter
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestClient
from argon2 import PasswordHasher

from hub.actions import do_merge
from hub.keys import ACTIONS_KEY, LOOKUPS_KEY, STORE_KEY
from hub.model import utcnow
from hub.store.base import RecordKind
from hub.web.middleware import hash_token, new_token
from tests.conftest import World, build_world
from tests.web.inbox_world import MANUAL_ROUTING, ingest, make_inbox
from tests.web.signin import PASSWORD, Browser, add_agent, sign_in

Expect = int | str  # a status, or a class such as "3xx"
FAST = {**MANUAL_ROUTING, "HUB_STORE_SYNCHRONOUS": "normal"}  # many small writes per test
WHO = ("anonymous", "agent_a", "agent_b", "admin")
_LOGIN = {"agent_a": "a", "agent_b": "b", "admin": "admin"}  # a@hub.test; the World's token key


@dataclass(frozen=True)
class Row:
    """What each caller gets; `body` is the JSON (API), form (pages) or query (GET) sent."""

    anonymous: Expect
    agent_a: Expect
    agent_b: Expect
    admin: Expect
    body: dict[str, Any] | None = None
    url: str | None = None  # a concrete URL when the template is not one (static files)

    @classmethod
    def of(cls, anonymous: Expect, a: Expect, b: Expect, admin: Expect, **kw: Any) -> Row:
        """A row: anonymous, agent of team A, agent of team B, admin (then body=, url=)."""
        return cls(anonymous, a, b, admin, **kw)


def app_routes(app: web.Application) -> set[tuple[str, str]]:
    """(METHOD, path template) of every route the app serves, sub-apps included (no HEAD)."""
    found = set()
    for route in app.router.routes():  # a sub-app's resource yields the sub-app's routes
        resource = route.resource
        if resource is None or route.method == "HEAD":
            continue
        found.add((route.method, resource.canonical))
    return found


def matches(status: int, expect: Expect) -> bool:
    """Whether a status is the expected one (or in the expected class, "4xx")."""
    if isinstance(expect, int):
        return status == expect
    return str(status)[0] == expect[0] and expect.endswith("xx")


def fill(value: Any, targets: dict[str, str]) -> Any:
    """A row's body with its {placeholders} filled from the caller's targets."""
    if isinstance(value, str):
        return value.format_map(targets)
    if isinstance(value, dict):
        return {k: fill(v, targets) for k, v in value.items()}
    if isinstance(value, list):
        return [fill(v, targets) for v in value]
    return value


async def snapshot(client: TestClient) -> dict[str, Any]:
    """Every stored record, to show that a refused request changed nothing."""
    store = client.app[STORE_KEY]
    return {kind: await store.export_records(kind, after=None, limit=10_000) for kind in RecordKind}


async def signable_world(client: TestClient) -> World:
    """tests.conftest's world, with a password for every agent."""
    world = await build_world(client)
    store = client.app[STORE_KEY]
    hashed = password_hash()
    for agent in (world.admin, world.agent_a, world.agent_b):
        await store.update_agent(agent.id, password_hash=hashed)
    return world


@functools.cache
def password_hash() -> str:
    """A cheap argon2id hash of PASSWORD: sign-in verifies with the hash's own parameters,
    and this test is about who may call what, not about how slow a guess is."""
    return PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1).hash(PASSWORD)


@dataclass
class Callers:
    """The four callers: tokens for the API, signed-in browsers for the pages."""

    world: World
    client: TestClient
    browsers: dict[str, Browser] = field(default_factory=dict)
    csrf: dict[str, str] = field(default_factory=dict)

    async def browser(self, who: str) -> Any:
        """The caller's browser (anonymous: the test client, which never signs in)."""
        if who == "anonymous":
            return self.client
        if who not in self.browsers:
            browser = Browser(self.client)
            self.csrf[who] = await sign_in(browser, f"{_LOGIN[who]}@hub.test")
            self.browsers[who] = browser
        return self.browsers[who]

    async def close(self) -> None:
        """Close the browsers' sessions."""
        for browser in self.browsers.values():
            await browser.__aexit__(None, None, None)


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


def placeholders(row: Row, template: str) -> set[str]:
    """The target names a row's path and body use."""
    return {
        name
        for text in [template, *_strings(row.body)]
        for _, name, _, _ in Formatter().parse(text)
        if name
    }


async def targets_for(
    client: TestClient, world: World, who: str, needed: set[str]
) -> dict[str, str]:
    """Fresh team-B objects for one caller (only those the row uses: seeding takes time)."""
    store, team_b, now = client.app[STORE_KEY], world.inbox_b.team_id, utcnow()
    assert team_b is not None
    targets = {"who": who}
    if needed & {"conversation_id", "message_id", "customer_id"}:
        first = await ingest(client, world.inbox_b, sender=f"first-{who}@example.com")
        targets["conversation_id"] = first.conversation.id
        targets["message_id"] = first.message.id
        targets["customer_id"] = first.customer.id
    if "other_customer_id" in needed:
        other = await ingest(client, world.inbox_b, sender=f"other-{who}@example.com")
        targets["other_customer_id"] = other.customer.id
    if "merge_id" in needed:
        kept = await ingest(client, world.inbox_b, sender=f"kept-{who}@example.com")
        gone = await ingest(client, world.inbox_b, sender=f"gone-{who}@example.com")
        record = await do_merge(
            client.app[ACTIONS_KEY], kept.customer.id, gone.customer.id, actor_id=world.admin.id
        )
        targets["merge_id"] = record.id
    if "canned_id" in needed:
        canned = await store.create_canned_response(
            shortcut=f"c-{who}", title="Canned", body="Hello", now=now
        )
        targets["canned_id"] = canned.id
    if "agent_id" in needed:
        agent = await add_agent(client, f"b2-{who}@hub.test", team_ids=[team_b], password=None)
        targets["agent_id"] = agent.id
    if "inbox_id" in needed:
        inbox = await make_inbox(client, f"B-{who}", "api", team_b)
        client.app[LOOKUPS_KEY].forget()  # the API reads inboxes through this cache
        targets["inbox_id"] = inbox.id
    if "token_id" in needed:  # agent B's API token (the path's agent's, when it names one)
        owner = targets.get("agent_id", world.agent_b.id)
        token = await store.create_token(
            agent_id=owner, name=f"t-{who}", token_hash=hash_token(new_token()), now=now
        )
        targets["token_id"] = token.id
    if "team_id" in needed:  # a team of its own, so that deleting it is possible
        targets["team_id"] = (await store.create_team(f"Team B-{who}", now=now)).id
    unknown = needed - set(targets)
    assert not unknown, f"no target for {sorted(unknown)}: add it to targets_for"
    return targets


async def call_as(callers: Callers, who: str, key: tuple[str, str], row: Row) -> tuple[int, str]:
    """Send the row's request as `who` against fresh targets; (status, body excerpt)."""
    method, template = key
    targets = await targets_for(callers.client, callers.world, who, placeholders(row, template))
    url = row.url or template.format_map(targets)
    body = fill(row.body, targets) if row.body is not None else None
    if template.startswith("/api/"):
        headers = {} if who == "anonymous" else callers.world.auth(_LOGIN[who])
        kw: dict[str, Any] = {"params": body} if method == "GET" else {"json": body}
        resp = await callers.client.request(
            method, url, headers=headers, allow_redirects=False, **kw
        )
    else:
        browser = await callers.browser(who)
        if method == "GET":
            resp = await browser.get(url, params=body, allow_redirects=False)
        else:
            form = {**(body or {}), "csrf_token": callers.csrf.get(who, "")}
            resp = await browser.post(url, data=form, allow_redirects=False)
    return resp.status, (await resp.text())[:200]


async def check_row(client: TestClient, world: World, key: tuple[str, str], row: Row) -> None:
    callers = Callers(world=world, client=client)
    wrong = []
    try:
        for who in WHO:  # the callers expected to be refused go first
            status, text = await call_as(callers, who, key, row)
            expect = getattr(row, who)
            if not matches(status, expect):
                wrong.append(f"{who}: expected {expect}, got {status}: {text!r}")
    finally:
        await callers.close()
    assert not wrong, f"{key[0]} {key[1]}\n" + "\n".join(wrong)
