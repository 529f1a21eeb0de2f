"""Malformed HTTP requests: one rate-limited WARNING line instead of an ERROR traceback each.

    web.Application(handler_args={"logger": BadRequestLog()})   # in create_app

aiohttp's parser already answers a malformed request (a NUL byte in a header, a header
over 8 KB, a bad request line) with 400, but its server logs each one with
`logger.exception("Error handling request ...")`, so an anonymous client could flood the
log. `BadRequestLog` is the server logger aiohttp is given through the app's supported
`handler_args`: for a parse error it writes at most one WARNING line per `interval`
seconds, counting the ones it left out; anything else goes to aiohttp's logger unchanged.
The client's bytes never reach the log, only the error's class name. A request body the
client garbled (bad gzip, charset, multipart; hub/web/bodies.py) shares that one line.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from typing import Any

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError
from aiohttp.log import server_logger
from aiohttp.web_protocol import RequestPayloadError

INTERVAL_SECONDS = 60.0
log = logging.getLogger(__name__)


class BadRequestLog(logging.LoggerAdapter[logging.Logger]):
    """aiohttp's server logger, with malformed requests logged as rate-limited warnings."""

    def __init__(
        self,
        logger: logging.Logger = server_logger,
        *,
        interval: float = INTERVAL_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(logger, {})
        self.interval = interval
        self.clock = clock
        self._last_line: float | None = None
        self._suppressed = 0

    def exception(self, msg: object, *args: object, exc_info: Any = True, **kwargs: Any) -> None:
        """aiohttp's "Error handling request" call: a parse error is the client's fault."""
        # RequestPayloadError: a body the client garbled (e.g. bad gzip), raised again when
        # aiohttp drains the unread rest of it after the handler has answered 400
        if isinstance(exc_info, HttpProcessingError | RequestPayloadError):
            self._bad_request(exc_info, args)
            return
        super().exception(msg, *args, exc_info=exc_info, **kwargs)

    def _bad_request(self, exc: Exception, args: tuple[object, ...]) -> None:
        remote = args[0] if args else "unknown"
        self._line("Malformed HTTP request from %s refused (%s)", remote, type(exc).__name__)

    def malformed_body(self, request: web.Request, exc: Exception) -> None:
        """A request body the client garbled, refused with 400: a line shared with the above."""
        self._line(
            "Malformed request body on %s %s from %s refused (%s)",
            request.method,
            _route(request),
            request.remote or "unknown",
            type(exc).__name__,
        )

    def _line(self, message: str, *args: object) -> None:
        now = self.clock()
        if self._last_line is not None and now - self._last_line < self.interval:
            self._suppressed += 1
            return
        more = f"; {self._suppressed} more since the last such line" if self._suppressed else ""
        self.logger.warning(message + "%s", *args, more)
        self._last_line, self._suppressed = now, 0

    def process(self, msg: Any, kwargs: Any) -> tuple[Any, Any]:
        """Pass records through as they are (no extra context)."""
        return msg, kwargs


def server_handler_args() -> Mapping[str, Any]:
    """The `handler_args` that give the app's HTTP server a BadRequestLog."""
    return {"logger": BadRequestLog()}


def log_malformed_body(request: web.Request, exc: Exception) -> None:
    """Log a body the client garbled: the server's rate-limited line, never a traceback."""
    server_log = request.protocol.logger if request.protocol is not None else None
    if isinstance(server_log, BadRequestLog):
        server_log.malformed_body(request, exc)
    else:  # an app run without server_handler_args(): still one line, without a traceback
        log.warning("Malformed request body on %s %s refused", request.method, _route(request))


def _route(request: web.Request) -> str:
    # the route's pattern, not the path: no client bytes (e.g. an encoded newline) in the log
    resource = request.match_info.route.resource
    return resource.canonical if resource is not None else "(no route)"


def client_went_away(request: web.Request, exc: BaseException) -> bool:
    """Whether `exc` is this request's client resetting its connection while it was answered.

    A reset mid-answer (e.g. during a websocket handshake) is the client's doing, not a server
    error: the middlewares log it at DEBUG and answer nothing, since no one is left to read it.
    A reset of another connection (a store, an outbound call) is still a server error.
    """
    if not isinstance(exc, ConnectionResetError):
        return False
    transport = request.transport
    return transport is None or transport.is_closing()


def went_away_response(request: web.Request) -> web.Response:
    """The answer to a client that went away: logged at DEBUG, never written (aiohttp drops it)."""
    log.debug("client went away during %s %s", request.method, request.path)
    return web.Response(status=400, text="client went away")
