"""Ingest throughput and ack latency of the hub's API channel, beside same-run baselines.

Targets: >= 5,000 msg/s through `POST /api/v1/inbound` with a durable ack (201 after the group
commit), and ack p99 <= 20 ms at a paced 1,000 msg/s. The hub runs in its own process (uvloop,
`hub serve` GC tuning, temp SQLite file, synchronous=full), so load generator and server each
get one of the two vCPUs. Phases, all on 127.0.0.1, each bounded in time:
  single    64 workers POST one message each (20,000; --quick 3,000; at most 30 s / 8 s)
  batch     8 workers POST /api/v1/inbound/batch with 100 messages each (same counts)
  paced     open loop at 1,000 msg/s for 10 s (--quick 3 s); latency = send -> 201
  baseline  raw_aiosqlite_insert_rate(50,000 rows, batch 100, FULL), and a trivial aiohttp
            POST -> 201 {} server in its own process, under the same load generator
Every message has a unique provider_id; senders cycle over 1,000 emails. After each phase the
stored messages are counted in the file, and a bench-only route the server process adds to the
app reports the engine's group-commit counters and the server's CPU time.
Usage: `.venv/bin/python bench/ingest.py [--quick]` from the repo root.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import orjson

if __package__ in (None, ""):  # run as a script: make `bench` and `hub` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.common import Stats, now_ns, print_table
from bench.raw_insert import raw_aiosqlite_insert_rate

TARGET_RATE, TARGET_P99_MS, PACED_RATE = 5_000.0, 20.0, 1_000
CUSTOMERS, BATCH, BATCH_WORKERS, WORKERS = 1_000, 100, 8, 64


# --- server side (runs in the subprocess) ------------------------------------------------
def _serve(kind: str, db: str) -> None:
    """Seed (hub only), bind a free port, print {port, token, inbox} as JSON, then serve."""
    from aiohttp import web

    from hub.cli import _install_uvloop, _tune_threads
    from hub.gc_pacer import pace_gc
    from hub.keys import STORE_KEY

    async def stats(request: web.Request) -> web.Response:  # bench-only, not in the product
        engine = getattr(request.app[STORE_KEY], "engine", None) if kind == "hub" else None
        counts = {"batches": engine.batches, "jobs": engine.jobs} if engine else {}
        return web.json_response({"cpu": time.process_time(), **counts})  # all server threads

    async def created(request: web.Request) -> web.Response:
        await request.read()
        return web.Response(status=201, body=b"{}", content_type="application/json")

    seed: dict[str, Any] = {}
    if kind == "hub":
        from hub.app import create_app
        from hub.config import load_config

        config = load_config(files=[], env={"HUB_STORE_URL": f"sqlite:///{db}"})
        seed = asyncio.run(_seed(config.store.url))
        app = create_app(config)
    else:
        app = web.Application()
        app.router.add_post("/api/v1/inbound", created)
        app.router.add_get("/healthz", stats)
    app.router.add_get("/api/_bench/stats", stats)

    app.cleanup_ctx.append(pace_gc)  # the same GC semantics as `hub serve`
    _install_uvloop()
    _tune_threads()  # and the same GIL switch interval
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    print(json.dumps({"port": sock.getsockname()[1], **seed}), flush=True)
    web.run_app(app, sock=sock, print=None, access_log=None)


async def _seed(url: str) -> dict[str, str]:
    from hub.model import Role, utcnow
    from hub.store import create_store
    from hub.web.middleware import hash_token, new_token

    store = create_store(url)
    await store.open()
    try:
        agent = await store.create_agent(email="bench@example.test", name="Bench", role=Role.ADMIN,
                                         password_hash=None, team_ids=[], now=utcnow())  # fmt: skip
        token = new_token()
        await store.create_token(agent_id=agent.id, name="bench", token_hash=hash_token(token),
                                 now=utcnow())  # fmt: skip
        inbox = await store.create_inbox(name="Bench API", channel="api", team_id=None,
                                         config={}, now=utcnow())  # fmt: skip
    finally:
        await store.close()
    return {"token": token, "inbox": inbox.id}


# --- load generator side -----------------------------------------------------------------
class Server:
    """A server subprocess: started, health-checked, and stopped by its PID."""

    def __init__(self, kind: str, db: str) -> None:
        cmd = [sys.executable, str(Path(__file__).resolve()), "--serve", kind, db]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
        try:  # the first line of the server's stdout: {port, token, inbox}
            self.info: dict[str, Any] = json.loads(self.proc.stdout.readline())  # type: ignore[union-attr]
        except ValueError:
            self.stop()
            raise RuntimeError(f"{kind} server failed to start") from None
        self.base = f"http://127.0.0.1:{self.info['port']}"
        auth = {"Authorization": f"Bearer {self.info['token']}"} if "token" in self.info else {}
        self.headers = {"Content-Type": "application/json", **auth}

    async def wait_healthy(self, session: aiohttp.ClientSession) -> None:
        for _ in range(200):
            with contextlib.suppress(aiohttp.ClientError):
                async with session.get(self.base + "/healthz") as r:
                    if r.status == 200:
                        return
            await asyncio.sleep(0.05)
        raise RuntimeError("server never became healthy")

    def stop(self) -> None:
        self.proc.terminate()  # SIGTERM: aiohttp shuts down cleanly and the store closes
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def bodies(inbox: str, tag: str, count: int) -> list[dict[str, Any]]:
    return [
        {
            "inbox_id": inbox,
            "provider_id": f"{tag}-{i}",
            "sender": {"kind": "email", "address": f"c{i % CUSTOMERS}@example.test", "name": "C"},
            "text": f"Hello, this is message {i} about order #{i % 9973}; when will it ship?",
        }
        for i in range(count)
    ]


async def closed_loop(
    session: aiohttp.ClientSession, url: str, payloads: Sequence[bytes], workers: int, budget: float
) -> tuple[float, Counter[int]]:
    """`workers` tasks post payloads back to back, for at most `budget` seconds.

    Returns (requests answered per second, status counts)."""
    statuses: Counter[int] = Counter()
    it, start = iter(payloads), now_ns()
    deadline = start + int(budget * 1e9)

    async def worker() -> None:
        for data in it:
            async with session.post(url, data=data) as r:
                await r.read()
                statuses[r.status] += 1
            if now_ns() > deadline:  # bounded run time even against a very slow server
                return

    await asyncio.gather(*(worker() for _ in range(workers)))
    return statuses.total() / ((now_ns() - start) / 1e9), statuses


async def open_loop(
    session: aiohttp.ClientSession, url: str, payloads: Sequence[bytes], rate: int
) -> tuple[Stats, float, Counter[int]]:
    """Send payloads at `rate`/s whatever the answers; ms from each send to its answer."""
    statuses: Counter[int] = Counter()
    lat: list[float] = []
    tasks: list[asyncio.Task[None]] = []

    async def one(data: bytes) -> None:
        sent_at = now_ns()
        async with session.post(url, data=data) as r:
            await r.read()
            statuses[r.status] += 1
        lat.append((now_ns() - sent_at) / 1e6)

    start = now_ns()
    sent = 0
    while sent < len(payloads):
        due_count = min(len(payloads), int((now_ns() - start) * rate / 1e9) + 1)
        for i in range(sent, due_count):
            tasks.append(asyncio.create_task(one(payloads[i])))
        sent = due_count
        await asyncio.sleep(0.001)  # uvloop timers have 1 ms resolution: 0.0005 would spin
    await asyncio.gather(*tasks)
    return Stats(lat), len(payloads) / ((now_ns() - start) / 1e9), statuses


def stored_messages(db: str) -> int:
    with contextlib.closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True)) as conn:
        return int(conn.execute("SELECT COUNT(*) FROM messages").fetchone()[0])


@dataclass
class Report:
    notes: list[str] = field(default_factory=list)
    failed: set[str] = field(default_factory=set)  # phases with non-2xx answers or lost messages


async def measured(
    server: Server, session: aiohttp.ClientSession, name: str, run: Awaitable[Any], per_req: int,
    report: Report, db: str | None = None,
) -> Any:  # fmt: skip
    """Await a phase; note statuses, stored count, group-commit sizes and CPU of both sides."""
    stored = -stored_messages(db) if db else 0
    async with session.get(server.base + "/api/_bench/stats") as r:
        before = await r.json()
    wall, cpu = time.perf_counter(), time.process_time()
    res = await run
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    async with session.get(server.base + "/api/_bench/stats") as r:
        after = await r.json()
    statuses: Counter[int] = res[-1]
    sent = max(1, statuses.total() * per_req)
    bad = {k: v for k, v in statuses.items() if k not in (200, 201)}
    if bad:
        report.failed.add(name)
    note = f"{name}: {dict(statuses)}{f' NON-2xx {bad}' if bad else ''}"
    if db:
        stored += stored_messages(db)
        if stored != sent:
            report.failed.add(name)
        jobs, commits = after["jobs"] - before["jobs"], after["batches"] - before["batches"]
        note += (f", {sent:,} msgs sent, {stored:,} stored{'' if stored == sent else ' MISMATCH'}"
                 f"; group commit {jobs:,} writes / {commits:,} commits = "
                 f"{jobs / max(commits, 1):.1f} per commit")  # fmt: skip
    used = after["cpu"] - before["cpu"]
    note += f"; CPU: server {used / wall:.2f} core = {used / sent * 1e6:,.0f} us/msg"
    report.notes.append(f"{note}, load generator {cpu / wall:.2f} core")
    return res


async def phases(kind: str, db: str, quick: bool, report: Report) -> dict[str, Any]:
    """Start a server (hub or trivial), run the phases against it, stop it by its PID."""
    server, out = Server(kind, db), dict[str, Any]()
    n, n_paced = (3_000 if quick else 20_000), PACED_RATE * (3 if quick else 10)
    budget = 8.0 if quick else 30.0  # seconds per closed-loop phase, at most
    try:
        conn, timeout = aiohttp.TCPConnector(limit=512), aiohttp.ClientTimeout(total=60)
        async with aiohttp.ClientSession(connector=conn, headers=server.headers,
                                         timeout=timeout) as session:  # fmt: skip
            await server.wait_healthy(session)
            hub = db if kind == "hub" else None

            def measure(name: str, run: Awaitable[Any], per_req: int = 1) -> Awaitable[Any]:
                return measured(server, session, name, run, per_req, report, hub)

            inbox, url = server.info.get("inbox", "inb_x"), server.base + "/api/v1/inbound"
            single = [orjson.dumps(b) for b in bodies(inbox, "single", n)]
            run: Awaitable[Any] = closed_loop(session, url, single, WORKERS, budget)
            out["single"] = await measure(f"{kind} single", run)
            if hub:
                msgs = bodies(inbox, "batch", n)
                batches = [orjson.dumps({"messages": msgs[i : i + BATCH]})
                           for i in range(0, n, BATCH)]  # fmt: skip
                run = closed_loop(session, url + "/batch", batches, BATCH_WORKERS, budget)
                rate, st = await measure("hub batch", run, BATCH)
                out["batch"] = (rate * BATCH, st)
            paced = [orjson.dumps(b) for b in bodies(inbox, "paced", n_paced)]
            run = open_loop(session, url, paced, PACED_RATE)
            out["paced"] = await measure(f"{kind} paced", run)
    finally:
        server.stop()
    if kind == "hub":
        total = stored_messages(db)
        report.notes.append(f"hub server pid {server.proc.pid}; stored at the end {total:,}")
    return out


async def _main(quick: bool) -> None:
    t0 = time.monotonic()
    report = Report()
    with tempfile.TemporaryDirectory(prefix="hub-bench-ingest-") as tmp:
        raw = await raw_aiosqlite_insert_rate(
            os.path.join(tmp, "raw.db"), 50_000, batch=100, synchronous="FULL"
        )
        trivial = await phases("trivial", "-", quick, report)
        hub = await phases("hub", os.path.join(tmp, "hub.db"), quick, report)
    (s_rate, _), (b_rate, _) = hub["single"], hub["batch"]
    lat, achieved, _ = hub["paced"]
    t_rate, t_lat = trivial["single"][0], trivial["paced"][0]

    def check(phase: str, ok: bool) -> str:
        return "MISS (errors, see below)" if phase in report.failed else "PASS" if ok else "MISS"

    base = f"raw aiosqlite {raw:,.0f} rows/s; trivial HTTP {t_rate:,.0f} req/s"
    rows = [
        [f"ingest, single POST x{WORKERS} concurrent", f"{s_rate:,.0f} msg/s", base,
         f">= {TARGET_RATE:,.0f} msg/s", check("hub single", s_rate >= TARGET_RATE)],
        [f"ingest, batch POST of {BATCH} x{BATCH_WORKERS}", f"{b_rate:,.0f} msg/s", base,
         f">= {TARGET_RATE:,.0f} msg/s", check("hub batch", b_rate >= TARGET_RATE)],
        [f"ack latency @ {PACED_RATE:,} msg/s open loop",
         f"p50 {lat.p50:.1f} / p99 {lat.p99:.1f} / max {lat.max:.1f} ms ({achieved:,.0f}/s)",
         f"trivial HTTP p50 {t_lat.p50:.1f} / p99 {t_lat.p99:.1f} / max {t_lat.max:.1f} ms",
         f"p99 <= {TARGET_P99_MS:.0f} ms", check("hub paced", lat.p99 <= TARGET_P99_MS)],
    ]  # fmt: skip
    title = "Ingest through the API channel, durable ack (synchronous=full), server in own process"
    print_table(title, ["what", "measured", "baseline (same run)", "target", "result"], rows)
    print("\n" + "\n".join("  " + note for note in report.notes))
    print(f"bench wall time {time.monotonic() - t0:.1f} s")


def main() -> None:
    if len(sys.argv) == 4 and sys.argv[1] == "--serve":
        _serve(sys.argv[2], sys.argv[3])
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="3k messages, 3 s paced phase")
    quick = parser.parse_args().quick
    from hub.cli import _install_uvloop

    _install_uvloop()  # the load generator gets uvloop too, when installed
    asyncio.run(_main(quick))


if __name__ == "__main__":
    main()
