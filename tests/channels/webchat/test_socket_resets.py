"""A visitor that resets its TCP connection mid-handshake is a disconnect, not a server error."""

from __future__ import annotations

import asyncio
import logging
import socket
import struct
import time

import pytest
from aiohttp.test_utils import TestClient

from hub.model import Inbox

UPGRADE = (
    "GET /api/v1/webchat/ws?inbox={inbox} HTTP/1.1\r\n"
    "Host: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
)


def _reset_after_upgrade_request(port: int, request: bytes, delay: float) -> None:
    sock = socket.create_connection(("127.0.0.1", port))
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.sendall(request)
    time.sleep(delay)  # the server is now in the handler, or about to be
    sock.close()  # linger 0: an RST, at once


async def test_resets_during_the_handshake_log_no_error(
    client: TestClient, inbox: Inbox, caplog: pytest.LogCaptureFixture
) -> None:
    port = client.server.port
    assert port is not None
    request = UPGRADE.format(inbox=inbox.id).encode()
    with caplog.at_level(logging.INFO):
        for i in range(40):  # at several points of the handshake
            await asyncio.to_thread(_reset_after_upgrade_request, port, request, (i % 8) / 2000)
        await asyncio.sleep(0.5)  # let the server notice every reset
        resp = await client.get("/healthz")  # and it still serves
        assert resp.status == 200
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert not errors, [r.getMessage() for r in errors]
    assert not [r for r in caplog.records if r.exc_info]
