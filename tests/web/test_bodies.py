"""Request bodies the client garbled: a 400 naming why, and no ERROR traceback in the log."""

from __future__ import annotations

import asyncio
import logging

import orjson
import pytest
from aiohttp.test_utils import TestClient

from hub.keys import STORE_KEY
from hub.model import Role
from tests.conftest import World
from tests.web.signin import add_agent, sign_in

URLENCODED = "application/x-www-form-urlencoded"
MULTIPART = "multipart/form-data; boundary=XX"
# (Content-Type, Content-Encoding or "", body) as curl or a broken client sends them
GARBLED = {
    "gzip_garbage": (URLENCODED, "gzip", b"notgzip!!!"),
    "deflate_garbage": (URLENCODED, "deflate", b"notdeflate!!!"),
    "invalid_utf8": (URLENCODED, "", b"email=a&csrf_token=abc&password=\xff"),
    "unknown_charset": (URLENCODED + "; charset=nonexistent", "", b"email=a&csrf_token=abc"),
    "multipart_without_boundary": ("multipart/form-data", "", b"x"),
    "multipart_without_start_boundary": (MULTIPART, "", b"x"),
    "multipart_truncated_part": (
        MULTIPART,
        "",
        b'--XX\r\nContent-Disposition: form-data; name="csrf_token"\r\n\r\nabc',
    ),
    "multipart_part_without_name": (
        MULTIPART,
        "",
        b"--XX\r\nContent-Disposition: form-data\r\n\r\nabc\r\n--XX--\r\n",
    ),
    "multipart_part_in_unknown_charset": (
        MULTIPART,
        "",
        b'--XX\r\nContent-Disposition: form-data; name="csrf_token"\r\n'
        b"Content-Type: text/plain; charset=nonexistent\r\n\r\nabc\r\n--XX--\r\n",
    ),
    "multipart_part_with_unknown_transfer_encoding": (
        MULTIPART,
        "",
        b'--XX\r\nContent-Disposition: form-data; name="csrf_token"\r\n'
        b"Content-Transfer-Encoding: bogus\r\n\r\nabc\r\n--XX--\r\n",
    ),
}


def _headers(content_type: str, encoding: str, **extra: str) -> dict[str, str]:
    headers = {"Content-Type": content_type, **extra}
    if encoding:
        headers["Content-Encoding"] = encoding
    return headers


async def _no_error_logged(caplog: pytest.LogCaptureFixture) -> None:
    await asyncio.sleep(0.05)  # aiohttp drains the unread body after the answer: let it log
    records = [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]
    assert not records, [r.getMessage() for r in records]


@pytest.mark.parametrize("case", GARBLED)
async def test_a_garbled_sign_in_form_is_a_400_page_without_an_error_log(
    client: TestClient, caplog: pytest.LogCaptureFixture, case: str
) -> None:
    caplog.set_level(logging.INFO)
    content_type, encoding, body = GARBLED[case]
    headers = _headers(content_type, encoding, Cookie="hub_login_csrf=abc")
    resp = await client.post("/login", data=body, headers=headers, allow_redirects=False)
    assert resp.status == 400
    page = await resp.text()
    assert "<html" in page and "the request body could not be read" in page
    await _no_error_logged(caplog)


@pytest.mark.parametrize("case", GARBLED)
async def test_a_garbled_admin_form_is_a_400_page_and_changes_nothing(
    client: TestClient, caplog: pytest.LogCaptureFixture, case: str
) -> None:
    await add_agent(client, "admin@hub.test", role=Role.ADMIN)
    await sign_in(client, "admin@hub.test")
    caplog.set_level(logging.INFO)
    content_type, encoding, body = GARBLED[case]
    resp = await client.post(
        "/admin/teams", data=body, headers=_headers(content_type, encoding), allow_redirects=False
    )
    assert resp.status == 400
    assert "the request body could not be read" in await resp.text()
    assert await client.app[STORE_KEY].list_teams() == []
    await _no_error_logged(caplog)


@pytest.mark.parametrize("case", GARBLED)
async def test_a_garbled_form_sent_with_the_csrf_header_gets_a_json_400(
    client: TestClient, caplog: pytest.LogCaptureFixture, case: str
) -> None:
    # the token in the header: the page's own form reading meets the garbled body
    await add_agent(client, "admin@hub.test", role=Role.ADMIN)
    csrf = await sign_in(client, "admin@hub.test")
    caplog.set_level(logging.INFO)
    content_type, encoding, body = GARBLED[case]
    headers = _headers(content_type, encoding, **{"X-CSRF-Token": csrf})
    resp = await client.post("/admin/teams", data=body, headers=headers, allow_redirects=False)
    assert resp.status == 400
    error = (await resp.json())["error"]
    assert error["code"] == "malformed_body"
    assert error["message"].startswith("the request body could not be read: ")
    await _no_error_logged(caplog)


@pytest.mark.parametrize("encoding", ["gzip", "deflate"])
async def test_a_json_body_in_a_garbled_content_encoding_is_a_400_malformed_body(
    client: TestClient, world: World, caplog: pytest.LogCaptureFixture, encoding: str
) -> None:
    caplog.set_level(logging.INFO)
    headers = _headers("application/json", encoding, **world.auth("a"))
    resp = await client.post("/api/v1/tokens", data=b'{"name": "x"}', headers=headers)
    assert resp.status == 400
    error = (await resp.json())["error"]
    assert error["code"] == "malformed_body"
    assert f"'{encoding}'" in error["message"]
    await _no_error_logged(caplog)


async def test_a_json_body_arriving_in_pieces_is_read_whole(
    client: TestClient, world: World
) -> None:
    body = orjson.dumps({"name": "Ada " + "x" * 150, "tags": ["vip"]})
    head = (
        "POST /api/v1/customers HTTP/1.1\r\nHost: hub.test\r\nConnection: close\r\n"
        f"Authorization: {world.auth('admin')['Authorization']}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode()
    port = client.server.port
    assert port is not None
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(head + body[:40])
        await writer.drain()
        await asyncio.sleep(0.1)  # the handler is reading by now and has only the first piece
        writer.write(body[40:])
        await writer.drain()
        status_line = await asyncio.wait_for(reader.readline(), timeout=10)
    finally:
        writer.close()
    assert int(status_line.split()[1]) == 201


async def test_a_burst_of_garbled_bodies_logs_one_warning_line(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    statuses = []
    for case in GARBLED.values():
        content_type, encoding, body = case
        # a fresh connection each: after a garbled content encoding aiohttp closes the socket
        headers = _headers(content_type, encoding, Cookie="hub_login_csrf=abc", Connection="close")
        statuses.append((await client.post("/login", data=body, headers=headers)).status)
    await _no_error_logged(caplog)
    assert statuses == [400] * len(GARBLED)
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert warnings[0].startswith("Malformed request body on POST /login from 127.0.0.1 refused")
