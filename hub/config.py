"""Typed hub configuration: dataclass defaults, then TOML files, then HUB_* environment."""

from __future__ import annotations

import dataclasses
import difflib
import math
import os
import tomllib
import typing
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hub.config_checks import (
    EMAIL,
    HTTP_URL,
    NOT_EMPTY,
    POSITIVE,
    REGION,
    between,
    not_below_base,
    not_below_first_delay,
    not_below_max_delay,
    one_of,
    setting,
    store_url,
)
from hub.errors import ConfigError

_SECRET_WORDS = ("password", "secret", "token")
_TRUE, _FALSE = ("1", "true", "yes", "on"), ("0", "false", "no", "off")
_EXPECTED = {int: "an integer", float: "a number", bool: "a boolean", str: "a string"}
_TOML_NAMES = dict(bool="boolean", int="integer", str="string", dict="table", list="array")


# Settings renamed since a release: (section, old name) -> new name; the old TOML key and
# HUB_* variable still work.
_RENAMED: dict[tuple[str, str], str] = {
    ("auth", "login_max_failures"): "login_free_failures",
    ("auth", "login_max_failures_per_ip"): "login_free_failures_per_address",
    ("auth", "login_window_seconds"): "login_forget_after_seconds",
}


@dataclass(frozen=True, kw_only=True, slots=True)
class ServerConfig:
    """HTTP server: bind address, public URL and request limits."""

    host: str = setting("127.0.0.1", NOT_EMPTY)
    port: int = setting(8080, between(1, 65535))
    public_url: str = setting("", HTTP_URL)
    max_body_bytes: int = setting(1_048_576, POSITIVE)
    max_inbound_batch: int = setting(500, POSITIVE)
    behind_proxy: bool = setting(False)  # trust X-Forwarded-Proto/-For from the proxy


@dataclass(frozen=True, kw_only=True, slots=True)
class StoreConfig:
    """Where and how data is stored (SQLite file or MongoDB)."""

    url: str = setting("sqlite:///var/hub.db", store_url)
    synchronous: str = setting("full", one_of("full", "normal"))
    batch_max: int = setting(256, between(1, 10_000))
    connect_timeout_seconds: float = setting(5.0, POSITIVE)


@dataclass(frozen=True, kw_only=True, slots=True)
class IdentityConfig:
    """How customer addresses are normalised."""

    default_region: str = setting("US", REGION)


@dataclass(frozen=True, kw_only=True, slots=True)
class IngestConfig:
    """How inbound messages join conversations."""

    reopen_window_seconds: int = setting(604_800, between(0))


@dataclass(frozen=True, kw_only=True, slots=True)
class OutboxConfig:
    """Retry policy of the outgoing message queue."""

    max_attempts: int = setting(6, between(1))
    base_delay_seconds: float = setting(2.0, POSITIVE)
    max_delay_seconds: float = setting(300.0, not_below_base)
    poll_seconds: float = setting(5.0, POSITIVE)


@dataclass(frozen=True, kw_only=True, slots=True)
class EventsConfig:
    """Live event fan-out to browsers and API clients."""

    queue_size: int = setting(1000, POSITIVE)
    replay_size: int = setting(10_000, between(0))


@dataclass(frozen=True, kw_only=True, slots=True)
class RoutingConfig:
    """How new conversations are assigned to agents."""

    policy: str = setting("round_robin", one_of("round_robin", "manual"))


@dataclass(frozen=True, kw_only=True, slots=True)
class PresenceConfig:
    """When agents count as online (for offline mode and, later, routing)."""

    offline_grace_seconds: float = setting(30.0, between(0, 3600))


@dataclass(frozen=True, kw_only=True, slots=True)
class AuthConfig:
    """Agent sign-in: session lifetime, idle timeout and sign-in throttling."""

    session_lifetime_seconds: int = setting(604_800, between(60))
    session_idle_seconds: int = setting(28_800, between(60))
    # throttling (hub/web/ratelimit.py): free failures, then a delay doubling per failure
    login_free_failures: int = setting(5, between(1))  # per account and address
    login_free_failures_per_address: int = setting(20, between(1))
    login_free_failures_per_account: int = setting(10, between(1))
    login_first_delay_seconds: float = setting(1.0, between(0.001, 3600))
    login_max_delay_seconds: int = setting(900, between(1, 86_400), not_below_first_delay)
    login_max_account_delay_seconds: int = setting(30, between(0, 3600))  # 0: none
    login_forget_after_seconds: int = setting(86_400, between(1), not_below_max_delay)


