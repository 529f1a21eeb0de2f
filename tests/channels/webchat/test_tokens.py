"""Visitor tokens: signed, expiring, bound to their inbox; the site's identifier HMAC."""

from __future__ import annotations

import pytest

from channels.webchat.parse import FrameError
from channels.webchat.tokens import (
    VisitorTokens,
    check_identifier,
    identified_visitor_id,
    identifier_hash,
    new_visitor_id,
)
from hub.identity import normalise_visitor

KEY = b"k" * 32


def test_a_token_carries_visitor_inbox_and_issue_time() -> None:
    tokens = VisitorTokens(KEY, clock=lambda: 1_800_000_000.0)
    claims = tokens.verify(tokens.issue("v_abcdefgh", "inb_1"), inbox_id="inb_1", max_age=60)
    assert (claims.visitor_id, claims.inbox_id, claims.issued_at) == (
        "v_abcdefgh",
        "inb_1",
        1_800_000_000,
    )


def test_a_token_expires_after_max_age() -> None:
    now = [1_800_000_000.0]
    tokens = VisitorTokens(KEY, clock=lambda: now[0])
    token = tokens.issue("v_abcdefgh", "inb_1")
    now[0] += 61
    with pytest.raises(FrameError) as caught:
        tokens.verify(token, inbox_id="inb_1", max_age=60)
    assert caught.value.code == "token_expired"


@pytest.mark.parametrize("mangle", [lambda t: t[:-2] + "AA", lambda t: "x" + t, lambda t: ""])
def test_a_tampered_token_is_invalid(mangle: object) -> None:
    tokens = VisitorTokens(KEY)
    token = mangle(tokens.issue("v_abcdefgh", "inb_1"))  # type: ignore[operator]
    with pytest.raises(FrameError) as caught:
        tokens.verify(token, inbox_id="inb_1", max_age=60)
    assert caught.value.code == "token_invalid"


def test_a_token_signed_with_another_key_is_invalid() -> None:
    token = VisitorTokens(b"other" * 8).issue("v_abcdefgh", "inb_1")
    with pytest.raises(FrameError):
        VisitorTokens(KEY).verify(token, inbox_id="inb_1", max_age=60)


def test_a_token_is_bound_to_its_inbox() -> None:
    tokens = VisitorTokens(KEY)
    with pytest.raises(FrameError) as caught:
        tokens.verify(tokens.issue("v_abcdefgh", "inb_1"), inbox_id="inb_2", max_age=60)
    assert caught.value.code == "token_invalid"


def test_tokens_need_a_secret_key() -> None:
    with pytest.raises(ValueError):
        VisitorTokens(b"")


def test_visitor_ids_are_valid_visitor_addresses_and_unique() -> None:
    ids = {new_visitor_id() for _ in range(100)}
    assert len(ids) == 100
    assert all(normalise_visitor(v) == v for v in ids)
    derived = identified_visitor_id(KEY, "inb_1", "user@site")
    assert normalise_visitor(derived) == derived


def test_identified_visitor_is_stable_per_inbox_and_hides_the_identifier() -> None:
    one = identified_visitor_id(KEY, "inb_1", "user-42")
    assert one == identified_visitor_id(KEY, "inb_1", "user-42")
    assert one != identified_visitor_id(KEY, "inb_2", "user-42")
    assert one != identified_visitor_id(KEY, "inb_1", "user-43")
    assert "user-42" not in one


def test_identifier_hash_is_hex_hmac_sha256() -> None:
    # RFC 4231 test case 2
    assert identifier_hash("Jefe", "what do ya want for nothing?") == (
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
    )
    good = identifier_hash("secret", "user-42")
    assert check_identifier("secret", "user-42", good)
    assert check_identifier("secret", "user-42", good.upper())
    assert not check_identifier("secret", "user-43", good)
    assert not check_identifier("", "user-42", identifier_hash("", "user-42"))
