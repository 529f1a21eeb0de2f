"""The conversation list: /inbox, its "load more" rows, one live-updated row, and search.

Counts per view (mine / unassigned / all) are bounded reads of at most COUNT_CAP + 1
conversations each, shown as "99+" beyond that: never a COUNT(*) over the whole table.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from hub.keys import LOOKUPS_KEY
from hub.model import Agent, Conversation, ConversationFilter, Inbox, Team
from hub.web.access import customer_access
from hub.web.inbox.access import actions, agent_of, visible_conversation
from hub.web.inbox.filters import VIEWS, InboxQuery, View, for_view, matches, read_query, to_filter
from hub.web.routes import visible_inbox_ids
from hub.web.templating import render

PAGE_SIZE = 25
COUNT_CAP = 99
SEARCH_LIMIT = 50
VIEW_LABELS: dict[View, str] = {"mine": "Mine", "unassigned": "Unassigned", "all": "All"}


@dataclass(frozen=True, kw_only=True, slots=True)
class Names:
    """Agents, inboxes and teams by id: what rows and controls show instead of ids."""

    agents: dict[str, Agent]
    inboxes: dict[str, Inbox]
    teams: dict[str, Team]


@dataclass(frozen=True, kw_only=True, slots=True)
class Row:
    """One line of the list."""

    conversation: Conversation
    customer_name: str | None
    inbox_name: str
    assignee_name: str | None
    hit: str | None = None  # the matching message's text, when searching


@dataclass(frozen=True, kw_only=True, slots=True)
class ViewCount:
    view: View
    label: str
    count: str  # "7", or "99+" past the cap
    unread: int  # conversations with unread messages (within the cap)


async def load_names(request: web.Request) -> Names:
    """Agents, inboxes and teams (inboxes from the short-lived cache)."""
    store = actions(request).store
    agents, inboxes, teams = await asyncio.gather(
        store.list_agents(), request.config_dict[LOOKUPS_KEY].inboxes(), store.list_teams()
    )
    return Names(
        agents={a.id: a for a in agents},
        inboxes={i.id: i for i in inboxes},
        teams={t.id: t for t in teams},
    )


async def make_rows(
    request: web.Request,
    conversations: list[Conversation] | tuple[Conversation, ...],
    names: Names,
    hits: dict[str, str] | None = None,
) -> list[Row]:
    """Rows with the customers' names (one read per distinct customer, run together)."""
    store = actions(request).store
    customer_ids = list(dict.fromkeys(c.customer_id for c in conversations))
    customers = await asyncio.gather(*(store.get_customer(cid) for cid in customer_ids))
    customer_names = {
        cid: c.name if c else None for cid, c in zip(customer_ids, customers, strict=True)
    }
    rows = []
    for c in conversations:
        inbox = names.inboxes.get(c.inbox_id)
        assignee = names.agents.get(c.assignee_id) if c.assignee_id else None
        rows.append(
            Row(
                conversation=c,
                customer_name=customer_names.get(c.customer_id),
                inbox_name=inbox.name if inbox else c.inbox_id,
                assignee_name=assignee.name if assignee else None,
                hit=(hits or {}).get(c.id),
            )
        )
    return rows


async def view_counts(request: web.Request, flt: ConversationFilter) -> list[ViewCount]:
    """How many conversations each view holds under the other filters (bounded reads)."""
    store, agent = actions(request).store, agent_of(request)
    pages = await asyncio.gather(
        *(store.list_conversations(for_view(flt, v, agent), limit=COUNT_CAP + 1) for v in VIEWS)
    )
    counts = []
    for view, page in zip(VIEWS, pages, strict=True):
        shown = page.items[:COUNT_CAP]
        count = f"{COUNT_CAP}+" if len(page.items) > COUNT_CAP else str(len(shown))
        unread = sum(1 for c in shown if c.unread_count)
        counts.append(ViewCount(view=view, label=VIEW_LABELS[view], count=count, unread=unread))
    return counts


