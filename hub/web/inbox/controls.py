"""The conversation's controls: status (snooze with a time), priority, assignment, tags.

Each is a small form that posts here with `return_to` and comes back (303) with a flash;
bad input raises a typed error (a 4xx page, or JSON for a script).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from aiohttp import web

from hub.actions import do_assign, do_set_priority, do_set_status, do_tag
from hub.errors import InvalidInput
from hub.model import Conversation, Priority, Status
from hub.web.admin.forms import Form, read_form
from hub.web.flash import flash
from hub.web.inbox.access import actions, back, visible_conversation

SNOOZE_PRESETS = {
    "1h": timedelta(hours=1),
    "4h": timedelta(hours=4),
    "1d": timedelta(days=1),
    "1w": timedelta(weeks=1),
}
MAX_TZ_OFFSET = 16 * 60  # minutes; every real UTC offset is within ±14 h


def _choice(form: Form, name: str, kind: type[Status] | type[Priority]) -> str:
    value = form.get(name)
    allowed = [member.value for member in kind]
    if value not in allowed:
        raise InvalidInput(f"{name} must be one of {', '.join(allowed)}", field=name)
    return value


def snooze_until(form: Form, now: datetime) -> datetime:
    """The wake-up time: a preset (`snooze`=1h/4h/1d/1w) or `snoozed_until`, a local
    date-time from the browser read with its `tz_offset` (minutes, as JS reports it)."""
    preset = form.get("snooze")
    if preset in SNOOZE_PRESETS:
        return now + SNOOZE_PRESETS[preset]
    raw = form.get("snoozed_until").strip()
    if not raw:
        raise InvalidInput("pick when the conversation should wake up", field="snoozed_until")
    try:
        value = datetime.fromisoformat(raw)
    except ValueError:
        raise InvalidInput(
            f"snoozed_until {raw!r} is not a date and time", field="snoozed_until"
        ) from None
    if value.tzinfo is not None:
        return value.astimezone(UTC)
    try:
        offset = int(form.get("tz_offset") or "0")
    except ValueError:
        raise InvalidInput("tz_offset must be a number of minutes", field="tz_offset") from None
    if abs(offset) > MAX_TZ_OFFSET:
        raise InvalidInput("tz_offset is out of range", field="tz_offset")
    return value.replace(tzinfo=UTC) + timedelta(minutes=offset)


async def _conversation(request: web.Request) -> tuple[Conversation, Form]:
    conversation = await visible_conversation(request, request.match_info["conversation_id"])
    return conversation, await read_form(request)


def _done(
    request: web.Request, form: Form, conversation: Conversation, message: str
) -> web.Response:
    response = back(form.get("return_to"), f"/inbox/c/{conversation.id}")
    flash(request, response, message)
    return response


async def set_status(request: web.Request) -> web.StreamResponse:
    """POST /inbox/c/{conversation_id}/status: status (and the snooze time)."""
    conversation, form = await _conversation(request)
    ctx = actions(request)
    status = Status(_choice(form, "status", Status))
    until = snooze_until(form, ctx.clock()) if status == Status.SNOOZED else None
    updated = await do_set_status(ctx, conversation.id, status, snoozed_until=until)
    note = f" until {updated.snoozed_until:%Y-%m-%d %H:%M} UTC" if updated.snoozed_until else ""
    return _done(request, form, conversation, f"Status: {status.value}{note}.")


async def set_priority(request: web.Request) -> web.StreamResponse:
    """POST /inbox/c/{conversation_id}/priority."""
    conversation, form = await _conversation(request)
    priority = Priority(_choice(form, "priority", Priority))
    await do_set_priority(actions(request), conversation.id, priority)
    return _done(request, form, conversation, f"Priority: {priority.value}.")


async def assign(request: web.Request) -> web.StreamResponse:
    """POST /inbox/c/{conversation_id}/assign: agent_id ('' unassigns), team_id ('' keeps)."""
    conversation, form = await _conversation(request)
    agent_id = form.get("agent_id").strip() or None
    team_id = form.get("team_id").strip() or None
    await do_assign(actions(request), conversation.id, agent_id=agent_id, team_id=team_id)
    message = "Assigned." if agent_id else "Unassigned."
    if team_id:
        message = "Transferred." if agent_id is None else "Assigned and transferred."
    return _done(request, form, conversation, message)


async def edit_tags(request: web.Request) -> web.StreamResponse:
    """POST /inbox/c/{conversation_id}/tags: add (comma-separated) and/or remove (one)."""
    conversation, form = await _conversation(request)
    added = [t for t in form.get("add").split(",") if t.strip()]
    removed = [form.get("remove")] if form.get("remove").strip() else []
    if not added and not removed:
        raise InvalidInput("give a tag to add or to remove", field="add")
    await do_tag(actions(request), conversation.id, add=added, remove=removed)
    return _done(request, form, conversation, "Tags saved.")


def add_control_routes(app: web.Application) -> None:
    """Register the conversation's control forms."""
    app.router.add_post("/inbox/c/{conversation_id}/status", set_status)
    app.router.add_post("/inbox/c/{conversation_id}/priority", set_priority)
    app.router.add_post("/inbox/c/{conversation_id}/assign", assign)
    app.router.add_post("/inbox/c/{conversation_id}/tags", edit_tags)
