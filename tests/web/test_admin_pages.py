"""The admin pages: agents, teams, inboxes and canned responses, through real forms."""

from __future__ import annotations

import html

import pytest
from aiohttp.test_utils import TestClient

from hub.keys import STORE_KEY
from hub.model import Agent, Role, Team, utcnow
from hub.settings_crypto import is_sealed
from hub.store import Store
from tests.web.signin import Browser, add_agent, post_login, sign_in


class Admin:
    """A signed-in admin posting forms with the session's CSRF token."""

    def __init__(self, client: TestClient, agent: Agent, csrf: str) -> None:
        self.client, self.agent, self.csrf = client, agent, csrf

    async def post(self, path: str, **fields: str | list[str]) -> tuple[int, str, str]:
        """(status, Location or '', body) of a form post, redirects not followed."""
        resp = await self.client.post(
            path, data={**fields, "csrf_token": self.csrf}, allow_redirects=False
        )
        return resp.status, resp.headers.get("Location", ""), await resp.text()

    async def page(self, path: str) -> str:
        resp = await self.client.get(path)
        assert resp.status == 200, path
        return await resp.text()


@pytest.fixture
async def admin(client: TestClient) -> Admin:
    agent = await add_agent(client, "root@hub.test", role=Role.ADMIN, name="Root")
    return Admin(client, agent, await sign_in(client, "root@hub.test"))


@pytest.fixture
def store(client: TestClient) -> Store:
    return client.app[STORE_KEY]


async def _team(store: Store, name: str) -> Team:
    return await store.create_team(name, now=utcnow())


# --- agents ---------------------------------------------------------------------------


async def test_create_an_agent_who_can_then_sign_in(admin: Admin, store: Store) -> None:
    team = await _team(store, "Support")
    status, location, _ = await admin.post(
        "/admin/agents/new",
        name="Grace Hopper",
        email="Grace@Hub.test",
        role="agent",
        team_ids=[team.id],
        password="a long password",
    )
    assert (status, location) == (303, "/admin/agents")
    assert "Agent Grace Hopper created." in await admin.page("/admin/agents")
    agent = await store.get_agent_by_email("grace@hub.test")
    assert agent is not None
    assert (agent.name, agent.role, agent.team_ids) == ("Grace Hopper", Role.AGENT, (team.id,))
    async with Browser(admin.client) as other:
        assert (await post_login(other, "grace@hub.test", "a long password")).status == 303


async def test_the_flash_message_shows_once(admin: Admin) -> None:
    await admin.post("/admin/teams", name="Support")
    assert "Team Support created." in await admin.page("/admin/teams")
    assert "Team Support created." not in await admin.page("/admin/teams")


async def test_invalid_agent_form_shows_errors_and_keeps_the_values(
    admin: Admin, store: Store
) -> None:
    status, _, body = await admin.post(
        "/admin/agents/new",
        name="Grace Hopper",
        email="not-an-email",
        role="agent",
        password="short",
    )
    assert status == 422
    assert "not a valid email address" in body
    assert "at least 10 characters" in body
    assert 'value="Grace Hopper"' in body and 'value="not-an-email"' in body
    assert "short" not in body.replace("shortcut", "")  # a password is never echoed
    assert [a.email for a in await store.list_agents()] == ["root@hub.test"]


async def test_duplicate_agent_email_is_shown_on_the_email_field(admin: Admin) -> None:
    status, _, body = await admin.post(
        "/admin/agents/new", name="Other", email="root@hub.test", role="agent", password="x" * 12
    )
    assert status == 422
    assert 'id="email-error"' in body and "already exists" in body


async def test_edit_an_agents_name_role_and_teams(admin: Admin, store: Store) -> None:
    support, sales = await _team(store, "Support"), await _team(store, "Sales")
    agent = await add_agent(admin.client, "ada@hub.test", team_ids=[support.id])
    edit = await admin.page(f"/admin/agents/{agent.id}")
    assert f'value="{support.id}" checked' in edit
    status, _, _ = await admin.post(
        f"/admin/agents/{agent.id}",
        name="Ada L.",
        role="admin",
        team_ids=[sales.id, support.id],
        active="on",
    )
    assert status == 303
    found = await store.get_agent(agent.id)
    assert found is not None
    assert (found.name, found.role, set(found.team_ids), found.active) == (
        "Ada L.",
        Role.ADMIN,
        {sales.id, support.id},
        True,
    )


async def test_an_admin_cannot_deactivate_themself(admin: Admin, store: Store) -> None:
    status, _, body = await admin.post(f"/admin/agents/{admin.agent.id}", name="Root", role="admin")
    assert status == 422
    assert "cannot deactivate your own account" in body
    assert await store.get_agent(admin.agent.id) == admin.agent


