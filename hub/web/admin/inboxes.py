"""Admin pages for inboxes: list, create for an installed channel, edit name/team/config.

Secret settings (declared by each channel) never appear on a page: each gets a password
field that is left empty to keep the value, and a "clear" checkbox; the page says only
whether it is set. A web-chat inbox's page also shows the snippet that embeds the widget.
"""

from __future__ import annotations

from typing import Any

import orjson
from aiohttp import web
from pydantic import TypeAdapter, ValidationError

from hub.actions import do_create_inbox, do_update_inbox
from hub.actions.admin import MAX_CONFIG_BYTES, clean_name, inbox_settings
from hub.errors import HubError, InvalidInput, NotFound
from hub.keys import ACTIONS_KEY, CHANNELS_KEY, CONFIG_KEY, STORE_KEY
from hub.model import Inbox, Team
from hub.web.admin.forms import Form, done, read_form
from hub.web.schemas import JsonObject
from hub.web.sessions import is_https
from hub.web.templating import render

# The one channel the admin names: its inboxes get an embed snippet (a string, no import)
WEBCHAT_CHANNEL = "webchat"
_CONFIG: TypeAdapter[dict[str, Any]] = TypeAdapter(JsonObject)


def clean_config(value: str) -> dict[str, Any]:
    """A JSON object the API would take as `config` (empty text: {})."""
    if not value.strip():
        return {}
    if len(value.encode()) > MAX_CONFIG_BYTES:
        raise InvalidInput(f"the config is larger than {MAX_CONFIG_BYTES // 1024} KiB")
    try:  # the API's own rules: nesting depth, 64-bit integers, finite numbers
        return _CONFIG.validate_json(value)
    except ValidationError as exc:
        first = exc.errors(include_url=False, include_input=False)[0]
        if first["type"] == "dict_type":
            raise InvalidInput('the config must be a JSON object, e.g. {"key": "value"}') from exc
        if first["type"] == "json_invalid":
            raise InvalidInput(f"not valid JSON: {first['ctx']['error']}") from exc
        reason = first["msg"].removeprefix("Value error, ")
        raise InvalidInput(f"the config cannot be stored: {reason}") from exc


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


def _secret_names(request: web.Request, channel: str) -> list[str]:
    return sorted(inbox_settings(request.config_dict[ACTIONS_KEY]).secret_names(channel))


def secret_field(name: str) -> str:
    """The form field of a secret setting's new value (prefixed: no clash with name, config)."""
    return f"secret_{name}"


def clear_field(name: str) -> str:
    """The form field of a secret setting's "clear" checkbox."""
    return f"clear_{name}"


def _with_secret_edits(form: Form, names: list[str], config: dict[str, Any]) -> dict[str, Any]:
    """The config with the typed secrets (an empty field keeps the value; clear removes it)."""
    edited = dict(config)
    for name in names:
        typed = form.get(secret_field(name))
        if form.get(clear_field(name)) == "on":
            edited[name] = None
        elif typed:
            edited[name] = typed
    return edited


def _fail(form: Form, exc: HubError, names: list[str]) -> None:
    """An action's error next to its field (a secret's next to its password field)."""
    field = exc.details.get("field")
    if isinstance(field, str) and field in names:
        form.error(secret_field(field), exc.message)
    elif isinstance(field, str) and field in ("name", "channel", "team_id"):
        form.error(field, exc.message)
    else:
        form.error("config", exc.message)


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
    secrets: list[tuple[str, str, str | None, bool]]
    if inbox is not None:
        secrets = [
            (n, secret_field(n), clear_field(n), bool(inbox.config.get(n)))
            for n in _secret_names(request, inbox.channel)
        ]
    else:  # the channel is chosen on the form: offer each channel's secrets, named by it
        secrets = [
            (f"{n} ({c} inboxes)", secret_field(n), None, False)
            for c in _channels(request)
            for n in _secret_names(request, c)
        ]
    context = {
        "section": "inboxes",
        "form": form,
        "inbox": inbox,
        "secrets": secrets,
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
    names = _secret_names(request, channel)
    if form.ok and name is not None and config is not None:
        try:
            inbox = await do_create_inbox(
                request.config_dict[ACTIONS_KEY],
                name=name,
                channel=channel,
                team_id=team_id,
                config=_with_secret_edits(form, names, config),
            )
        except InvalidInput as exc:
            _fail(form, exc, names)
        else:
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
    names = _secret_names(request, inbox.channel)
    plain = {k: v for k, v in inbox.config.items() if k not in names}
    form = Form.filled({"name": inbox.name, "team_id": inbox.team_id, "config": pretty_json(plain)})
    return await _form_page(request, form, inbox)


async def update_inbox(request: web.Request) -> web.StreamResponse:
    """POST /admin/inboxes/{inbox_id}: name, team and config."""
    inbox = await _inbox(request)
    form = await read_form(request)
    teams = await request.config_dict[STORE_KEY].list_teams()
    name = form.check("name", clean_name)
    team_id = _team_id(form, teams)
    config = form.check("config", clean_config)
    names = _secret_names(request, inbox.channel)
    if form.ok and name is not None and config is not None:
        try:
            updated = await do_update_inbox(
                request.config_dict[ACTIONS_KEY],
                inbox.id,
                name=name,
                team_id=team_id,
                config=_with_secret_edits(form, names, config),
            )
        except InvalidInput as exc:
            _fail(form, exc, names)
        else:
            return done(request, "/admin/inboxes", f"Inbox {updated.name} saved.")
    return await _form_page(request, form, inbox, status=422)


def add_inbox_routes(app: web.Application) -> None:
    """Register the inbox pages."""
    app.router.add_get("/admin/inboxes", list_inboxes, name="admin_inboxes")
    app.router.add_get("/admin/inboxes/new", new_inbox_form)
    app.router.add_post("/admin/inboxes/new", create_inbox)
    app.router.add_get("/admin/inboxes/{inbox_id}", edit_inbox_form)
    app.router.add_post("/admin/inboxes/{inbox_id}", update_inbox)
