"""The conversation list's filters: read from the query string, turned into a store filter.

Used like this:

    q = read_query(request)                      # 422 with the reason on a bad value
    flt = to_filter(q, agent, visible)           # the store's ConversationFilter
    matches(conversation, flt)                   # the same test, for one live-updated row
    q.link(view="all")                           # this list's URL with one filter changed
"""

from __future__ import annotations

from dataclasses import replace
from typing import Annotated, Any, Literal
from urllib.parse import urlencode

from aiohttp import web
from pydantic import BaseModel, ConfigDict, StringConstraints

from hub.model import Agent, Conversation, ConversationFilter, Status
from hub.web.jsonio import validate

View = Literal["mine", "unassigned", "all"]
VIEWS: tuple[View, ...] = ("mine", "unassigned", "all")
STATUS_ANY = "any"
Value = Annotated[str, StringConstraints(min_length=1, max_length=64)]
FILTER_NAMES = ("view", "status", "channel", "inbox", "tag", "team", "q")


class InboxQuery(BaseModel):
    """The list's query string; other parameters of the page are ignored here."""

    model_config = ConfigDict(extra="ignore", strict=False, frozen=True)
    view: View = "mine"
    status: Literal["open", "pending", "snoozed", "resolved", "any"] = "open"
    channel: Value | None = None
    inbox: Value | None = None
    tag: Value | None = None
    team: Value | None = None
    q: Annotated[str, StringConstraints(max_length=200)] | None = None
    cursor: Annotated[str, StringConstraints(max_length=512)] | None = None

    @property
    def searching(self) -> bool:
        return bool(self.q and self.q.strip())

    def params(self, **changes: str | None) -> dict[str, str]:
        """The filters that differ from the defaults (with `changes`), for a URL."""
        values: dict[str, Any] = {name: getattr(self, name) for name in FILTER_NAMES}
        values.update(changes)
        defaults = {"view": "mine", "status": "open"}
        return {
            name: str(value)
            for name, value in values.items()
            if value not in (None, "") and defaults.get(name) != value
        }

    def query_string(self, **changes: str | None) -> str:
        """'?view=all&...' (or '') for the filters, with `changes` applied."""
        params = self.params(**changes)
        return "?" + urlencode(params) if params else ""

    def link(self, path: str = "/inbox", **changes: str | None) -> str:
        """`path` with this list's filters (and `changes`)."""
        return path + self.query_string(**changes)


def read_query(request: web.Request) -> InboxQuery:
    """The filters of a request's query string; empty values mean 'no filter'."""
    raw = {k: v for k, v in request.query.items() if v != ""}
    return validate(InboxQuery, raw)


def to_filter(q: InboxQuery, agent: Agent, visible: tuple[str, ...] | None) -> ConversationFilter:
    """The store filter of the list: the view, the other filters, and the agent's inboxes."""
    return ConversationFilter(
        status=None if q.status == STATUS_ANY else Status(q.status),
        assignee_id=agent.id if q.view == "mine" else None,
        unassigned=q.view == "unassigned",
        inbox_id=q.inbox,
        inbox_ids=visible,
        team_id=q.team,
        tag=q.tag.strip().lower() if q.tag else None,
        channel=q.channel,
    )


def for_view(flt: ConversationFilter, view: View, agent: Agent) -> ConversationFilter:
    """The same filter under another view (for the per-view counts)."""
    return replace(
        flt, assignee_id=agent.id if view == "mine" else None, unassigned=view == "unassigned"
    )


def matches(conversation: Conversation, flt: ConversationFilter) -> bool:
    """Whether the store would list `conversation` under `flt` (live row updates)."""
    c = conversation
    checks = (
        flt.status is None or c.status == flt.status,
        flt.assignee_id is None or c.assignee_id == flt.assignee_id,
        not flt.unassigned or c.assignee_id is None,
        flt.inbox_id is None or c.inbox_id == flt.inbox_id,
        flt.inbox_ids is None or c.inbox_id in flt.inbox_ids,
        flt.team_id is None or c.team_id == flt.team_id,
        flt.tag is None or flt.tag in c.tags,
        flt.customer_id is None or c.customer_id == flt.customer_id,
        flt.channel is None or c.channel == flt.channel,
    )
    return all(checks)