async def test_the_last_admin_cannot_be_demoted(admin: Admin, store: Store) -> None:
    status, _, body = await admin.post(
        f"/admin/agents/{admin.agent.id}", name="Root", role="agent", active="on"
    )
    assert status == 422
    assert "last active admin" in body
    assert await store.get_agent(admin.agent.id) == admin.agent


async def test_reset_password_replaces_it_and_ends_the_agents_sessions(admin: Admin) -> None:
    agent = await add_agent(admin.client, "ada@hub.test")
    async with Browser(admin.client) as ada:
        await sign_in(ada, "ada@hub.test")
        status, location, _ = await admin.post(
            f"/admin/agents/{agent.id}/password",
            password="brand new password",
            password_again="brand new password",
        )
        assert (status, location) == (303, f"/admin/agents/{agent.id}")
        assert (await ada.get("/inbox", allow_redirects=False)).status == 303
        assert (await post_login(ada, "ada@hub.test")).status == 401
        assert (await post_login(ada, "ada@hub.test", "brand new password")).status == 303


async def test_reset_password_with_differing_copies_is_refused(admin: Admin) -> None:
    agent = await add_agent(admin.client, "ada@hub.test")
    status, _, body = await admin.post(
        f"/admin/agents/{agent.id}/password",
        password="brand new password",
        password_again="brand new passw0rd",
    )
    assert status == 422
    assert "the two passwords differ" in body


async def test_unknown_agent_page_is_404(admin: Admin) -> None:
    assert (await admin.client.get("/admin/agents/agt_missing")).status == 404


# --- teams ----------------------------------------------------------------------------


async def test_create_rename_and_delete_a_team(admin: Admin, store: Store) -> None:
    assert (await admin.post("/admin/teams", name="Support"))[0] == 303
    [team] = await store.list_teams()
    assert (await admin.post(f"/admin/teams/{team.id}", name="Care"))[0] == 303
    assert [t.name for t in await store.list_teams()] == ["Care"]
    assert (await admin.post(f"/admin/teams/{team.id}/delete"))[0] == 303
    assert await store.list_teams() == []


async def test_duplicate_team_name_is_shown_on_the_name_field(admin: Admin, store: Store) -> None:
    await _team(store, "Support")
    status, _, body = await admin.post("/admin/teams", name="Support")
    assert status == 422
    assert 'id="name-error"' in body and "already exists" in body


async def test_deleting_a_team_in_use_names_who_uses_it(admin: Admin, store: Store) -> None:
    team = await _team(store, "Support")
    await add_agent(admin.client, "ada@hub.test", name="Ada", team_ids=[team.id])
    await store.create_inbox(name="Mail", channel="api", team_id=team.id, config={}, now=utcnow())
    status, _, body = await admin.post(f"/admin/teams/{team.id}/delete")
    assert status == 409
    text = html.unescape(body)
    assert "inbox 'Mail'" in text and "agent 'Ada'" in text
    assert await store.list_teams() == [team]


# --- inboxes --------------------------------------------------------------------------


async def test_create_an_inbox_for_an_installed_channel(admin: Admin, store: Store) -> None:
    team = await _team(store, "Support")
    status, location, _ = await admin.post(
        "/admin/inboxes/new",
        name="Shop",
        channel="api",
        team_id=team.id,
        config='{"webhook_url": "https://shop.example/hook"}',
        secret_webhook_secret="whsec-typed-on-the-page-0123",
    )
    [inbox] = await store.list_inboxes()
    assert (status, location) == (303, f"/admin/inboxes/{inbox.id}")
    assert (inbox.name, inbox.channel, inbox.team_id) == ("Shop", "api", team.id)
    assert inbox.config["webhook_url"] == "https://shop.example/hook"
    assert is_sealed(inbox.config["webhook_secret"])


# nested deeper than the API takes (its JsonObject): the form applies the same rules
DEEP_CONFIG = '{"a":' * 600 + "1" + "}" * 600


@pytest.mark.parametrize(
    ("typed", "problem"),
    [
        ("{not json", "not valid JSON"),
        ("[1, 2]", "must be a JSON object"),
        (DEEP_CONFIG, "not valid JSON: recursion limit exceeded"),  # the store could not save it
        ('{"n": 18446744073709551615}', "integers must fit in 64 bits"),  # nor BSON this
    ],
)
async def test_invalid_inbox_config_is_refused_keeping_the_text(
    admin: Admin, store: Store, typed: str, problem: str
) -> None:
    status, _, body = await admin.post(
        "/admin/inboxes/new", name="Shop", channel="api", team_id="", config=typed
    )
    assert status == 422
    assert problem in body
    assert typed in html.unescape(body)
    assert 'value="Shop"' in body
    assert await store.list_inboxes() == []


