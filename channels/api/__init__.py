"""The generic API channel: messages in through POST /api/v1/inbound, replies by webhook."""

from channels.api.adapter import ApiChannel

__all__ = ["ApiChannel"]
