"""One visitor's websocket: hello, resume, messages acked after the durable ingest, typing, email.

A socket is admitted per client address first (channels/webchat/admission.py). Every frame
then passes, in order: the size cap and JSON parsing, its rate limit (hellos count as
connections, other frames per visitor), and the identity gate (no frame but hello is served
to a visitor who has not said a valid hello, and with require_identity none to an unverified
one). Each refusal is an error frame; the connection stays open.
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING

from aiohttp import web

from channels.webchat.admission import MAX_RETRY_SECONDS, address_key, connection_wait
from channels.webchat.config import WebchatInboxConfig
from channels.webchat.frames import encode, error_frame, history_frame, message_view
from channels.webchat.history import load_history
from channels.webchat.limits import TokenBucket
from channels.webchat.parse import (
    Frame,
    FrameError,
    Hello,
    LeaveEmail,
    Resume,
    SendMessage,
    Typing,
    client_id_of,
    parse_frame,
    to_inbound,
)
from channels.webchat.tokens import check_identifier, identified_visitor_id, new_visitor_id
from channels.webchat.writer import FrameWriter
from hub.errors import Conflict, HubError, InvalidAddress
from hub.identity import normalise_address
from hub.model import Conversation, ConversationFilter, IdentityKind, Inbox, Status

if TYPE_CHECKING:
    from channels.webchat.adapter import WebchatRuntime

log = logging.getLogger(__name__)
CLOSE_TIMEOUT = 3.0  # seconds to wait for the widget's answer to our close frame
TYPING_EVERY = 2.0  # seconds between repeated "still typing" events
_IDLE, _RESUMING, _LIVE = 0, 1, 2
EMAIL_NOT_ATTACHED = (
    "This email address can't be linked to this chat. Please check it or use another "
    "address; you can also write to us from it directly."
)


def _shown(conversation: Conversation | None) -> tuple[object, ...]:
    """What of a conversation the status frame depends on."""
    if conversation is None:
        return ()
    return (conversation.id, conversation.status, conversation.assignee_id)


class VisitorSession(FrameWriter):
    """The state of one widget connection."""

    __slots__ = (
        "_held",
        "_hellos",
        "_identity_failed",
        "_last_status",
        "_last_typing",
        "_own_frames",
        "_phase",
        "_sent",
        "address_key",
        "config",
        "conversation",
        "customer_id",
        "inbox",
        "ip",
        "name",
        "rt",
        "visitor_id",
    )

    def __init__(
        self,
        rt: WebchatRuntime,
        ws: web.WebSocketResponse,
        inbox: Inbox,
        config: WebchatInboxConfig,
        ip: str,
    ) -> None:
        super().__init__(ws)
        self.rt = rt
        self.inbox = inbox
        self.config = config
        self.ip = ip
        self.visitor_id: str | None = None
        self.customer_id: str | None = None
        self.name: str | None = None
        self.conversation: Conversation | None = None
        self._identity_failed = False
        self._phase = _IDLE
        self._held: list[tuple[str, bytes]] | None = None
        self._sent: frozenset[str] = frozenset()  # history ids: late live copies are skipped
        self._last_status: tuple[object, ...] = ()
        self._last_typing = 0.0
        self.address_key = address_key(inbox.id, ip)
        self._hellos = 0
        self._own_frames: TokenBucket | None = None  # frames before a hello: made on demand

    @property
    def streaming(self) -> bool:
        """Whether the widget asked for messages (sent resume) on this connection."""
        return self._phase != _IDLE

    def deliver_message(self, message_id: str, frame: bytes) -> None:
        """A live message: held while the history is being sent, dropped before resume."""
        if self._phase == _LIVE:
            if message_id not in self._sent:
                self.send(frame)
        elif self._phase == _RESUMING and self._held is not None:
            self._held.append((message_id, frame))

    def observe(self, conversation: Conversation) -> bool:
        """Whether a changed conversation becomes (or updates) this visitor's current one."""
        current = self.conversation
        return (
            current is None
            or current.id == conversation.id
            or conversation.created_at > current.created_at
            or (current.status == Status.RESOLVED and conversation.status != Status.RESOLVED)
        )

    async def refresh_status(self, *, inline: bool = False) -> None:
        """Send the status frame if it changed since the last one (inline: from the loop)."""
        if self.closed or self.visitor_id is None:
            return
        status = await self.rt.board.status(self.inbox, self.config, self.conversation)
        # the values, not the encoded frame: orjson's output keeps a 4 KB buffer alive
        values = tuple(status.values())
        if values != self._last_status:
            self._last_status = values
            if inline:
                await self.reply(encode(status))
            else:
                self.send(encode(status))  # a slow visitor must not hold up the refresh

    # --- input ----------------------------------------------------------------------------
    async def on_text(self, data: str) -> None:
        """Handle one text frame; every refusal becomes an error frame."""
        try:
            await self._on_text(data)
        except FrameError as exc:
            await self.reply(error_frame(exc.code, exc.message, client_id=exc.client_id))
        except HubError as exc:
            await self.reply(error_frame(exc.code, exc.message, client_id=client_id_of(data)))
        except Exception:
            log.exception("web-chat frame failed (inbox %s)", self.inbox.id)
            await self.reply(
                error_frame(
                    "internal_error",
                    "something went wrong on our side; please try again",
                    client_id=client_id_of(data),
                )
            )

    async def _on_text(self, data: str) -> None:
        cfg = self.config
        frame, refusal = self._read(data)
        hello = isinstance(frame, Hello)
        wait = min(self._hello_wait() if hello else self._frame_wait(), MAX_RETRY_SECONDS)
        if wait:
            what = "hellos (new sessions) from this address" if hello else "frames"
            client_id = frame.client_id if isinstance(frame, SendMessage) else None
            await self.reply(
                error_frame(
                    "rate_limited",
                    f"too many {what}; wait {wait:.1f} s before sending again",
                    client_id=client_id or (refusal.client_id if refusal else None),
                    retry_after=wait,
                )
            )
            return
        if refusal is not None:
            raise refusal
        assert frame is not None
        if isinstance(frame, Hello):
            await self._hello(frame)
            return
        if self.visitor_id is None:
            client_id = frame.client_id if isinstance(frame, SendMessage) else None
            if cfg.require_identity or self._identity_failed:
                raise FrameError(
                    "identity_unverified",
                    "this chat needs a verified user: send hello with a valid identifier_hash",
                    client_id=client_id,
                )
            raise FrameError("hello_required", "send a hello frame first", client_id=client_id)
        if isinstance(frame, SendMessage):
            await self._message(frame)
        elif isinstance(frame, Resume):
            await self._resume(frame.after)
        elif isinstance(frame, Typing):
            await self._typing(frame.typing)
        elif isinstance(frame, LeaveEmail):
            await self._email(frame.address)

    def _read(self, data: str) -> tuple[Frame | None, FrameError | None]:
        """The frame, or why it is refused (too large, not JSON, not a frame we know)."""
        cfg = self.config
        size = len(data) if len(data) * 4 <= cfg.max_frame_bytes else len(data.encode())
        if size > cfg.max_frame_bytes:
            return None, FrameError(
                "frame_too_large",
                f"a frame may have at most {cfg.max_frame_bytes} bytes; this one has {size}",
                client_id=client_id_of(data[:200]),
            )
        try:
            return parse_frame(data, max_chars=cfg.max_message_chars), None
        except FrameError as exc:
            return None, exc

    def _hello_wait(self) -> float:
        """0 if this hello may go on, else the seconds to wait."""
        # the first was paid for by the connection; a repeated hello starts over as a
        # reconnect would, so it costs one: a loop of hellos is bounded like one of reconnects
        self._hellos += 1
        return connection_wait(self.rt, self.address_key, self.config) if self._hellos > 1 else 0

    def _frame_wait(self) -> float:
        """0 if this frame (not a hello) may go on, else the seconds to wait."""
        # per visitor (their tabs share a bucket), never per address: an office is one
        # address. Before a valid hello there is no visitor: the socket's own bucket counts.
        cfg = self.config
        if self.visitor_id is not None:
            key = f"v:{self.visitor_id}"
            return self.rt.limits.take(key, cfg.visitor_burst, cfg.visitor_per_second)
        now = time.monotonic()
        if self._own_frames is None:
            self._own_frames = TokenBucket(cfg.visitor_burst, cfg.visitor_per_second, now)
        return self._own_frames.take(now)

    async def _hello(self, hello: Hello) -> None:
        cfg = self.config
        self.rt.registry.remove(self)  # a second hello starts over
        self.visitor_id = self.customer_id = self.conversation = None
        self._phase = _IDLE
        visitor_id = None
        if hello.identifier is not None and hello.identifier_hash is not None:
            if not check_identifier(cfg.identity_secret, hello.identifier, hello.identifier_hash):
                self._identity_failed = True
                raise FrameError("identity_unverified", "identifier_hash does not match identifier")
            visitor_id = identified_visitor_id(self.rt.secret_key, self.inbox.id, hello.identifier)
        elif cfg.require_identity:
            self._identity_failed = True
            raise FrameError(
                "identity_unverified", "this chat needs identifier and identifier_hash"
            )
        if hello.token is not None:
            claims = self.rt.tokens.verify(
                hello.token, inbox_id=self.inbox.id, max_age=cfg.token_ttl_seconds
            )
            # a verified user wins over the token (they signed in since it was issued)
            visitor_id = visitor_id or claims.visitor_id
        # a brand-new random visitor cannot have a customer yet: skip the read
        known = visitor_id is not None
        self._identity_failed = False
        self.visitor_id = visitor_id or new_visitor_id()
        self.name = hello.name
        if known:
            identity = await self.rt.reads.find_identity(IdentityKind.VISITOR, self.visitor_id)
            self.customer_id = identity.customer_id if identity is not None else None
        self.rt.registry.add(self)
        if self.customer_id is not None:
            await self._load_conversation()
        await self.reply(
            encode(
                {
                    "type": "welcome",
                    "visitor_id": self.visitor_id,
                    "token": self.rt.tokens.issue(self.visitor_id, self.inbox.id),
                    "title": cfg.title,
                    "greeting": cfg.greeting,
                    "offline_message": cfg.offline_message,
                }
            )
        )
        self._last_status = ()
        await self.refresh_status(inline=True)

    async def _load_conversation(self) -> None:
        assert self.customer_id is not None
        flt = ConversationFilter(customer_id=self.customer_id, inbox_id=self.inbox.id)
        page = await self.rt.reads.list_conversations(flt, limit=5)
        current = next((c for c in page.items if c.status != Status.RESOLVED), None)
        current = current or (page.items[0] if page.items else None)
        if current is not None:
            self.rt.registry.set_conversation(self, current)

    async def _message(self, frame: SendMessage) -> None:
        assert self.visitor_id is not None
        inbound = to_inbound(frame, inbox_id=self.inbox.id, visitor_id=self.visitor_id,
                             name=self.name)  # fmt: skip
        try:
            result = await self.rt.ingest(inbound)  # returns after the commit
        except HubError as exc:
            raise FrameError(exc.code, exc.message, client_id=frame.client_id) from None
        self.rt.registry.bind(self.visitor_id, result.customer.id)
        if result.conversation_created:
            self.rt.board.mark_dirty(self.inbox.id)
        before = _shown(self.conversation)
        if self.observe(result.conversation):
            self.rt.registry.set_conversation(self, result.conversation)
        ack = {
            "type": "ack",
            "client_id": frame.client_id,
            "id": result.message.id,
            "conversation_id": result.conversation.id,
            "duplicate": result.duplicate,
        }
        await self.reply(encode(ack))
        if _shown(self.conversation) != before:  # most messages change nothing shown
            await self.refresh_status(inline=True)

    async def _resume(self, after: str | None) -> None:
        self._phase = _RESUMING  # live messages are held from here on: subscribe first
        self._held = []
        try:
            history = await load_history(
                self.rt.reads, customer_id=self.customer_id, inbox_id=self.inbox.id, after=after
            )
            views = [
                message_view(m, await self.rt.board.agent_name(m.author_id))
                for m in history.messages
            ]
        except BaseException:
            self._phase, self._held = _IDLE, None
            raise
        self._sent = frozenset(v["id"] for v in views)
        await self.reply(history_frame(views, reset=history.reset))
        held, self._held = self._held, None
        self._phase = _LIVE
        for message_id, frame in held:
            self.deliver_message(message_id, frame)

    async def _typing(self, typing: bool) -> None:
        if self.conversation is None or self.conversation.status == Status.RESOLVED:
            return  # nobody to tell yet: the indicator belongs to a conversation
        now = time.monotonic()
        if typing and now - self._last_typing < TYPING_EVERY:
            return  # agents already see "typing"; this is only a keep-alive
        self._last_typing = now if typing else 0.0
        await self.rt.typing(self.conversation.id, typing)

    async def _email(self, raw: str) -> None:
        assert self.visitor_id is not None
        try:
            address = normalise_address(IdentityKind.EMAIL, raw)
        except InvalidAddress as exc:
            reason = f"that is not an email address: {exc.reason}"
            raise FrameError("invalid_email", reason) from None
        try:
            if self.customer_id is None:
                customer = await self.rt.create_customer(
                    [(IdentityKind.VISITOR, self.visitor_id), (IdentityKind.EMAIL, address)]
                )
                self.rt.registry.bind(self.visitor_id, customer.id)
            else:
                await self.rt.add_identity(self.customer_id, IdentityKind.EMAIL, address)
        except Conflict:
            # the address belongs to someone else (or the visitor's first message just created
            # their customer): never say which, never merge on a visitor's word
            identity = await self.rt.reads.find_identity(IdentityKind.VISITOR, self.visitor_id)
            if self.customer_id is not None or identity is None:
                raise FrameError("email_not_attached", EMAIL_NOT_ATTACHED) from None
            self.rt.registry.bind(self.visitor_id, identity.customer_id)
            try:
                await self.rt.add_identity(identity.customer_id, IdentityKind.EMAIL, address)
            except Conflict:
                raise FrameError("email_not_attached", EMAIL_NOT_ATTACHED) from None
        await self.reply(encode({"type": "email_saved", "address": address}))

    def close(self) -> None:
        """The socket closed: forget the session."""
        self.stop_writing()
        self.rt.registry.remove(self)
