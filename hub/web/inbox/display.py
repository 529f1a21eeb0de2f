"""How the inbox shows things: channel badges, safe email HTML, mentions, times, links.

Registered as jinja2 filters and globals by `install_display` (hub/web/inbox/__init__.py).
Everything here returns plain text for the autoescaping templates, never Markup: customer
content stays escaped wherever it lands (sanitised email HTML too, as an iframe's srcdoc).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

import jinja2
import nh3

from hub.actions.mentions import agent_handle
from hub.model import as_utc


@dataclass(frozen=True, kw_only=True, slots=True)
class ChannelBadge:
    """What a channel looks like in the list and the timeline."""

    css: str  # a class from the fixed map (never the raw channel name)
    glyph: str
    label: str


# A display map, not behaviour: an unknown channel gets the generic badge with its own name.
CHANNEL_BADGES: dict[str, ChannelBadge] = {
    "email": ChannelBadge(css="ch-email", glyph="✉", label="Email"),
    "sms": ChannelBadge(css="ch-sms", glyph="SMS", label="SMS"),
    "whatsapp": ChannelBadge(css="ch-whatsapp", glyph="WA", label="WhatsApp"),
    "xmpp": ChannelBadge(css="ch-xmpp", glyph="IM", label="XMPP"),
    "webchat": ChannelBadge(css="ch-webchat", glyph="Chat", label="Web chat"),
    "api": ChannelBadge(css="ch-api", glyph="API", label="API"),
}

# What sanitised email HTML may keep: ammonia's safe default tags, absolute links only
EMAIL_URL_SCHEMES = {"http", "https", "mailto"}
SNIPPET_CHARS = 160


def channel_badge(channel: str) -> ChannelBadge:
    """The badge of a channel, or the generic one labelled with its name."""
    return CHANNEL_BADGES.get(channel) or ChannelBadge(
        css="ch-other", glyph=channel[:4].upper() or "?", label=channel
    )


def email_html(html: str | None) -> str:
    """Email HTML made safe to show in a sandboxed iframe: no script, handlers or styles,
    and no relative or script URLs (nh3). The result still goes through autoescaping."""
    if not html:
        return ""
    return nh3.clean(
        html,
        url_schemes=EMAIL_URL_SCHEMES,
        url_relative="deny",
        link_rel="noopener noreferrer nofollow",
    )


def safe_url(url: str | None) -> str | None:
    """The URL if it is http(s), else None (an attachment link must not run script)."""
    if not url:
        return None
    try:
        scheme = urlsplit(url).scheme.lower()
    except ValueError:
        return None
    return url if scheme in ("http", "https") else None


def snippet(text: str | None, length: int = SNIPPET_CHARS) -> str:
    """One line of at most `length` characters."""
    flat = " ".join((text or "").split())
    return flat if len(flat) <= length else flat[: length - 1] + "…"


def when(value: datetime | None) -> str:
    """A time as 'YYYY-MM-DD HH:MM' UTC (the page's script shows it in local time)."""
    return "" if value is None else as_utc(value).strftime("%Y-%m-%d %H:%M")


def iso(value: datetime | None) -> str:
    """A time in RFC 3339 (for <time datetime>)."""
    return "" if value is None else as_utc(value).isoformat().replace("+00:00", "Z")


def install_display(env: jinja2.Environment) -> None:
    """Make the inbox's display helpers available to every template."""
    env.filters.update(
        channel_badge=channel_badge,
        email_html=email_html,
        safe_url=safe_url,
        snippet=snippet,
        when=when,
        iso=iso,
    )
    env.globals.update(agent_handle=agent_handle)
