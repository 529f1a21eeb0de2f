"""Seed a hub SQLite store quickly, and cache the file under bench/.cache/ between runs.

The schema comes from the store itself (`create_store(...).open()` runs the migrations); the
rows are then bulk-loaded with plain sqlite3 `executemany`, one transaction per table, in the
column layout of hub/store/sqlite/migrations.py. The message text is then indexed for search
in one pass, as the store's background indexer would (search_index.index_backlog).
Ids are deterministic (`cus_0000042`, `cnv_0000042`, `agt_007`, `inb_email`) so benchmarks can
sample them without querying. The cache key holds the schema version, a hash of the migration
text, this module's SEED_FORMAT and the size, so a schema change re-seeds.
"""

from __future__ import annotations

import hashlib
import random
import shutil
import sqlite3
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.common import now_ns
from hub.store import create_store
from hub.store.sqlite import migrations
from hub.store.sqlite.search_index import index_backlog

SEED_FORMAT = 1  # bump when the generated data changes
CACHE_DIR = Path(__file__).resolve().parent / ".cache"
BASE_MS = 1_750_000_000_000  # June 2025; every seeded time is before this
DAY_MS = 86_400_000
INBOXES = (("inb_email", "Support email", "email"), ("inb_sms", "SMS", "sms"),
           ("inb_chat", "Web chat", "webchat"))  # fmt: skip
STATUSES = ("resolved",) * 5 + ("open",) * 3 + ("pending", "snoozed")
CONVERSATION_COLUMNS = (
    "id, customer_id, inbox_id, channel, status, priority, assignee_id, team_id, tags, subject,"
    " created_at, updated_at, last_message_at, first_response_at, resolved_at, snoozed_until,"
    " unread_count, message_count"
)
WORDS = "order refund invoice delivery late broken account password thanks please help".split()


@dataclass(frozen=True, slots=True)
class Size:
    customers: int
    conversations: int
    per_conversation: int  # messages per conversation
    assignees: int

    @property
    def messages(self) -> int:
        return self.conversations * self.per_conversation

    @classmethod
    def for_run(cls, quick: bool) -> Size:
        # 2,000 conversations per assignee in both sizes, so deep pages exist in --quick too
        return cls(10_000, 10_000, 10, 5) if quick else cls(100_000, 100_000, 10, 50)


def customer_id(i: int) -> str:
    return f"cus_{i:07d}"


def conversation_id(i: int) -> str:
    return f"cnv_{i:07d}"


def agent_id(i: int) -> str:
    return f"agt_{i:03d}"


def address(i: int) -> str:
    return f"c{i}@example.com"


def cache_path(size: Size) -> Path:
    digest = hashlib.sha256("".join(migrations.MIGRATIONS).encode()).hexdigest()[:10]
    name = (
        f"hub-v{migrations.LATEST}-{digest}-f{SEED_FORMAT}-{size.conversations}c-{size.messages}m"
    )
    return CACHE_DIR / f"{name}.db"


def _conversations(size: Size, rng: random.Random) -> list[tuple[Any, ...]]:
    out = []
    for j in range(size.conversations):
        inbox_id, _, channel = INBOXES[j % len(INBOXES)]
        created = BASE_MS - rng.randrange(90 * DAY_MS)
        last = created + (size.per_conversation - 1) * 60_000 + rng.randrange(60_000)
        status = STATUSES[rng.randrange(len(STATUSES))]
        out.append((
            conversation_id(j), customer_id(rng.randrange(size.customers)), inbox_id, channel,
            status, "none", agent_id(rng.randrange(size.assignees)), None, "[]", f"Case {j}",
            created, last, last, created + 60_000, last if status == "resolved" else None,
            last + DAY_MS if status == "snoozed" else None, 0, size.per_conversation,
        ))  # fmt: skip
    return out


def _messages(conversations: list[tuple[Any, ...]], per: int) -> Iterator[tuple[Any, ...]]:
    n = 0
    for conv in conversations:
        cid, cus, _, channel, _, _, assignee, *_, created, _, last = conv[:13]
        step = (last - created) // max(1, per - 1)
        for k in range(per):
            at = last if k == per - 1 else created + k * step
            inbound = k % 2 == 0
            n += 1
            text = f"{WORDS[n % 11]} {WORDS[n // 11 % 11]} #{n % 9973} {WORDS[n // 121 % 11]}"
            yield (
                f"msg_{n:08d}", cid, cus, "in" if inbound else "out", "message", channel, text,
                f"p{n}" if inbound else None, f"<m{n}@example.com>" if channel == "email" else None,
                address(int(cus[4:])) if inbound else None, None if inbound else assignee,
                "received" if inbound else "delivered", at,
            )  # fmt: skip


