"""The admin inbox page: a secret is replaced or cleared through a password field, never shown."""

from __future__ import annotations

from aiohttp.test_utils import TestClient

from hub.actions import do_create_inbox
from hub.keys import ACTIONS_KEY
from hub.model import Inbox
from hub.store import Store
from tests.web.test_admin_pages import Admin, admin, store
from tests.web.test_api_inbox_secrets import _verified

__all__ = ["admin", "store"]  # the fixtures, shared with the other admin page tests
OLD_SECRET = "first-identity-secret-0123456789"
NEW_SECRET = "second-identity-secret-9876543210"


async def _chat(client: TestClient) -> Inbox:
    return await do_create_inbox(
        client.app[ACTIONS_KEY],
        name="Site",
        channel="webchat",
        team_id=None,
        config={"identity_secret": OLD_SECRET, "title": "Hello"},
    )


async def test_the_edit_page_says_set_and_shows_neither_value_nor_ciphertext(
    admin: Admin,
) -> None:
    inbox = await _chat(admin.client)
    page = await admin.page(f"/admin/inboxes/{inbox.id}")
    assert "identity_secret (set)" in page
    assert 'name="secret_identity_secret" type="password"' in page
    assert OLD_SECRET not in page and "enc:v1:" not in page
    assert "Hello" in page  # plain settings are still in the JSON field


async def test_saving_with_the_field_empty_keeps_the_secret(admin: Admin, store: Store) -> None:
    inbox = await _chat(admin.client)
    status, _, _ = await admin.post(
        f"/admin/inboxes/{inbox.id}",
        name="Site",
        team_id="",
        config='{"title": "Changed"}',
        secret_identity_secret="",
    )
    assert status == 303
    assert await _verified(admin.client, inbox.id, OLD_SECRET)


async def test_a_typed_secret_replaces_the_old_one(admin: Admin) -> None:
    inbox = await _chat(admin.client)
    status, _, _ = await admin.post(
        f"/admin/inboxes/{inbox.id}",
        name="Site",
        team_id="",
        config="{}",
        secret_identity_secret=NEW_SECRET,
    )
    assert status == 303
    assert await _verified(admin.client, inbox.id, NEW_SECRET)
    assert not await _verified(admin.client, inbox.id, OLD_SECRET)


async def test_the_clear_box_removes_the_secret(admin: Admin, store: Store) -> None:
    inbox = await _chat(admin.client)
    status, _, _ = await admin.post(
        f"/admin/inboxes/{inbox.id}",
        name="Site",
        team_id="",
        config="{}",
        clear_identity_secret="on",
    )
    assert status == 303
    found = await store.get_inbox(inbox.id)
    assert found is not None and "identity_secret" not in found.config
    assert "identity_secret (not set)" in await admin.page(f"/admin/inboxes/{inbox.id}")


async def test_a_refused_secret_is_not_echoed_back(admin: Admin) -> None:
    inbox = await _chat(admin.client)
    status, _, body = await admin.post(
        f"/admin/inboxes/{inbox.id}",
        name="Site",
        team_id="",
        config='{"require_identity": true}',
        secret_identity_secret="short",
    )
    assert status == 422
    assert "at least 16 characters" in body
    assert 'value="short"' not in body
