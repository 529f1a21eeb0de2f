"""Jinja2 pages: the environment, the context every template gets, and `render`.

Templates live in the repository's `templates/` (base.html is the layout; pages extend
it and fill `{% block content %}`); autoescape is on for .html and undefined names are
errors (StrictUndefined). Render pages with `render()`: it adds what `page_context` (the
context processor) gives every template:

- `agent`: the signed-in Agent, or None on public pages;
- `csrf_token`: put it in every form as `<input type="hidden" name="csrf_token" ...>`;
- `static_url`: "/static" (files of hub/web/static/), e.g. `{{ static_url }}/hub.css`;
- `flashes`: [(kind, message)] left by the previous request (hub/web/flash.py);
- `request` (and `app`).

    return render(request, "admin/agents.html", {"agents": agents})
    return render(request, "admin/agent_form.html", {...}, status=422)
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import aiohttp_jinja2
import jinja2
from aiohttp import web

from hub.keys import AGENT_KEY
from hub.web.flash import read_flashes
from hub.web.sessions import SESSION_KEY

TEMPLATES_DIR = Path(__file__).resolve().parent.parent.parent / "templates"
STATIC_DIR = Path(__file__).resolve().parent / "static"
STATIC_URL = "/static"
LOGIN_CSRF_KEY: web.RequestKey[str] = web.RequestKey("login_csrf", str)


def page_context(request: web.Request) -> dict[str, Any]:
    """The names every template may use (see the module docstring)."""
    session = request.get(SESSION_KEY)
    csrf = session.csrf_secret if session is not None else request.get(LOGIN_CSRF_KEY, "")
    return {
        "request": request,
        "agent": request.get(AGENT_KEY),
        "csrf_token": csrf,
        "static_url": STATIC_URL,
        "flashes": read_flashes(request),
    }


def setup_templates(app: web.Application, templates_dir: Path = TEMPLATES_DIR) -> None:
    """Install the jinja2 environment and the /static route on the (root) app."""
    aiohttp_jinja2.setup(
        app,
        loader=jinja2.FileSystemLoader(str(templates_dir)),
        autoescape=jinja2.select_autoescape(["html"], default_for_string=True),
        undefined=jinja2.StrictUndefined,
        # no aiohttp_jinja2 context_processors: its middleware would run on every /api
        # request too; render() applies page_context to pages only
        trim_blocks=True,
        lstrip_blocks=True,
    )
    app[aiohttp_jinja2.static_root_key] = STATIC_URL
    app.router.add_static(STATIC_URL, STATIC_DIR, name="static")


def render(
    request: web.Request,
    template: str,
    context: Mapping[str, Any] | None = None,
    *,
    status: int = 200,
) -> web.Response:
    """A text/html response from a template, its own context and `page_context`."""
    merged = {**page_context(request), **(context or {})}
    return aiohttp_jinja2.render_template(template, request, merged, status=status)


def see_other(location: str) -> web.Response:
    """A 303 redirect to return (Post/Redirect/Get), so headers and cookies can be added."""
    return web.Response(status=303, headers={"Location": location})
