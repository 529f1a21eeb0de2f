"""Schemathesis against the live app: every answer of the API is one its OpenAPI document names.

Each operation of /api/openapi.json is called over HTTP on 127.0.0.1, with an admin token and
with an agent token: first schemathesis's deterministic coverage cases (boundary values, wrong
types, missing parameters, undeclared methods), each POST twice as a client retrying would,
then a few random (hypothesis) cases. Path parameters point at real objects, so the handlers
run past their 404s. Checks: no 5xx; every status code, content type, header and body as
documented; a 405 names the allowed methods; a request the document calls valid is not
refused as malformed (unless for a rule the schema cannot state, listed below).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import hypothesis
import pytest
import requests
import schemathesis
from aiohttp.test_utils import TestClient
from hypothesis import HealthCheck, Phase
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import Failure, FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    missing_required_header,
    positive_data_acceptance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
    unsupported_method,
)

from tests.conftest import World, inbound_body

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    unsupported_method,
    missing_required_header,
    positive_data_acceptance,
]
FUZZ_EXAMPLES = 8  # random cases per operation and mode, on top of the coverage cases
MODES = [GenerationMode.POSITIVE, GenerationMode.NEGATIVE]

# Refusals of schema-valid requests for rules a JSON schema cannot state; each is a 4xx with
# its reason. Anything else refused as invalid means the document and the code disagree.
BEYOND_THE_SCHEMA: dict[str, str] = {
    "invalid_cursor": "a cursor is an opaque token from an earlier page; a made-up one is refused",
    "invalid_address": "an address must parse for its kind (an xmpp address needs a localpart)",
}
BEYOND_THE_SCHEMA_PER_OPERATION: dict[str, dict[str, str]] = {
    "POST /api/v1/inboxes": {"invalid_input": "the channel must be installed (known at run time)"},
    "POST /api/v1/inbound": {"invalid_input": "a message needs text, html or attachments"},
    "POST /api/v1/inbound/batch": {"validation_failed": "as /inbound, for one of the messages"},
    "PATCH /api/v1/conversations/{conversation_id}": {
        "invalid_input": "fields that exclude each other (assignee_id and unassign, ...)",
    },
    "POST /api/v1/conversations/{conversation_id}/messages": {
        "invalid_input": "a reply needs text or html; a note text and no html",
    },
    "POST /api/v1/tokens": {
        "invalid_input": "expires_at in the future, at most ten years ahead; or expires_in_days",
    },
    "PATCH /api/v1/inboxes/{inbox_id}": {
        "invalid_input": "settings the inbox's channel refuses (the channel checks them)",
    },
}


def _known_good(ids: dict[str, str]) -> dict[str, list[dict[str, Any]]]:
    """Valid requests the generators rarely make (they cannot guess ids in bodies)."""
    inbound = inbound_body(ids["inbox_id"], "known-good-1")
    return {
        "POST /api/v1/inbound": [{"body": inbound}],
        "POST /api/v1/inbound/batch": [
            {"body": {"messages": [inbound_body(ids["inbox_id"], "known-good-2")]}}
        ],
        "GET /api/v1/search": [{"query": {"q": "message"}}],
        "POST /api/v1/conversations/{conversation_id}/messages": [
            {"body": {"text": "hello"}, "headers": {"Idempotency-Key": "known-good-3"}},
            {"body": {"kind": "note", "text": "a note"}},
        ],
        "PATCH /api/v1/conversations/{conversation_id}": [
            {"body": {"status": "resolved", "add_tags": ["known-good"]}}
        ],
        "PATCH /api/v1/customers/{customer_id}": [
            {"body": {"name": "Known Good", "attributes": {"plan": 3, "seats": [1, 2.5]}}}
        ],
        "POST /api/v1/customers/{customer_id}/identities": [
            {"body": {"kind": "email", "address": "known-good@example.com"}}
        ],
    }


async def _seed(client: TestClient, world: World) -> dict[str, str]:
    """A conversation in team A's inbox, its customer and a merge, for the path parameters."""
    resp = await client.post(
        "/api/v1/inbound", json=inbound_body(world.inbox_a.id, "seed-1"), headers=world.auth()
    )
    assert resp.status == 201, await resp.text()
    ack = await resp.json()
    other = await client.post(
        "/api/v1/customers",
        json={"name": "Dup", "identities": [{"kind": "email", "address": "dup@example.com"}]},
        headers=world.auth(),
    )
    assert other.status == 201, await other.text()
    merged = await client.post(
        f"/api/v1/customers/{ack['customer_id']}/merge",
        json={"customer_id": (await other.json())["customer"]["id"]},
        headers=world.auth(),
    )
    assert merged.status == 201, await merged.text()
    return {
        "inbox_id": world.inbox_a.id,
        "conversation_id": ack["conversation_id"],
        "customer_id": ack["customer_id"],
        "merge_id": (await merged.json())["id"],
    }


