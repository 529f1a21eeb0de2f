"""Reading a request's body: one the client garbled is a 400 naming why, never a 500.

    form = await read_form_data(request)     # every urlencoded/multipart form
    raw = await read_body(request, max_bytes=limit)   # the JSON API's bodies (jsonio)

A body can fail to decode in many ways, all the client's doing: a Content-Encoding that is
not what it says (gzip/deflate garbage), an unknown charset, bytes that are not valid in
the charset, a multipart body without its boundary, with a truncated or nameless part.
aiohttp raises these from `request.post()` / `request.content` as assorted exceptions; they
are caught here, where the body is read (so a real server bug elsewhere stays a 500), and
become `MalformedBody` (400, code "malformed_body"), which the middlewares answer as the
JSON error shape on /api and as the error page on the pages. The log gets at most the
server's rate-limited WARNING line (bad_requests.py), without a traceback.
"""

from __future__ import annotations

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError
from aiohttp.web_protocol import RequestPayloadError
from aiohttp.web_request import FileField
from multidict import MultiDictProxy

from hub.errors import HubError
from hub.web.bad_requests import log_malformed_body

MAX_DETAIL = 200
# what aiohttp raises for a body it cannot decode: RequestPayloadError (content encoding),
# HttpProcessingError (a multipart part's headers), ValueError (UnicodeDecodeError, a
# missing boundary or name, a truncated part, bad base64), LookupError (unknown charset),
# RuntimeError (a part's unknown Content-Transfer-Encoding). A too-large body is aiohttp's
# HTTPRequestEntityTooLarge (413) and a vanished client a ConnectionError: neither is here.
_BODY_ERRORS = (RequestPayloadError, HttpProcessingError, ValueError, LookupError, RuntimeError)


class MalformedBody(HubError):
    """The request body could not be decoded as its headers describe it."""

    code = "malformed_body"
    status = 400


FormData = MultiDictProxy[str | bytes | bytearray | FileField]


async def read_form_data(request: web.Request) -> FormData:
    """The submitted urlencoded/multipart form (aiohttp caches it); MalformedBody if garbled."""
    try:
        return await request.post()
    except _BODY_ERRORS as exc:
        raise _malformed(request, exc) from exc


async def read_body(request: web.Request, *, max_bytes: int) -> bytes:
    """The body, or its first `max_bytes + 1` bytes (so a caller sees it is too large)."""
    chunks: list[bytes] = []
    size = 0
    try:
        # content.read(n) answers what has arrived so far, not n bytes: read to the end
        while size <= max_bytes and (chunk := await request.content.read(max_bytes + 1 - size)):
            chunks.append(chunk)
            size += len(chunk)
    except (RequestPayloadError, HttpProcessingError) as exc:
        raise _malformed(request, exc) from exc
    return b"".join(chunks)


def _malformed(request: web.Request, exc: Exception) -> MalformedBody:
    log_malformed_body(request, exc)
    reason = _reason(request, exc)
    return MalformedBody(f"the request body could not be read: {reason}", reason=reason)


def _reason(request: web.Request, exc: Exception) -> str:
    if isinstance(exc, RequestPayloadError):
        encoding = request.headers.get("Content-Encoding", "")
        if encoding:
            return f"it is not valid {_short(encoding)!r} data, as its Content-Encoding says"
        return "it is not framed as its headers say"
    if isinstance(exc, UnicodeDecodeError):
        return f"it is not valid {exc.encoding} text"
    if isinstance(exc, LookupError):
        return f"its charset is unknown ({_short(str(exc))})"
    detail = exc.message if isinstance(exc, HttpProcessingError) else str(exc)
    what = "multipart form" if request.content_type == "multipart/form-data" else "form"
    return f"the {what} is malformed ({_short(detail)})"


def _short(text: str) -> str:
    # the client's own bytes may be in it: a line, cut short
    flat = " ".join(text.split())
    return flat if len(flat) <= MAX_DETAIL else flat[:MAX_DETAIL] + "…"
