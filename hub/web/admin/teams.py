"""Admin pages for teams: list and create, rename, delete when nothing uses it."""

from __future__ import annotations

from aiohttp import web

from hub.actions import do_create_team, do_delete_team, do_rename_team
from hub.actions.admin import clean_name
from hub.errors import HubError, NotFound
from hub.keys import ACTIONS_KEY, STORE_KEY
from hub.model import Team
from hub.web.admin.forms import Form, done, read_form
from hub.web.templating import render

TEAM_NAME_TAKEN = {"team_exists": "name"}


async def _list_page(request: web.Request, form: Form, status: int = 200) -> web.Response:
    store = request.config_dict[STORE_KEY]
    teams = await store.list_teams()
    agents = await store.list_agents()
    inboxes = await store.list_inboxes()
    usage = {
        t.id: (
            sum(1 for a in agents if t.id in a.team_ids),
            sum(1 for i in inboxes if i.team_id == t.id),
        )
        for t in teams
    }
    context = {"section": "teams", "teams": teams, "usage": usage, "form": form}
    return render(request, "admin/teams.html", context, status=status)


async def list_teams(request: web.Request) -> web.StreamResponse:
    """GET /admin/teams: the teams and a form to add one."""
    return await _list_page(request, Form())


async def create_team(request: web.Request) -> web.StreamResponse:
    """POST /admin/teams."""
    form = await read_form(request)
    name = form.check("name", clean_name)
    if name is not None:
        try:
            team = await do_create_team(request.config_dict[ACTIONS_KEY], name)
        except HubError as exc:
            form.fail(exc, TEAM_NAME_TAKEN)
        else:
            return done(request, "/admin/teams", f"Team {team.name} created.")
    return await _list_page(request, form, status=422)


async def _team(request: web.Request) -> Team:
    team_id = request.match_info["team_id"]
    for team in await request.config_dict[STORE_KEY].list_teams():
        if team.id == team_id:
            return team
    raise NotFound(f"team {team_id!r} does not exist", code="team_not_found")


def _edit_page(request: web.Request, team: Team, form: Form, status: int = 200) -> web.Response:
    context = {"section": "teams", "team": team, "form": form}
    return render(request, "admin/team_edit.html", context, status=status)


async def edit_team_form(request: web.Request) -> web.StreamResponse:
    """GET /admin/teams/{team_id}: rename or delete."""
    team = await _team(request)
    return _edit_page(request, team, Form.filled({"name": team.name}))


async def rename_team(request: web.Request) -> web.StreamResponse:
    """POST /admin/teams/{team_id}."""
    team = await _team(request)
    form = await read_form(request)
    name = form.check("name", clean_name)
    if name is not None:
        try:
            renamed = await do_rename_team(request.config_dict[ACTIONS_KEY], team.id, name)
        except HubError as exc:
            form.fail(exc, TEAM_NAME_TAKEN)
        else:
            return done(request, "/admin/teams", f"Team renamed to {renamed.name}.")
    return _edit_page(request, team, form, status=422)


async def delete_team(request: web.Request) -> web.StreamResponse:
    """POST /admin/teams/{team_id}/delete: only when no inbox or agent uses it."""
    team = await _team(request)
    try:
        await do_delete_team(request.config_dict[ACTIONS_KEY], team.id)
    except HubError as exc:
        form = Form.filled({"name": team.name})
        form.error("_delete", exc.message)
        return _edit_page(request, team, form, status=exc.status)
    return done(request, "/admin/teams", f"Team {team.name} deleted.")


def add_team_routes(app: web.Application) -> None:
    """Register the team pages."""
    app.router.add_get("/admin/teams", list_teams, name="admin_teams")
    app.router.add_post("/admin/teams", create_team)
    app.router.add_get("/admin/teams/{team_id}", edit_team_form)
    app.router.add_post("/admin/teams/{team_id}", rename_team)
    app.router.add_post("/admin/teams/{team_id}/delete", delete_team)
