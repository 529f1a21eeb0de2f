"""`hub secrets rotate`: every secret setting re-encrypted under a new hub secret key."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from hub.actions import do_create_inbox
from hub.cli import main
from hub.config import HubConfig
from hub.key_rotation import rotate_hub_secret
from hub.model import Inbox
from hub.secret_key import next_key_file, secret_key_file
from hub.settings_crypto import SettingsCipher
from tests.test_inbox_secrets_upgrade import running_hub, store_of, stored_config
from tests.web.test_api_inbox_secrets import _verified

SITE_SECRET = "site-identity-secret-0123456789"


async def _chat(config: HubConfig) -> Inbox:
    async with store_of(config) as ctx:
        return await do_create_inbox(
            ctx,
            name="Website",
            channel="webchat",
            team_id=None,
            config={"identity_secret": SITE_SECRET, "require_identity": True},
        )


async def test_rotate_re_encrypts_and_the_chat_still_verifies_after_a_restart(
    config: HubConfig,
) -> None:
    async with running_hub(config):  # the first start keeps a generated key
        pass
    key_file = secret_key_file(config)
    assert key_file is not None
    old_key = key_file.read_text()
    inbox = await _chat(config)
    before = stored_config(config, inbox.id)
    out: list[str] = []
    async with store_of(config) as ctx:
        report = await rotate_hub_secret(config, ctx.store, None, out=out)
    assert (report.resealed, report.unreadable) == (1, [])
    assert key_file.read_text() != old_key
    assert not (next_key_file(config) or Path("/nonexistent")).exists()
    assert stored_config(config, inbox.id) != before
    assert SITE_SECRET not in stored_config(config, inbox.id)
    assert not any(SITE_SECRET in line or old_key.strip() in line for line in out)
    async with running_hub(config) as client:
        assert await _verified(client, inbox.id, SITE_SECRET)


async def test_a_rotation_stopped_half_way_is_finished_by_running_it_again(
    config: HubConfig,
) -> None:
    async with running_hub(config):
        pass
    first, second = await _chat(config), await _chat(config)
    next_path = next_key_file(config)
    assert next_path is not None
    next_path.write_text("the-next-hub-secret-0123456789\n")
    next_cipher = SettingsCipher(b"the-next-hub-secret-0123456789")
    async with store_of(config) as ctx:  # the crash came after the first inbox was written
        sealed = next_cipher.seal(SITE_SECRET, inbox_id=first.id, name="identity_secret")
        await ctx.store.update_inbox(first.id, config={**first.config, "identity_secret": sealed})
        report = await rotate_hub_secret(config, ctx.store, None, out=[])
    assert (report.resealed, report.already_new, report.unreadable) == (1, 1, [])
    async with running_hub(config) as client:
        assert await _verified(client, first.id, SITE_SECRET)
        assert await _verified(client, second.id, SITE_SECRET)


def test_a_value_neither_key_opens_is_reported_and_left_as_it_is(
    config: HubConfig, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import asyncio

    async def seed() -> tuple[Inbox, str]:
        async with running_hub(config):
            pass
        inbox = await _chat(config)
        foreign = SettingsCipher(b"a-key-nobody-has").seal(
            "lost", inbox_id=inbox.id, name="identity_secret"
        )
        async with store_of(config) as ctx:
            await ctx.store.update_inbox(
                inbox.id, config={"identity_secret": foreign, "require_identity": True}
            )
        return inbox, foreign

    inbox, foreign = asyncio.run(seed())
    monkeypatch.setenv("HUB_STORE_URL", config.store.url)
    assert main(["secrets", "rotate"]) == 1
    out = capsys.readouterr().out
    assert f"UNREADABLE under both keys, left as it is, set it again: inbox {inbox.id}" in out
    assert foreign in stored_config(config, inbox.id)


def test_rotate_with_hub_secret_key_set_leaves_the_key_to_the_operator(
    make_config: Callable[..., HubConfig],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    import asyncio

    config = make_config(HUB_SECRET_KEY="configured-hub-secret-0123456789")
    inbox = asyncio.run(_chat(config))
    monkeypatch.setenv("HUB_STORE_URL", config.store.url)
    monkeypatch.setenv("HUB_SECRET_KEY", "configured-hub-secret-0123456789")
    next_path = tmp_path / "next.key"
    assert main(["secrets", "rotate", "--next-key-file", str(next_path)]) == 0
    assert f"set it to the contents of {next_path}" in capsys.readouterr().out
    new_key = next_path.read_text().strip()
    assert (next_path.stat().st_mode & 0o777) == 0o600
    rotated = make_config(HUB_SECRET_KEY=new_key)

    async def check() -> None:
        async with running_hub(rotated) as client:
            assert await _verified(client, inbox.id, SITE_SECRET)

    asyncio.run(check())
