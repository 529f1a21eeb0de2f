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

from hub.config import HubConfig
from hub.config_checks import sqlite_path
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


def next_key_file(config: HubConfig) -> Path | None:
    """Where `hub secrets rotate` keeps the next key until the rotation is done."""
    path = secret_key_file(config)
    return path.with_name(KEY_FILE + ".next") if path is not None else None


def read_or_create_key(path: Path) -> tuple[bytes, bool]:
    """The key kept in `path`, or a new one written there first (mode 0600); (key, created).

    Written before anything is encrypted with it, so a rotation that stops half way can be
    finished by running it again: the values already re-encrypted open with this same key.
    """
    try:
        kept = path.read_text().strip()
    except FileNotFoundError:
        kept = ""
    except OSError as exc:
        raise ConfigError("secrets rotate", f"cannot read the next key {path}: {exc}") from None
    if kept:
        return kept.encode(), False
    key = secrets.token_urlsafe(48)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(key + "\n")
        fh.flush()
        os.fsync(fh.fileno())
    return key.encode(), True


def install_kept_key(config: HubConfig, next_path: Path) -> Path:
    """Make the next key the hub's kept key (an atomic rename); the kept key's path."""
    path = secret_key_file(config)
    if path is None:
        raise ConfigError("secrets rotate", "an in-memory hub keeps no key")
    os.replace(next_path, path)
    return path
