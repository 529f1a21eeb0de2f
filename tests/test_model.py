"""hub.model: ids."""

from __future__ import annotations

import re
import threading
import time

from hub.model import new_id

ULID = re.compile(r"^msg_[0-9A-HJKMNP-TV-Z]{26}$")


def test_new_id_has_prefix_and_26_crockford_characters() -> None:
    for _ in range(1000):
        assert ULID.match(new_id("msg"))


def test_new_ids_are_unique() -> None:
    ids = {new_id("msg") for _ in range(10_000)}
    assert len(ids) == 10_000


def test_new_ids_sort_by_creation_time_across_milliseconds() -> None:
    first = new_id("msg")
    time.sleep(0.002)
    second = new_id("msg")
    assert first < second


def test_new_ids_sort_by_creation_within_a_millisecond_and_across_threads() -> None:
    ids = [new_id("msg") for _ in range(10_000)]  # thousands per millisecond
    assert ids == sorted(ids)

    made: list[list[str]] = [[] for _ in range(4)]

    def make(out: list[str]) -> None:
        for _ in range(5_000):
            out.append(new_id("msg"))

    threads = [threading.Thread(target=make, args=(out,)) for out in made]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(out == sorted(out) for out in made)
    assert len({i for out in made for i in out}) == 20_000


def test_new_id_encodes_the_millisecond_time_in_its_first_ten_characters() -> None:
    before = time.time_ns() // 1_000_000
    encoded = new_id("msg")[4:14]
    after = time.time_ns() // 1_000_000
    alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
    value = 0
    for char in encoded:
        value = value * 32 + alphabet.index(char)
    assert before <= value <= after


def test_an_inbox_repr_names_its_settings_but_shows_no_value() -> None:
    from hub.model import Inbox, utcnow

    inbox = Inbox(
        id="inb_1",
        name="Site",
        channel="webchat",
        config={"identity_secret": "do-not-print-me"},
        created_at=utcnow(),
    )
    assert "do-not-print-me" not in repr(inbox) and "do-not-print-me" not in str(inbox)
    assert "identity_secret" in repr(inbox)
