"""Visitor tokens (signed, expiring, bound to an inbox) and the site's identity verification.

A token is what the widget keeps in localStorage: it names the visitor and the inbox, carries
the time it was issued, and is signed with HMAC-SHA256 under the hub's secret key (through
itsdangerous, with a salt of its own so no other signature of the hub can pass for one).
A site that knows its user passes `identifier` plus `identifier_hash`, the hex HMAC-SHA256
of the identifier under the inbox's identity secret; a verified identifier always maps to
the same visitor, whatever browser the user comes from.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass

from itsdangerous import BadSignature, SignatureExpired, TimestampSigner, URLSafeTimedSerializer

from channels.webchat.parse import FrameError

SALT = "contact-hub.webchat.visitor-token"


@dataclass(frozen=True, kw_only=True, slots=True)
class VisitorClaims:
    """What a valid token says."""

    visitor_id: str
    inbox_id: str
    issued_at: int  # unix seconds


class VisitorTokens:
    """Issues and checks visitor tokens; `clock` is injectable so expiry can be tested."""

    def __init__(self, secret_key: bytes, *, clock: Callable[[], float] = time.time) -> None:
        if not secret_key:
            raise ValueError("visitor tokens need a secret key")

        class _Signer(TimestampSigner):
            def get_timestamp(self) -> int:
                return int(clock())

        self._serializer = URLSafeTimedSerializer(
            secret_key,
            salt=SALT,
            signer=_Signer,
            signer_kwargs={"digest_method": hashlib.sha256},
        )

    def issue(self, visitor_id: str, inbox_id: str) -> str:
        """A fresh token for this visitor of this inbox."""
        return str(self._serializer.dumps({"v": visitor_id, "i": inbox_id}))

    def verify(self, token: str, *, inbox_id: str, max_age: int) -> VisitorClaims:
        """The token's claims; FrameError token_expired / token_invalid otherwise."""
        if not isinstance(token, str) or not 0 < len(token) <= 1024:
            raise FrameError("token_invalid", "the visitor token is malformed")
        try:
            data, issued = self._serializer.loads(token, max_age=max_age, return_timestamp=True)
        except SignatureExpired:
            raise FrameError(
                "token_expired", "the visitor token has expired; start a new chat"
            ) from None
        except BadSignature:
            raise FrameError("token_invalid", "the visitor token is not valid") from None
        if not isinstance(data, dict) or not isinstance(data.get("v"), str):
            raise FrameError("token_invalid", "the visitor token is not valid")
        if data.get("i") != inbox_id:
            raise FrameError("token_invalid", "the visitor token belongs to another chat")
        return VisitorClaims(
            visitor_id=data["v"], inbox_id=inbox_id, issued_at=int(issued.timestamp())
        )


def new_visitor_id() -> str:
    """A random visitor id (a valid `visitor` address: 8-128 of A-Z a-z 0-9 _ -)."""
    return "v_" + secrets.token_urlsafe(18)


def identified_visitor_id(secret_key: bytes, inbox_id: str, identifier: str) -> str:
    """The visitor id of a verified site user: stable per inbox, and not the identifier itself."""
    digest = hmac.new(
        secret_key, f"webchat-identifier\0{inbox_id}\0{identifier}".encode(), hashlib.sha256
    )
    return "u_" + digest.hexdigest()[:40]


def identifier_hash(identity_secret: str, identifier: str) -> str:
    """What the site computes: hex HMAC-SHA256 of the identifier under the inbox's secret."""
    return hmac.new(identity_secret.encode(), identifier.encode(), hashlib.sha256).hexdigest()


def check_identifier(identity_secret: str, identifier: str, given_hash: str) -> bool:
    """Whether `given_hash` is the identifier's HMAC (constant-time comparison)."""
    if not identity_secret:
        return False
    expected = identifier_hash(identity_secret, identifier)
    return hmac.compare_digest(expected, given_hash.strip().lower())
