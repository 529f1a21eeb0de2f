"""Tests for hub.config: defaults, TOML files, env overrides, validation and secrets."""

from __future__ import annotations

import dataclasses
import re
import tomllib
from pathlib import Path

import pytest

from hub.config import (
    HubConfig,
    Secrets,
    env_name,
    load_config,
    secret_env_name,
    sections,
    setting_types,
)
from hub.config_checks import sqlite_path
from hub.errors import ConfigError

EXAMPLE = Path(__file__).resolve().parent.parent / "config" / "hub.example.toml"


def write(tmp_path: Path, text: str, name: str = "hub.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def load_error(tmp_path: Path, text: str, env: dict[str, str] | None = None) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        load_config([write(tmp_path, text)], env=env or {})
    return info.value


def test_defaults_file_matches_dataclass_defaults() -> None:
    assert load_config(env={}) == HubConfig()


def test_defaults_have_no_secret_key() -> None:
    config = load_config(env={})
    assert config.secrets.secret_key == ""
    assert not config.secrets.has_secret_key


def test_file_overrides_defaults(tmp_path: Path) -> None:
    path = write(tmp_path, '[server]\nport = 9000\n[store]\nurl = "sqlite://:memory:"\n')
    config = load_config([path], env={})
    assert config.server.port == 9000
    assert config.store.url == "sqlite://:memory:"
    assert config.server.host == "127.0.0.1"


def test_later_file_overrides_earlier_file(tmp_path: Path) -> None:
    first = write(tmp_path, "[server]\nport = 9000\n", "a.toml")
    second = write(tmp_path, "[server]\nport = 9001\n", "b.toml")
    assert load_config([first, second], env={}).server.port == 9001


def test_int_accepted_for_float_setting(tmp_path: Path) -> None:
    config = load_config([write(tmp_path, "[outbox]\nbase_delay_seconds = 3\n")], env={})
    assert config.outbox.base_delay_seconds == 3.0
    assert isinstance(config.outbox.base_delay_seconds, float)


def test_env_overrides_file(tmp_path: Path) -> None:
    path = write(tmp_path, "[server]\nport = 9000\n")
    env = {"HUB_SERVER_PORT": "9100", "HUB_OUTBOX_BASE_DELAY_SECONDS": "0.5"}
    config = load_config([path], env=env)
    assert config.server.port == 9100
    assert config.outbox.base_delay_seconds == 0.5


def test_env_matches_sections_and_fields_with_underscores() -> None:
    env = {"HUB_IDENTITY_DEFAULT_REGION": "DE", "HUB_INGEST_REOPEN_WINDOW_SECONDS": "0"}
    config = load_config(env=env)
    assert config.identity.default_region == "DE"
    assert config.ingest.reopen_window_seconds == 0


def test_env_unrelated_hub_variables_are_ignored() -> None:
    env = {"HUB_TEST_MONGO_URL": "x", "HUB_REQUIRE_PEERS": "1", "HUB_SERVER_PROT": "1"}
    assert load_config(env=env) == HubConfig()


def test_hub_config_env_names_the_file(tmp_path: Path) -> None:
    path = write(tmp_path, '[log]\nlevel = "DEBUG"\n')
    assert load_config(env={"HUB_CONFIG": str(path)}).log.level == "DEBUG"


def test_hub_config_pointing_to_missing_file_is_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        load_config(env={"HUB_CONFIG": str(tmp_path / "nope.toml")})
    assert info.value.key == "HUB_CONFIG"
    assert "nope.toml" in info.value.problem


def test_env_parse_error_names_the_env_var() -> None:
    with pytest.raises(ConfigError) as info:
        load_config(env={"HUB_SERVER_PORT": "eighty"})
    assert info.value.key == "HUB_SERVER_PORT"
    assert info.value.problem == "must be an integer, got 'eighty'"


def test_env_nan_float_rejected() -> None:
    with pytest.raises(ConfigError, match="finite") as info:
        load_config(env={"HUB_OUTBOX_POLL_SECONDS": "nan"})
    assert info.value.key == "outbox.poll_seconds"


def test_unknown_key_suggests_close_match(tmp_path: Path) -> None:
    error = load_error(tmp_path, "[server]\nprot = 1\n")
    assert error.key == "server.prot"
    assert error.problem == "unknown setting; did you mean 'port'?"
    assert str(error) == "config error: server.prot: unknown setting; did you mean 'port'?"


def test_unknown_section_suggests_close_match(tmp_path: Path) -> None:
    error = load_error(tmp_path, "[srever]\nport = 1\n")
    assert error.key == "srever"
    assert error.problem == "unknown section; did you mean 'server'?"


def test_wrong_toml_type_rejected(tmp_path: Path) -> None:
    error = load_error(tmp_path, '[server]\nport = "abc"\n')
    assert error.key == "server.port"
    assert error.problem == "must be an integer, got string 'abc'"


def test_bool_not_accepted_as_int(tmp_path: Path) -> None:
    error = load_error(tmp_path, "[server]\nport = true\n")
    assert error.problem == "must be an integer, got boolean True"


def test_section_that_is_not_a_table_rejected(tmp_path: Path) -> None:
    assert load_error(tmp_path, "server = 5\n").key == "server"


def test_toml_syntax_error_names_the_file(tmp_path: Path) -> None:
    error = load_error(tmp_path, "[server\nport = 1\n")
    assert error.key == str(tmp_path / "hub.toml")
    assert error.problem


def test_out_of_range_port_rejected(tmp_path: Path) -> None:
    error = load_error(tmp_path, "[server]\nport = 70000\n")
    assert error.key == "server.port"
    assert error.problem == "must be between 1 and 65535, got 70000"


def test_out_of_range_from_env_rejected() -> None:
    with pytest.raises(ConfigError, match=r"server\.port: must be between") as info:
        load_config(env={"HUB_SERVER_PORT": "0"})
    assert info.value.key == "server.port"


def test_max_delay_below_base_delay_rejected(tmp_path: Path) -> None:
    error = load_error(tmp_path, "[outbox]\nbase_delay_seconds = 10.0\nmax_delay_seconds = 5.0\n")
    assert error.key == "outbox.max_delay_seconds"


def test_bad_choice_rejected(tmp_path: Path) -> None:
    error = load_error(tmp_path, '[routing]\npolicy = "random"\n')
    assert error.key == "routing.policy"
    assert "'round_robin'" in error.problem


@pytest.mark.parametrize("region", ["us", "USA", "ZZ"])
def test_bad_region_rejected(tmp_path: Path, region: str) -> None:
    error = load_error(tmp_path, f'[identity]\ndefault_region = "{region}"\n')
    assert error.key == "identity.default_region"


def test_public_url_without_scheme_rejected(tmp_path: Path) -> None:
    error = load_error(tmp_path, '[server]\npublic_url = "hub.example.org"\n')
    assert error.key == "server.public_url"


def test_bad_store_url_rejected(tmp_path: Path) -> None:
    error = load_error(tmp_path, '[store]\nurl = "postgres://db/hub"\n')
    assert error.key == "store.url"
    assert error.problem.startswith("must start with sqlite:// or mongodb://")
    assert "'postgres://db/hub'" in error.problem


def test_bad_store_url_error_hides_credentials() -> None:
    with pytest.raises(ConfigError) as info:
        load_config(env={"HUB_STORE_URL": "postgres://user:hunter2@db/hub"})
    assert "hunter2" not in str(info.value)


@pytest.mark.parametrize("url", ["mongodb://localhost:27017/hub", "mongodb+srv://c.example/hub"])
def test_mongodb_store_urls_accepted(url: str) -> None:
    assert load_config(env={"HUB_STORE_URL": url}).store.url == url


def test_secret_in_toml_rejected_naming_the_key(tmp_path: Path) -> None:
    error = load_error(tmp_path, 'secret_key = "x"\n')
    assert error.key == "secret_key"
    assert error.problem == "secrets come from the environment only; set HUB_SECRET_KEY"


def test_secret_in_section_rejected_naming_the_key(tmp_path: Path) -> None:
    error = load_error(tmp_path, '[server]\nsecret_key = "x"\n')
    assert error.key == "server.secret_key"
    assert error.problem.endswith("set HUB_SECRET_KEY")


def test_password_in_toml_rejected_naming_matching_env_var(tmp_path: Path) -> None:
    error = load_error(tmp_path, '[demo]\nadmin_password = "x"\n')
    assert error.key == "demo.admin_password"
    assert error.problem.endswith("set HUB_DEMO_ADMIN_PASSWORD")


def test_token_like_key_in_toml_rejected(tmp_path: Path) -> None:
    error = load_error(tmp_path, '[server]\napi_token = "x"\n')
    assert error.key == "server.api_token"
    assert error.problem.startswith("secrets come from the environment only")


def test_secret_key_read_from_env_and_hidden_from_repr() -> None:
    env = {"HUB_SECRET_KEY": "s3cr3t-value", "HUB_DEMO_ADMIN_PASSWORD": "pw-value"}
    config = load_config(env=env)
    assert config.secrets.secret_key == "s3cr3t-value"
    assert config.secrets.demo_admin_password == "pw-value"
    assert config.secrets.has_secret_key
    assert "s3cr3t-value" not in repr(config)
    assert "pw-value" not in repr(config)


def test_config_is_frozen_and_replaceable() -> None:
    config = load_config(env={})
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.server.port = 1  # type: ignore[misc]
    changed = dataclasses.replace(config, server=dataclasses.replace(config.server, port=1))
    assert changed.server.port == 1


def test_example_file_loads_to_the_defaults() -> None:
    assert load_config([EXAMPLE], env={}) == HubConfig()


def test_example_file_documents_every_setting() -> None:
    text = EXAMPLE.read_text(encoding="utf-8")
    data = tomllib.loads(text)
    for section, cls in sections().items():
        assert set(data[section]) == set(setting_types(cls)), section
        for name in setting_types(cls):
            env = env_name(section, name)
            body = text.split(f"\n[{section}]\n")[1].split("\n[")[0]
            comment = re.search(rf"((?:^#.*\n)+)^{name} = ", body, re.MULTILINE)
            assert comment, f"{section}.{name} has no comment above it"
            assert env in comment.group(1), f"{section}.{name} comment lacks {env}"
            assert "Default:" in comment.group(1), f"{section}.{name} comment lacks its default"
    for secret in dataclasses.fields(Secrets):
        assert secret_env_name(secret.name) in text
    assert "HUB_CONFIG" in text


@pytest.mark.parametrize(
    ("url", "path"),
    [
        ("sqlite:///var/hub.db", "var/hub.db"),
        ("sqlite:////srv/hub/hub.db", "/srv/hub/hub.db"),
        ("sqlite://:memory:", ":memory:"),
    ],
)
def test_sqlite_path_maps_url_to_path(url: str, path: str) -> None:
    assert sqlite_path(url) == path


@pytest.mark.parametrize("url", ["sqlite://", "sqlite:///", "sqlite://relative.db", "mongodb://h"])
def test_sqlite_path_rejects_malformed_url(url: str) -> None:
    with pytest.raises(ConfigError):
        sqlite_path(url)


def test_renamed_sign_in_settings_still_work_under_their_old_toml_names(tmp_path: Path) -> None:
    text = "[auth]\nlogin_max_failures = 7\nlogin_max_failures_per_ip = 30\n"
    config = load_config([write(tmp_path, text + "login_window_seconds = 3600\n")], env={})
    assert config.auth.login_free_failures == 7
    assert config.auth.login_free_failures_per_address == 30
    assert config.auth.login_forget_after_seconds == 3600


def test_renamed_sign_in_settings_still_work_under_their_old_env_names() -> None:
    env = {"HUB_AUTH_LOGIN_MAX_FAILURES": "8", "HUB_AUTH_LOGIN_MAX_FAILURES_PER_IP": "40"}
    config = load_config(env=env)
    assert config.auth.login_free_failures == 8
    assert config.auth.login_free_failures_per_address == 40


def test_forgetting_sign_in_failures_before_the_longest_delay_is_rejected() -> None:
    env = {"HUB_AUTH_LOGIN_MAX_DELAY_SECONDS": "900", "HUB_AUTH_LOGIN_FORGET_AFTER_SECONDS": "60"}
    with pytest.raises(ConfigError) as info:
        load_config(env=env)
    assert info.value.key == "auth.login_forget_after_seconds"
