"""ApiChannel: replies go to the inbox's webhook (if any) as JSON with an idempotency key."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import aiohttp
import orjson

from channels.api.config import ApiInboxConfig
from channels.api.inbound import InboundEndpoints
from channels.base import ChannelContext
from hub.errors import HubError, SendError, StoreUnavailable
from hub.model import DeliveryStatus, Inbound, IngestResult, Outbound, Receipt
from hub.web.routes import Route


class ApiChannel:
    """The generic channel for integrations; inbound arrives through the REST API."""

    name: ClassVar[str] = "api"
    default_config: ClassVar[Mapping[str, Any]] = {}

    def __init__(self) -> None:
        self._session: aiohttp.ClientSession | None = None
        self._ctx: ChannelContext | None = None

    def routes(self) -> Sequence[Route]:
        return InboundEndpoints(self._ingest, self._ingest_many).routes()

    def _started(self) -> ChannelContext:
        if self._ctx is None:
            raise StoreUnavailable("the api channel is not started")
        return self._ctx

    async def _ingest(self, inbound: Inbound) -> IngestResult:
        return await self._started().ingest(inbound)

    async def _ingest_many(self, inbounds: Sequence[Inbound]) -> list[IngestResult | HubError]:
        return await self._started().ingest_many(inbounds)

    async def start(self, ctx: ChannelContext) -> None:
        self._ctx = ctx
        self._session = aiohttp.ClientSession()

    async def stop(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def send(self, outbound: Outbound) -> Receipt:
        if self._session is None or self._ctx is None:
            raise SendError("the api channel is not started")
        inbox = await self._ctx.get_inbox(outbound.inbox_id)
        if inbox is None:
            raise SendError(f"inbox {outbound.inbox_id} no longer exists", permanent=True)
        config = ApiInboxConfig.parse(inbox.config)
        if not config.webhook_url:
            return Receipt(provider_id=f"api:{outbound.message_id}", status=DeliveryStatus.SENT)
        body = orjson.dumps(
            {
                "message_id": outbound.message_id,
                "conversation_id": outbound.conversation_id,
                "inbox_id": outbound.inbox_id,
                "recipient": {"kind": outbound.recipient_kind.value, "address": outbound.recipient},
                "text": outbound.text,
                "html": outbound.html,
                "attempt": outbound.attempt,
            }
        )
        headers = {
            "Content-Type": "application/json",
            "Idempotency-Key": outbound.idempotency_key,
        }
        try:
            async with self._session.post(
                config.webhook_url,
                data=body,
                headers=headers,
                timeout=aiohttp.ClientTimeout(total=config.timeout_seconds),
            ) as resp:
                if 200 <= resp.status < 300:
                    return Receipt(provider_id=f"api:{outbound.message_id}")
                permanent = 400 <= resp.status < 500 and resp.status not in (408, 429)
                raise SendError(f"webhook answered HTTP {resp.status}", permanent=permanent)
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise SendError(f"webhook unreachable: {exc.__class__.__name__}: {exc}") from exc
