"""The hub secret: HUB_SECRET_KEY, else generated once and kept in a private file."""

from __future__ import annotations

import logging
import stat
from pathlib import Path

import pytest

from hub.config import load_config
from hub.secret_key import load_secret_key, secret_key_file


def test_the_environment_key_wins(tmp_path: Path) -> None:
    config = load_config(
        files=[], env={"HUB_STORE_URL": f"sqlite:///{tmp_path}/hub.db", "HUB_SECRET_KEY": "env-k"}
    )
    assert load_secret_key(config) == b"env-k"
    assert not (tmp_path / "secret_key").exists()


def test_without_one_a_key_is_generated_kept_private_and_logged(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    config = load_config(files=[], env={"HUB_STORE_URL": f"sqlite:///{tmp_path}/data/hub.db"})
    with caplog.at_level(logging.WARNING, logger="hub.secret_key"):
        key = load_secret_key(config)
    path = tmp_path / "data" / "secret_key"
    assert secret_key_file(config) == path
    assert len(key) >= 48
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert str(path) in caplog.text
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="hub.secret_key"):
        assert load_secret_key(config) == key  # a restart keeps the key: tokens stay valid
    assert caplog.text == ""


def test_an_in_memory_hub_gets_a_key_that_is_not_kept() -> None:
    config = load_config(files=[], env={"HUB_STORE_URL": "sqlite://:memory:"})
    assert secret_key_file(config) is None
    assert load_secret_key(config) != load_secret_key(config)