def _error_code(response: Any) -> str | None:
    try:
        return str(response.json()["error"]["code"])
    except (ValueError, KeyError, TypeError):
        return None


def _beyond_the_schema(failure: Failure, label: str, response: Any) -> bool:
    if "positive_data_acceptance" not in type(failure).checks:
        return False
    code = _error_code(response)
    return code in BEYOND_THE_SCHEMA or code in BEYOND_THE_SCHEMA_PER_OPERATION.get(label, {})


class Prober:
    """Sends cases with one token and collects the distinct failures."""

    def __init__(self, base_url: str, token: str, ids: dict[str, str]) -> None:
        self.base_url = base_url
        self.headers = {"Authorization": f"Bearer {token}"}
        self.ids = ids
        self.session = requests.Session()
        self.failures: dict[tuple[str, str, int], str] = {}

    def pinned(self, operation: Any) -> dict[str, str]:
        """Real ids for the operation's path parameters."""
        names = {p.name for p in operation.path_parameters}
        return {k: v for k, v in self.ids.items() if k in names}

    def check(self, case: schemathesis.Case) -> None:
        """Send the case (a POST twice) and record what breaks the document."""
        case.path_parameters = {**(case.path_parameters or {}), **self.pinned(case.operation)}
        sends = 2 if case.method.upper() == "POST" else 1
        for attempt in range(sends):
            response = case.call(
                base_url=self.base_url, session=self.session, headers=self.headers, timeout=10
            )
            try:
                case.validate_response(response, checks=CHECKS, headers=self.headers)
            except FailureGroup as group:
                for failure in group.exceptions:
                    if isinstance(failure, Failure) and not _beyond_the_schema(
                        failure, case.operation.label, response
                    ):
                        key = (case.operation.label, failure.title, response.status_code)
                        retry = " (the same request again)" if attempt else ""
                        self.failures.setdefault(
                            key,
                            f"{case.method} {response.request.url}{retry}\n  {failure.title}:"
                            f" {failure.message}\n  -> {response.status_code}"
                            f" {response.text[:300]}",
                        )

    def coverage(self, schema: Any, operation: Any) -> Iterator[schemathesis.Case]:
        """Schemathesis's deterministic coverage cases for one operation."""
        yield from schema.iter_coverage_cases(
            operation,
            generation_modes=MODES,
            generation_config=schema.config.generation_for(operation=operation),
        )

    def fuzz(self, operation: Any, mode: GenerationMode) -> None:
        """A few random cases (no shrinking, no example database: the report names the case)."""
        strategy = operation.as_strategy(
            generation_mode=mode, path_parameters=self.pinned(operation)
        )

        @hypothesis.settings(
            max_examples=FUZZ_EXAMPLES,
            deadline=None,
            database=None,
            derandomize=True,
            phases=[Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        @hypothesis.given(case=strategy)
        def run(case: schemathesis.Case) -> None:
            self.check(case)

        run()

    def run(self, schema: Any) -> None:
        """Every operation: known-good and coverage cases, then random ones in both modes."""
        known_good = _known_good(self.ids)
        for result in schema.get_all_operations():
            operation = result.ok()
            for kwargs in known_good.get(operation.label, []):
                self.check(operation.Case(**kwargs))
            for case in self.coverage(schema, operation):
                self.check(case)
            for mode in MODES:
                self.fuzz(operation, mode)
        self.session.close()


@pytest.mark.parametrize("who", ["admin", "a"])
async def test_every_answer_is_one_the_document_names(
    client: TestClient, world: World, who: str
) -> None:
    ids = await _seed(client, world)
    doc = await (await client.get("/api/openapi.json")).json()
    prober = Prober(str(client.make_url("")).rstrip("/"), world.tokens[who], ids)
    # schemathesis is synchronous (requests): it runs in a thread while the loop serves the app
    await asyncio.to_thread(prober.run, schemathesis.openapi.from_dict(doc))
    assert not prober.failures, "\n\n".join(prober.failures.values())
