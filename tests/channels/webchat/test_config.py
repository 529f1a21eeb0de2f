"""A web-chat inbox's settings: defaults, and a reason for every bad value."""

from __future__ import annotations

import pytest

from channels.webchat.config import WebchatInboxConfig
from hub.errors import InvalidInput


def test_empty_config_gives_the_defaults() -> None:
    config = WebchatInboxConfig.parse({})
    assert config == WebchatInboxConfig()
    assert config.require_identity is False
    assert config.token_ttl_seconds == 30 * 86_400


def test_settings_are_read() -> None:
    config = WebchatInboxConfig.parse(
        {
            "title": "Help",
            "identity_secret": "s" * 16,
            "require_identity": True,
            "visitor_burst": 5,
            "ip_connect_per_second": 0.5,
            "ip_max_connections": 10,
            "allowed_origins": ["https://shop.example/"],
        }
    )
    assert (config.title, config.require_identity, config.visitor_burst) == ("Help", True, 5)
    assert (config.ip_connect_per_second, config.ip_max_connections) == (0.5, 10)
    assert config.allowed_origins == ("https://shop.example",)


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        ({"require_identity": True}, "identity_secret"),
        ({"require_identity": "yes"}, "require_identity"),
        ({"max_message_chars": 0}, "max_message_chars"),
        ({"max_message_chars": 100_000}, "max_message_chars"),
        ({"visitor_burst": True}, "visitor_burst"),
        ({"ip_connect_per_second": "fast"}, "ip_connect_per_second"),
        ({"ip_max_connections": 0}, "ip_max_connections"),
        ({"ip_connect_burst": 0.5}, "ip_connect_burst"),
        ({"title": "x" * 101}, "title"),
        ({"allowed_origins": "https://a.example"}, "allowed_origins"),
        ({"allowed_origins": ["ftp://a.example"]}, "allowed_origins"),
    ],
)
def test_bad_values_are_refused_with_the_field(raw: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        WebchatInboxConfig.parse(raw)
    assert caught.value.details["field"] == field
