"""Admin pages for agents: list, invite (create with a password), edit, reset password, tokens."""

from __future__ import annotations

from aiohttp import web

from hub.actions import do_create_agent, do_set_password, do_update_agent
from hub.actions.admin import clean_email, clean_name, require_agent
from hub.errors import HubError, InvalidInput
from hub.keys import ACTIONS_KEY, AGENT_KEY, STORE_KEY
from hub.model import Agent, IssuedApiToken, Role, Team
from hub.passwords import MIN_LENGTH
from hub.web.admin.forms import Form, done, read_form
from hub.web.templating import render
from hub.web.token_pages import create_from_form, revoke_for, token_context

ROLES = (Role.AGENT.value, Role.ADMIN.value)
ROLE_OPTIONS = (
    (Role.AGENT.value, "Agent: answers the conversations of their teams"),
    (Role.ADMIN.value, "Admin: also manages agents, teams, inboxes and canned responses"),
)


def clean_password(value: str) -> str:
    """A password of at least MIN_LENGTH characters."""
    if len(value) < MIN_LENGTH:
        raise InvalidInput(f"the password must be at least {MIN_LENGTH} characters")
    return value


def clean_role(value: str) -> Role:
    """One of the roles."""
    if value not in ROLES:
        raise InvalidInput("choose a role: agent or admin")
    return Role(value)


def _team_ids(form: Form, teams: list[Team]) -> list[str]:
    known = {t.id for t in teams}
    chosen = form.lists.get("team_ids", [])
    if any(t not in known for t in chosen):
        form.error("team_ids", "a chosen team no longer exists; reload the page")
    return [t for t in chosen if t in known]


async def _teams(request: web.Request) -> list[Team]:
    return await request.config_dict[STORE_KEY].list_teams()


async def list_agents(request: web.Request) -> web.StreamResponse:
    """GET /admin/agents."""
    store = request.config_dict[STORE_KEY]
    teams = {t.id: t.name for t in await store.list_teams()}
    return render(
        request,
        "admin/agents.html",
        {"section": "agents", "agents": await store.list_agents(), "team_names": teams},
    )


def _new_page(
    request: web.Request, form: Form, teams: list[Team], status: int = 200
) -> web.Response:
    context = {
        "section": "agents",
        "form": form,
        "team_options": [(t.id, t.name) for t in teams],
        "role_options": ROLE_OPTIONS,
    }
    return render(request, "admin/agent_new.html", context, status=status)


async def new_agent_form(request: web.Request) -> web.StreamResponse:
    """GET /admin/agents/new."""
    return _new_page(request, Form.filled({"role": Role.AGENT.value}), await _teams(request))


async def create_agent(request: web.Request) -> web.StreamResponse:
    """POST /admin/agents/new."""
    form, teams = await read_form(request), await _teams(request)
    email = form.check("email", clean_email)
    name = form.check("name", clean_name)
    role = form.check("role", clean_role)
    password = form.check("password", clean_password)
    team_ids = _team_ids(form, teams)
    if form.ok and email and name and role and password:
        try:
            agent = await do_create_agent(
                request.config_dict[ACTIONS_KEY],
                email=email,
                name=name,
                role=role,
                team_ids=team_ids,
                password=password,
            )
        except HubError as exc:
            form.fail(exc, {"agent_exists": "email"})
        else:
            return done(request, "/admin/agents", f"Agent {agent.name} created.")
    form.values.pop("password", None)  # never sent back to the browser
    return _new_page(request, form, teams, status=422)


async def _edit_page(
    request: web.Request,
    agent: Agent,
    teams: list[Team],
    *,
    form: Form | None = None,
    password_form: Form | None = None,
    token_form: Form | None = None,
    issued: IssuedApiToken | None = None,
    status: int = 200,
) -> web.Response:
    if form is None:
        form = Form.filled(
            {"name": agent.name, "role": agent.role.value, "active": "on" if agent.active else ""},
            {"team_ids": agent.team_ids},
        )
    context = {
        "section": "agents",
        "subject": agent,
        "form": form,
        "password_form": password_form or Form(),
        "team_options": [(t.id, t.name) for t in teams],
        "role_options": ROLE_OPTIONS,
        **await token_context(
            request,
            agent.id,
            base=f"/admin/agents/{agent.id}/tokens",
            form=token_form,
            issued=issued,
        ),
    }
    return render(request, "admin/agent_edit.html", context, status=status)