async def _search(request: web.Request, q: InboxQuery, names: Names) -> list[Row]:
    """Conversations with a message matching the search, best match first."""
    store = actions(request).store
    viewer = (await customer_access(request)).viewer  # the policy's own scope, as the API's
    found = await store.search_messages(q.q or "", limit=SEARCH_LIMIT, inbox_ids=viewer.scope)
    hits: dict[str, str] = {}
    for message in found:
        hits.setdefault(message.conversation_id, message.text or "")
    conversations = await asyncio.gather(*(store.get_conversation(cid) for cid in hits))
    return await make_rows(request, [c for c in conversations if c is not None], names, hits)


async def list_context(
    request: web.Request, q: InboxQuery, names: Names, *, current: str | None = None
) -> dict[str, Any]:
    """Everything the list pane shows: filters, counts, the rows and the next page's link."""
    visible = await visible_inbox_ids(request)
    flt = to_filter(q, agent_of(request), visible)
    next_cursor = None
    if q.searching:
        rows = await _search(request, q, names)
    else:
        page = await actions(request).store.list_conversations(
            flt, limit=PAGE_SIZE, cursor=q.cursor
        )
        rows, next_cursor = await make_rows(request, page.items, names), page.next_cursor
    inboxes = [i for i in names.inboxes.values() if visible is None or i.id in visible]
    return {
        "q": q,
        "rows": rows,
        "next_cursor": next_cursor,
        "counts": await view_counts(request, flt),
        "filter_inboxes": sorted(inboxes, key=lambda i: i.name.lower()),
        "filter_channels": sorted({i.channel for i in inboxes}),
        "filter_teams": sorted(names.teams.values(), key=lambda t: t.name.lower()),
        "current_id": current,
    }


def colleagues(request: web.Request, names: Names) -> list[tuple[Agent, str]]:
    """Active agents with their presence (online / away / offline), by name."""
    presence = actions(request).presence
    active = sorted((a for a in names.agents.values() if a.active), key=lambda a: a.name.lower())
    return [(a, presence.state(a.id).value) for a in active]


async def inbox_page(request: web.Request) -> web.StreamResponse:
    """GET /inbox: the list with its filters, and no conversation open."""
    q = read_query(request)
    last_event_id = actions(request).bus.last_id  # before any read: the socket resumes here
    names = await load_names(request)
    context = await list_context(request, q, names)
    context.update(colleagues=colleagues(request, names), last_event_id=last_event_id)
    return render(request, "inbox/index.html", context)


async def more_rows(request: web.Request) -> web.StreamResponse:
    """GET /inbox/rows?...&cursor=: the next page of rows (htmx "load more")."""
    q = read_query(request)
    names = await load_names(request)
    context = await list_context(request, q, names, current=request.query.get("current"))
    return render(request, "inbox/_rows.html", context)


async def one_row(request: web.Request) -> web.StreamResponse:
    """GET /inbox/row/{conversation_id}?<filters>: the row, or 204 if the filters exclude it.

    inbox.js asks for it when an event says a conversation changed: the server renders the
    row (escaped), so the page never builds HTML from event data.
    """
    conversation = await visible_conversation(request, request.match_info["conversation_id"])
    q = read_query(request)
    flt = to_filter(q, agent_of(request), await visible_inbox_ids(request))
    if q.searching or not matches(conversation, flt):
        return web.Response(status=204)
    names = await load_names(request)
    rows = await make_rows(request, [conversation], names)
    context = {"row": rows[0], "q": q, "current_id": request.query.get("current")}
    return render(request, "inbox/_row.html", context)


def add_listing_routes(app: web.Application) -> None:
    """Register the list pages."""
    app.router.add_get("/inbox", inbox_page, name="inbox")
    app.router.add_get("/inbox/rows", more_rows)
    app.router.add_get("/inbox/row/{conversation_id}", one_row)
