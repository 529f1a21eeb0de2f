"""`hub transfer`: copy a whole hub from one store to another, then verify it by counts.

Distinct from `hub migrate` (a schema upgrade in place): this moves every record, e.g. from
the embedded SQLite file to a MongoDB replica set. Imports are upserts by id, so a transfer
that was interrupted, or one that reported a mismatch, can simply be run again.

Secret inbox settings travel as they are stored: encrypted under the hub secret key
(hub/settings_crypto.py), never decrypted or printed here. The target hub must therefore run
with the same key (HUB_SECRET_KEY, or the kept `secret_key` file copied beside the new
store); a hub with another key reports them unreadable and the admin sets them again.
This is a store-to-store copy, not an export: nothing is written outside the two stores.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from hub.config_checks import sqlite_path
from hub.errors import HubError
from hub.store import DEFAULT_CONNECT_TIMEOUT, Store, create_store
from hub.store.base import RecordKind
from hub.store.urls import redact_url

DEFAULT_BATCH = 500
_SCHEMES = ("sqlite://", "mongodb://", "mongodb+srv://")


class TransferError(HubError):
    """A transfer that cannot start, or whose verification found a difference."""

    code = "transfer_failed"


@dataclass(frozen=True, kw_only=True, slots=True)
class KindCount:
    """One kind's verification line: records in the source, in the target, and copied."""

    kind: RecordKind
    source: int
    target: int
    copied: int

    @property
    def ok(self) -> bool:
        return self.source == self.target


@dataclass(frozen=True, kw_only=True, slots=True)
class TransferReport:
    """What a transfer copied, and whether the target's counts equal the source's."""

    kinds: tuple[KindCount, ...]

    @property
    def ok(self) -> bool:
        return all(k.ok for k in self.kinds)

    def mismatches(self) -> list[str]:
        """One reason per kind whose counts differ."""
        return [
            f"{k.kind.value}: source has {k.source}, target has {k.target}"
            for k in self.kinds
            if not k.ok
        ]


def new_progress(console: Console) -> Progress:
    """The progress display: one bar per record kind."""
    return Progress(
        TextColumn("{task.description:<18}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
    )


async def copy_kind(
    source: Store, target: Store, kind: RecordKind, *, batch: int, progress: Progress, task: TaskID
) -> int:
    """Copy every record of one kind, a page at a time; returns how many were written."""
    copied, after = 0, None
    while True:
        page = await source.export_records(kind, after=after, limit=batch)
        if page:
            copied += await target.import_records(kind, page)
            progress.advance(task, len(page))
        if len(page) < batch:
            return copied
        after = page[-1]["id"]


async def transfer(
    source: Store, target: Store, *, batch: int, progress: Progress
) -> TransferReport:
    """Copy every RecordKind in enum order (references before their referrers), then count."""
    if batch < 1:
        raise TransferError(f"batch must be at least 1, got {batch}", code="invalid_batch")
    totals = await source.counts()
    tasks = {
        kind: progress.add_task(kind.value, total=totals.get(kind.value, 0)) for kind in RecordKind
    }
    copied = {}
    for kind in RecordKind:
        copied[kind] = await copy_kind(
            source, target, kind, batch=batch, progress=progress, task=tasks[kind]
        )
    after_source, after_target = await source.counts(), await target.counts()
    return TransferReport(
        kinds=tuple(
            KindCount(
                kind=kind,
                source=after_source.get(kind.value, 0),
                target=after_target.get(kind.value, 0),
                copied=copied[kind],
            )
            for kind in RecordKind
        )
    )


def report_table(report: TransferReport) -> Table:
    """The verification as a table: counts per kind on both sides."""
    table = Table(title="Verification: counts per kind")
    table.add_column("kind")
    for name in ("source", "target", "copied"):
        table.add_column(name, justify="right")
    table.add_column("check")
    for k in report.kinds:
        check = "ok" if k.ok else "[bold red]MISMATCH[/]"
        table.add_row(k.kind.value, str(k.source), str(k.target), str(k.copied), check)
    return table


# --- URLs ----------------------------------------------------------------------------------


def store_identity(url: str) -> tuple[str, ...] | None:
    """What names one store's data, whatever the URL's spelling or credentials.

    None for an in-memory SQLite store, which is its own database every time it is opened.
    """
    if url.startswith("sqlite://"):
        path = sqlite_path(url)
        return None if path == ":memory:" else ("sqlite", os.path.realpath(path))
    parts = urlsplit(url)
    netloc = parts.netloc.rpartition("@")[2].lower()
    default_port = "" if parts.scheme == "mongodb+srv" else ":27017"
    hosts = sorted(h if ":" in h else h + default_port for h in netloc.split(","))
    return (parts.scheme, ",".join(hosts), parts.path.strip("/"))


def scrub(text: str, urls: Sequence[str]) -> str:
    """Text with every URL's credentials replaced, wherever they appear."""
    for url in urls:
        text = text.replace(url, redact_url(url))
        userinfo = urlsplit(url).netloc.rpartition("@")[0] if "://" in url else ""
        if userinfo:
            text = text.replace(userinfo, "***")
    return text


def check_urls(source_url: str, target_url: str) -> None:
    """Refuse unknown schemes, a missing SQLite source, and a store copied onto itself."""
    for role, url in (("source", source_url), ("target", target_url)):
        if not url.startswith(_SCHEMES):
            raise TransferError(
                f"the {role} URL {redact_url(url)!r} must start with sqlite://, mongodb://"
                " or mongodb+srv://",
                code="invalid_url",
            )
    identity = store_identity(source_url)
    if identity is not None and identity == store_identity(target_url):
        raise TransferError(
            f"the source and the target are the same store ({redact_url(source_url)});"
            " a transfer copies one store into another",
            code="same_store",
        )
    if source_url.startswith("sqlite://"):
        path = sqlite_path(source_url)
        # opening a missing file would create an empty hub and "transfer" nothing
        if path != ":memory:" and not os.path.exists(path):
            raise TransferError(f"the source database {path!r} does not exist", code="no_source")


async def run_transfer(
    source_url: str,
    target_url: str,
    *,
    batch: int = DEFAULT_BATCH,
    synchronous: str = "full",
    connect_timeout: float = DEFAULT_CONNECT_TIMEOUT,
    console: Console | None = None,
) -> int:
    """The `hub transfer` command: open both stores, copy, print the verification table."""
    console = console or Console(highlight=False)
    check_urls(source_url, target_url)
    urls = (source_url, target_url)
    # markup off: a URL's [ ] (an IPv6 host) is not rich markup
    console.print(f"transfer {redact_url(source_url)} -> {redact_url(target_url)}", markup=False)
    try:
        source, target = (
            create_store(url, synchronous=synchronous, connect_timeout=connect_timeout)
            for url in urls
        )
        await source.open()
        try:
            await target.open()
            try:
                with new_progress(console) as progress:
                    report = await transfer(source, target, batch=batch, progress=progress)
            finally:
                await target.close()
        finally:
            await source.close()
    except HubError as exc:
        exc.message = scrub(exc.message, urls)
        raise
    console.print(report_table(report))
    if not report.ok:
        raise TransferError(
            "verification failed: "
            + "; ".join(report.mismatches())
            + " (was either store written to during the transfer, or the target not empty?)",
            code="verification_failed",
        )
    console.print(f"verified: {sum(k.target for k in report.kinds)} records, counts equal")
    console.print(
        "secret inbox settings were copied encrypted: run the target hub with the same "
        "hub secret key (HUB_SECRET_KEY or the kept secret_key file)",
        markup=False,
    )
    return 0