def _bulk_load(path: str, size: Size) -> None:
    rng = random.Random(20250601)
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=DELETE")  # one big transaction: skip doubling it in a WAL
    conn.execute("PRAGMA synchronous=OFF")
    conn.execute("PRAGMA cache_size=-1048576")  # 1 GiB: random index inserts stay in memory

    def load(sql: str, rows: Any) -> None:
        conn.execute("BEGIN")
        conn.executemany(sql, rows)
        conn.execute("COMMIT")

    load(
        "INSERT INTO teams (id, name, created_at) VALUES (?, ?, ?)",
        [("tea_support", "Support", BASE_MS)],
    )
    load(
        "INSERT INTO agents (id, email, name, role, created_at) VALUES (?, ?, ?, 'agent', ?)",
        [(agent_id(i), f"agent{i}@hub.test", f"Agent {i}", BASE_MS) for i in range(size.assignees)],
    )
    load(
        "INSERT INTO inboxes (id, name, channel, team_id, created_at) VALUES (?, ?, ?, NULL, ?)",
        [(*inbox, BASE_MS) for inbox in INBOXES],
    )
    created = [BASE_MS - 365 * DAY_MS + rng.randrange(275 * DAY_MS) for _ in range(size.customers)]
    load(
        "INSERT INTO customers (id, name, created_at, updated_at) VALUES (?, ?, ?, ?)",
        ((customer_id(i), f"Customer {i}", t, t) for i, t in enumerate(created)),
    )
    load(
        "INSERT INTO identities (id, customer_id, kind, address, created_at)"
        " VALUES (?, ?, 'email', ?, ?)",
        ((f"idn_{i:07d}", customer_id(i), address(i), t) for i, t in enumerate(created)),
    )
    conversations = _conversations(size, rng)
    load(f"INSERT INTO conversations ({CONVERSATION_COLUMNS}) VALUES ({', '.join('?' * 18)})",
         conversations)  # fmt: skip
    load(
        "INSERT INTO messages (id, conversation_id, customer_id, direction, kind, channel, text,"
        " provider_id, thread_key, sender, author_id, delivery_status, created_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        _messages(conversations, size.per_conversation),
    )
    conn.execute("BEGIN")
    index_backlog(conn, limit=size.messages)  # the store would do this in the background
    conn.execute("COMMIT")
    conn.execute("PRAGMA journal_mode=WAL")  # what the store leaves on disk
    conn.close()


def _publish(path: str, cached: Path) -> None:
    """Move a finished seed into the cache (the rename makes a half-written cache impossible),
    and delete cached files of an older schema or seed format: they would never be used again."""
    CACHE_DIR.mkdir(exist_ok=True)
    partial = cached.with_suffix(".partial")
    shutil.move(path, partial)
    partial.rename(cached)
    current = cached.name.rsplit("-", 2)[0]  # hub-v<version>-<digest>-f<format>
    for old in CACHE_DIR.glob("hub-v*.db"):
        if not old.name.startswith(current + "-"):
            old.unlink(missing_ok=True)


async def seeded_copy(size: Size, dest_dir: str) -> tuple[str, float | None]:
    """A private copy of the seeded database in dest_dir; seconds spent seeding (None: cached)."""
    cached = cache_path(size)
    seconds: float | None = None
    if not cached.exists():
        start = now_ns()
        with tempfile.TemporaryDirectory(prefix="hub-bench-seed-") as tmp:
            path = str(Path(tmp) / "seed.db")
            store = create_store(f"sqlite:///{path}")  # path is absolute: sqlite:////tmp/...
            await store.open()  # the migrations create the schema
            await store.close()
            _bulk_load(path, size)
            _publish(path, cached)
        seconds = (now_ns() - start) / 1e9
    dest = str(Path(dest_dir) / "hub.db")
    shutil.copyfile(cached, dest)
    return dest, seconds
