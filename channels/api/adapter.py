"""ApiChannel: replies go to the inbox's webhook (if any) as signed JSON with an idempotency key."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import aiohttp
import orjson

from channels.api.config import SECRET_SETTINGS, ApiInboxConfig, check_settings
from channels.api.inbound import InboundEndpoints
from channels.api.signing import SIGNATURE_HEADER, signature_header
from channels.base import ChannelContext
from hub.errors import HubError, SendError, StoreUnavailable
from hub.model import DeliveryStatus, Inbound, IngestResult, Outbound, Receipt
from hub.web.routes import Route


class ApiChannel:
    """The generic channel for integrations; inbound arrives through the REST API."""

    name: ClassVar[str] = "api"
    default_config: ClassVar[Mapping[str, Any]] = {}
    secret_settings: ClassVar[frozenset[str]] = SECRET_SETTINGS
    check_settings = staticmethod(check_settings)

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
        try:
            config = ApiInboxConfig.parse(inbox.config)
        except HubError as exc:
            reason = f"the inbox's settings are invalid: {exc.message}"
            raise SendError(reason, permanent=True) from None
        if not config.webhook_url:
            return Receipt(provider_id=f"api:{outbound.message_id}", status=DeliveryStatus.SENT)
        if not config.webhook_secret:
            # never unsigned: the receiver could not tell the hub from anyone else
            raise SendError(
                "the inbox has a webhook_url but no webhook_secret to sign with; set one",
                permanent=True,
            )
        body = orjson.dumps(
            {
                "message_id": outbound.message_id,
                "conversation_id": outbound.conversation_id,
                "inbox_id": outbound.inbox_id,
                "recipient": {"kind": outbound.recipient_kind.value, "address": outbound.recipient},
                "text": outbound.text,
                "html": outbound.html,
                "attempt": outbound.attempt,
                # signed, unlike the Idempotency-Key header: receivers de-duplicate on this
                "idempotency_key": outbound.idempotency_key,
            }
        )
        headers = {
            "Content-Type": "application/json",
            "Idempotency-Key": outbound.idempotency_key,
            SIGNATURE_HEADER: signature_header(config.webhook_secret, body),
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
