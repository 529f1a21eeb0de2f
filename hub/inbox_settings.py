"""Secret inbox settings: which ones a channel declares, how edits apply, and who sees what.

A channel lists its secret settings in `secret_settings` (e.g. the web chat's
`identity_secret`); core code never names one. In the store a secret value is only ever the
sealed form (hub/settings_crypto.py). Channels get the decrypted settings through `reveal`;
people get `redacted` ones: nothing for an agent, `{"set": true|false}` for an admin.

An edit's secret value is a string (replace it), null or "" (clear it), or the `{"set": ...}`
marker an admin was shown (keep it); a secret left out of an edit keeps its current value,
because nobody can read it back to send it again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from hub.errors import InvalidInput
from hub.model import Inbox
from hub.settings_crypto import SecretUnreadable, SettingsCipher, is_sealed

log = logging.getLogger(__name__)
MAX_SECRET_CHARS = 4096
SET_MARKER = "set"  # {"set": true}: what an admin sees instead of a secret value

SettingsCheck = Callable[[Mapping[str, Any]], None]


@dataclass(frozen=True, kw_only=True, slots=True)
class ChannelSettingsRules:
    """What one channel declares about its inbox settings."""

    secrets: frozenset[str] = frozenset()
    check: SettingsCheck | None = None  # InvalidInput for settings the channel cannot use


def rules_of(channel: object) -> ChannelSettingsRules:
    """A channel's (class or instance) declared secret settings and settings check."""
    secrets = frozenset(getattr(channel, "secret_settings", frozenset()))
    check = getattr(channel, "check_settings", None)
    return ChannelSettingsRules(secrets=secrets, check=check if callable(check) else None)


@dataclass(frozen=True, kw_only=True, slots=True)
class SettingsEdit:
    """An inbox settings edit, split: plain settings, and the secrets it replaces or clears."""

    plain: dict[str, Any]
    secrets: dict[str, str | None] = field(default_factory=dict)  # None: clear; absent: keep


def _is_marker(value: object) -> bool:
    return isinstance(value, Mapping) and set(value) == {SET_MARKER}


class InboxSettings:
    """The hub's secret-settings policy: one cipher and every channel's declarations."""

    def __init__(self, cipher: SettingsCipher, rules: Mapping[str, ChannelSettingsRules]) -> None:
        self.cipher = cipher
        self._rules = dict(rules)

    @classmethod
    def for_channels(cls, hub_secret: bytes, channels: Mapping[str, object]) -> InboxSettings:
        """The policy for these channels (classes or instances, by name)."""
        return cls(SettingsCipher(hub_secret), {n: rules_of(c) for n, c in channels.items()})

    def __repr__(self) -> str:
        return f"InboxSettings(channels={sorted(self._rules)})"

    def secret_names(self, channel: str) -> frozenset[str]:
        """The secret settings of a channel's inboxes (none for an unknown channel)."""
        rules = self._rules.get(channel)
        return rules.secrets if rules is not None else frozenset()

    def split(self, channel: str, incoming: Mapping[str, Any]) -> SettingsEdit:
        """Separate the secrets of an edit from its plain settings; InvalidInput if malformed."""
        names = self.secret_names(channel)
        plain = {k: v for k, v in incoming.items() if k not in names}
        secrets: dict[str, str | None] = {}
        for name in names & set(incoming):
            value = incoming[name]
            if _is_marker(value):
                continue  # what GET showed: keep the current value
            if value is None or value == "":
                secrets[name] = None
            elif isinstance(value, str) and len(value) <= MAX_SECRET_CHARS:
                secrets[name] = value
            else:
                raise InvalidInput(
                    f"{name} is a secret: give a string of at most {MAX_SECRET_CHARS} characters"
                    ", null to clear it, or leave it out to keep it",
                    field=name,
                )
        return SettingsEdit(plain=plain, secrets=secrets)

    def _open_all(self, inbox_id: str, channel: str, stored: Mapping[str, Any]) -> dict[str, str]:
        opened = {}
        for name in self.secret_names(channel) & set(stored):
            try:
                opened[name] = self.cipher.open(stored[name], inbox_id=inbox_id, name=name)
            except SecretUnreadable as exc:
                # the reason names the inbox and setting, never the value
                log.warning("secret setting ignored: %s", exc.message)
        return opened

    def check(self, channel: str, edit: SettingsEdit, current: Inbox | None) -> None:
        """Run the channel's own check on the settings as they will be (secrets decrypted)."""
        rules = self._rules.get(channel)
        if rules is None or rules.check is None:
            return
        kept = self._open_all(current.id, channel, current.config) if current else {}
        merged: dict[str, Any] = {**edit.plain, **kept}
        for name, value in edit.secrets.items():
            if value is None:
                merged.pop(name, None)
            else:
                merged[name] = value
        rules.check(merged)

    def stored_config(
        self, edit: SettingsEdit, *, inbox_id: str, channel: str, current: Mapping[str, Any]
    ) -> dict[str, Any]:
        """The config to store: the plain settings, kept secrets, and new ones sealed."""
        config = dict(edit.plain)
        for name in self.secret_names(channel):
            if name in edit.secrets:
                value = edit.secrets[name]
                if value is not None:
                    config[name] = self.cipher.seal(value, inbox_id=inbox_id, name=name)
            elif name in current:
                config[name] = current[name]
        return config

    def reveal(self, inbox: Inbox) -> Inbox:
        """The inbox with its secrets decrypted, for its channel; unreadable ones are left out."""
        names = self.secret_names(inbox.channel) & set(inbox.config)
        if not names:
            return inbox
        config = {k: v for k, v in inbox.config.items() if k not in names}
        config.update(self._open_all(inbox.id, inbox.channel, inbox.config))
        return replace(inbox, config=config)

    def redacted(self, inbox: Inbox, *, admin: bool) -> Inbox:
        """What a person may see: no secret for an agent, only set/not set for an admin."""
        names = self.secret_names(inbox.channel)
        config: dict[str, Any] = {k: v for k, v in inbox.config.items() if k not in names}
        if admin:
            for name in sorted(names):
                config[name] = {SET_MARKER: bool(inbox.config.get(name))}
        return replace(inbox, config=config)

    def plaintext_left(self, inbox: Inbox) -> dict[str, Any] | None:
        """The inbox's config with plaintext secrets (from before encryption) sealed, or None
        if there is none."""
        names = self.secret_names(inbox.channel)
        found = [n for n in names if n in inbox.config and not is_sealed(inbox.config[n])]
        if not found:
            return None
        config = dict(inbox.config)
        for name in found:
            value = config[name]
            if isinstance(value, str) and value:
                config[name] = self.cipher.seal(value, inbox_id=inbox.id, name=name)
            else:
                del config[name]  # an empty or non-string "secret" means none is set
        return config


def installed_inbox_settings(hub_secret: bytes) -> InboxSettings:
    """The policy of every installed channel (for the CLI and for actions run without the app)."""
    from hub.channel import installed_channels  # the channel module imports the web layer

    return InboxSettings.for_channels(hub_secret, installed_channels())
