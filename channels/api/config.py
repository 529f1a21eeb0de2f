"""Settings of an API-channel inbox (held in the inbox's config)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from hub.errors import InvalidInput


@dataclass(frozen=True, kw_only=True, slots=True)
class ApiInboxConfig:
    """webhook_url: where replies are POSTed as JSON; empty means integrators poll the API."""

    webhook_url: str = ""
    timeout_seconds: float = 10.0

    @classmethod
    def parse(cls, raw: Mapping[str, Any]) -> ApiInboxConfig:
        """From an inbox's config mapping, with a reason for bad values."""
        url = raw.get("webhook_url", "") or ""
        if not isinstance(url, str) or (url and not url.startswith(("http://", "https://"))):
            raise InvalidInput("webhook_url must be an http(s) URL", field="webhook_url")
        timeout = raw.get("timeout_seconds", 10.0)
        if not isinstance(timeout, int | float) or not 0 < timeout <= 60:
            raise InvalidInput("timeout_seconds must be in (0, 60]", field="timeout_seconds")
        return cls(webhook_url=url, timeout_seconds=float(timeout))
