"""Typing indicators: ephemeral `conversation.typing` events, in both directions, never stored."""

from __future__ import annotations

from hub.actions.context import ActionContext
from hub.actions.conversations import require_conversation
from hub.errors import InvalidInput
from hub.events import EventType


async def do_typing(
    ctx: ActionContext, conversation_id: str, *, agent_id: str | None = None, typing: bool = True
) -> None:
    """Tell everyone watching a conversation that its customer (agent_id None) or an agent types.

    An agent's indicator checks that the conversation exists (the agent side names it by id);
    the customer's comes from a channel that already holds the conversation, so it costs no
    store read.
    """
    if not conversation_id:
        raise InvalidInput("conversation_id must not be empty", field="conversation_id")
    if agent_id is not None:
        await require_conversation(ctx, conversation_id)
    ctx.bus.publish(
        EventType.CONVERSATION_TYPING,
        {
            "conversation_id": conversation_id,
            "who": "customer" if agent_id is None else "agent",
            "agent_id": agent_id,
            "typing": typing,
        },
    )
