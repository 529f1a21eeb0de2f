"""The OpenAPI 3.1 document, built from the same route table that registers the handlers."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from pydantic import TypeAdapter
from pydantic.json_schema import models_json_schema

from hub.model import (
    Agent,
    ApiToken,
    Conversation,
    Customer,
    CustomerFile,
    Identity,
    Inbox,
    IssuedApiToken,
    MergeRecord,
    Message,
)
from hub.web.routes import Route
from hub.web.schemas import JSON_VALUE_SCHEMA

REF = "#/components/schemas/{model}"
_RESPONSE_MODELS: dict[str, Any] = {
    "Customer": Customer,
    "CustomerFile": CustomerFile,
    "Identity": Identity,
    "Conversation": Conversation,
    "Message": Message,
    "MergeRecord": MergeRecord,
    "Inbox": Inbox,
    "Agent": Agent,
    "ApiToken": ApiToken,
    "IssuedApiToken": IssuedApiToken,
}
_ERROR = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {
                "code": {"type": "string", "description": "machine-readable"},
                "message": {"type": "string", "description": "what went wrong, for humans"},
                "details": {"type": "object"},
            },
        }
    },
}
_ACK = {
    "type": "object",
    "properties": {
        "message_id": {"type": "string"},
        "conversation_id": {"type": "string"},
        "customer_id": {"type": "string"},
        "duplicate": {"type": "boolean"},
    },
}


def _components(routes: Sequence[Route]) -> dict[str, Any]:
    models = {r.body for r in routes if r.body} | {r.query for r in routes if r.query}
    _, defs = models_json_schema(
        [(m, "validation") for m in sorted(models, key=lambda m: m.__name__)], ref_template=REF
    )
    schemas: dict[str, Any] = dict(defs.get("$defs", {}))
    for name, model in _RESPONSE_MODELS.items():
        schema = TypeAdapter(model).json_schema(ref_template=REF, mode="serialization")
        schemas.update(schema.pop("$defs", {}))
        schemas[name] = schema
    schemas["Agent"]["properties"].pop("password_hash", None)
    schemas["Error"] = _ERROR
    schemas["JsonValue"] = JSON_VALUE_SCHEMA
    schemas["IngestAck"] = _ACK
    schemas["IngestBatchAck"] = {
        "type": "object",
        "properties": {
            "items": {
                "type": "array",
                "items": {
                    "oneOf": [
                        {"$ref": REF.format(model="IngestAck")},
                        {"$ref": REF.format(model="Error")},
                    ]
                },
            }
        },
    }
    return schemas


def _response_schema(name: str) -> dict[str, Any]:
    page = re.fullmatch(r"Page\[(\w+)\]", name)
    if page:
        return {
            "type": "object",
            "properties": {
                "items": {"type": "array", "items": {"$ref": REF.format(model=page.group(1))}},
                "next_cursor": {"type": ["string", "null"]},
            },
        }
    return {"$ref": REF.format(model=name)}


def _operation(route: Route, schemas: dict[str, Any]) -> dict[str, Any]:
    params: list[dict[str, Any]] = [
        {"name": n, "in": "path", "required": True, "schema": {"type": "string"}}
        for n in re.findall(r"{(\w+)}", route.path)
    ]
    if route.query is not None:
        query = schemas[route.query.__name__]
        required = set(query.get("required", ()))  # the model's fields without a default
        params += [
            {"name": n, "in": "query", "required": n in required, "schema": s}
            for n, s in query.get("properties", {}).items()
        ]
    params += [
        {"name": h, "in": "header", "required": False, "schema": {"type": "string"}}
        for h in route.headers
    ]
    error = {"content": {"application/json": {"schema": {"$ref": REF.format(model="Error")}}}}
    success = {
        "content": {"application/json": {"schema": _response_schema(route.response)}}
        if route.response
        else {}
    }
    op: dict[str, Any] = {
        "operationId": route.handler.__name__,
        "summary": route.summary,
        "tags": [route.tag],
        "parameters": params,
        "responses": {
            str(route.status): {"description": "success", **success},
            "401": {"description": "missing or invalid token", **error},
            "403": {"description": "not allowed", **error},
            "4XX": {"description": "invalid request, with the reason", **error},
        },
    }
    if route.replay_status is not None:
        op["responses"][str(route.replay_status)] = {
            "description": "an idempotent replay: the original answer",
            **success,
        }
    if route.body is not None:
        op["requestBody"] = {
            "required": True,
            "content": {
                "application/json": {"schema": {"$ref": REF.format(model=route.body.__name__)}}
            },
        }
    return op


def build_openapi(routes: Sequence[Route], *, version: str) -> dict[str, Any]:
    """The whole document; paths are mounted under /api."""
    schemas = _components(routes)
    paths: dict[str, dict[str, Any]] = {}
    for route in routes:
        paths.setdefault("/api" + route.path, {})[route.method.lower()] = _operation(route, schemas)
    return {
        "openapi": "3.1.0",
        "info": {"title": "Contact Hub API", "version": version},
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
        "security": [{"bearer": []}],
    }
