"""`hub secrets rotate`: re-encrypt every secret inbox setting under a new hub secret.

1. The next key is read from --next-key-file, or generated and written there (0600) first.
2. Every secret setting is re-encrypted under it, one inbox per write (do_rotate_secrets).
3. A hub whose key is the kept file gets the next key renamed over it; a hub configured with
   HUB_SECRET_KEY is told to set it to the next key (the command cannot change the
   environment). Either way the hub must be restarted to use it.

Run again after a crash, it finishes the job: values already under the next key are kept.
A value neither key opens is reported by inbox and setting (never its value), left as it
is, and the command exits 1 so the admin re-enters it.
"""

from __future__ import annotations

from pathlib import Path

from hub.actions import ActionContext
from hub.actions.inbox_secrets import RotationReport, do_rotate_secrets
from hub.config import HubConfig
from hub.errors import ConfigError
from hub.events import EventBus
from hub.inbox_settings import installed_inbox_settings
from hub.secret_key import install_kept_key, load_secret_key, next_key_file, read_or_create_key
from hub.settings_crypto import SettingsCipher
from hub.store.base import Store


async def rotate_hub_secret(
    config: HubConfig, store: Store, next_path: Path | None, *, out: list[str]
) -> RotationReport:
    """Rotate; the lines to print are appended to `out`."""
    path = next_path or next_key_file(config)
    if path is None:
        raise ConfigError("secrets rotate", "an in-memory hub has nothing to rotate")
    old = load_secret_key(config)
    new, created = read_or_create_key(path)
    if new == old:
        raise ConfigError("secrets rotate", f"{path} holds the current key: nothing to rotate")
    out.append(f"{'generated the next key in' if created else 'using the next key from'} {path}")
    ctx = ActionContext(store=store, bus=EventBus(), config=config)
    ctx.inbox_settings = installed_inbox_settings(old)
    report = await do_rotate_secrets(ctx, SettingsCipher(new))
    out.append(
        f"re-encrypted {report.resealed} secret setting(s); "
        f"{report.already_new} were already under the next key"
    )
    for where in report.unreadable:
        out.append(f"UNREADABLE under both keys, left as it is, set it again: {where}")
    if config.secrets.has_secret_key:
        out.append(
            f"HUB_SECRET_KEY is set in your config or environment: set it to the contents of "
            f"{path}, restart the hub, then delete {path}"
        )
    else:
        kept = install_kept_key(config, path)
        out.append(f"the hub's secret key in {kept} is now the new one: restart the hub")
    return report
