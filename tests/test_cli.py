"""The `hub` command: migrate, user add/list, token create, demo — on a temp store."""

from __future__ import annotations

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
