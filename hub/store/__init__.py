"""Store backends behind one protocol; `create_store` picks one from a URL."""

from __future__ import annotations

from hub.config_checks import sqlite_path
from hub.errors import ConfigError
from hub.store.base import Store
from hub.store.urls import redact_url

DEFAULT_CONNECT_TIMEOUT = 5.0


def create_store(
    url: str,
    *,
    synchronous: str = "full",
    batch_max: int = 256,
    connect_timeout: float = DEFAULT_CONNECT_TIMEOUT,
) -> Store:
    """A (not yet opened) store for the URL."""
    if url.startswith("sqlite://"):
        from hub.store.sqlite.store import SqliteStore

        return SqliteStore(sqlite_path(url), synchronous=synchronous, batch_max=batch_max)
    if url.startswith(("mongodb://", "mongodb+srv://")):
        from hub.store.mongo import MongoStore

        return MongoStore(url, connect_timeout=connect_timeout)
    raise ConfigError("store.url", f"unsupported store URL scheme in {redact_url(url)!r}")


__all__ = ["Store", "create_store"]