@dataclass(frozen=True, kw_only=True, slots=True)
class AccessConfig:
    """Who may see and change what: the customer access policy (hub/customer_access.py)."""

    customers: str = setting("shared", one_of("shared", "team"))


@dataclass(frozen=True, kw_only=True, slots=True)
class LogConfig:
    """Logging."""

    level: str = setting("INFO", one_of("DEBUG", "INFO", "WARNING", "ERROR"))


@dataclass(frozen=True, kw_only=True, slots=True)
class DemoConfig:
    """The demo administrator created by the demo seed."""

    admin_email: str = setting("admin@demo.test", EMAIL)
    admin_name: str = setting("Demo Admin", NOT_EMPTY)


@dataclass(frozen=True, kw_only=True, slots=True)
class Secrets:
    """Secrets, read from the environment only (HUB_<NAME>); never printed."""

    secret_key: str = field(default="", repr=False)
    demo_admin_password: str = field(default="", repr=False)

    @property
    def has_secret_key(self) -> bool:
        """Whether HUB_SECRET_KEY was set to a non-empty value."""
        return bool(self.secret_key)


@dataclass(frozen=True, kw_only=True, slots=True)
class HubConfig:
    """The whole hub configuration: one dataclass per TOML section, plus the secrets."""

    server: ServerConfig = field(default_factory=ServerConfig)
    store: StoreConfig = field(default_factory=StoreConfig)
    identity: IdentityConfig = field(default_factory=IdentityConfig)
    ingest: IngestConfig = field(default_factory=IngestConfig)
    outbox: OutboxConfig = field(default_factory=OutboxConfig)
    events: EventsConfig = field(default_factory=EventsConfig)
    routing: RoutingConfig = field(default_factory=RoutingConfig)
    presence: PresenceConfig = field(default_factory=PresenceConfig)
    auth: AuthConfig = field(default_factory=AuthConfig)
    access: AccessConfig = field(default_factory=AccessConfig)
    log: LogConfig = field(default_factory=LogConfig)
    demo: DemoConfig = field(default_factory=DemoConfig)
    secrets: Secrets = field(default_factory=Secrets)


def sections() -> dict[str, type]:
    """The file/env configurable sections of HubConfig: section name → dataclass."""
    hints = typing.get_type_hints(HubConfig)
    return {f.name: hints[f.name] for f in dataclasses.fields(HubConfig) if f.name != "secrets"}


def setting_types(section: type) -> dict[str, type]:
    """The settings of one section dataclass: field name → type (int, float, bool or str)."""
    hints = typing.get_type_hints(section)
    return {f.name: hints[f.name] for f in dataclasses.fields(section)}


def env_name(section: str, name: str) -> str:
    """The environment variable that overrides `section.name`, e.g. HUB_SERVER_PORT."""
    return f"HUB_{section}_{name}".upper()


def secret_env_name(name: str) -> str:
    """The environment variable a secret is read from, e.g. HUB_SECRET_KEY."""
    return f"HUB_{name}".upper()


def _toml_type(value: Any) -> str:
    return _TOML_NAMES.get(type(value).__name__, type(value).__name__)


def _from_toml(key: str, value: Any, kind: type) -> Any:
    """Check a TOML value against the field type; ints are accepted as floats, bools never."""
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if not isinstance(value, kind) or (kind is not bool and isinstance(value, bool)):
        raise ConfigError(key, f"must be {_EXPECTED[kind]}, got {_toml_type(value)} {value!r}")
    return value


def _from_env(var: str, text: str, kind: type) -> Any:
    """Parse an environment variable's text as the field type."""
    if kind is str:
        return text
    raw = text.strip().lower()
    if kind is bool:
        if raw not in _TRUE + _FALSE:
            raise ConfigError(var, f"must be one of 1/0/true/false/yes/no/on/off, got {text!r}")
        return raw in _TRUE
    try:
        return kind(raw)
    except ValueError:
        raise ConfigError(var, f"must be {_EXPECTED[kind]}, got {text!r}") from None


