"""Web chat at scale: 10,000 widget connections on one hub process, and message ack latency.

Targets: server memory < 25 KB per held connection (RSS delta / connections), and p99 <= 20 ms
at a paced 1,000 msg/s spread over all connections for both visitor message -> ack and
visitor message -> agent delivery (the issue's metric): a signed-in admin's /ws tab
(bench/webchat_agent.py) receives each "message.created"; send and receive are stamped on
one clock (`shared_clock`, CLOCK_MONOTONIC) and joined by the message text.

Processes: the server (hub: uvloop, `hub serve` GC tuning, temp SQLite, synchronous=full,
one admin agent that round robin gives every new conversation, so nothing queues), the agent
process (one /ws tab) and CLIENTS load generators (bench/webchat_client.py), each holding
its share of the connections:
  hold      every client opens its connections (hello -> welcome), in parallel; the server's
            RSS (VmRSS) is read before and after; RSS delta / connections = KB per connection
  first     one message per connection, open loop at 1,000 msg/s: each starts a customer
            and a conversation; latency = message frame sent -> its ack received, and
            -> the agent's /ws receiving message.created
  chat      open loop at 1,000 msg/s for 10 s (--quick 3 s), round robin over every
            connection: messages in ongoing conversations (same two latencies)
  after     RSS again after the traffic (per connection, with conversations in memory)
  gc        the server times every collection (gc.callbacks, GET /api/_bench/gc, bench-only)
            per phase, and at the end counts GC-tracked objects and the share the event bus
            replay buffer reaches
  baseline  the same with a trivial aiohttp websocket server that answers each frame at once,
            and the store floor: the same messages straight into do_ingest, in-process
            (bench/webchat_floor.py), i.e. what the store alone costs at this rate
`--gc POLICY` runs the hub a second time with a GC policy applied on top of the shipped one
("T0,T1,T2" thresholds, "freeze=S" for gc.freeze() every S s, "nopacer" for CPython's own
collections without hub.gc_pacer, joined by ";") and prints it
beside the shipped policy, measured in the same run.
Every run raises the soft open-file limit to the hard one in each process.
Usage: `.venv/bin/python bench/webchat.py [--quick] [--gc POLICY]` from the repo root.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import json
import os
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
from bench.common import Stats, print_table, verdict

TARGET_KB, TARGET_P99_MS, RATE = 25.0, 20.0, 1_000
CLIENTS = 4
CONNECT_CONCURRENCY = 100  # handshakes each client process keeps in flight at once
WS_PATH = "/api/v1/webchat/ws"
CLIENT = str(Path(__file__).resolve().parent / "webchat_client.py")
AGENT = str(Path(__file__).resolve().parent / "webchat_agent.py")
AGENT_EMAIL, AGENT_PASSWORD = "bench@example.test", "bench password 1234"
# CLOCK_MONOTONIC: system-wide on Linux, so stamps from the visitor clients and the agent
# process (send -> receive) are comparable; perf_counter_ns is the same clock there.
shared_clock = time.monotonic_ns
GC_POLICY_ENV = "HUB_BENCH_GC"  # bench-only: a GC policy applied after the shipped one (see --gc)


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

    from hub.cli import _install_uvloop, _tune_threads
    from hub.gc_pacer import PACER_KEY, pace_gc

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

    pauses = GcPauses()
    app.router.add_get("/api/_bench/gc", pauses.handler)

    app.cleanup_ctx.append(pace_gc)  # the same GC semantics as `hub serve`

    async def on_startup(app: web.Application) -> None:
        policy = os.environ.get(GC_POLICY_ENV, "")
        if "nopacer" in policy.split(";"):  # CPython's automatic collections alone
            await app[PACER_KEY].stop()
        if policy:
            pauses.freezer = apply_gc_policy(policy)
        gc.callbacks.append(pauses.callback)

    app.on_startup.append(on_startup)
    _install_uvloop()
    _tune_threads()  # and the same GIL switch interval
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    print(json.dumps({"port": sock.getsockname()[1], **info}), flush=True)
    web.run_app(app, sock=sock, print=None, access_log=None, backlog=4096)


async def _echo(request: Any) -> Any:
    """The baseline: answer each frame at once (hello -> welcome, resume -> history,
    message -> ack)."""
    from aiohttp import WSMsgType, web

    ws = web.WebSocketResponse()
    await ws.prepare(request)
    async for msg in ws:
        if msg.type == WSMsgType.TEXT:
            frame = orjson.loads(msg.data)
            if frame.get("type") == "hello":
                await ws.send_bytes(b'{"type":"welcome"}')
            elif frame.get("type") == "resume":
                await ws.send_str('{"type":"history","messages":[]}')
            else:
                answer = {"type": "ack", "client_id": frame.get("client_id")}
                await ws.send_str(orjson.dumps(answer).decode())
    return ws


class GcPauses:
    """gc.callbacks timing in the server: collections and pause ms per generation.

    GET /api/_bench/gc returns the figures since the last call and resets them;
    ?census=1 adds tracked-object counts and the event bus replay buffer's share of them.
    """

    def __init__(self) -> None:
        self.started = 0
        self.freezer: Any = None  # a policy's background task, kept referenced
        self.reset()

    def reset(self) -> None:
        self.pauses: dict[int, list[float]] = {0: [], 1: [], 2: []}

    def callback(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self.started = time.perf_counter_ns()
        else:
            self.pauses[info["generation"]].append((time.perf_counter_ns() - self.started) / 1e6)

    async def handler(self, request: Any) -> Any:
        from aiohttp import web

        out: dict[str, Any] = {
            str(g): {"n": len(p), "total_ms": sum(p), "max_ms": max(p, default=0.0)}
            for g, p in self.pauses.items()
        }
        self.reset()
        if request.query.get("census"):
            out["census"] = census(request.app)
        return web.json_response(out)


def census(app: Any) -> dict[str, int]:
    """Tracked objects (not frozen), and how many of them the bus replay buffer reaches."""
    from hub.keys import BUS_KEY

    gc.collect()
    live = {id(o) for o in gc.get_objects()}  # every generation, the permanent one excluded
    replay = app[BUS_KEY]._replay
    reached: set[int] = set()
    todo: list[Any] = [replay]
    while todo:
        obj = todo.pop()
        for ref in gc.get_referents(obj):
            if id(ref) in live and id(ref) not in reached:
                reached.add(id(ref))
                todo.append(ref)
    return {"tracked": len(live), "frozen": gc.get_freeze_count(), "replay_events": len(replay),
            "reached_from_replay": len(reached)}  # fmt: skip


def apply_gc_policy(policy: str) -> Any:
    """A bench-only GC policy on top of the shipped one: "T0,T1,T2" thresholds, "freeze=S"
    (gc.freeze() every S seconds from a background task) and/or "nopacer" (the GC pacer
    stopped: CPython's automatic collections alone), joined by ";"."""
    task = None
    for part in policy.split(";"):
        if part.startswith("freeze="):
            every = float(part.removeprefix("freeze="))

            async def freezer(every: float = every) -> None:
                while True:
                    await asyncio.sleep(every)
                    gc.freeze()

            task = asyncio.get_running_loop().create_task(freezer())
        elif part == "nopacer":  # done in on_startup
            continue
        elif part:
            t0, t1, t2 = (int(x) for x in part.split(","))
            gc.set_threshold(t0, t1, t2)
    return task


async def _seed(url: str) -> str:
    from hub.model import Role, utcnow
    from hub.passwords import hash_password
    from hub.store import create_store

    store = create_store(url)
    await store.open()
    try:
        # the one agent: round robin gives it every conversation, and as an admin it sees
        # every inbox on /ws (bench/webchat_agent.py signs in with this password)
        await store.create_agent(email=AGENT_EMAIL, name="Bench", role=Role.ADMIN,
                                 password_hash=hash_password(AGENT_PASSWORD), team_ids=[],
                                 now=utcnow())  # fmt: skip
        # every connection comes from 127.0.0.1, and the storm reconnects all of them at once:
        # the per-address connection rate and open-socket cap must not bite here
        limits = {"ip_connect_burst": 10_000_000, "ip_connect_per_second": 10_000_000.0,
                  "ip_max_connections": 10_000_000}  # fmt: skip
        inbox = await store.create_inbox(name="Bench chat", channel="webchat", team_id=None,
                                         config=limits, now=utcnow())  # fmt: skip
    finally:
        await store.close()
    return inbox.id


# --- orchestration ---------------------------------------------------------------------------
class Proc:
    """A subprocess speaking JSON lines on stdout, told what to do on stdin; stopped by PID."""

    def __init__(self, script: str, *args: str, env: dict[str, str] | None = None) -> None:
        cmd = [sys.executable, script, *args]
        self.proc = subprocess.Popen(
            cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
            env={**os.environ, **(env or {})},
        )  # fmt: skip

    def line(self) -> dict[str, Any]:
        text = self.proc.stdout.readline()  # type: ignore[union-attr]
        if not text:
            raise RuntimeError(f"process {self.proc.args!r} ended early")
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
    delivery: Stats | None = None  # visitor send -> the agent's /ws receives message.created
    undelivered: int = 0
    resyncs: int = 0
    gc: dict[str, Any] | None = None  # the server's collections during the phase (GcPauses)

    @classmethod
    def of(cls, reports: list[dict[str, Any]], agent: dict[str, Any] | None = None) -> Phase:
        errors: dict[str, int] = {}
        for r in reports:
            for code, n in r["errors"].items():
                errors[code] = errors.get(code, 0) + n
        samples = [x for r in reports for x in r["latencies"]] or [float("nan")]
        phase = cls(
            latency=Stats(samples),
            rate=sum(r["rate"] for r in reports),
            lost=sum(r["lost"] for r in reports),
            errors=errors,
        )
        if agent is not None:
            got: dict[str, int] = agent["received"]
            sent = {text: at for r in reports for text, at in r["stamps"].items()}
            delivered = [(got[t] - at) / 1e6 for t, at in sent.items() if t in got]
            phase.delivery = Stats(delivered or [float("nan")])
            phase.undelivered = len(sent) - len(delivered)
            phase.resyncs = agent["resyncs"]
        return phase

    @staticmethod
    def _cell(lat: Stats) -> str:
        return f"p50 {lat.p50:.1f} / p99 {lat.p99:.1f} / max {lat.max:.1f} ms"

    def cell(self) -> str:
        return f"{self._cell(self.latency)} ({self.rate:,.0f}/s)"

    def delivery_cell(self) -> str:
        assert self.delivery is not None
        return self._cell(self.delivery) + (
            f" ({self.undelivered} undelivered)" if self.undelivered else ""
        )

    def gc_cell(self) -> str:
        if not self.gc:
            return ""
        parts = [f"gen{g} {v['n']}x max {v['max_ms']:.0f} ms" for g, v in sorted(self.gc.items())
                 if g.isdigit() and v["n"]]  # fmt: skip
        return "; ".join(parts) or "no collections"

    def result(self) -> str:
        if self.lost or self.errors:
            return "MISS (lost or errors)"
        return verdict(self.latency.p99, TARGET_P99_MS)

    def delivery_result(self) -> str:
        if self.delivery is None or self.undelivered or self.resyncs:
            return "MISS (undelivered or resync)"
        return verdict(self.delivery.p99, TARGET_P99_MS)


@dataclass
class Result:
    connections: int
    failed: int
    kb_per_conn: float
    kb_per_conn_after: float
    kb_per_conn_storm: float  # after the storm: old and new sockets overlapped for a while
    first: Phase  # every visitor's first message: a new customer and conversation
    chat: Phase  # messages in ongoing conversations
    storm: Phase  # every widget reconnecting at once: hello with its token, then resume
    connect_seconds: float
    census: dict[str, int] | None = None  # tracked objects at the end (hub only)


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


def _get_json(port: int, path: str) -> dict[str, Any]:
    async def get() -> dict[str, Any]:
        async with aiohttp.ClientSession() as session:
            async with session.get(f"http://127.0.0.1:{port}{path}") as r:
                r.raise_for_status()
                found: dict[str, Any] = await r.json()
                return found

    return asyncio.run(get())


def run(kind: str, db: str, connections: int, seconds: float, gc_policy: str = "") -> Result:
    """One server kind under the whole procedure (hub: with an agent on /ws, GC timed)."""
    env = {GC_POLICY_ENV: gc_policy} if gc_policy else {}
    server = Proc(str(Path(__file__).resolve()), "--serve", kind, db, env=env)
    clients: list[Proc] = []
    agent: Proc | None = None
    hub = kind == "hub"
    try:
        info = server.line()
        port, pid = info["port"], server.proc.pid
        asyncio.run(_wait_healthy(port, kind))
        if hub:  # the agent's browser tab: signed in, /ws open before any visitor arrives
            agent = Proc(AGENT, str(port), AGENT_EMAIL, AGENT_PASSWORD)
            agent.line()
        time.sleep(0.5)
        base = rss_kb(pid)
        share = connections // CLIENTS
        started = time.monotonic()
        clients = [Proc(CLIENT, str(port), info["inbox"], str(share), str(RATE / CLIENTS),
                        str(seconds), str(i)) for i in range(CLIENTS)]  # fmt: skip
        ready = [c.line() for c in clients]
        connect_seconds = time.monotonic() - started
        held = sum(r["ready"] for r in ready)
        time.sleep(1.0)  # let the server settle (handshake buffers freed)
        held_kb = rss_kb(pid) - base
        phases = []
        after_kb = 0
        for n in range(3):  # first messages, the chat, the reconnect storm
            if n == 2:  # the memory figure after traffic: before the storm churns sockets
                time.sleep(0.5)
                after_kb = rss_kb(pid) - base
            if hub:
                _get_json(port, "/api/_bench/gc")  # reset: count this phase's collections
            for c in clients:
                c.tell("go")
            reports = [c.line() for c in clients]
            seen = None
            if agent is not None and n < 2:
                agent.tell(f"report {sum(len(r['stamps']) for r in reports)}")
                seen = agent.line()
            phase = Phase.of(reports, seen)
            if hub:
                phase.gc = _get_json(port, "/api/_bench/gc")
            phases.append(phase)
        time.sleep(0.5)
        storm_kb = rss_kb(pid) - base
        found = _get_json(port, "/api/_bench/gc?census=1")["census"] if hub else None
        for c in clients:
            c.tell("quit")
        if agent is not None:
            agent.tell("quit")
        return Result(
            connections=held,
            failed=sum(r["failed"] for r in ready),
            kb_per_conn=held_kb / max(held, 1),
            kb_per_conn_after=after_kb / max(held, 1),
            kb_per_conn_storm=storm_kb / max(held, 1),
            first=phases[0],
            chat=phases[1],
            storm=phases[2],
            connect_seconds=connect_seconds,
            census=found,
        )
    finally:
        for p in [*clients, *([agent] if agent else [])]:
            with contextlib.suppress(Exception):
                p.proc.wait(timeout=20)
        server.stop()


def store_floor(db: str, visitors: int, seconds: float) -> dict[str, Phase]:
    """bench/webchat_floor.py in its own process: the same messages, straight to do_ingest."""
    script = Path(__file__).resolve().parent / "webchat_floor.py"
    args = [sys.executable, str(script), db, str(visitors), str(RATE), str(seconds)]
    out = subprocess.run(args, capture_output=True, text=True, check=True, timeout=300).stdout
    found = json.loads(out)
    return {
        name: Phase(latency=Stats(found[name]), rate=RATE, lost=0, errors={})
        for name in ("first", "chat")
    }


def _gc_rows(label: str, r: Result) -> list[list[str]]:
    phases = (("chat", r.chat), ("first", r.first), ("storm", r.storm))
    return [[f"  server GC during {name} ({label})", p.gc_cell(), "", "", ""] for name, p in phases]


def main() -> None:
    if len(sys.argv) == 4 and sys.argv[1] == "--serve":
        _serve(sys.argv[2], sys.argv[3])
        return
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2,000 connections, 3 s paced")
    parser.add_argument("--gc", metavar="POLICY", default="",
                        help='also run the hub with this GC policy on top of the shipped one, e.g. '
                             '"nopacer" or "freeze=1" or "nopacer;20000,50,1000"')  # fmt: skip
    parser.add_argument(
        "--alt-first",
        action="store_true",
        help="run the --gc policy's hub before the shipped one (order effects)",
    )
    args = parser.parse_args()
    parts = args.gc.split(";")
    if "nopacer" not in parts and any("," in part for part in parts):
        parser.error("T0,T1,T2 thresholds need nopacer: the pacer owns full collections")
    connections, seconds = (2_000, 3.0) if args.quick else (10_000, 10.0)
    t0 = time.monotonic()
    limit = raise_nofile()
    if limit < connections // CLIENTS + 100 or limit < connections + 100:
        sys.exit(f"open-file limit {limit} is too low for {connections} connections")
    with tempfile.TemporaryDirectory(prefix="hub-bench-webchat-") as tmp:
        echo = run("echo", "-", connections, seconds)
        alt = None
        if args.gc and args.alt_first:
            alt = run("hub", str(Path(tmp) / "alt.db"), connections, seconds, args.gc)
        hub = run("hub", str(Path(tmp) / "hub.db"), connections, seconds)
        if args.gc and not args.alt_first:
            alt = run("hub", str(Path(tmp) / "alt.db"), connections, seconds, args.gc)
        floor = store_floor(str(Path(tmp) / "floor.db"), connections, seconds)
    target = f"p99 <= {TARGET_P99_MS:.0f} ms"
    rows = [
        [f"server memory, {hub.connections:,} held connections",
         f"{hub.kb_per_conn:.1f} KB/conn ({hub.kb_per_conn_after:.1f} after traffic)",
         f"trivial ws {echo.kb_per_conn:.1f} KB/conn ({echo.kb_per_conn_after:.1f})",
         f"< {TARGET_KB:.0f} KB", verdict(hub.kb_per_conn, TARGET_KB)],
        [f"chat message -> ack @ {RATE:,} msg/s", hub.chat.cell(),
         f"trivial ws {echo.chat.cell()}", target, hub.chat.result()],
        ["", "", f"store floor {floor['chat'].cell()}", "", ""],
        ["chat message -> agent /ws (message.created)", hub.chat.delivery_cell(),
         "the ack above (same messages)", target, hub.chat.delivery_result()],
        [f"first message (new conversation) @ {RATE:,} msg/s", hub.first.cell(),
         f"trivial ws {echo.first.cell()}", target, hub.first.result()],
        ["", "", f"store floor {floor['first'].cell()}", "", ""],
        ["first message -> agent /ws (message.created)", hub.first.delivery_cell(),
         "the ack above (same messages)", target, hub.first.delivery_result()],
        [f"reconnect storm: all {hub.connections:,} widgets at once, "
         f"{CLIENTS * CONNECT_CONCURRENCY} in flight",
         f"{hub.storm.cell()}; RSS {hub.kb_per_conn_storm:.1f} KB/conn after",
         f"trivial ws {echo.storm.cell()}", "no target (ANCHORS 9)",
         "MISS (lost or errors)" if hub.storm.lost or hub.storm.errors else "all resumed"],
        *_gc_rows("shipped GC", hub),
    ]  # fmt: skip
    if alt is not None:
        rows += [
            [f"GC policy {args.gc!r}: chat -> ack", alt.chat.cell(),
             f"shipped GC {hub.chat.cell()}", target, alt.chat.result()],
            ["  chat -> agent /ws", alt.chat.delivery_cell(),
             f"shipped GC {hub.chat.delivery_cell()}", target, alt.chat.delivery_result()],
            [f"GC policy {args.gc!r}: first -> ack", alt.first.cell(),
             f"shipped GC {hub.first.cell()}", target, alt.first.result()],
            ["  first -> agent /ws", alt.first.delivery_cell(),
             f"shipped GC {hub.first.delivery_cell()}", target, alt.first.delivery_result()],
            [f"  memory with {args.gc!r}",
             f"{alt.kb_per_conn:.1f} KB/conn ({alt.kb_per_conn_after:.1f} after traffic)",
             f"shipped GC {hub.kb_per_conn:.1f} KB/conn ({hub.kb_per_conn_after:.1f})", "", ""],
            *_gc_rows(args.gc, alt),
        ]  # fmt: skip
    title = "Web chat: widget connections held by one hub process, ack and agent delivery latency"
    print_table(title, ["what", "measured", "baseline (same run)", "target", "result"], rows)
    for name, r in (("hub", hub), ("trivial ws", echo), *([("gc policy", alt)] if alt else [])):
        problems = {"connect failed": r.failed, "lost acks": r.first.lost + r.chat.lost,
                    "storm failed": r.storm.lost}  # fmt: skip
        if r is not echo:
            problems["agent resyncs"] = r.first.resyncs + r.chat.resyncs
        print(f"\n  {name}: {r.connections:,} connections opened in {r.connect_seconds:.1f} s "
              f"by {CLIENTS} client processes; {problems}; errors "
              f"{r.first.errors or r.chat.errors or 'none'}", end="")  # fmt: skip
    for name, r in (("shipped GC", hub), *([(args.gc, alt)] if alt else [])):
        if r.census:
            c = r.census
            share = c["reached_from_replay"] / max(c["tracked"], 1)
            print(f"\n  server objects at the end ({name}): {c['tracked']:,} GC-tracked, "
                  f"{c['frozen']:,} frozen; the event bus replay buffer ({c['replay_events']:,} "
                  f"events) reaches {c['reached_from_replay']:,} of the tracked ({share:.0%})",
                  end="")  # fmt: skip
    print(f"\nbench wall time {time.monotonic() - t0:.1f} s")


if __name__ == "__main__":
    main()
