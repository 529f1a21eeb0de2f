"""One load-generator process of bench/webchat.py: holds widget connections, sends, times acks.

Protocol with the parent (JSON lines on stdout, words on stdin): after opening its
connections (hello -> welcome) it prints {"ready", "failed"}; on each "go" it runs a paced
phase and prints {"latencies", "sent", "lost", "errors", "rate", "stamps"} (the first phase
sends one message per connection, the second RATE x SECONDS); on the third "go" it drops
every connection and reconnects them all at once, as widgets do after a restart (hello with
the visitor's token -> welcome, then resume after the last acked message -> history), and
reports the same keys (latency: connect -> history; rate: reconnections per second); on
"quit" it closes everything.
Each message's text is unique across the client processes ("hi INDEX.CLIENT_ID"); "stamps"
maps it to its send time on `shared_clock`, which bench/webchat_agent.py also uses, so the
parent can time visitor send -> agent receive.
Usage: `python bench/webchat_client.py PORT INBOX CONNECTIONS RATE SECONDS [INDEX]`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
from pathlib import Path

import aiohttp
import orjson

if __package__ in (None, ""):  # run as a script: make `bench` and `hub` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.webchat import CONNECT_CONCURRENCY, WS_PATH, raise_nofile
from bench.webchat import shared_clock as now_ns


class Conn:
    """One widget: its socket, the token its welcome gave, the last message id acked."""

    __slots__ = ("last_id", "token", "ws")

    def __init__(self, ws: aiohttp.ClientWebSocketResponse, token: str) -> None:
        self.ws = ws
        self.token = token
        self.last_id: str | None = None


async def _client(
    port: int, inbox: str, count: int, rate: float, seconds: float, index: int
) -> None:
    """Hold `count` connections; on "go" send `rate` msg/s for `seconds`; report latencies."""
    raise_nofile()
    url = f"http://127.0.0.1:{port}{WS_PATH}?inbox={inbox}"
    sent_at: dict[str, int] = {}
    stamps: dict[str, int] = {}  # message text -> send time, for the agent-side latency
    latencies: list[float] = []
    errors: dict[str, int] = {}
    connector = aiohttp.TCPConnector(limit=0)
    session = aiohttp.ClientSession(connector=connector)
    sockets: list[Conn] = []
    gate = asyncio.Semaphore(CONNECT_CONCURRENCY)
    readers: list[asyncio.Task[None]] = []
    finished, all_acked = asyncio.Event(), asyncio.Event()

    async def read(conn: Conn) -> None:
        async for msg in conn.ws:
            if msg.type != aiohttp.WSMsgType.TEXT:
                break
            frame = orjson.loads(msg.data)
            if frame["type"] == "ack":
                conn.last_id = frame.get("id", conn.last_id)
                start = sent_at.pop(frame["client_id"], None)
                if start is not None:
                    latencies.append((now_ns() - start) / 1e6)
                if finished.is_set() and not sent_at:
                    all_acked.set()
            elif frame["type"] == "error":
                errors[frame["code"]] = errors.get(frame["code"], 0) + 1

    async def until(ws: aiohttp.ClientWebSocketResponse, kind: str) -> dict[str, object]:
        """The next frame of this type (the hub may send status frames first)."""
        while True:
            msg = await ws.receive()
            if msg.type not in (aiohttp.WSMsgType.TEXT, aiohttp.WSMsgType.BINARY):
                raise ConnectionError(f"closed while waiting for {kind}")
            data = msg.data if isinstance(msg.data, str) else msg.data.decode()
            if f'"{kind}"' in data:
                frame: dict[str, object] = orjson.loads(data)
                if frame.get("type") == kind:
                    return frame

    async def open_one() -> None:
        async with gate:
            ws = await session.ws_connect(url, autoping=True, max_msg_size=1 << 20)
            await ws.send_str('{"type":"hello"}')
            welcome = await until(ws, "welcome")
        conn = Conn(ws, str(welcome.get("token", "")))
        sockets.append(conn)
        readers.append(asyncio.ensure_future(read(conn)))

    async def reopen(conn: Conn) -> float:
        """Connect again as the same visitor and resume; ms from connect to the history."""
        async with gate:
            start = now_ns()
            ws = await session.ws_connect(url, autoping=True, max_msg_size=1 << 20)
            await ws.send_str(orjson.dumps({"type": "hello", "token": conn.token}).decode())
            await until(ws, "welcome")
            await ws.send_str(orjson.dumps({"type": "resume", "after": conn.last_id}).decode())
            await until(ws, "history")
            conn.ws = ws
            return (now_ns() - start) / 1e6

    results = await asyncio.gather(*(open_one() for _ in range(count)), return_exceptions=True)
    failed = [r for r in results if isinstance(r, BaseException)]
    print(json.dumps({"ready": len(sockets), "failed": len(failed)}), flush=True)
    loop = asyncio.get_running_loop()

    async def paced(tag: str, total: int) -> None:
        """Send `total` messages at `rate`, round robin over the connections; report."""
        latencies.clear()
        finished.clear()
        start = now_ns()
        for n in range(total):
            wait = start + n * 1e9 / rate - now_ns()
            if wait > 0:
                await asyncio.sleep(wait / 1e9)  # open loop: the schedule ignores the answers
            client_id = f"{tag}{n}"
            ws = sockets[n % len(sockets)].ws
            text = f"hi {index}.{client_id}"
            sent_at[client_id] = stamps[text] = now_ns()
            await ws.send_str(f'{{"type":"message","client_id":"{client_id}","text":"{text}"}}')
        achieved = total / ((now_ns() - start) / 1e9)
        finished.set()
        if sent_at:
            all_acked.clear()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(10):
                    await all_acked.wait()
        report = {"latencies": latencies, "sent": total, "lost": len(sent_at),
                  "errors": dict(errors), "rate": achieved, "stamps": stamps}  # fmt: skip
        print(json.dumps(report), flush=True)
        sent_at.clear()
        stamps.clear()
        errors.clear()

    await loop.run_in_executor(None, sys.stdin.readline)  # "go": first messages
    await paced("f", len(sockets))  # one each: every visitor starts a conversation
    await loop.run_in_executor(None, sys.stdin.readline)  # "go": the chat goes on
    await paced("m", int(rate * seconds))
    await loop.run_in_executor(None, sys.stdin.readline)  # "go": the storm
    for task in readers:
        task.cancel()
    await asyncio.gather(*(c.ws.close() for c in sockets), return_exceptions=True)
    start = now_ns()
    back = await asyncio.gather(*(reopen(c) for c in sockets), return_exceptions=True)
    took = (now_ns() - start) / 1e9
    storm_errors: dict[str, int] = {}
    for r in back:
        if isinstance(r, BaseException):
            storm_errors[type(r).__name__] = storm_errors.get(type(r).__name__, 0) + 1
    report = {"latencies": [r for r in back if isinstance(r, float)], "sent": len(sockets),
              "lost": sum(storm_errors.values()), "errors": storm_errors,
              "rate": (len(sockets) - sum(storm_errors.values())) / took,
              "stamps": {}}  # fmt: skip
    print(json.dumps(report), flush=True)
    await loop.run_in_executor(None, sys.stdin.readline)  # "quit"
    await asyncio.gather(*(c.ws.close() for c in sockets), return_exceptions=True)
    await session.close()


def main() -> None:
    from hub.cli import _install_uvloop

    _install_uvloop()
    port, inbox, count, rate, seconds = sys.argv[1:6]
    index = int(sys.argv[6]) if len(sys.argv) > 6 else 0
    asyncio.run(_client(int(port), inbox, int(count), float(rate), float(seconds), index))


if __name__ == "__main__":
    main()
