"""Whether the Store contract suite also ran on a real MongoDB server (HUB_TEST_MONGO_URL)."""

from __future__ import annotations

import os

import pytest

from .conftest import BACKENDS, MONGO_URL_ENV


def test_the_contract_suite_runs_on_a_real_server_when_one_is_configured() -> None:
    if not os.environ.get(MONGO_URL_ENV):
        pytest.skip(
            f"{MONGO_URL_ENV} is not set: the Store contract suite ran on sqlite and"
            " mongo-mock only (set it to the mongodb:// URL of a disposable server)"
        )
    assert "mongo" in BACKENDS
