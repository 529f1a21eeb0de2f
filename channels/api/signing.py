"""Webhook signatures: `X-Hub-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256>`.

The HMAC is taken over f"{t}." followed by the raw body, under the inbox's webhook_secret,
as Stripe and GitHub do; the timestamp lets a receiver refuse a replayed delivery. Only the
body is signed, so what a receiver de-duplicates on is in it (`idempotency_key`), not only in
the unsigned Idempotency-Key header. docs/webhooks.md shows a receiver's side.
"""

from __future__ import annotations

import hashlib
import hmac
import time

SIGNATURE_HEADER = "X-Hub-Signature"
SCHEME = "v1"


def signature(secret: str, body: bytes, timestamp: int) -> str:
    """The hex HMAC-SHA256 of `{timestamp}.{body}` under `secret`."""
    signed = f"{timestamp}.".encode() + body
    return hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def signature_header(secret: str, body: bytes, *, now: float | None = None) -> str:
    """The X-Hub-Signature value for one delivery of `body`."""
    timestamp = int(time.time() if now is None else now)
    return f"t={timestamp},{SCHEME}={signature(secret, body, timestamp)}"
