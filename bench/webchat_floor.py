"""The store's share of web-chat ack latency: do_ingest in-process, no websocket, same pacing.

bench/webchat.py runs this in its own process as a same-run floor: visitor messages (first
ones, then follow-ups) go straight into `do_ingest` on a fresh SQLite store with the hub's
defaults (synchronous=full, round robin with one agent), open loop at the same rate. What the
web chat adds on top of these figures is the websocket layer's cost.
Usage (prints JSON): `.venv/bin/python bench/webchat_floor.py DB VISITORS RATE SECONDS`.
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make `bench` and `hub` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.common import now_ns


async def paced(rate: float, count: int, one: Callable[[int], Awaitable[None]]) -> list[float]:
    """Start one(n) for n < count at `rate` per second, open loop; ms each took."""
    latencies: list[float] = []

    async def timed(n: int) -> None:
        start = now_ns()
        await one(n)
        latencies.append((now_ns() - start) / 1e6)

    tasks = []
    start = now_ns()
    for n in range(count):
        wait = start + n * 1e9 / rate - now_ns()
        if wait > 0:
            await asyncio.sleep(wait / 1e9)
        tasks.append(asyncio.ensure_future(timed(n)))
    await asyncio.gather(*tasks)
    return latencies


async def floor(db: str, visitors: int, rate: float, seconds: float) -> dict[str, list[float]]:
    """First messages of `visitors` new visitors, then rate x seconds follow-ups."""
    from hub.actions import ActionContext, do_ingest
    from hub.config import load_config
    from hub.events import EventBus
    from hub.gc_pacer import GcPacer, tune_gc
    from hub.model import IdentityKind, Inbound, Role, utcnow
    from hub.routing import RoundRobinSelector
    from hub.store import create_store

    config = load_config(files=[], env={"HUB_STORE_URL": f"sqlite:///{db}"})
    store = create_store(
        config.store.url, synchronous=config.store.synchronous, batch_max=config.store.batch_max
    )
    await store.open()
    tune_gc()  # the same GC semantics as `hub serve`
    pacer = GcPacer()
    pacer.start()
    try:
        await store.create_agent(email="floor@example.test", name="Floor", role=Role.AGENT,
                                 password_hash=None, team_ids=[], now=utcnow())  # fmt: skip
        inbox = await store.create_inbox(name="Floor chat", channel="webchat", team_id=None,
                                         config={}, now=utcnow())  # fmt: skip
        ctx = ActionContext(
            store=store, bus=EventBus(), config=config, assigner=RoundRobinSelector(store)
        )

        def sender(tag: str) -> Callable[[int], Awaitable[None]]:
            async def one(n: int) -> None:
                visitor = f"v_floor-visitor-{n % visitors:06d}"
                await do_ingest(ctx, Inbound(
                    channel="webchat", inbox_id=inbox.id, provider_id=f"{visitor}:{tag}{n}",
                    sender_kind=IdentityKind.VISITOR, sender=visitor, text=f"hi {n}",
                ))  # fmt: skip

            return one

        first = await paced(rate, visitors, sender("f"))
        chat = await paced(rate, int(rate * seconds), sender("m"))
    finally:
        await pacer.stop()
        await store.close()
    return {"first": first, "chat": chat}


def main() -> None:
    from hub.cli import _install_uvloop, _tune_threads

    db, visitors, rate, seconds = sys.argv[1:5]
    _install_uvloop()
    _tune_threads()
    result = asyncio.run(floor(db, int(visitors), float(rate), float(seconds)))
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
