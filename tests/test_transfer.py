"""`hub transfer`: a seeded hub copied between stores, verified, re-runnable, never onto itself."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
from rich.console import Console
from rich.progress import Progress

from hub.actions import ActionContext, do_merge, do_undo_merge
from hub.cli import main
from hub.config import HubConfig
from hub.demo import seed_demo
from hub.events import EventBus
from hub.model import IdentityKind, utcnow
from hub.store import Store, create_store
from hub.store.base import RecordKind
from hub.transfer import TransferError, new_progress, run_transfer, transfer


def quiet_progress() -> Progress:
    return new_progress(Console(file=io.StringIO(), width=120))


async def opened(url: str) -> Store:
    store = create_store(url)
    await store.open()
    return store


async def seed(store: Store, config: HubConfig) -> None:
    ctx = ActionContext(store=store, bus=EventBus(), config=config)
    await seed_demo(ctx, admin_email="admin@demo.test", admin_name="Admin", password="demo-pass-1")
    pair = []
    for address in ("x@example.com", "y@example.com"):
        created = await store.create_customer(
            name=address, attributes={}, tags=[], identities=[(IdentityKind.EMAIL, address)],
            now=utcnow(),
        )  # fmt: skip
        pair.append(created.customer.id)
    undone = await do_merge(ctx, pair[0], pair[1], actor_id=None)
    await do_undo_merge(ctx, undone.id)
    await store.create_canned_response(
        shortcut="moved", title="Moved", body="We moved to a new hub.", now=utcnow()
    )


@pytest.fixture
def source_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path}/source.db"


@pytest.fixture
def target_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path}/target.db"


@pytest.fixture
async def source(source_url: str, make_config: Callable[..., HubConfig]) -> AsyncIterator[Store]:
    """The demo hub (which merges two customers), a merge that was undone, a canned response."""
    store = await opened(source_url)
    try:
        await seed(store, make_config())
        yield store
    finally:
        await store.close()


@pytest.fixture
async def target(target_url: str) -> AsyncIterator[Store]:
    store = await opened(target_url)
    yield store
    await store.close()


async def customer_ids(store: Store) -> list[str]:
    records = await store.export_records(RecordKind.CUSTOMERS, after=None, limit=10_000)
    return [r["id"] for r in records]


async def assert_same_hub(source: Store, target: Store) -> None:
    source_counts = await source.counts()
    assert all(source_counts[kind.value] for kind in RecordKind), "the seed misses a kind"
    assert {k.value: (await target.counts())[k.value] for k in RecordKind} == {
        k.value: source_counts[k.value] for k in RecordKind
    }
    ids = await customer_ids(source)
    assert ids and ids == await customer_ids(target)
    for customer_id in ids:
        assert await target.customer_file(customer_id) == await source.customer_file(customer_id)


# --- the copy ------------------------------------------------------------------------------


async def test_sqlite_to_sqlite_copies_the_hub_and_verifies_it(
    source: Store, target: Store
) -> None:
    progress = quiet_progress()
    report = await transfer(source, target, batch=3, progress=progress)
    assert report.ok and report.mismatches() == []
    assert (await source.counts())["merges"] == 2
    await assert_same_hub(source, target)


async def test_progress_has_one_finished_task_per_kind(source: Store, target: Store) -> None:
    progress = quiet_progress()
    await transfer(source, target, batch=4, progress=progress)
    tasks = progress.tasks
    assert [t.description for t in tasks] == [k.value for k in RecordKind]
    counts = await source.counts()
    assert [(t.completed, t.total) for t in tasks] == [(counts[k], counts[k]) for k in RecordKind]


async def test_running_the_transfer_again_changes_nothing(source: Store, target: Store) -> None:
    progress = quiet_progress()
    await transfer(source, target, batch=5, progress=progress)
    counts = await target.counts()
    records = {k: await target.export_records(k, after=None, limit=10_000) for k in RecordKind}
    report = await transfer(source, target, batch=5, progress=progress)
    assert report.ok
    assert await target.counts() == counts
    assert {k: await target.export_records(k, after=None, limit=10_000) for k in RecordKind} == (
        records
    )


async def test_sqlite_to_mongo_copies_the_hub_and_verifies_it(source: Store) -> None:
    mongo = pytest.importorskip("hub.store.mongo", reason="hub.store.mongo is not built yet")
    if not hasattr(mongo, "MongoStore"):
        pytest.skip("hub.store.mongo.MongoStore is not built yet")
    mock = pytest.importorskip("pymongo_async_mock")
    target = mongo.MongoStore(
        "mongodb://mock.invalid/hub_transfer", client=mock.AsyncMongoMockClient()
    )
    await target.open()
    try:
        progress = quiet_progress()
        report = await transfer(source, target, batch=3, progress=progress)
        assert report.ok
        await assert_same_hub(source, target)
    finally:
        await target.close()


# --- refusals and verification ----------------------------------------------------------


async def test_a_store_is_never_transferred_onto_itself(source_url: str, source: Store) -> None:
    with pytest.raises(TransferError, match="same store") as caught:
        await run_transfer(source_url, source_url, console=Console(file=io.StringIO()))
    assert caught.value.code == "same_store"


async def test_another_spelling_of_the_same_file_is_the_same_store(
    tmp_path: Path, source: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(TransferError, match="same store"):
        await run_transfer(
            "sqlite:///source.db",
            f"sqlite:///{tmp_path}/source.db",
            console=Console(file=io.StringIO()),
        )


async def test_the_same_mongo_database_under_other_credentials_is_refused_redacted() -> None:
    with pytest.raises(TransferError, match="same store") as caught:
        await run_transfer(
            "mongodb://alice:s3cret@Db.example:27017/hub",
            "mongodb://bob:hunter2@db.example/hub",
            console=Console(file=io.StringIO()),
        )
    assert "s3cret" not in caught.value.message and "hunter2" not in caught.value.message


async def test_an_unknown_scheme_is_refused_without_its_credentials(target_url: str) -> None:
    with pytest.raises(TransferError, match="must start with") as caught:
        await run_transfer(
            "postgres://alice:s3cret@db.example/hub",
            target_url,
            console=Console(file=io.StringIO()),
        )
    assert "s3cret" not in caught.value.message


async def test_a_missing_sqlite_source_is_refused(tmp_path: Path, target_url: str) -> None:
    with pytest.raises(TransferError, match="does not exist"):
        await run_transfer(f"sqlite:///{tmp_path}/nope.db", target_url)
    assert not (tmp_path / "nope.db").exists()


async def test_a_target_that_was_not_empty_fails_verification_with_the_reason(
    source_url: str, source: Store, target_url: str, target: Store
) -> None:
    await target.create_team("Already here", now=utcnow())
    out = io.StringIO()
    with pytest.raises(TransferError, match="teams: source has 2, target has 3") as caught:
        await run_transfer(source_url, target_url, console=Console(file=out, width=120))
    assert caught.value.code == "verification_failed"
    assert "MISMATCH" in out.getvalue()


# --- the command --------------------------------------------------------------------------


@pytest.fixture
async def closed_source(source: Store) -> None:
    """The seeded source, closed so the command opens the file itself."""
    await source.close()


def test_the_command_prints_the_verification_and_exits_0(
    closed_source: None, source_url: str, target_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["transfer", "--from", source_url, "--to", target_url, "--batch", "2"]) == 0
    out = capsys.readouterr().out
    assert "Verification" in out and "verified:" in out and "MISMATCH" not in out
    for kind in RecordKind:
        assert kind.value in out


def test_the_command_exits_non_zero_with_the_reason_on_the_same_url(
    closed_source: None, source_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["transfer", "--from", source_url, "--to", source_url]) == 1
    assert "same store" in capsys.readouterr().err
