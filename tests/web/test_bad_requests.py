"""Malformed HTTP requests: 400 each, and only a rate-limited warning line in the log."""

from __future__ import annotations

import asyncio
import logging

import pytest
from aiohttp.http_exceptions import BadHttpMessage, LineTooLong
from aiohttp.test_utils import TestClient

from hub.web.bad_requests import BadRequestLog

NUL_IN_HEADER = b"GET /healthz HTTP/1.1\r\nHost: hub.test\r\nX-Bad: a\x00b\r\n\r\n"
HUGE_HEADER = b"GET /healthz HTTP/1.1\r\nHost: hub.test\r\nX-Big: " + b"a" * 9216 + b"\r\n\r\n"


async def raw_status(port: int, request: bytes) -> int:
    """Send raw bytes over a fresh socket; the status code of the answer."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(request)
        await writer.drain()
        status_line = await asyncio.wait_for(reader.readline(), timeout=10)
    finally:
        writer.close()
    return int(status_line.split()[1])


async def test_malformed_requests_get_400_and_log_at_most_a_warning_line_or_two(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    port = client.server.port
    assert port is not None
    statuses = [await raw_status(port, NUL_IN_HEADER) for _ in range(50)]
    statuses += [await raw_status(port, HUGE_HEADER) for _ in range(50)]
    await asyncio.sleep(0.05)  # let the server finish logging the last ones
    assert statuses == [400] * 100
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert 1 <= len(warnings) <= 2
    assert "Malformed HTTP request" in warnings[0].getMessage()


def test_after_the_interval_one_line_counts_the_suppressed_ones(
    caplog: pytest.LogCaptureFixture,
) -> None:
    now = [0.0]
    log = BadRequestLog(logging.getLogger("test.bad_requests"), interval=60, clock=lambda: now[0])
    for _ in range(5):
        log.exception("Error handling request from %s", "192.0.2.1", exc_info=LineTooLong("x"))
    now[0] = 61
    log.exception("Error handling request from %s", "192.0.2.1", exc_info=BadHttpMessage("x"))
    lines = [r.getMessage() for r in caplog.records]
    assert lines == [
        "Malformed HTTP request from 192.0.2.1 refused (LineTooLong)",
        "Malformed HTTP request from 192.0.2.1 refused (BadHttpMessage); "
        "4 more since the last such line",
    ]


def test_other_server_errors_are_still_logged_with_their_traceback(
    caplog: pytest.LogCaptureFixture,
) -> None:
    log = BadRequestLog(logging.getLogger("test.bad_requests"))
    log.exception("Unhandled exception", exc_info=RuntimeError("boom"))
    assert [(r.levelno, r.exc_info is not None) for r in caplog.records] == [(logging.ERROR, True)]
