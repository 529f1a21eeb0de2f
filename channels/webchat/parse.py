"""The widget's frames (JSON text over the websocket), checked, and a message as Inbound.

Frames from the widget, each a JSON object with a "type":
  hello    {"token"?, "identifier"?, "identifier_hash"?, "name"?}  first, once per connection
  resume   {"after": <message id> | null}     history after that id, then live messages
  message  {"client_id", "text"}              acked as {"type": "ack", "client_id", "id"}
  typing   {"typing": true | false}
  email    {"address"}                        offline mode: where to write back
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import orjson

from hub.model import IdentityKind, Inbound

CHANNEL = "webchat"
_CLIENT_ID = re.compile(r"[A-Za-z0-9_.:-]{1,64}")
_MESSAGE_ID = re.compile(r"[A-Za-z0-9_]{1,64}")
_HEX_HASH = re.compile(r"[0-9a-fA-F]{64}")
MAX_IDENTIFIER = 256
MAX_NAME = 200
MAX_EMAIL = 320


class FrameError(Exception):
    """A frame the hub refuses; becomes {"type": "error", "code", "message"} to the widget."""

    def __init__(self, code: str, message: str, *, client_id: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.client_id = client_id


@dataclass(frozen=True, kw_only=True, slots=True)
class Hello:
    token: str | None = None
    identifier: str | None = None
    identifier_hash: str | None = None
    name: str | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class Resume:
    after: str | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class SendMessage:
    client_id: str
    text: str


@dataclass(frozen=True, kw_only=True, slots=True)
class Typing:
    typing: bool


@dataclass(frozen=True, kw_only=True, slots=True)
class LeaveEmail:
    address: str


Frame = Hello | Resume | SendMessage | Typing | LeaveEmail


def _optional_text(data: dict[str, Any], name: str, limit: int) -> str | None:
    value = data.get(name)
    if value is None:
        return None
    if not isinstance(value, str) or not 0 < len(value) <= limit:
        raise FrameError("invalid_frame", f"{name} must be a string of 1-{limit} characters")
    return value


def _hello(data: dict[str, Any]) -> Hello:
    identifier = _optional_text(data, "identifier", MAX_IDENTIFIER)
    given_hash = _optional_text(data, "identifier_hash", 64)
    if (identifier is None) != (given_hash is None):
        raise FrameError("invalid_frame", "identifier and identifier_hash must be given together")
    if given_hash is not None and not _HEX_HASH.fullmatch(given_hash):
        raise FrameError(
            "identity_unverified", "identifier_hash must be the hex HMAC-SHA256 of identifier"
        )
    name = _optional_text(data, "name", MAX_NAME)
    return Hello(
        token=_optional_text(data, "token", 1024),
        identifier=identifier,
        identifier_hash=given_hash,
        name=name.strip() or None if name else None,
    )


def _resume(data: dict[str, Any]) -> Resume:
    after = data.get("after")
    if after is not None and not (isinstance(after, str) and _MESSAGE_ID.fullmatch(after)):
        raise FrameError("invalid_frame", "after must be a message id or null")
    return Resume(after=after)


def _message(data: dict[str, Any], max_chars: int) -> SendMessage:
    client_id = data.get("client_id")
    if not isinstance(client_id, str) or not _CLIENT_ID.fullmatch(client_id):
        raise FrameError("invalid_frame", "client_id must be 1-64 of A-Z a-z 0-9 _ . : -")
    text = data.get("text")
    if not isinstance(text, str) or not text.strip():
        raise FrameError("invalid_frame", "text must be a non-empty string", client_id=client_id)
    if len(text) > max_chars:
        raise FrameError(
            "message_too_long",
            f"a message may have at most {max_chars} characters; this one has {len(text)}",
            client_id=client_id,
        )
    return SendMessage(client_id=client_id, text=text)


def _typing(data: dict[str, Any]) -> Typing:
    typing = data.get("typing", True)
    if not isinstance(typing, bool):
        raise FrameError("invalid_frame", "typing must be true or false")
    return Typing(typing=typing)


def _email(data: dict[str, Any]) -> LeaveEmail:
    address = data.get("address")
    if not isinstance(address, str) or not 0 < len(address) <= MAX_EMAIL:
        raise FrameError("invalid_email", "address must be an email address")
    return LeaveEmail(address=address)


def parse_frame(raw: str | bytes, *, max_chars: int) -> Frame:
    """One frame from its JSON text; FrameError with a code and a reason if it is not one."""
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise FrameError("malformed_json", "the frame is not valid JSON") from None
    if not isinstance(data, dict) or not isinstance(data.get("type"), str):
        raise FrameError("invalid_frame", 'a frame must be a JSON object with a "type"')
    kind = data["type"]
    if kind == "message":
        return _message(data, max_chars)
    if kind == "typing":
        return _typing(data)
    if kind == "resume":
        return _resume(data)
    if kind == "hello":
        return _hello(data)
    if kind == "email":
        return _email(data)
    raise FrameError("unknown_type", f"unknown frame type {kind[:40]!r}")


def client_id_of(raw: str | bytes) -> str | None:
    """The frame's client_id if it has a valid one (to tag an error with it), else None."""
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None
    client_id = data.get("client_id") if isinstance(data, dict) else None
    return client_id if isinstance(client_id, str) and _CLIENT_ID.fullmatch(client_id) else None


def provider_id(visitor_id: str, client_id: str) -> str:
    """The dedupe key of a visitor's message: a resend with the same client id is a no-op."""
    return f"{visitor_id}:{client_id}"


def to_inbound(frame: SendMessage, *, inbox_id: str, visitor_id: str, name: str | None) -> Inbound:
    """The Inbound for one visitor message."""
    return Inbound(
        channel=CHANNEL,
        inbox_id=inbox_id,
        provider_id=provider_id(visitor_id, frame.client_id),
        sender_kind=IdentityKind.VISITOR,
        sender=visitor_id,
        sender_name=name,
        text=frame.text,
    )