def _secret_env_for(name: str, section: str = "") -> str | None:
    """The env var to use instead of a secret-looking TOML key, or None if it is no secret."""
    names = [f.name for f in dataclasses.fields(Secrets)]
    for candidate in (f"{section}_{name}".lower(), name.lower()):
        if candidate in names:
            return secret_env_name(candidate)
    if not any(word in name.lower() for word in _SECRET_WORDS):
        return None
    words = set(name.lower().split("_"))
    return secret_env_name(max(names, key=lambda n: len(words & set(n.split("_")))))


def _secret_error(key: str, var: str) -> ConfigError:
    return ConfigError(key, f"secrets come from the environment only; set {var}")


def _unknown(key: str, what: str, known: list[str]) -> ConfigError:
    close = difflib.get_close_matches(key.rpartition(".")[2], known, n=1)
    hint = f"did you mean {close[0]!r}?" if close else f"known: {', '.join(known)}"
    return ConfigError(key, f"unknown {what}; {hint}")


def _apply_file(path: Path, values: dict[str, dict[str, Any]]) -> None:
    """Merge one TOML file into `values`, rejecting secrets, unknown keys and wrong types."""
    try:
        with path.open("rb") as fh:
            data = tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(str(path), str(exc)) from None
    except OSError as exc:
        raise ConfigError(str(path), f"cannot read: {exc.strerror or exc}") from None
    known = sections()
    for name, table in data.items():
        if name not in known:
            inner = next(iter(table), "") if isinstance(table, dict) else ""
            if var := _secret_env_for(inner) or _secret_env_for(name) or "":
                raise _secret_error(f"{name}.{inner}" if inner else name, var)
            raise _unknown(name, "section", list(known))
        if not isinstance(table, dict):
            raise ConfigError(name, f"must be a table, got {_toml_type(table)} {table!r}")
        types = setting_types(known[name])
        for old_key, value in table.items():
            key = _RENAMED.get((name, str(old_key)), str(old_key))
            dotted = f"{name}.{key}"
            if key not in types:
                if var := _secret_env_for(key, name) or "":
                    raise _secret_error(dotted, var)
                raise _unknown(dotted, "setting", list(types))
            values[name][key] = _from_toml(dotted, value, types[key])


def _apply_env(env: Mapping[str, str], values: dict[str, dict[str, Any]]) -> None:
    """Merge HUB_<SECTION>_<FIELD> variables into `values`; other HUB_* variables are ignored."""
    for (section, old_name), name in _RENAMED.items():
        if (var := env_name(section, old_name)) in env:
            kind = setting_types(sections()[section])[name]
            values[section][name] = _from_env(var, env[var], kind)
    for section, cls in sections().items():
        for name, kind in setting_types(cls).items():
            var = env_name(section, name)
            if var in env:  # the new name wins over the old one
                values[section][name] = _from_env(var, env[var], kind)


def _build(section: str, cls: type, raw: dict[str, Any]) -> Any:
    """Construct one section dataclass and run every field's checks."""
    obj = cls(**raw)
    for f in dataclasses.fields(cls):
        value = getattr(obj, f.name)
        if isinstance(value, float) and not math.isfinite(value):
            raise ConfigError(f"{section}.{f.name}", f"must be a finite number, got {value}")
        for check in f.metadata.get("checks", ()):
            if problem := check(value, obj):
                raise ConfigError(f"{section}.{f.name}", problem)
    return obj


def load_config(
    files: Sequence[Path] | None = None, env: Mapping[str, str] | None = None
) -> HubConfig:
    """Load defaults, config/hub.toml, `files` (or $HUB_CONFIG), then HUB_* env overrides."""
    env = os.environ if env is None else env
    defaults = Path(__file__).resolve().parent.parent / "config" / "hub.toml"
    paths = [defaults] if defaults.is_file() else []
    if files is not None:
        paths += [Path(p) for p in files]
    elif env.get("HUB_CONFIG"):
        if not Path(env["HUB_CONFIG"]).is_file():
            raise ConfigError("HUB_CONFIG", f"file not found: {env['HUB_CONFIG']}")
        paths.append(Path(env["HUB_CONFIG"]))
    values: dict[str, dict[str, Any]] = {name: {} for name in sections()}
    for path in paths:
        if not path.exists():
            raise ConfigError(str(path), "file not found")
        _apply_file(path, values)
    _apply_env(env, values)
    built = {name: _build(name, cls, values[name]) for name, cls in sections().items()}
    secrets = {f.name: env.get(secret_env_name(f.name), "") for f in dataclasses.fields(Secrets)}
    return HubConfig(**built, secrets=Secrets(**secrets))
