"""Store backends behind one protocol; `open_store` picks one from a URL."""

from __future__ import annotations

from hub.config import sqlite_path
from hub.errors import ConfigError
from hub.store.base import Store


def create_store(url: str, *, synchronous: str = "full", batch_max: int = 256) -> Store:
    """A (not yet opened) store for the URL."""
    if url.startswith("sqlite://"):
        from hub.store.sqlite.store import SqliteStore

        return SqliteStore(sqlite_path(url), synchronous=synchronous, batch_max=batch_max)
    if url.startswith(("mongodb://", "mongodb+srv://")):
        raise ConfigError("store.url", "the MongoDB store is not available in this build yet")
    raise ConfigError("store.url", f"unsupported store URL scheme in {url!r}")


__all__ = ["Store", "create_store"]
