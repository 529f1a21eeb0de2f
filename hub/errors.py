"""Typed errors that carry a machine code, a human reason and an HTTP status."""

from __future__ import annotations

from typing import Any


class HubError(Exception):
    """Base of every error the hub raises on purpose; maps to a JSON error body."""

    code = "hub_error"
    status = 400

    def __init__(self, message: str, *, code: str | None = None, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.details = details


class InvalidInput(HubError):
    """The caller sent something malformed or out of range."""

    code = "invalid_input"
    status = 422


class InvalidAddress(InvalidInput):
    """An address (email, phone, JID, visitor id) could not be normalised."""

    code = "invalid_address"

    def __init__(self, kind: str, raw: str, reason: str) -> None:
        super().__init__(f"invalid {kind} address {raw!r}: {reason}", kind=kind, reason=reason)
        self.kind = kind
        self.raw = raw
        self.reason = reason


class NotFound(HubError):
    """The named object does not exist (or is not visible to the caller)."""

    code = "not_found"
    status = 404


class Conflict(HubError):
    """The request conflicts with the current state (e.g. already merged)."""

    code = "conflict"
    status = 409


class IdempotencyKeyReused(Conflict):
    """An idempotency key came back with another request (another conversation or body)."""

    code = "idempotency_key_reused"

    def __init__(self, *, other_conversation: bool) -> None:
        what = (
            "on another conversation"
            if other_conversation
            else "with a different body (text, html, attachments, or reply instead of note)"
        )
        super().__init__(
            f"this idempotency key was already used {what}; use a new key for a new message",
            reason="conversation" if other_conversation else "body",
        )


class Unauthorized(HubError):
    """No valid credentials."""

    code = "unauthorized"
    status = 401


class Forbidden(HubError):
    """Valid credentials, but not allowed to do this."""

    code = "forbidden"
    status = 403


class ConfigError(HubError):
    """The configuration is invalid; names the key and the problem."""

    code = "config_error"
    status = 500

    def __init__(self, key: str, problem: str) -> None:
        super().__init__(f"config error: {key}: {problem}", key=key, problem=problem)
        self.key = key
        self.problem = problem


class StoreUnavailable(HubError):
    """The store cannot be reached or opened."""

    code = "store_unavailable"
    status = 503


class SendError(HubError):
    """A channel failed to send; `permanent` errors are not retried."""

    code = "send_failed"
    status = 502

    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent
