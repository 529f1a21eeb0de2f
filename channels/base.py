"""The Channel contract, as channels see it.

It is defined in hub/channel.py so the core can drive channels without importing this
package; a channel registers through the `contact_hub.channels` entry point.
"""

from hub.channel import Channel, ChannelContext

__all__ = ["Channel", "ChannelContext"]
