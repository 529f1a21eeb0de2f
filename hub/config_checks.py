"""The checks hub/config.py declares its settings with: each field's default and its rules."""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import field
from typing import Any

import phonenumbers

from hub.errors import ConfigError

# A check gets a field's value and its whole section; it returns a problem, or None if fine.
Check = Callable[[Any, Any], str | None]


def setting(default: Any, *checks: Check) -> Any:
    """A dataclass field with a default and the checks its value must pass."""
    return field(default=default, metadata={"checks": checks})


def rule(ok: Callable[[Any], Any], problem: str) -> Check:
    """A check from a predicate and a problem template ({v} is the value)."""
    return lambda v, _section: None if ok(v) else problem.format(v=v)


def between(low: float, high: float = math.inf) -> Check:
    bound = f"between {low} and {high}" if high < math.inf else f">= {low}"
    return rule(lambda v: low <= v <= high, f"must be {bound}, got {{v}}")


def one_of(*choices: str) -> Check:
    allowed = ", ".join(repr(c) for c in choices)
    return rule(lambda v: v in choices, f"must be one of {allowed}, got {{v!r}}")


POSITIVE = rule(lambda v: v > 0, "must be > 0, got {v}")
NOT_EMPTY = rule(lambda v: v.strip(), "must not be empty")
HTTP_URL = rule(
    lambda v: not v or v.startswith(("http://", "https://")),
    "must be empty or start with http:// or https://, got {v!r}",
)
REGION = rule(
    lambda v: re.fullmatch("[A-Z]{2}", v) and v in phonenumbers.SUPPORTED_REGIONS,
    "must be a two-letter uppercase region code known to phonenumbers, got {v!r}",
)
EMAIL = rule(lambda v: "@" in v.strip("@"), "must be an email address, got {v!r}")


def redact(url: str) -> str:
    """Hide the user:password part of a URL so it never reaches a log."""
    return re.sub(r"//[^/@]*@", "//***@", url)


def store_url(value: Any, _section: Any) -> str | None:
    if value.startswith("sqlite://"):
        try:
            sqlite_path(value)
        except ConfigError as exc:
            return exc.problem
        return None
    if value.startswith(("mongodb://", "mongodb+srv://")) and not value.endswith("//"):
        return None
    return f"must start with sqlite:// or mongodb:// or mongodb+srv://, got {redact(value)!r}"


def not_below_base(value: Any, section: Any) -> str | None:
    base = section.base_delay_seconds
    return None if value >= base else f"must be >= base_delay_seconds ({base}), got {value}"


def not_below_first_delay(value: Any, section: Any) -> str | None:
    first = section.login_first_delay_seconds
    problem = f"must be >= login_first_delay_seconds ({first}), got {value}"
    return None if value >= first else problem


def not_below_max_delay(value: Any, section: Any) -> str | None:
    # forgetting sooner than the longest delay would hand a patient guesser fresh free tries
    longest = section.login_max_delay_seconds
    problem = f"must be >= login_max_delay_seconds ({longest}), got {value}"
    return None if value >= longest else problem


def sqlite_path(url: str) -> str:
    """The file path of a sqlite:// URL (relative to the working directory) or ':memory:'."""
    if not url.startswith("sqlite://"):
        raise ConfigError("store.url", f"not a sqlite:// url: {redact(url)!r}")
    rest = url.removeprefix("sqlite://")
    if rest == ":memory:":
        return rest
    path = rest[1:]
    if not rest.startswith("/") or not path or path.endswith("/"):
        problem = "must be sqlite:///relative/path, sqlite:////abs/path or sqlite://:memory:"
        raise ConfigError("store.url", f"{problem}, got {url!r}")
    return path
