"""One visitor connection from admission to close: admit, upgrade, serve its frames, release.

The frames themselves are served by VisitorSession (channels/webchat/socket.py).
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from aiohttp import WSMsgType, web

from channels.webchat.admission import address_key, admit
from channels.webchat.config import WebchatInboxConfig
from channels.webchat.frames import error_frame
from channels.webchat.socket import CLOSE_TIMEOUT, VisitorSession
from hub.model import Inbox
from hub.web.auth import client_ip

if TYPE_CHECKING:
    from channels.webchat.adapter import WebchatRuntime


async def serve_visitor(
    rt: WebchatRuntime,
    request: web.Request,
    inbox: Inbox,
    config: WebchatInboxConfig,
) -> web.StreamResponse:
    """Run one visitor connection until it closes (or refuse it with a 429)."""
    ip = client_ip(request)  # the proxy's view
    session_key = address_key(inbox.id, ip)
    refused = admit(rt, session_key, config)
    if refused is not None:
        return refused
    try:  # the slot is given back on every way out: refused upgrade, close, error, shutdown
        ws = web.WebSocketResponse(
            max_msg_size=max(65_536, 4 * config.max_frame_bytes),  # above: closed (1009)
            heartbeat=rt.heartbeat_seconds,
            compress=False,  # a deflate context per connection costs far more than it saves
            timeout=CLOSE_TIMEOUT,
        )
        await ws.prepare(request)
        session = VisitorSession(rt, ws, inbox, config, ip)
        rt.sessions.add(session)
        try:
            async for msg in ws:
                if msg.type == WSMsgType.TEXT:
                    await session.on_text(msg.data)
                elif msg.type == WSMsgType.BINARY:
                    session.send(error_frame("invalid_frame", "send JSON as text frames"))
        finally:
            session.close()
            rt.sessions.discard(session)
    finally:
        rt.slots.release(session_key)
    return ws


async def close_all(sessions: set[VisitorSession]) -> None:
    """Close every visitor connection at once (shutdown: widgets reconnect and resume)."""
    closing = [s.ws.close(code=1001, message=b"server shutting down") for s in list(sessions)]
    await asyncio.gather(*closing, return_exceptions=True)
