"""@mentions in private notes: who a note names, and the `note.mention` event that tells them.

An agent is mentioned as `@` + their email address, or + its local part (their handle, e.g.
`@ada` for ada@example.com) when no other agent shares that local part. Mentions are read
from the note's text each time (nothing extra is stored), so the inbox can highlight them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from hub.actions.context import ActionContext
from hub.events import EventType
from hub.model import Agent, Message

# not inside a word or an address ("bob@x.com" is no mention); a full email may follow the @
_MENTION = re.compile(r"(?<![\w@.+-])@([A-Za-z0-9][\w.+-]*(?:@[\w-]+(?:\.[\w-]+)+)?)")


def agent_handle(agent: Agent) -> str:
    """The handle an agent is mentioned by: their email's local part, lower-cased."""
    return agent.email.split("@", 1)[0].lower()


def _directory(agents: Iterable[Agent]) -> dict[str, str]:
    """Mention token → agent id: full emails, and handles that name exactly one agent."""
    by_email: dict[str, str] = {}
    by_handle: dict[str, set[str]] = {}
    for agent in agents:
        if not agent.active:
            continue
        by_email[agent.email.lower()] = agent.id
        by_handle.setdefault(agent_handle(agent), set()).add(agent.id)
    unique = {handle: next(iter(ids)) for handle, ids in by_handle.items() if len(ids) == 1}
    return {**unique, **by_email}


def mention_spans(text: str, agents: Iterable[Agent]) -> list[tuple[str, str | None]]:
    """The text cut into (segment, agent id or None) parts; mentions carry their agent's id."""
    directory = _directory(agents)
    parts: list[tuple[str, str | None]] = []
    at = 0
    for match in _MENTION.finditer(text):
        raw = match.group(1).rstrip(".")  # a sentence may end right after the name
        agent_id = directory.get(raw.lower())
        if agent_id is None:
            continue
        end = match.start(1) + len(raw)
        if match.start() > at:
            parts.append((text[at : match.start()], None))
        parts.append((text[match.start() : end], agent_id))
        at = end
    if at < len(text):
        parts.append((text[at:], None))
    return parts


def mentioned_agents(text: str, agents: Iterable[Agent]) -> tuple[str, ...]:
    """Ids of the active agents a text mentions, in order of first mention."""
    ids = [agent_id for _, agent_id in mention_spans(text, agents) if agent_id is not None]
    return tuple(dict.fromkeys(ids))


async def publish_mentions(ctx: ActionContext, note: Message) -> tuple[str, ...]:
    """Tell the agents a stored note mentions (never its author); returns their ids."""
    if not note.text or "@" not in note.text:
        return ()  # the common case costs no store read
    agents = [a for a in await ctx.store.list_agents() if a.id != note.author_id]
    agent_ids = mentioned_agents(note.text, agents)
    if agent_ids:
        ctx.bus.publish(
            EventType.NOTE_MENTION,
            {"message": note, "conversation_id": note.conversation_id, "agent_ids": agent_ids},
        )
    return agent_ids
