"""JSON in and out: orjson encoding of model objects, bodies validated by pydantic models."""

from __future__ import annotations

import dataclasses
import functools
from typing import Any, TypeVar

import orjson
from aiohttp import web
from pydantic import BaseModel, ValidationError

from hub.errors import HubError, InvalidInput
from hub.web.bodies import read_body

M = TypeVar("M", bound=BaseModel)


def _default(obj: Any) -> Any:
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        # fields marked repr=False (Agent.password_hash) are secrets: never serialised
        return {f.name: getattr(obj, f.name) for f in _fields(type(obj)) if f.repr}
    if isinstance(obj, BaseModel):
        return obj.model_dump(mode="json")
    if isinstance(obj, frozenset | set):
        return sorted(obj)
    if hasattr(obj, "items"):  # read-only mappings
        return dict(obj.items())
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")


@functools.cache
def _fields(cls: type) -> tuple[dataclasses.Field[Any], ...]:
    return dataclasses.fields(cls)


def dumps(data: Any) -> bytes:
    """JSON bytes: dataclasses via _default (secrets dropped), datetimes RFC 3339 with Z."""
    return orjson.dumps(
        data, default=_default, option=orjson.OPT_UTC_Z | orjson.OPT_PASSTHROUGH_DATACLASS
    )


def json_response(
    data: Any, *, status: int = 200, headers: dict[str, str] | None = None
) -> web.Response:
    """A JSON response from model objects or plain data."""
    return web.Response(
        body=dumps(data), status=status, content_type="application/json", headers=headers
    )


def error_body(code: str, message: str, **details: Any) -> dict[str, Any]:
    """The one error shape: {"error": {"code", "message", "details"?}}."""
    body: dict[str, Any] = {"code": code, "message": message}
    if details:
        body["details"] = details
    return {"error": body}


def error_response(exc: HubError) -> web.Response:
    """The JSON response for a typed hub error."""
    return json_response(error_body(exc.code, exc.message, **exc.details), status=exc.status)


class PayloadTooLarge(HubError):
    code = "payload_too_large"
    status = 413


class UnsupportedMediaType(HubError):
    code = "unsupported_media_type"
    status = 415


async def read_json(request: web.Request, model: type[M], *, max_bytes: int) -> M:
    """Parse and validate a JSON body; every failure is a 4xx naming the problem."""
    if request.content_type != "application/json":
        raise UnsupportedMediaType(
            f"send the body as application/json (got {request.content_type or 'nothing'!r})"
        )
    if request.content_length is not None and request.content_length > max_bytes:
        raise PayloadTooLarge(f"body is {request.content_length} bytes; the limit is {max_bytes}")
    raw = await read_body(request, max_bytes=max_bytes)
    if len(raw) > max_bytes:
        raise PayloadTooLarge(f"body is larger than the limit of {max_bytes} bytes")
    return validate_json(model, raw)


def validate_json(model: type[M], raw: bytes) -> M:
    """Parse and validate JSON bytes in one pass (strict: no type coercion)."""
    try:
        return model.model_validate_json(raw)
    except ValidationError as exc:
        first = exc.errors(include_url=False, include_input=False)[0]
        if first["type"] == "json_invalid":
            raise InvalidInput(f"malformed JSON: {first['msg']}", code="malformed_json") from exc
        raise _invalid(exc) from exc


def validate(model: type[M], data: Any) -> M:
    """Validate plain data (e.g. a query string) against a model."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise _invalid(exc) from exc


def _invalid(exc: ValidationError) -> InvalidInput:
    problems = [
        {"field": ".".join(str(p) for p in err["loc"]) or "(body)", "problem": err["msg"]}
        for err in exc.errors(include_url=False, include_input=False)
    ]
    summary = "; ".join(f"{p['field']}: {p['problem']}" for p in problems[:5])
    return InvalidInput(f"invalid request: {summary}", code="validation_failed", problems=problems)
