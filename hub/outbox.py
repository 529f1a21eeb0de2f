"""Outbound dispatch: claim due outbox entries, send through the channel, retry with backoff."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Mapping
from datetime import timedelta

from hub.actions import ActionContext, do_record_send
from hub.channel import Channel
from hub.errors import SendError
from hub.model import DeliveryStatus, IdentityKind, Message, Outbound, OutboxEntry, ThreadHints
from hub.store.base import SendResult

log = logging.getLogger(__name__)


def backoff_delay(attempt: int, base: float, cap: float, rng: random.Random) -> float:
    """Exponential backoff with full jitter: uniform(0, min(cap, base * 2**(attempt-1)))."""
    ceiling = min(cap, base * (2 ** max(0, attempt - 1)))
    return max(base / 2, rng.uniform(0, ceiling))


class OutboxDispatcher:
    """Sends queued replies; each entry is retried under the same idempotency key."""

    def __init__(
        self,
        ctx: ActionContext,
        channels: Mapping[str, Channel],
        *,
        rng: random.Random | None = None,
    ) -> None:
        self._ctx = ctx
        self._channels = channels
        self._rng = rng or random.Random()
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._inflight: set[asyncio.Task[None]] = set()

    def wake(self) -> None:
        """Look for due entries now (called after a reply is queued)."""
        self._wake.set()

    async def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run(), name="outbox")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self._inflight:
            await asyncio.gather(*self._inflight, return_exceptions=True)

    async def _run(self) -> None:
        poll = self._ctx.config.outbox.poll_seconds
        while True:
            try:
                await self.run_once()
            except Exception:  # keep dispatching; the entry stays queued for the next round
                log.exception("outbox round failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=poll)
            self._wake.clear()

    async def run_once(self) -> int:
        """Claim and send every due entry; returns how many were attempted."""
        entries = await self._ctx.store.claim_outbox(self._ctx.clock())
        tasks = [asyncio.ensure_future(self._deliver(e)) for e in entries]
        for task in tasks:
            self._inflight.add(task)
            task.add_done_callback(self._inflight.discard)
        if tasks:
            await asyncio.gather(*tasks)
        return len(entries)

    async def _outbound(self, entry: OutboxEntry, message: Message) -> Outbound:
        store = self._ctx.store
        conversation = await store.get_conversation(entry.conversation_id)
        file = await store.customer_file(message.customer_id)
        if conversation is None or file is None:
            raise SendError("conversation or customer is gone", permanent=True)
        # reply to the address the customer last wrote from; else any address they have
        page = await store.list_messages(conversation.id, limit=50)
        last_sender = next((m.sender for m in page.items if m.sender), None)
        identity = next((i for i in file.identities if i.address == last_sender), None)
        if identity is None and file.identities:
            identity = file.identities[0]
        if identity is None:
            raise SendError("the customer has no address to reply to", permanent=True)
        references = tuple(m.thread_key for m in reversed(page.items) if m.thread_key)
        return Outbound(
            outbox_id=entry.id,
            message_id=message.id,
            conversation_id=conversation.id,
            inbox_id=conversation.inbox_id,
            channel=conversation.channel,
            recipient_kind=IdentityKind(identity.kind),
            recipient=identity.address,
            text=message.text,
            html=message.html,
            subject=conversation.subject,
            attachments=message.attachments,
            thread=ThreadHints(message_key=message.thread_key, references=references),
            idempotency_key=entry.idempotency_key,
            attempt=entry.attempts,
        )

    async def _deliver(self, entry: OutboxEntry) -> None:
        cfg = self._ctx.config.outbox
        now = self._ctx.clock
        message = await self._ctx.store.get_message(entry.message_id)
        try:
            if message is None:
                raise SendError("the message is gone", permanent=True)
            outbound = await self._outbound(entry, message)
            channel = self._channels.get(outbound.channel)
            if channel is None:
                raise SendError(f"channel {outbound.channel!r} is not enabled", permanent=True)
            receipt = await channel.send(outbound)
        except Exception as exc:
            permanent = isinstance(exc, SendError) and exc.permanent
            reason = exc.message if isinstance(exc, SendError) else f"{type(exc).__name__}: {exc}"
            if permanent or entry.attempts >= cfg.max_attempts:
                if not permanent:
                    reason = f"gave up after {entry.attempts} attempts: {reason}"
                result = SendResult(
                    outbox_id=entry.id,
                    delivery_status=DeliveryStatus.FAILED,
                    error=reason,
                    at=now(),
                )
            else:
                delay = backoff_delay(
                    entry.attempts, cfg.base_delay_seconds, cfg.max_delay_seconds, self._rng
                )
                result = SendResult(
                    outbox_id=entry.id,
                    delivery_status=DeliveryStatus.QUEUED,
                    error=reason,
                    next_attempt_at=now() + timedelta(seconds=delay),
                    at=now(),
                )
            log.warning("send of %s failed (attempt %d): %s", entry.id, entry.attempts, reason)
        else:
            result = SendResult(
                outbox_id=entry.id,
                delivery_status=receipt.status,
                provider_id=receipt.provider_id,
                at=now(),
            )
        await do_record_send(self._ctx, result)
