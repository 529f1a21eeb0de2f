"""Frames out to one websocket, in order, without ever making the sender wait.

Frames pushed from elsewhere (the fan-out, a reply being sent) are queued and written by a
short-lived task; answers from the connection's own receive loop are written inline when
nothing is queued, so an idle connection holds no queue and no task. A visitor who falls
MAX_QUEUED_FRAMES behind is disconnected (1013): the widget reconnects and resumes.
"""

from __future__ import annotations

import asyncio
from collections import deque

from aiohttp import WSMsgType, web

MAX_QUEUED_FRAMES = 1_000


class FrameWriter:
    """The output side of a connection."""

    __slots__ = ("_closer", "_out", "_writer", "closed", "ws")

    def __init__(self, ws: web.WebSocketResponse) -> None:
        self.ws = ws
        self.closed = False
        self._out: deque[bytes] | None = None
        self._writer: asyncio.Task[None] | None = None
        self._closer: asyncio.Future[bool] | None = None

    def send(self, frame: bytes) -> None:
        """Queue a frame for the socket; never waits."""
        if self.closed:
            return
        if self._out is None:
            self._out = deque()
        if len(self._out) >= MAX_QUEUED_FRAMES:
            self._out.clear()
            self.closed = True
            self._closer = asyncio.ensure_future(
                self.ws.close(code=1013, message=b"too slow; resume")
            )
            return
        self._out.append(frame)
        if self._writer is None:
            self._writer = asyncio.get_running_loop().create_task(self._drain())

    async def _drain(self) -> None:
        try:
            while self._out and not self.closed:
                await self.ws.send_frame(self._out.popleft(), WSMsgType.TEXT)
        except (ConnectionError, RuntimeError):
            self.closed = True  # the receive loop sees the close and cleans up
        finally:
            self._writer = None
            self._out = None  # an idle connection keeps no queue

    async def reply(self, frame: bytes) -> None:
        """Answer from the receive loop: written at once when nothing is queued (no task)."""
        if self._writer is not None or self._out:
            self.send(frame)  # keep the order of what is already queued
            return
        if self.closed:
            return
        try:
            await self.ws.send_frame(frame, WSMsgType.TEXT)
        except (ConnectionError, RuntimeError):
            self.closed = True

    def stop_writing(self) -> None:
        """The socket closed: drop what is queued."""
        self.closed = True
        if self._writer is not None:
            self._writer.cancel()