async def edit_agent_form(request: web.Request) -> web.StreamResponse:
    """GET /admin/agents/{agent_id}."""
    ctx = request.config_dict[ACTIONS_KEY]
    agent = await require_agent(ctx, request.match_info["agent_id"])
    return await _edit_page(request, agent, await _teams(request))


async def update_agent(request: web.Request) -> web.StreamResponse:
    """POST /admin/agents/{agent_id}: name, role, teams, active."""
    ctx = request.config_dict[ACTIONS_KEY]
    agent = await require_agent(ctx, request.match_info["agent_id"])
    form, teams = await read_form(request), await _teams(request)
    name = form.check("name", clean_name)
    role = form.check("role", clean_role)
    team_ids = _team_ids(form, teams)
    active = form.get("active") == "on"
    if not active and agent.id == request[AGENT_KEY].id:
        form.error("active", "you cannot deactivate your own account")
    if form.ok and name and role:
        try:
            updated = await do_update_agent(
                ctx, agent.id, name=name, role=role, team_ids=team_ids, active=active
            )
        except HubError as exc:
            form.fail(exc)
        else:
            return done(request, "/admin/agents", f"Agent {updated.name} saved.")
    return await _edit_page(request, agent, teams, form=form, status=422)


async def reset_password(request: web.Request) -> web.StreamResponse:
    """POST /admin/agents/{agent_id}/password: set a new password, end their sessions."""
    ctx = request.config_dict[ACTIONS_KEY]
    agent = await require_agent(ctx, request.match_info["agent_id"])
    form = await read_form(request)
    password = form.check("password", clean_password)
    if password is not None and form.get("password_again") != password:
        form.error("password_again", "the two passwords differ")
    if form.ok and password is not None:
        await do_set_password(ctx, agent.id, password)
        message = f"New password set for {agent.name}; their sessions were ended."
        return done(request, f"/admin/agents/{agent.id}", message)
    form.values.clear()
    return await _edit_page(request, agent, await _teams(request), password_form=form, status=422)


async def create_token(request: web.Request) -> web.StreamResponse:
    """POST /admin/agents/{agent_id}/tokens: a new token for the agent, shown once here."""
    ctx = request.config_dict[ACTIONS_KEY]
    agent = await require_agent(ctx, request.match_info["agent_id"])
    form, issued = await create_from_form(request, agent.id)
    status = 200 if issued is not None else 422
    teams = await _teams(request)
    return await _edit_page(request, agent, teams, token_form=form, issued=issued, status=status)


async def revoke_token(request: web.Request) -> web.StreamResponse:
    """POST /admin/agents/{agent_id}/tokens/{token_id}/revoke: it stops working at once."""
    ctx = request.config_dict[ACTIONS_KEY]
    agent = await require_agent(ctx, request.match_info["agent_id"])
    token = await revoke_for(request, agent.id, request.match_info["token_id"])
    return done(request, f"/admin/agents/{agent.id}", f"Token {token.name} revoked.")


def add_agent_routes(app: web.Application) -> None:
    """Register the agent pages."""
    app.router.add_get("/admin/agents", list_agents, name="admin_agents")
    app.router.add_get("/admin/agents/new", new_agent_form)
    app.router.add_post("/admin/agents/new", create_agent)
    app.router.add_get("/admin/agents/{agent_id}", edit_agent_form)
    app.router.add_post("/admin/agents/{agent_id}", update_agent)
    app.router.add_post("/admin/agents/{agent_id}/password", reset_password)
    app.router.add_post("/admin/agents/{agent_id}/tokens", create_token)
    app.router.add_post("/admin/agents/{agent_id}/tokens/{token_id}/revoke", revoke_token)
