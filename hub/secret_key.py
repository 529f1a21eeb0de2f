"""The hub's secret key: HUB_SECRET_KEY, or one generated once and kept in a private file.

Signed things the hub hands out (web-chat visitor tokens) must stay valid across restarts,
so a dev hub started without HUB_SECRET_KEY (`make run`) generates a key at its first start
and keeps it next to its SQLite file, readable by the hub's user only.
"""

from __future__ import annotations

import logging
import os
import secrets
from pathlib import Path

from hub.config import HubConfig, sqlite_path
from hub.errors import ConfigError

log = logging.getLogger(__name__)
KEY_FILE = "secret_key"
FALLBACK_DIR = Path("var")  # MongoDB hubs without HUB_SECRET_KEY keep it here


def secret_key_file(config: HubConfig) -> Path | None:
    """Where a generated key is kept; None for an in-memory store (nothing outlives it)."""
    url = config.store.url
    if url.startswith("sqlite://"):
        path = sqlite_path(url)
        if path == ":memory:":
            return None
        return Path(path).parent / KEY_FILE
    return FALLBACK_DIR / KEY_FILE


def load_secret_key(config: HubConfig) -> bytes:
    """HUB_SECRET_KEY, else the kept key, else a new one (kept, and the fact logged)."""
    if config.secrets.has_secret_key:
        return config.secrets.secret_key.encode()
    path = secret_key_file(config)
    if path is None:
        log.warning("HUB_SECRET_KEY is not set; using a random key for this in-memory hub")
        return secrets.token_urlsafe(48).encode()
    try:
        kept = path.read_text().strip()
    except FileNotFoundError:
        kept = ""
    except OSError as exc:
        raise ConfigError("HUB_SECRET_KEY", f"cannot read the kept key {path}: {exc}") from None
    if kept:
        return kept.encode()
    key = secrets.token_urlsafe(48)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        # O_EXCL: two processes starting at once must not each write a different key
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip().encode() or key.encode()
    with os.fdopen(fd, "w") as fh:
        fh.write(key + "\n")
    log.warning(
        "HUB_SECRET_KEY is not set; generated a secret key and saved it to %s (mode 0600). "
        "Set HUB_SECRET_KEY in production.",
        path,
    )
    return key.encode()
