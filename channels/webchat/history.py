"""A visitor's stream from the store: the non-note messages of their conversations, in order.

Resuming after message X returns every message of the visitor's conversations in this inbox
created at or after X (X itself excluded), oldest first. "At or after" rather than "after":
two messages stored in the same millisecond may have reached the widget in either order, and
a gap is worse than a repeat; the widget drops ids it already shows. Without a known X (first
load, or an id that is not the visitor's) it returns the latest HISTORY_LIMIT messages with
reset=True, and so it does when more than HISTORY_LIMIT messages came after X.
"""

from __future__ import annotations

from dataclasses import dataclass

from hub.channel import ChannelReads
from hub.model import ConversationFilter, Message, MessageKind

HISTORY_LIMIT = 200
MAX_CONVERSATIONS = 20  # the visitor's most recent conversations in this inbox
_PAGE = 100


@dataclass(frozen=True, kw_only=True, slots=True)
class History:
    messages: list[Message]  # oldest first, notes never included
    reset: bool  # the widget should replace what it shows


async def _after(
    reads: ChannelReads, conversation_id: str, anchor: Message | None
) -> list[Message]:
    """The conversation's messages at/after the anchor (newest first), at most a limit + 1."""
    out: list[Message] = []
    cursor = None
    while len(out) <= HISTORY_LIMIT:
        page = await reads.list_messages(conversation_id, limit=_PAGE, cursor=cursor)
        for message in page.items:
            if anchor is not None and message.created_at < anchor.created_at:
                return out
            out.append(message)
        cursor = page.next_cursor
        if cursor is None:
            break
    return out


async def load_history(
    reads: ChannelReads, *, customer_id: str | None, inbox_id: str, after: str | None
) -> History:
    """The visitor's messages after `after` (see the module docstring)."""
    if customer_id is None:
        return History(messages=[], reset=after is not None)
    flt = ConversationFilter(customer_id=customer_id, inbox_id=inbox_id)
    page = await reads.list_conversations(flt, limit=MAX_CONVERSATIONS)
    conversations = {c.id: c for c in page.items}
    anchor = await reads.get_message(after) if after is not None else None
    if anchor is not None and anchor.conversation_id not in conversations:
        anchor = None  # not this visitor's: never reveal whether such a message exists
    found: list[Message] = []
    for conversation in conversations.values():
        if anchor is not None and conversation.last_message_at < anchor.created_at:
            continue  # nothing new there
        found.extend(await _after(reads, conversation.id, anchor))
    visible = [
        m for m in found if m.kind == MessageKind.MESSAGE and (anchor is None or m.id != anchor.id)
    ]
    visible.sort(key=lambda m: (m.created_at, m.id))
    truncated = len(visible) > HISTORY_LIMIT
    return History(
        messages=visible[-HISTORY_LIMIT:],
        reset=anchor is None or truncated,
    )
