"""The Channel contract and the registry that enables channels by name."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol

from aiohttp import web

from hub.model import Inbound, Inbox, IngestResult, Outbound, Receipt


@dataclass(frozen=True, kw_only=True, slots=True)
class ChannelContext:
    """What the hub gives a channel at start: ingest is the only way in."""

    ingest: Callable[[Inbound], Awaitable[IngestResult]]
    config: Mapping[str, Any]
    get_inbox: Callable[[str], Awaitable[Inbox | None]]  # inbox settings, read when needed
    app: web.Application | None = None  # for channels that add webhook routes


class Channel(Protocol):
    """One customer channel: receives natively, ingests, and sends replies."""

    name: ClassVar[str]
    default_config: ClassVar[Mapping[str, Any]]

    async def start(self, ctx: ChannelContext) -> None:
        """Begin receiving (connect, subscribe, add routes)."""

    async def stop(self) -> None:
        """Stop receiving and release connections."""

    async def send(self, outbound: Outbound) -> Receipt:
        """Send one reply; raise hub.errors.SendError (permanent or not) on failure."""


_REGISTRY: dict[str, type[Channel]] = {}


def register(cls: type[Channel]) -> type[Channel]:
    """Class decorator: make a channel available by its name."""
    _REGISTRY[cls.name] = cls
    return cls


def channel_class(name: str) -> type[Channel]:
    """The registered channel class for a name (KeyError if none)."""
    _load_builtin()
    return _REGISTRY[name]


def channel_names() -> list[str]:
    """Names of every registered channel."""
    _load_builtin()
    return sorted(_REGISTRY)


def _load_builtin() -> None:
    import channels.api  # noqa: F401  (registers itself)
