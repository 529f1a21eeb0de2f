"""Realistic demo data: teams, agents, inboxes, and customers writing on several channels."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta

from hub.actions import (
    ActionContext,
    do_create_inbox,
    do_ingest,
    do_merge,
    do_note,
    do_reply,
    do_revoke_token,
    do_set_status,
    do_tag,
)
from hub.actions.canned import do_create_canned_response
from hub.model import Agent, IdentityKind, Inbound, Role, Status, Team, ThreadHints
from hub.passwords import hash_password
from hub.web.api_tokens import mint_token

DEMO_TOKEN_NAME = "demo"
# "make run" is what earlier versions named the token of each later run: revoked as well
DEMO_TOKEN_NAMES = frozenset({DEMO_TOKEN_NAME, "make run"})


@dataclass(frozen=True, kw_only=True, slots=True)
class DemoLogin:
    email: str
    password: str
    token: str


_CUSTOMERS = [
    (
        "Ada Lovelace",
        "email",
        IdentityKind.EMAIL,
        "ada@analytical.example",
        "Invoice #1043 looks wrong",
        "Hello, I was charged twice for March. Could you check invoice #1043?",
    ),
    (
        "Grace Hopper",
        "sms",
        IdentityKind.PHONE,
        "+1 (415) 555-0134",
        None,
        "Hi! My parcel tracking stopped updating two days ago.",
    ),
    (
        "Alan Turing",
        "xmpp",
        IdentityKind.XMPP,
        "alan@jabber.example/laptop",
        None,
        "Is there an API to export my order history?",
    ),
    (
        "Katherine Johnson",
        "webchat",
        IdentityKind.VISITOR,
        "visitor-7f3a9c21e5",
        None,
        "Do you ship to Iceland?",
    ),
    (
        "Ada Lovelace",
        "api",
        IdentityKind.EMAIL,
        "ada.l@personal.example",
        None,
        "Following up on my invoice question from my other address.",
    ),
]

_CANNED = [
    ("hello", "Greeting", "Hello {{ customer.first_name }}, thanks for writing to us!"),
    (
        "thanks",
        "Closing",
        "Glad we could help, {{ customer.name }}. Write any time.\n\n{{ agent.name }}",
    ),
]


async def seed_demo(
    ctx: ActionContext, *, admin_email: str, admin_name: str, password: str | None
) -> DemoLogin:
    """Create the demo admin, agents, inboxes and conversations; returns the admin's login."""
    store, now = ctx.store, ctx.clock()
    support = await store.create_team("Support", now=now)
    sales = await store.create_team("Sales", now=now)
    password = password or secrets.token_urlsafe(12)
    admin = await store.create_agent(
        email=admin_email,
        name=admin_name,
        role=Role.ADMIN,
        password_hash=hash_password(password),
        team_ids=[support.id, sales.id],
        now=now,
    )
    agents: list[Agent] = [admin]
    for name, team in (("Sam Support", support), ("Riley Sales", sales)):
        agents.append(
            await store.create_agent(
                email=f"{name.split()[0].lower()}@demo.test",
                name=name,
                role=Role.AGENT,
                password_hash=None,
                team_ids=[team.id],
                now=now,
            )
        )
    inboxes = {}
    layout: tuple[tuple[str, str, Team | None], ...] = (
        ("email", "support@demo.test", support),
        ("sms", "SMS +1 415 555 0100", support),
        ("xmpp", "help@chat.demo.test", support),
        ("webchat", "Website chat", sales),
        ("api", "Shop backend (API)", None),
    )
    for channel, name, owner in layout:
        # through the action, like every inbox: a secret setting given here would be sealed
        inboxes[channel] = await do_create_inbox(
            ctx, name=name, channel=channel, team_id=owner.id if owner else None, config={}
        )
    results = []
    for index, (person, channel, kind, address, subject, text) in enumerate(_CUSTOMERS):
        results.append(
            await do_ingest(
                ctx,
                Inbound(
                    channel=channel,
                    inbox_id=inboxes[channel].id,
                    provider_id=f"demo-{index}",
                    sender_kind=kind,
                    sender=address,
                    sender_name=person,
                    text=text,
                    subject=subject,
                    thread=ThreadHints(message_key=f"<demo-{index}@demo.test>")
                    if channel == "email"
                    else ThreadHints(),
                    sent_at=now - timedelta(minutes=30 - index),
                ),
            )
        )
    # the same person wrote from two addresses: merge them (undo is one API call away)
    await do_merge(ctx, results[0].customer.id, results[4].customer.id, actor_id=admin.id)
    await do_tag(ctx, results[0].conversation.id, add=["billing", "vip"])
    await do_note(
        ctx,
        results[0].conversation.id,
        author_id=admin.id,
        text="@Sam Support can you check the double charge in Stripe?",
    )
    await do_reply(
        ctx,
        results[4].conversation.id,
        author_id=admin.id,
        text="Thanks Ada, we are on it.",
        idempotency_key="demo-reply-1",
    )
    await do_set_status(ctx, results[3].conversation.id, Status.PENDING)
    for shortcut, title, body in _CANNED:
        await do_create_canned_response(ctx, shortcut=shortcut, title=title, body=body)
    return DemoLogin(
        email=admin_email, password=password, token=await renew_demo_token(ctx, admin.id)
    )


async def renew_demo_token(ctx: ActionContext, admin_id: str) -> str:
    """A new demo API token for the demo admin; the previous ones are revoked first.

    `make run` calls this on every start, so at most one demo token is ever live.
    """
    for token in await ctx.store.list_tokens(admin_id):
        if token.name in DEMO_TOKEN_NAMES:
            await do_revoke_token(ctx, token.id, actor=None)
    issued = await mint_token(ctx, admin_id, name=DEMO_TOKEN_NAME)
    return issued.secret
