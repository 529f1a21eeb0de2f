"""Settings of a web-chat inbox (held in the inbox's config), typed and checked."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from hub.errors import InvalidInput

MAX_TEXT = 65_536  # the hub's own limit on a message's text (hub/actions/ingest.py)
# stored encrypted, never shown to agents; admins see only whether it is set
SECRET_SETTINGS = frozenset({"identity_secret"})


def _number(raw: Mapping[str, Any], name: str, default: float, low: float, high: float) -> float:
    value = raw.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
        raise InvalidInput(f"{name} must be a number in [{low}, {high}]", field=name)
    return float(value)


def _text(raw: Mapping[str, Any], name: str, default: str, limit: int = 500) -> str:
    value = raw.get(name, default)
    if not isinstance(value, str) or len(value) > limit:
        raise InvalidInput(f"{name} must be a string of at most {limit} characters", field=name)
    return value


@dataclass(frozen=True, kw_only=True, slots=True)
class WebchatInboxConfig:
    """How one website's chat behaves.

    identity_secret: HMAC-SHA256 key the site uses for `identifier_hash` (empty: no
    verification); require_identity: reject every frame of a visitor who is not verified.
    Limits: frames (all but hello) per visitor as a token bucket (burst, then per second);
    per client address, new connections as a token bucket (a repeated hello on one socket
    counts as a new connection) and a cap on open sockets; the longest message text and
    frame. wait_seconds_per_conversation feeds the queue's wait estimate. allowed_origins:
    pages allowed to open the chat (empty: any).
    """

    title: str = "Chat with us"
    greeting: str = "Hi! How can we help?"
    offline_message: str = "We are away right now. Leave your email and we will write back."
    identity_secret: str = ""
    require_identity: bool = False
    token_ttl_seconds: int = 30 * 86_400
    max_message_chars: int = 4_000
    max_frame_bytes: int = 16_384
    visitor_burst: int = 20
    visitor_per_second: float = 2.0
    # per client address (a whole office behind one NAT is one address); the reasons for
    # these numbers are in config/hub.example.toml, [webchat inbox settings]
    ip_connect_burst: int = 2_000
    ip_connect_per_second: float = 20.0
    ip_max_connections: int = 4_000
    wait_seconds_per_conversation: int = 180
    allowed_origins: tuple[str, ...] = ()

    @classmethod
    def parse(cls, raw: Mapping[str, Any]) -> WebchatInboxConfig:
        """From an inbox's config mapping (other keys ignored), with a reason for a bad value."""
        d = cls()  # the defaults (a slots dataclass keeps no class-level defaults)
        require = raw.get("require_identity", False)
        if not isinstance(require, bool):
            raise InvalidInput("require_identity must be true or false", field="require_identity")
        secret = _text(raw, "identity_secret", "", limit=256)
        if require and len(secret) < 16:
            raise InvalidInput(
                "require_identity needs an identity_secret of at least 16 characters",
                field="identity_secret",
            )
        origins = raw.get("allowed_origins", [])
        if not isinstance(origins, list | tuple) or not all(
            isinstance(o, str) and o.startswith(("http://", "https://")) for o in origins
        ):
            raise InvalidInput(
                "allowed_origins must be a list of http(s) origins", field="allowed_origins"
            )
        return cls(
            title=_text(raw, "title", d.title, limit=100),
            greeting=_text(raw, "greeting", d.greeting),
            offline_message=_text(raw, "offline_message", d.offline_message),
            identity_secret=secret,
            require_identity=require,
            token_ttl_seconds=int(_number(raw, "token_ttl_seconds", d.token_ttl_seconds, 60, 1e9)),
            max_message_chars=int(
                _number(raw, "max_message_chars", d.max_message_chars, 1, MAX_TEXT)
            ),
            max_frame_bytes=int(_number(raw, "max_frame_bytes", d.max_frame_bytes, 256, 1 << 20)),
            visitor_burst=int(_number(raw, "visitor_burst", d.visitor_burst, 1, 1e6)),
            visitor_per_second=_number(raw, "visitor_per_second", d.visitor_per_second, 0, 1e6),
            ip_connect_burst=int(_number(raw, "ip_connect_burst", d.ip_connect_burst, 1, 1e7)),
            ip_connect_per_second=_number(
                raw, "ip_connect_per_second", d.ip_connect_per_second, 0, 1e7
            ),
            ip_max_connections=int(
                _number(raw, "ip_max_connections", d.ip_max_connections, 1, 1e7)
            ),
            wait_seconds_per_conversation=int(
                _number(
                    raw, "wait_seconds_per_conversation", d.wait_seconds_per_conversation, 0, 1e6
                )
            ),
            allowed_origins=tuple(o.rstrip("/") for o in origins),
        )


def check_settings(settings: Mapping[str, Any]) -> None:
    """InvalidInput for web-chat settings the chat could not run with (checked on write)."""
    WebchatInboxConfig.parse(settings)
