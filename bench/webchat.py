"""Web chat at scale: 10,000 widget connections on one hub process, and message ack latency.

Targets: server memory < 25 KB per held connection (RSS delta / connections), and visitor
message -> ack p99 <= 20 ms at a paced 1,000 msg/s spread over all connections. The ack is
sent after the durable ingest, which publishes the message's events before it returns, so
ack latency bounds delivery to an in-process agent-side subscriber (the agent websocket does
not exist yet; when /ws does, measure to it too).

Processes: the server (hub: uvloop, `hub serve` GC tuning, temp SQLite, synchronous=full,
one online-agent-free round-robin agent so conversations are assigned, not queued) and
CLIENTS load-generator processes, each holding its share of the connections. Phases:
  hold      every client opens its connections (hello -> welcome), in parallel; the server's
            RSS (VmRSS) is read before and after; RSS delta / connections = KB per connection
  paced     open loop at 1,000 msg/s for 10 s (--quick 3 s), round robin over every
            connection; latency = message frame sent -> its ack received
  after     RSS again after the traffic (per connection, with conversations in memory)
  baseline  the same with a trivial aiohttp websocket server that answers each frame at once
Every run raises the soft open-file limit to the hard one in each process.
Usage: `.venv/bin/python bench/webchat.py [--quick]` from the repo root.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import resource
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import orjson

if __package__ in (None, ""):  # run as a script: make `bench` and `hub` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.common import Stats, now_ns, print_table, verdict

TARGET_KB, TARGET_P99_MS, RATE = 25.0, 20.0, 1_000
CLIENTS = 4
CONNECT_CONCURRENCY = 100  # per client process: handshakes in flight at once
WS_PATH = "/api/v1/webchat/ws"


def raise_nofile() -> int:
    """Raise the soft open-file limit to the hard one; returns the new soft limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def rss_kb(pid: int) -> int:
    """A process's resident set size in KB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for pid {pid}")


# --- server side (runs in a subprocess) ----------------------------------------------------
def _serve(kind: str, db: str) -> None:
    """Seed (hub only), bind a free port, print {port, inbox} as JSON, then serve."""
    from aiohttp import web

    from hub.cli import _install_uvloop, _tune_gc

    raise_nofile()
    info: dict[str, Any] = {"inbox": "inb_echo"}
    if kind == "hub":
        from hub.app import create_app
        from hub.config import load_config

        env = {"HUB_STORE_URL": f"sqlite:///{db}", "HUB_SECRET_KEY": "bench-secret-key-" * 3}
        config = load_config(files=[], env=env)
        info["inbox"] = asyncio.run(_seed(config.store.url))
        app = create_app(config)
    else:
        app = web.Application()
        app.router.add_get(WS_PATH, _echo)

    async def on_startup(_: web.Application) -> None:
        _tune_gc()  # the same GC semantics as `hub serve`

    app.on_startup.append(on_startup)
    _install_uvloop()
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    print(json.dumps({"port": sock.getsockname()[1], **info}), flush=True)
    web.run_app(app, sock=sock, print=None, access_log=None, backlog=4096)


async def _echo(request: Any) -> Any:
    """The baseline: answer each frame at once (hello -> welcome, message -> ack)."""
    from aiohttp import WSMsgType, web

    ws = web.WebSocketResponse()
    await ws.prepare(request)
    async for msg in ws:
        if msg.type == WSMsgType.TEXT:
            frame = orjson.loads(msg.data)
            if frame.get("type") == "hello":
                await ws.send_bytes(b'{"type":"welcome"}')
            else:
                answer = {"type": "ack", "client_id": frame.get("client_id")}
                await ws.send_str(orjson.dumps(answer).decode())
    return ws


async def _seed(url: str) -> str:
    from hub.model import Role, utcnow
    from hub.store import create_store

    store = create_store(url)
    await store.open()
    try:
        await store.create_agent(email="bench@example.test", name="Bench", role=Role.AGENT,
                                 password_hash=None, team_ids=[], now=utcnow())  # fmt: skip
        # every connection comes from 127.0.0.1: the per-address limit must not bite here
        limits = {"ip_burst": 10_000_000, "ip_per_second": 10_000_000.0}
        inbox = await store.create_inbox(name="Bench chat", channel="webchat", team_id=None,
                                         config=limits, now=utcnow())  # fmt: skip
    finally:
        await store.close()
    return inbox.id


# --- client side (runs in CLIENTS subprocesses) --------------------------------------------
async def _client(port: int, inbox: str, count: int, rate: float, seconds: float) -> None:
    """Hold `count` connections; on "go" send `rate` msg/s for `seconds`; report latencies."""
    raise_nofile()
    url = f"http://127.0.0.1:{port}{WS_PATH}?inbox={inbox}"
    sent_at: dict[str, int] = {}
    latencies: list[float] = []
    errors: dict[str, int] = {}
    connector = aiohttp.TCPConnector(limit=0)
    session = aiohttp.ClientSession(connector=connector)
    sockets: list[aiohttp.ClientWebSocketResponse] = []
    gate = asyncio.Semaphore(CONNECT_CONCURRENCY)
    readers: list[asyncio.Task[None]] = []
    finished, all_acked = asyncio.Event(), asyncio.Event()

    async def read(ws: aiohttp.ClientWebSocketResponse) -> None:
        async for msg in ws:
            if msg.type != aiohttp.WSMsgType.TEXT:
                break
            frame = orjson.loads(msg.data)
            if frame["type"] == "ack":
                start = sent_at.pop(frame["client_id"], None)
                if start is not None:
                    latencies.append((now_ns() - start) / 1e6)
                if finished.is_set() and not sent_at:
                    all_acked.set()
            elif frame["type"] == "error":
                errors[frame["code"]] = errors.get(frame["code"], 0) + 1

    async def open_one() -> None:
        async with gate:
            ws = await session.ws_connect(url, autoping=True, max_msg_size=1 << 20)
            await ws.send_str('{"type":"hello"}')
            while True:  # the hub may send status first; the welcome is what counts
                msg = await ws.receive()
                if msg.type != aiohttp.WSMsgType.TEXT or '"welcome"' in msg.data:
                    break
        sockets.append(ws)
        readers.append(asyncio.ensure_future(read(ws)))

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
            ws = sockets[n % len(sockets)]
            sent_at[client_id] = now_ns()
            await ws.send_str(f'{{"type":"message","client_id":"{client_id}","text":"hi {n}"}}')
        achieved = total / ((now_ns() - start) / 1e9)
        finished.set()
        if sent_at:
            all_acked.clear()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(10):
                    await all_acked.wait()
        report = {"latencies": latencies, "sent": total, "lost": len(sent_at),
                  "errors": dict(errors), "rate": achieved}  # fmt: skip
        print(json.dumps(report), flush=True)
        sent_at.clear()
        errors.clear()

    await loop.run_in_executor(None, sys.stdin.readline)  # "go": first messages
    await paced("f", len(sockets))  # one each: every visitor starts a conversation
    await loop.run_in_executor(None, sys.stdin.readline)  # "go": the chat goes on
    await paced("m", int(rate * seconds))
    await loop.run_in_executor(None, sys.stdin.readline)  # "quit"
    for ws in sockets:
        with contextlib.suppress(Exception):
            await ws.close()
    for task in readers:
        task.cancel()
    await session.close()


# --- orchestration ---------------------------------------------------------------------------
class Proc:
    """A subprocess speaking JSON lines on stdout, told what to do on stdin; stopped by PID."""

    def __init__(self, *args: str) -> None:
        cmd = [sys.executable, str(Path(__file__).resolve()), *args]
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)

    def line(self) -> dict[str, Any]:
        text = self.proc.stdout.readline()  # type: ignore[union-attr]
        if not text:
            raise RuntimeError(f"process {self.proc.args} ended early")
        result: dict[str, Any] = json.loads(text)
        return result

    def tell(self, word: str) -> None:
        self.proc.stdin.write(word + "\n")  # type: ignore[union-attr]
        self.proc.stdin.flush()  # type: ignore[union-attr]

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


@dataclass
class Phase:
    """One paced phase, summed over the client processes."""

    latency: Stats
    rate: float
    lost: int
    errors: dict[str, int]

    @classmethod
    def of(cls, reports: list[dict[str, Any]]) -> Phase:
        errors: dict[str, int] = {}
        for r in reports:
            for code, n in r["errors"].items():
                errors[code] = errors.get(code, 0) + n
        samples = [x for r in reports for x in r["latencies"]] or [float("nan")]
        return cls(
            latency=Stats(samples),
            rate=sum(r["rate"] for r in reports),
            lost=sum(r["lost"] for r in reports),
            errors=errors,
        )

    def cell(self) -> str:
        lat = self.latency
        return f"p50 {lat.p50:.1f} / p99 {lat.p99:.1f} / max {lat.max:.1f} ms ({self.rate:,.0f}/s)"

    def result(self) -> str:
        if self.lost or self.errors:
            return "MISS (lost or errors)"
        return verdict(self.latency.p99, TARGET_P99_MS)


@dataclass
class Result:
    connections: int
    failed: int
    kb_per_conn: float
    kb_per_conn_after: float
    first: Phase  # every visitor's first message: a new customer and conversation
    chat: Phase  # messages in ongoing conversations
    connect_seconds: float


async def _wait_healthy(port: int, kind: str) -> None:
    path = "/healthz" if kind == "hub" else WS_PATH
    async with aiohttp.ClientSession() as session:
        for _ in range(200):
            with contextlib.suppress(aiohttp.ClientError):
                async with session.get(f"http://127.0.0.1:{port}{path}") as r:
                    if r.status < 500:
                        return
            await asyncio.sleep(0.05)
    raise RuntimeError("server never became healthy")


def run(kind: str, db: str, connections: int, seconds: float) -> Result:
    """One server kind under the whole procedure."""
    server = Proc("--serve", kind, db)
    clients: list[Proc] = []
    try:
        info = server.line()
        port, pid = info["port"], server.proc.pid
        asyncio.run(_wait_healthy(port, kind))
        time.sleep(0.5)
        base = rss_kb(pid)
        share = connections // CLIENTS
        started = time.monotonic()
        clients = [Proc("--client", str(port), info["inbox"], str(share), str(RATE / CLIENTS),
                        str(seconds)) for _ in range(CLIENTS)]  # fmt: skip
        ready = [c.line() for c in clients]
        connect_seconds = time.monotonic() - started
        held = sum(r["ready"] for r in ready)
        time.sleep(1.0)  # let the server settle (handshake buffers freed)
        held_kb = rss_kb(pid) - base
        phases = []
        for _ in range(2):
            for c in clients:
                c.tell("go")
            phases.append(Phase.of([c.line() for c in clients]))
        time.sleep(0.5)
        after_kb = rss_kb(pid) - base
        for c in clients:
            c.tell("quit")
        return Result(
            connections=held,
            failed=sum(r["failed"] for r in ready),
            kb_per_conn=held_kb / max(held, 1),
            kb_per_conn_after=after_kb / max(held, 1),
            first=phases[0],
            chat=phases[1],
            connect_seconds=connect_seconds,
        )
    finally:
        for c in clients:
            with contextlib.suppress(Exception):
                c.proc.wait(timeout=20)
        server.stop()


def main() -> None:
    if len(sys.argv) == 4 and sys.argv[1] == "--serve":
        _serve(sys.argv[2], sys.argv[3])
        return
    if len(sys.argv) == 7 and sys.argv[1] == "--client":
        from hub.cli import _install_uvloop

        _install_uvloop()
        port, inbox, count, rate, seconds = sys.argv[2:]
        asyncio.run(_client(int(port), inbox, int(count), float(rate), float(seconds)))
        return
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2,000 connections, 3 s paced")
    quick = parser.parse_args().quick
    connections, seconds = (2_000, 3.0) if quick else (10_000, 10.0)
    t0 = time.monotonic()
    limit = raise_nofile()
    if limit < connections // CLIENTS + 100 or limit < connections + 100:
        sys.exit(f"open-file limit {limit} is too low for {connections} connections")
    with tempfile.TemporaryDirectory(prefix="hub-bench-webchat-") as tmp:
        echo = run("echo", "-", connections, seconds)
        hub = run("hub", str(Path(tmp) / "hub.db"), connections, seconds)
    rows = [
        [f"server memory, {hub.connections:,} held connections",
         f"{hub.kb_per_conn:.1f} KB/conn ({hub.kb_per_conn_after:.1f} after traffic)",
         f"trivial ws {echo.kb_per_conn:.1f} KB/conn ({echo.kb_per_conn_after:.1f})",
         f"< {TARGET_KB:.0f} KB", verdict(hub.kb_per_conn, TARGET_KB)],
        [f"chat message -> ack @ {RATE:,} msg/s", hub.chat.cell(),
         f"trivial ws {echo.chat.cell()}", f"p99 <= {TARGET_P99_MS:.0f} ms", hub.chat.result()],
        [f"first message (new conversation) @ {RATE:,} msg/s", hub.first.cell(),
         f"trivial ws {echo.first.cell()}", f"p99 <= {TARGET_P99_MS:.0f} ms",
         hub.first.result()],
    ]  # fmt: skip
    title = "Web chat: widget connections held by one hub process, durable ack latency"
    print_table(title, ["what", "measured", "baseline (same run)", "target", "result"], rows)
    for name, r in (("hub", hub), ("trivial ws", echo)):
        problems = {"connect failed": r.failed, "lost acks": r.first.lost + r.chat.lost}
        print(f"\n  {name}: {r.connections:,} connections opened in {r.connect_seconds:.1f} s "
              f"by {CLIENTS} client processes; {problems}; errors "
              f"{r.first.errors or r.chat.errors or 'none'}", end="")  # fmt: skip
    print("\n  the agent websocket (/ws) does not exist yet: delivery to agents is bounded by "
          "the ack (the message's events are published before it)")  # fmt: skip
    print(f"bench wall time {time.monotonic() - t0:.1f} s")


if __name__ == "__main__":
    main()
