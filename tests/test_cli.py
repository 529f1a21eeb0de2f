"""The `hub` command: migrate, user add/list, token create, demo — on a temp store."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from hub.cli import main
from hub.store.sqlite.migrations import LATEST


@pytest.fixture(autouse=True)
def _store_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HUB_STORE_URL", f"sqlite:///{tmp_path}/cli.db")
    monkeypatch.setenv("HUB_NEW_USER_PASSWORD", "correct horse battery")


def test_migrate_reports_the_schema_version(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["migrate"]) == 0
    assert f"schema version {LATEST} (sqlite)" in capsys.readouterr().out


def test_user_add_then_list_and_token(capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        main(["user", "add", "--email", "Bob@Example.com", "--name", "Bob", "--team", "Ops"]) == 0
    )
    assert main(["user", "list"]) == 0
    out = capsys.readouterr().out
    assert "bob@example.com\tBob\tagent\tOps\tactive" in out
    assert main(["token", "create", "--email", "bob@example.com"]) == 0
    assert capsys.readouterr().out.strip().startswith("hub_")


def test_duplicate_user_is_a_clear_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["user", "add", "--email", "a@example.com", "--name", "A"]) == 0
    assert main(["user", "add", "--email", "a@example.com", "--name", "A"]) == 1
    assert "already exists" in capsys.readouterr().err


def test_demo_seeds_once_and_prints_the_login(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    login = str(tmp_path / "login.txt")
    assert main(["demo", "--login-file", login]) == 0
    first = capsys.readouterr().out
    assert "Demo admin:  admin@demo.test" in first and "API token:   hub_" in first
    assert main(["demo", "--if-empty", "--login-file", login]) == 0
    assert Path(login).read_text().strip() in capsys.readouterr().out


def test_bad_config_stops_with_the_key_named(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("HUB_SERVER_PORT", "99999")
    assert main(["migrate"]) == 2
    assert "server.port" in capsys.readouterr().err


def _add_bob() -> None:
    assert main(["user", "add", "--email", "bob@example.com", "--name", "Bob"]) == 0


def test_token_list_shows_name_times_expiry_and_status_but_no_secret(
    capsys: pytest.CaptureFixture[str],
) -> None:
    _add_bob()
    assert main(["token", "create", "--email", "bob@example.com", "--name", "CI"]) == 0
    assert main(["token", "create", "--email", "bob@example.com", "--expires-days", "7"]) == 0
    secrets = [w for w in capsys.readouterr().out.split() if w.startswith("hub_")]
    assert len(secrets) == 2
    assert main(["token", "list", "--email", "bob@example.com"]) == 0
    out = capsys.readouterr().out
    lines = out.strip().splitlines()
    assert lines[0] == "id\tagent\tname\tcreated\tlast_used\texpires\tstatus"
    ci = lines[1].split("\t")
    assert ci[1:3] == ["bob@example.com", "CI"]
    assert ci[4:] == ["never", "never", "active"]
    assert lines[2].split("\t")[5] != "never"
    assert not any(secret in out for secret in secrets)


def test_token_revoke_removes_it_from_the_list(capsys: pytest.CaptureFixture[str]) -> None:
    _add_bob()
    assert main(["token", "create", "--email", "bob@example.com", "--name", "CI"]) == 0
    capsys.readouterr()
    assert main(["token", "list"]) == 0
    token_id = capsys.readouterr().out.strip().splitlines()[1].split("\t")[0]
    assert main(["token", "revoke", token_id]) == 0
    assert f"revoked {token_id}" in capsys.readouterr().out
    assert main(["token", "list"]) == 0
    assert token_id not in capsys.readouterr().out


def test_token_revoke_of_an_unknown_id_is_a_clear_error(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["token", "revoke", "tok_nope"]) == 1
    assert "tok_nope" in capsys.readouterr().err


def test_repeated_demo_runs_leave_one_live_demo_token(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    login = str(tmp_path / "login.txt")
    assert main(["demo", "--login-file", login]) == 0
    for _ in range(3):
        assert main(["demo", "--if-empty", "--login-file", login]) == 0
    capsys.readouterr()
    assert main(["token", "list", "--email", "admin@demo.test"]) == 0
    assert len(capsys.readouterr().out.strip().splitlines()) == 2  # the header and one token


async def _store_escaped_names() -> None:
    """Names with terminal escapes, stored as a release that did not refuse them would have."""
    from hub.config import load_config
    from hub.model import Role, utcnow
    from hub.store import create_store

    store = create_store(load_config(None).store.url)
    await store.open()
    try:
        team = await store.create_team("T\x1b]0;pwned\x07", now=utcnow())
        agent = await store.create_agent(
            email="eve@example.com",
            name="Eve\x1b[2J\x1b[31mADMIN\x1b[0m\u202e",
            role=Role.AGENT,
            password_hash=None,
            team_ids=[team.id],
            now=utcnow(),
        )
        await store.create_token(
            agent_id=agent.id,
            name="ok\x1b[2J\x1b[31mFAKE\x1b[0m\x00",
            token_hash="0" * 64,
            now=utcnow(),
            expires_at=None,
        )
    finally:
        await store.close()


def test_token_and_user_list_escape_control_characters_of_stored_names(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["migrate"]) == 0
    asyncio.run(_store_escaped_names())
    capsys.readouterr()
    assert main(["token", "list"]) == 0
    assert main(["user", "list"]) == 0
    out = capsys.readouterr().out
    assert "\x1b" not in out and "\x00" not in out and "\x07" not in out and "\u202e" not in out
    assert "ok\\x1b[2J\\x1b[31mFAKE\\x1b[0m\\x00" in out
    assert "Eve\\x1b[2J\\x1b[31mADMIN\\x1b[0m\\u202e" in out
    assert "T\\x1b]0;pwned\\x07" in out
