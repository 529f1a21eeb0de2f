"""Canned-response actions, and the placeholders their bodies may use.

A body may contain `{{ customer.name }}`-style placeholders from PLACEHOLDERS (checked on
save). `fill_placeholders` substitutes them with plain text: bodies are never rendered as
templates, so an admin-written body cannot run template code.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from hub.actions.context import ActionContext
from hub.errors import InvalidInput, NotFound
from hub.events import EventType
from hub.model import CannedResponse
from hub.store.base import UNSET

PLACEHOLDERS = ("customer.name", "customer.first_name", "agent.name", "agent.first_name")
MAX_TITLE_LENGTH = 200
MAX_BODY_LENGTH = 10_000
_SHORTCUT = re.compile(r"[a-z0-9][a-z0-9_-]{0,31}")
_PLACEHOLDER = re.compile(r"\{\{\s*([^{}]*?)\s*\}\}")


def clean_shortcut(value: str) -> str:
    """A lower-case shortcut of letters, digits, '-' and '_' (a leading '/' is dropped)."""
    shortcut = value.strip().removeprefix("/").lower()
    if not _SHORTCUT.fullmatch(shortcut):
        raise InvalidInput(
            "a shortcut is 1-32 letters, digits, '-' or '_', starting with a letter or digit",
            field="shortcut",
        )
    return shortcut


def clean_title(value: str) -> str:
    """A trimmed, non-empty title."""
    title = " ".join(value.split())
    if not title:
        raise InvalidInput("the title must not be empty", field="title")
    if len(title) > MAX_TITLE_LENGTH:
        raise InvalidInput(f"the title is longer than {MAX_TITLE_LENGTH} characters", field="title")
    return title


def clean_body(value: str) -> str:
    """A non-empty body whose placeholders are all known."""
    body = value.replace("\r\n", "\n").strip()
    if not body:
        raise InvalidInput("the text must not be empty", field="body")
    if len(body) > MAX_BODY_LENGTH:
        raise InvalidInput(f"the text is longer than {MAX_BODY_LENGTH} characters", field="body")
    unknown = sorted({m for m in _PLACEHOLDER.findall(body) if m not in PLACEHOLDERS})
    if unknown:
        raise InvalidInput(
            f"unknown placeholder {{{{ {unknown[0]} }}}}; use one of "
            + ", ".join(f"{{{{ {p} }}}}" for p in PLACEHOLDERS),
            field="body",
        )
    return body


def fill_placeholders(body: str, values: Mapping[str, str | None]) -> str:
    """The body with each known placeholder replaced by its value ('' when missing)."""

    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in PLACEHOLDERS:
            return match.group(0)
        return values.get(name) or ""

    return _PLACEHOLDER.sub(replace, body)


async def do_create_canned_response(
    ctx: ActionContext, *, shortcut: str, title: str, body: str
) -> CannedResponse:
    """Create a canned response; Conflict (field shortcut) if the shortcut is taken."""
    canned = await ctx.store.create_canned_response(
        shortcut=clean_shortcut(shortcut),
        title=clean_title(title),
        body=clean_body(body),
        now=ctx.clock(),
    )
    ctx.bus.publish(EventType.CANNED_RESPONSE_CREATED, {"canned_response": canned})
    return canned


async def do_update_canned_response(
    ctx: ActionContext,
    canned_id: str,
    *,
    shortcut: str = UNSET,
    title: str = UNSET,
    body: str = UNSET,
) -> CannedResponse:
    """Edit a canned response (UNSET fields are kept)."""
    canned = await ctx.store.update_canned_response(
        canned_id,
        shortcut=shortcut if shortcut is UNSET else clean_shortcut(shortcut),
        title=title if title is UNSET else clean_title(title),
        body=body if body is UNSET else clean_body(body),
        now=ctx.clock(),
    )
    ctx.bus.publish(EventType.CANNED_RESPONSE_UPDATED, {"canned_response": canned})
    return canned


async def do_delete_canned_response(ctx: ActionContext, canned_id: str) -> None:
    """Delete a canned response; NotFound if it does not exist."""
    if not await ctx.store.delete_canned_response(canned_id):
        raise NotFound(
            f"canned response {canned_id!r} does not exist", code="canned_response_not_found"
        )
    ctx.bus.publish(EventType.CANNED_RESPONSE_DELETED, {"canned_response_id": canned_id})