async def test_an_inbox_needs_an_installed_channel(admin: Admin, store: Store) -> None:
    status, _, body = await admin.post(
        "/admin/inboxes/new", name="Fax", channel="fax", team_id="", config=""
    )
    assert status == 422
    assert "choose an installed channel" in body
    assert await store.list_inboxes() == []


async def test_edit_an_inbox_name_team_and_config(admin: Admin, store: Store) -> None:
    team = await _team(store, "Support")
    inbox = await store.create_inbox(
        name="Shop", channel="api", team_id=None, config={"a": 1}, now=utcnow()
    )
    status, _, _ = await admin.post(
        f"/admin/inboxes/{inbox.id}", name="Shop EU", team_id=team.id, config='{"b": 2}'
    )
    assert status == 303
    found = await store.get_inbox(inbox.id)
    assert found is not None
    assert (found.name, found.team_id, dict(found.config)) == ("Shop EU", team.id, {"b": 2})


async def test_an_inbox_edit_with_a_too_deeply_nested_config_is_refused(
    admin: Admin, store: Store
) -> None:
    inbox = await store.create_inbox(
        name="Shop", channel="api", team_id=None, config={"a": 1}, now=utcnow()
    )
    status, _, body = await admin.post(
        f"/admin/inboxes/{inbox.id}", name="Shop EU", team_id="", config=DEEP_CONFIG
    )
    assert status == 422
    assert "not valid JSON: recursion limit exceeded" in body
    found = await store.get_inbox(inbox.id)
    assert found is not None and (found.name, dict(found.config)) == ("Shop", {"a": 1})


async def test_a_webchat_inbox_shows_its_embed_snippet(admin: Admin, store: Store) -> None:
    inbox = await store.create_inbox(
        name="Site", channel="webchat", team_id=None, config={}, now=utcnow()
    )
    page = html.unescape(await admin.page(f"/admin/inboxes/{inbox.id}"))
    host = admin.client.make_url("/").host
    assert (
        f'<script src="http://{host}:{admin.client.port}/api/v1/webchat/widget.js"'
        f' data-inbox="{inbox.id}" async></script>'
    ) in page


async def test_other_inboxes_show_no_embed_snippet(admin: Admin, store: Store) -> None:
    inbox = await store.create_inbox(
        name="Shop", channel="api", team_id=None, config={}, now=utcnow()
    )
    assert "widget.js" not in await admin.page(f"/admin/inboxes/{inbox.id}")


# --- canned responses -----------------------------------------------------------------


async def test_canned_response_create_edit_delete(admin: Admin, store: Store) -> None:
    status, _, _ = await admin.post(
        "/admin/canned/new", shortcut="/Hello", title="Greeting", body="Hi {{ customer.name }}!"
    )
    assert status == 303
    [canned] = await store.list_canned_responses()
    assert (canned.shortcut, canned.body) == ("hello", "Hi {{ customer.name }}!")
    assert "/hello" in await admin.page("/admin/canned")
    status, _, _ = await admin.post(
        f"/admin/canned/{canned.id}", shortcut="hi", title="Greeting", body="Hello!"
    )
    assert status == 303
    edited = await store.get_canned_response(canned.id)
    assert edited is not None and (edited.shortcut, edited.body) == ("hi", "Hello!")
    assert (await admin.post(f"/admin/canned/{canned.id}/delete"))[0] == 303
    assert await store.list_canned_responses() == []


async def test_canned_response_with_an_unknown_placeholder_keeps_the_values(
    admin: Admin, store: Store
) -> None:
    status, _, body = await admin.post(
        "/admin/canned/new", shortcut="hello", title="Greeting", body="Hi {{ customer.age }}"
    )
    assert status == 422
    assert "unknown placeholder" in html.unescape(body)
    assert "Hi {{ customer.age }}" in html.unescape(body)
    assert 'value="hello"' in body
    assert await store.list_canned_responses() == []


async def test_duplicate_canned_shortcut_is_shown_on_the_shortcut_field(
    admin: Admin, store: Store
) -> None:
    await store.create_canned_response(shortcut="hello", title="T", body="B", now=utcnow())
    status, _, body = await admin.post(
        "/admin/canned/new", shortcut="hello", title="Other", body="Other text"
    )
    assert status == 422
    assert 'id="shortcut-error"' in body and "already exists" in body


async def test_empty_canned_fields_are_each_reported(admin: Admin) -> None:
    status, _, body = await admin.post("/admin/canned/new", shortcut="", title="", body="")
    assert status == 422
    for field in ("shortcut", "title", "body"):
        assert f'id="{field}-error"' in body
