"""The web-chat channel: an embeddable widget and a websocket per visitor."""

from channels.webchat.adapter import WebchatChannel

__all__ = ["WebchatChannel"]
