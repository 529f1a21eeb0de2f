"""The agents' websocket, /ws: live events for the inbox pages, typing, and presence.

A signed-in agent's tab opens `/ws` (or `/ws?since=<last event id>` to resume). The session
cookie authenticates it, the Origin header must be the hub's own (no other site can open it
with the agent's cookie), and a deactivated or signed-out agent is refused.

Server → client (JSON text frames):
  {"type": "hello", "agent_id", "last_id", "presence": {agent id: state}}   always first
  {"type": "event", "id", "event", "at", "data"}   e.g. "message.created" (hub/events.py)
  {"type": "heartbeat", "last_id"}   after HEARTBEAT_SECONDS without a frame; resume from it
  {"type": "resync", "last_id"}      events were lost: reload what is shown, then go on
  {"type": "error", "code", "message"}   a refused client frame (the socket stays open)
Client → server:
  {"type": "typing", "conversation_id", "typing": bool}   the agent types a reply
  {"type": "away", "away": bool}      this tab was hidden for a while (or is back)
Close codes: 4401 the session ended (sign in again), 4403 the agent was deactivated,
1001 the server is shutting down (reconnect and resume).

Every event is checked against the agent's visible inboxes BEFORE it is sent; a note's
mention goes only to the agents it names. Each socket reads its own bounded queue
(EventBus.subscribe); one that falls behind is dropped by the bus and gets "resync".
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

import orjson
from aiohttp import WSCloseCode, WSMsgType, web
from yarl import URL

from hub.actions import ActionContext, do_typing
from hub.customer_access import CustomerMode, Viewer
from hub.errors import Forbidden, HubError, InvalidInput, Unauthorized
from hub.events import Event, EventType, ResyncRequired, Subscription, SubscriptionClosed
from hub.keys import ACTIONS_KEY, AGENT_KEY, CONFIG_KEY, LOOKUPS_KEY
from hub.model import Agent, Conversation
from hub.web.agent_sockets import AGENT_SOCKETS_KEY, CUSTOMER_EVENTS, AgentSockets, customer_ids
from hub.web.jsonio import dumps
from hub.web.page_guard import public
from hub.web.routes import visible_inbox_ids
from hub.web.sessions import SESSION_COOKIE, hash_session_token, is_https

log = logging.getLogger(__name__)

HEARTBEAT_SECONDS = 25.0  # an app-level frame: browsers cannot see protocol pings
PING_SECONDS = 30.0  # protocol pings: a peer that stops answering is closed
SESSION_CHECK_SECONDS = 60.0  # how soon a sign-out, expiry or deactivation closes the socket
YIELD_EVERY = 64  # queued events sent in a row before the pump lets other tasks run
TYPING_EVERY = 2.0  # seconds between repeated "still typing" events
MAX_FRAME = 4096
CLOSE_TIMEOUT = 3.0
SESSION_ENDED, DEACTIVATED = 4401, 4403

FORWARDED = frozenset(
    {
        EventType.MESSAGE_CREATED,
        EventType.MESSAGE_UPDATED,
        EventType.CONVERSATION_CREATED,
        EventType.CONVERSATION_UPDATED,
        EventType.CONVERSATION_TYPING,
        EventType.NOTE_MENTION,
        EventType.AGENT_PRESENCE,
        *CUSTOMER_EVENTS,  # sent as customer ids only (AgentSockets.encode)
    }
)
# not sent, but they change which inboxes an agent sees (or end the agent's access)
VISIBILITY_CHANGES = frozenset(
    {
        EventType.AGENT_UPDATED,
        EventType.INBOX_CREATED,
        EventType.INBOX_UPDATED,
        EventType.TEAM_DELETED,
    }
)


def _same_origin(a: URL, b: URL) -> bool:
    return (a.scheme.lower(), (a.host or "").lower(), a.port) == (
        b.scheme.lower(),
        (b.host or "").lower(),
        b.port,
    )


def check_origin(request: web.Request) -> None:
    """403 unless Origin is the hub's own: server.public_url, else this request's host."""
    origin = request.headers.get("Origin", "")
    public_url = request.config_dict[CONFIG_KEY].server.public_url
    scheme = "https" if is_https(request) else "http"
    expected = URL(public_url) if public_url else URL(f"{scheme}://{request.host}")
    try:
        given = URL(origin)
    except ValueError:
        given = URL()
    if not origin or not given.is_absolute() or not _same_origin(given, expected):
        raise Forbidden(
            f"the live connection must come from {expected.origin()}, not {origin or 'nowhere'}",
            code="bad_origin",
        )


def _since(request: web.Request) -> int | None:
    raw = request.query.get("since", "")
    if not raw:
        return None
    if not raw.isdigit() or len(raw) > 18:
        raise InvalidInput("since must be the id of the last event received", field="since")
    return int(raw)


class AgentSocket:
    """One agent tab's connection: a pump of filtered events and a reader of its frames."""

    def __init__(self, request: web.Request, ws: web.WebSocketResponse, agent: Agent) -> None:
        self.request = request
        self.ws = ws
        self.agent = agent
        self.away = False
        self.visible: tuple[str, ...] | None = ()
        self._ctx: ActionContext = request.config_dict[ACTIONS_KEY]
        self._sockets = request.config_dict[AGENT_SOCKETS_KEY]
        self._send_lock = asyncio.Lock()
        self._typed: dict[str, float] = {}

    # --- output ---------------------------------------------------------------------------
    async def _send(self, frame: bytes) -> None:
        async with self._send_lock:  # the pump and the reader both write
            await self.ws.send_frame(frame, WSMsgType.TEXT)

    async def send(self, frame: Mapping[str, Any]) -> None:
        await self._send(dumps(frame))

    # --- the connection -------------------------------------------------------------------
    async def serve(self, since: int | None) -> None:
        """Run until the socket closes: subscribe first, say hello, then pump and read."""
        sub = self._subscribe(since)  # before hello: nothing published from here is missed
        ctx, agent_id = self._ctx, self.agent.id
        self.visible = await visible_inbox_ids(self.request)
        self._sockets.add(self)
        ctx.presence.connect(agent_id)
        self._sockets.refresh_away(ctx, agent_id)
        pump: asyncio.Task[None] | None = None
        try:
            presence = {a: s.value for a, s in ctx.presence.snapshot().items()}
            hello = {"type": "hello", "agent_id": agent_id, "last_id": sub.last_id}
            await self.send({**hello, "presence": presence})
            pump = asyncio.get_running_loop().create_task(self._pump(sub))
            async for msg in self.ws:
                if msg.type == WSMsgType.TEXT:
                    await self._on_text(msg.data)
                elif msg.type == WSMsgType.BINARY:
                    await self._error("invalid_frame", "send JSON as text frames")
        except (ConnectionError, RuntimeError):
            pass  # the peer went away mid-write; clean up below
        finally:
            if pump is not None:
                pump.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await pump
            sub.close()
            self._sockets.discard(self)
            ctx.presence.disconnect(agent_id)
            self._sockets.refresh_away(ctx, agent_id)

    def _subscribe(self, since: int | None) -> Subscription:
        return self._ctx.bus.subscribe(types=FORWARDED | VISIBILITY_CHANGES, since=since)

    async def _pump(self, sub: Subscription) -> None:
        loop = asyncio.get_running_loop()
        next_check = loop.time() + SESSION_CHECK_SECONDS
        in_a_row = 0  # events sent since the pump last yielded to the loop
        try:
            while not self.ws.closed:
                if loop.time() >= next_check:
                    next_check = loop.time() + SESSION_CHECK_SECONDS
                    if not await self._session_alive():
                        await self.ws.close(code=SESSION_ENDED, message=b"session ended")
                        return
                wait = min(HEARTBEAT_SECONDS, max(0.0, next_check - loop.time()))
                if in_a_row >= YIELD_EVERY:  # a long backlog lets the other sockets run
                    in_a_row = 0
                    await asyncio.sleep(0)
                try:  # queued events first: wait_for costs a task and a loop turn each
                    event = sub.poll()
                    if event is None:
                        event = await asyncio.wait_for(sub.get(), wait)
                    in_a_row += 1
                except TimeoutError:
                    await self.send({"type": "heartbeat", "last_id": sub.last_id})
                    continue
                except ResyncRequired:
                    sub.close()
                    sub = self._subscribe(None)
                    await self.send({"type": "resync", "last_id": sub.last_id})
                    continue
                except SubscriptionClosed:  # the bus closed: the hub is stopping
                    await self.ws.close(code=WSCloseCode.GOING_AWAY, message=b"shutting down")
                    return
                await self._deliver(event)
        except (ConnectionError, RuntimeError):
            pass  # the socket closed under us; serve() cleans up
        except Exception:
            log.exception("agent socket pump failed (agent %s)", self.agent.id)
            await self.ws.close(code=WSCloseCode.INTERNAL_ERROR, message=b"internal error")
        finally:
            sub.close()

    async def _deliver(self, event: Event) -> None:
        if event.type in VISIBILITY_CHANGES:
            await self._visibility_changed(event)
        elif await self._allowed(event):
            await self._send(self._sockets.encode(event))

    async def _allowed(self, event: Event) -> bool:
        """Whether this agent may receive the event (checked before every send)."""
        data = event.data
        if event.type == EventType.AGENT_PRESENCE:
            return True
        if event.type == EventType.NOTE_MENTION and self.agent.id not in data["agent_ids"]:
            return False
        if event.type == EventType.CONVERSATION_TYPING and data.get("agent_id") == self.agent.id:
            return False  # the agent's own typing
        if event.type in CUSTOMER_EVENTS:  # the customer access policy decides (NOTIFY)
            store, viewer = self._ctx.store, Viewer.of(self.visible)
            mode = CustomerMode(self._ctx.config.access.customers)
            for customer_id in customer_ids(event):
                if await self._sockets.customer_allowed(store, mode, event.id, customer_id, viewer):
                    return True
            return False
        conversation = data.get("conversation")
        if isinstance(conversation, Conversation):
            self._sockets.remember(conversation)
            inbox_id: str | None = conversation.inbox_id
        elif self.visible is None:
            return True  # admins see every inbox: no lookup needed
        else:
            inbox_id = await self._sockets.inbox_of(self._ctx.store, data.get("conversation_id"))
        return inbox_id is not None and (self.visible is None or inbox_id in self.visible)

    async def _visibility_changed(self, event: Event) -> None:
        changed = event.data.get("agent")
        if event.type == EventType.AGENT_UPDATED:
            if not isinstance(changed, Agent) or changed.id != self.agent.id:
                return
            if not changed.active:
                await self.ws.close(code=DEACTIVATED, message=b"account deactivated")
                return
            self.agent = changed
            self.request[AGENT_KEY] = changed  # visible_inbox_ids reads the agent from here
        self.request.config_dict[LOOKUPS_KEY].forget()  # this event may beat the editor's own
        self.visible = await visible_inbox_ids(self.request)

    async def _session_alive(self) -> bool:
        token = self.request.cookies.get(SESSION_COOKIE, "")
        found = await self._ctx.store.get_session(hash_session_token(token))
        if found is None:
            return False
        session, agent = found
        now = self._ctx.clock()
        idle = timedelta(seconds=self._ctx.config.auth.session_idle_seconds)
        return agent.active and now < session.expires_at and now - session.last_seen_at < idle

    # --- input ----------------------------------------------------------------------------
    async def _error(self, code: str, message: str) -> None:
        await self.send({"type": "error", "code": code, "message": message})

    async def _on_text(self, data: str) -> None:
        try:
            frame = orjson.loads(data)
            if not isinstance(frame, dict):
                raise InvalidInput("a frame is a JSON object with a type", code="invalid_frame")
            kind = frame.get("type")
            if kind == "typing":
                await self._typing(frame)
            elif kind == "away":
                self._away(frame)
            elif kind == "ping":
                await self.send({"type": "pong"})
            else:
                raise InvalidInput(f"unknown frame type {kind!r}", code="unknown_type")
        except orjson.JSONDecodeError:
            await self._error("invalid_frame", "a frame must be JSON")
        except HubError as exc:
            await self._error(exc.code, exc.message)

    async def _typing(self, frame: dict[str, Any]) -> None:
        conversation_id, typing = frame.get("conversation_id"), frame.get("typing", True)
        if not isinstance(typing, bool):
            raise InvalidInput("typing must be true or false", code="invalid_frame")
        inbox_id = await self._sockets.inbox_of(self._ctx.store, conversation_id)
        if inbox_id is None:
            raise InvalidInput("no such conversation", code="conversation_not_found")
        if self.visible is not None and inbox_id not in self.visible:
            raise Forbidden("this conversation belongs to another team", code="not_your_team")
        assert isinstance(conversation_id, str)
        now = time.monotonic()
        if typing and now - self._typed.get(conversation_id, -TYPING_EVERY) < TYPING_EVERY:
            return  # colleagues already see "typing"; this is only a keep-alive
        self._typed[conversation_id] = now if typing else -TYPING_EVERY
        await do_typing(self._ctx, conversation_id, agent_id=self.agent.id, typing=typing)

    def _away(self, frame: dict[str, Any]) -> None:
        away = frame.get("away")
        if not isinstance(away, bool):
            raise InvalidInput("away must be true or false", code="invalid_frame")
        self.away = away
        self._sockets.refresh_away(self._ctx, self.agent.id)


@public  # it answers anonymous visitors itself: 401, not a redirect to the sign-in page
async def agent_ws(request: web.Request) -> web.StreamResponse:
    """GET /ws: the signed-in agent's live connection (see the module docstring)."""
    agent = request.get(AGENT_KEY)
    if agent is None:
        raise Unauthorized("sign in to open the live connection", code="not_signed_in")
    check_origin(request)
    since = _since(request)
    ws = web.WebSocketResponse(
        heartbeat=PING_SECONDS,
        max_msg_size=MAX_FRAME,
        compress=False,  # a deflate context per connection costs more than it saves
        timeout=CLOSE_TIMEOUT,
    )
    await ws.prepare(request)
    await AgentSocket(request, ws, agent).serve(since)
    return ws


def add_agent_ws(app: web.Application) -> None:
    """Mount /ws on the root app; its sockets are closed at shutdown."""
    sockets = AgentSockets()
    app[AGENT_SOCKETS_KEY] = sockets

    async def close_sockets(_: web.Application) -> None:
        await sockets.close_all()

    app.router.add_get("/ws", agent_ws, name="agent_ws")
    app.on_shutdown.append(close_sockets)
