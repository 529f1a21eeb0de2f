"""Admin pages for inboxes: list, create for an installed channel, edit name/team/config.

A web-chat inbox's page also shows the snippet that embeds the widget on a website.
"""

from __future__ import annotations

from typing import Any

import orjson
from aiohttp import web

from hub.actions import do_create_inbox, do_update_inbox
from hub.actions.admin import MAX_CONFIG_BYTES, clean_name
from hub.errors import InvalidInput, NotFound
from hub.keys import ACTIONS_KEY, CHANNELS_KEY, CONFIG_KEY, STORE_KEY
from hub.model import Inbox, Team
from hub.web.admin.forms import Form, done, read_form
from hub.web.sessions import is_https
from hub.web.templating import render

# The one channel the admin names: its inboxes get an embed snippet (a string, no import)
WEBCHAT_CHANNEL = "webchat"


def clean_config(value: str) -> dict[str, Any]:
    """A JSON object (empty text: {})."""
    if not value.strip():
        return {}
    if len(value.encode()) > MAX_CONFIG_BYTES:
        raise InvalidInput(f"the config is larger than {MAX_CONFIG_BYTES // 1024} KiB")
    try:
        parsed = orjson.loads(value)
    except orjson.JSONDecodeError as exc:
        raise InvalidInput(f"not valid JSON: {exc}") from exc
    if not isinstance(parsed, dict):
        raise InvalidInput('the config must be a JSON object, e.g. {"key": "value"}')
    return parsed


def pretty_json(value: Any) -> str:
    """JSON for a textarea, indented."""
    return orjson.dumps(value, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS).decode()


def embed_snippet(request: web.Request, inbox: Inbox) -> str:
    """The <script> tag that puts this web-chat inbox's widget on a website."""
    base = request.config_dict[CONFIG_KEY].server.public_url.rstrip("/")
    if not base:
        base = f"{'https' if is_https(request) else 'http'}://{request.host}"
    return f'<script src="{base}/api/v1/webchat/widget.js" data-inbox="{inbox.id}" async></script>'


def _team_id(form: Form, teams: list[Team]) -> str | None:
    chosen = form.get("team_id")
    if chosen and chosen not in {t.id for t in teams}:
        form.error("team_id", "that team no longer exists; reload the page")
    return chosen or None


def _channels(request: web.Request) -> list[str]:
    channels = request.config_dict[CHANNELS_KEY]
    return sorted(channels)


async def list_inboxes(request: web.Request) -> web.StreamResponse:
    """GET /admin/inboxes."""
    store = request.config_dict[STORE_KEY]
    context = {
        "section": "inboxes",
        "inboxes": await store.list_inboxes(),
        "team_names": {t.id: t.name for t in await store.list_teams()},
        "installed": _channels(request),
    }
    return render(request, "admin/inboxes.html", context)


async def _form_page(
    request: web.Request, form: Form, inbox: Inbox | None, status: int = 200
) -> web.Response:
    context = {
        "section": "inboxes",
        "form": form,
        "inbox": inbox,
        "team_options": [(t.id, t.name) for t in await request.config_dict[STORE_KEY].list_teams()],
        "channel_options": [(c, c) for c in _channels(request)],
        "snippet": embed_snippet(request, inbox)
        if inbox is not None and inbox.channel == WEBCHAT_CHANNEL
        else None,
    }
    return render(request, "admin/inbox_form.html", context, status=status)


async def new_inbox_form(request: web.Request) -> web.StreamResponse:
    """GET /admin/inboxes/new."""
    return await _form_page(request, Form.filled({"config": "{}"}), None)


async def create_inbox(request: web.Request) -> web.StreamResponse:
    """POST /admin/inboxes/new."""
    form = await read_form(request)
    teams = await request.config_dict[STORE_KEY].list_teams()
    name = form.check("name", clean_name)
    channel = form.get("channel")
    if channel not in _channels(request):
        form.error("channel", f"choose an installed channel: {', '.join(_channels(request))}")
    team_id = _team_id(form, teams)
    config = form.check("config", clean_config)
    if form.ok and name is not None and config is not None:
        inbox = await do_create_inbox(
            request.config_dict[ACTIONS_KEY],
            name=name,
            channel=channel,
            team_id=team_id,
            config=config,
        )
        return done(request, f"/admin/inboxes/{inbox.id}", f"Inbox {inbox.name} created.")
    return await _form_page(request, form, None, status=422)


async def _inbox(request: web.Request) -> Inbox:
    inbox_id = request.match_info["inbox_id"]
    inbox = await request.config_dict[STORE_KEY].get_inbox(inbox_id)
    if inbox is None:
        raise NotFound(f"inbox {inbox_id!r} does not exist", code="inbox_not_found")
    return inbox


async def edit_inbox_form(request: web.Request) -> web.StreamResponse:
    """GET /admin/inboxes/{inbox_id}."""
    inbox = await _inbox(request)
    form = Form.filled(
        {"name": inbox.name, "team_id": inbox.team_id, "config": pretty_json(inbox.config)}
    )
    return await _form_page(request, form, inbox)


async def update_inbox(request: web.Request) -> web.StreamResponse:
    """POST /admin/inboxes/{inbox_id}: name, team and config."""
    inbox = await _inbox(request)
    form = await read_form(request)
    teams = await request.config_dict[STORE_KEY].list_teams()
    name = form.check("name", clean_name)
    team_id = _team_id(form, teams)
    config = form.check("config", clean_config)
    if form.ok and name is not None and config is not None:
        updated = await do_update_inbox(
            request.config_dict[ACTIONS_KEY], inbox.id, name=name, team_id=team_id, config=config
        )
        return done(request, "/admin/inboxes", f"Inbox {updated.name} saved.")
    return await _form_page(request, form, inbox, status=422)


def add_inbox_routes(app: web.Application) -> None:
    """Register the inbox pages."""
    app.router.add_get("/admin/inboxes", list_inboxes, name="admin_inboxes")
    app.router.add_get("/admin/inboxes/new", new_inbox_form)
    app.router.add_post("/admin/inboxes/new", create_inbox)
    app.router.add_get("/admin/inboxes/{inbox_id}", edit_inbox_form)
    app.router.add_post("/admin/inboxes/{inbox_id}", update_inbox)
