"""Settings of an API-channel inbox (held in the inbox's config)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from hub.errors import InvalidInput

# stored encrypted, never shown to agents; admins see only whether it is set
SECRET_SETTINGS = frozenset({"webhook_secret"})
MIN_WEBHOOK_SECRET = 16  # characters; `python -c "import secrets; print(secrets.token_hex(32))"`


@dataclass(frozen=True, kw_only=True, slots=True)
class ApiInboxConfig:
    """webhook_url: where replies are POSTed as JSON; empty means integrators poll the API.

    webhook_secret: the HMAC-SHA256 key every delivery is signed with (docs/webhooks.md);
    an inbox with a webhook_url must have one.
    """

    webhook_url: str = ""
    webhook_secret: str = field(default="", repr=False)
    timeout_seconds: float = 10.0

    @classmethod
    def parse(cls, raw: Mapping[str, Any]) -> ApiInboxConfig:
        """From an inbox's config mapping, with a reason for bad values."""
        url = raw.get("webhook_url", "") or ""
        if not isinstance(url, str) or (url and not url.startswith(("http://", "https://"))):
            raise InvalidInput("webhook_url must be an http(s) URL", field="webhook_url")
        secret = raw.get("webhook_secret", "") or ""
        if not isinstance(secret, str) or (secret and len(secret) < MIN_WEBHOOK_SECRET):
            raise InvalidInput(
                f"webhook_secret must be at least {MIN_WEBHOOK_SECRET} characters",
                field="webhook_secret",
            )
        timeout = raw.get("timeout_seconds", 10.0)
        if not isinstance(timeout, int | float) or not 0 < timeout <= 60:
            raise InvalidInput("timeout_seconds must be in (0, 60]", field="timeout_seconds")
        return cls(webhook_url=url, webhook_secret=secret, timeout_seconds=float(timeout))


def check_settings(settings: Mapping[str, Any]) -> None:
    """InvalidInput for settings the channel cannot use: a webhook needs a signing secret."""
    config = ApiInboxConfig.parse(settings)
    if config.webhook_url and not config.webhook_secret:
        raise InvalidInput(
            "a webhook_url needs a webhook_secret (at least "
            f"{MIN_WEBHOOK_SECRET} characters): every delivery is signed with it, "
            "and the receiver checks the signature (docs/webhooks.md)",
            field="webhook_secret",
        )
