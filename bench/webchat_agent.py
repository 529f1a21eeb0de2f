"""The agent side of bench/webchat.py: a signed-in admin's /ws, timing message.created.

Signs in through the real form (GET /login for the CSRF token, POST /login), opens TABS
agent websockets (/ws, same Origin) and, on every "message.created" event, stamps the
message's text with the receive time. Clock: `bench.webchat.shared_clock` (CLOCK_MONOTONIC,
one clock for every process on this machine), the same one the visitor clients stamp their
sends with, so bench/webchat.py can join send and receive by message text.
Protocol with the parent: prints {"ready": tabs}; on "report N" it waits until N messages
were seen (at most 10 s) and prints {"received": {text: ns}, "resyncs": n} for the first tab
that got each text, then forgets them; on "quit" it closes.
Usage: `python bench/webchat_agent.py PORT EMAIL PASSWORD [TABS]`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import sys
from pathlib import Path

import aiohttp
import orjson

if __package__ in (None, ""):  # run as a script: make `bench` and `hub` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.webchat import shared_clock

_META = re.compile(r'<meta name="csrf-token" content="([^"]*)"')


async def sign_in(session: aiohttp.ClientSession, base: str, email: str, password: str) -> None:
    """Sign in as a browser does; the session cookie lands in the jar."""
    async with session.get(f"{base}/login") as r:
        found = _META.search(await r.text())
    if r.status != 200 or found is None:
        raise RuntimeError(f"GET /login answered {r.status} without a CSRF token")
    form = {"email": email, "password": password, "next": "", "csrf_token": found.group(1)}
    async with session.post(f"{base}/login", data=form, allow_redirects=False) as r:
        if r.status != 303:
            raise RuntimeError(f"sign-in failed: {r.status} {await r.text()}")


async def _agent(port: int, email: str, password: str, tabs: int) -> None:
    base = f"http://127.0.0.1:{port}"
    received: dict[str, int] = {}
    resyncs = 0
    seen = asyncio.Event()
    want = 0
    session = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))  # 127.0.0.1
    await sign_in(session, base, email, password)
    sockets = []
    for _ in range(tabs):
        ws = await session.ws_connect(f"{base}/ws", origin=base, max_msg_size=1 << 22)
        hello = orjson.loads((await ws.receive()).data)
        if hello["type"] != "hello":
            raise RuntimeError(f"expected hello, got {hello}")
        sockets.append(ws)

    async def read(ws: aiohttp.ClientWebSocketResponse) -> None:
        nonlocal resyncs
        async for msg in ws:
            if msg.type != aiohttp.WSMsgType.TEXT:
                break
            at = shared_clock()
            if '"message.created"' not in msg.data:
                if '"resync"' in msg.data:
                    resyncs += 1
                continue
            text = orjson.loads(msg.data)["data"]["message"]["text"]
            received.setdefault(text, at)
            if len(received) >= want:
                seen.set()

    readers = [asyncio.ensure_future(read(ws)) for ws in sockets]
    print(json.dumps({"ready": len(sockets)}), flush=True)
    loop = asyncio.get_running_loop()
    while True:
        words = (await loop.run_in_executor(None, sys.stdin.readline)).split()
        if not words or words[0] != "report":
            break
        want = int(words[1])
        if len(received) < want:
            seen.clear()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(10):
                    await seen.wait()
        print(json.dumps({"received": received, "resyncs": resyncs}), flush=True)
        received, resyncs = {}, 0
    for ws in sockets:
        with contextlib.suppress(Exception):
            await ws.close()
    for task in readers:
        task.cancel()
    await session.close()


def main() -> None:
    from hub.cli import _install_uvloop

    _install_uvloop()
    port, email, password = sys.argv[1:4]
    tabs = int(sys.argv[4]) if len(sys.argv) > 4 else 1
    asyncio.run(_agent(int(port), email, password, tabs))


if __name__ == "__main__":
    main()
