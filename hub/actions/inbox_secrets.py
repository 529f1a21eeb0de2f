"""Stored secret settings as a whole: seal plaintext left by older releases, rotate the key.

    sealed = await do_seal_plaintext_secrets(ctx)          # at app start and `hub migrate`
    report = await do_rotate_secrets(ctx, new_cipher)       # `hub secrets rotate`

Each inbox is one write of its whole config, so a crash leaves every inbox either under the
old key or under the new one; a rotation run again picks up where it stopped.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from hub.actions.admin import inbox_settings
from hub.actions.context import ActionContext
from hub.events import EventType
from hub.settings_crypto import SecretUnreadable, SettingsCipher, is_sealed


async def do_seal_plaintext_secrets(ctx: ActionContext) -> int:
    """Encrypt every secret setting still stored in plain text; the number of inboxes changed."""
    settings = inbox_settings(ctx)
    changed = 0
    for inbox in await ctx.store.list_inboxes():
        config = settings.plaintext_left(inbox)
        if config is None:
            continue
        updated = await ctx.store.update_inbox(inbox.id, config=config)
        ctx.bus.publish(EventType.INBOX_UPDATED, {"inbox": updated})
        changed += 1
    return changed


@dataclass(kw_only=True, slots=True)
class RotationReport:
    """What a rotation did: values re-encrypted, already under the new key, and unreadable."""

    resealed: int = 0
    already_new: int = 0
    unreadable: list[str] = field(default_factory=list)  # "inbox <id> setting <name>"

    @property
    def ok(self) -> bool:
        return not self.unreadable


def _reseal(
    value: object, old: SettingsCipher, new: SettingsCipher, inbox_id: str, name: str
) -> tuple[str | None, str]:
    """(the value sealed under `new`, or None if unreadable; what happened)."""
    if isinstance(value, str) and value and not is_sealed(value):
        return new.seal(value, inbox_id=inbox_id, name=name), "resealed"  # pre-encryption
    if not isinstance(value, str):
        return None, "unreadable"
    try:
        plain = old.open(value, inbox_id=inbox_id, name=name)
    except SecretUnreadable:
        try:
            new.open(value, inbox_id=inbox_id, name=name)
        except SecretUnreadable:
            return None, "unreadable"
        return value, "already_new"  # a rotation that stopped half way is being re-run
    return new.seal(plain, inbox_id=inbox_id, name=name), "resealed"


async def do_rotate_secrets(ctx: ActionContext, new: SettingsCipher) -> RotationReport:
    """Re-encrypt every secret setting under `new`; a value neither key opens is reported and
    left as it is (never dropped)."""
    settings = inbox_settings(ctx)
    report = RotationReport()
    for inbox in await ctx.store.list_inboxes():
        names = settings.secret_names(inbox.channel) & set(inbox.config)
        config = dict(inbox.config)
        changed = False
        for name in sorted(names):
            sealed, outcome = _reseal(config[name], settings.cipher, new, inbox.id, name)
            if sealed is None:
                report.unreadable.append(f"inbox {inbox.id} setting {name}")
                continue
            if outcome == "already_new":
                report.already_new += 1
            else:
                report.resealed += 1
                config[name] = sealed
                changed = True
        if changed:
            updated = await ctx.store.update_inbox(inbox.id, config=config)
            ctx.bus.publish(EventType.INBOX_UPDATED, {"inbox": updated})
    return report
