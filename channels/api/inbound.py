"""The API channel's inbound routes: one message or a batch, acked after the durable write."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

from aiohttp import web

from channels.api.parse import CHANNEL, InboundBatchIn, InboundIn, to_inbound
from hub.actions.ingest import check_inbound
from hub.customer_access import Need, Verdict
from hub.errors import Forbidden, HubError, InvalidInput, NotFound
from hub.identity import normalise_address
from hub.keys import CONFIG_KEY, LOOKUPS_KEY, STORE_KEY
from hub.model import Inbound, IngestResult
from hub.web.access import customer_access
from hub.web.jsonio import error_body, json_response, read_json
from hub.web.routes import Route, visible_inbox_ids

Ingest = Callable[[Inbound], Awaitable[IngestResult]]
IngestMany = Callable[[Sequence[Inbound]], Awaitable[list[IngestResult | HubError]]]


async def _precheck(
    request: web.Request, inbound: Inbound, visible: tuple[str, ...] | None
) -> None:
    """Everything that can be rejected before a write: address, content, inbox, access.

    `visible` is the agent's visible inboxes (`visible_inbox_ids`), read once per request.
    """
    check_inbound(inbound)
    config = request.config_dict[CONFIG_KEY]
    address = normalise_address(
        inbound.sender_kind, inbound.sender, default_region=config.identity.default_region
    )
    inbox = await request.config_dict[LOOKUPS_KEY].inbox(inbound.inbox_id)
    if inbox is None:
        raise NotFound(f"inbox {inbound.inbox_id!r} does not exist", code="inbox_not_found")
    if inbox.channel != CHANNEL:
        raise InvalidInput(
            f"inbox {inbox.id!r} is a {inbox.channel!r} inbox; the API takes only 'api' inboxes",
            code="channel_mismatch",
        )
    if visible is not None and inbox.id not in visible:
        raise NotFound(f"inbox {inbound.inbox_id!r} does not exist", code="inbox_not_found")
    if visible is not None:
        await _check_sender(request, inbound, address)


async def _check_sender(request: web.Request, inbound: Inbound, address: str) -> None:
    """403 if the sender's address is a customer the agent may not act for.

    Posting inbound speaks as the customer, and the message joins the customer who owns the
    address: without this check an agent could attach a conversation of their own to another
    team's customer and so gain that customer's file (issue 10). Integrations that post for
    customers of every team use an admin's token.
    """
    owner = await request.config_dict[STORE_KEY].find_identity(inbound.sender_kind, address)
    if owner is None:
        return
    access = await customer_access(request)
    verdicts = await access.verdicts([owner.customer_id], Need.EDIT)
    if verdicts[owner.customer_id] != Verdict.ALLOW:
        raise Forbidden(
            "the sender's address belongs to a customer whose conversations are all in inboxes"
            " of teams you are not in; post it with an admin's token",
            code="sender_not_yours",
        )


def _ack(result: IngestResult) -> dict[str, object]:
    return {
        "message_id": result.message.id,
        "conversation_id": result.conversation.id,
        "customer_id": result.customer.id,
        "duplicate": result.duplicate,
    }


class InboundEndpoints:
    """Handlers that hand each message to the hub's injected ingest, never to the store."""

    def __init__(self, ingest: Ingest, ingest_many: IngestMany) -> None:
        self._ingest = ingest
        self._ingest_many = ingest_many

    async def post_inbound(self, request: web.Request) -> web.Response:
        body = await read_json(
            request, InboundIn, max_bytes=request.config_dict[CONFIG_KEY].server.max_body_bytes
        )
        inbound = to_inbound(body)
        await _precheck(request, inbound, await visible_inbox_ids(request))
        result = await self._ingest(inbound)  # returns after the commit
        return json_response(_ack(result), status=200 if result.duplicate else 201)

    async def post_inbound_batch(self, request: web.Request) -> web.Response:
        config = request.config_dict[CONFIG_KEY]
        body = await read_json(request, InboundBatchIn, max_bytes=config.server.max_body_bytes)
        if len(body.messages) > config.server.max_inbound_batch:
            raise InvalidInput(
                f"at most {config.server.max_inbound_batch} messages per batch", field="messages"
            )
        inbounds = [to_inbound(m) for m in body.messages]
        problems = []
        visible = await visible_inbox_ids(request)
        for index, inbound in enumerate(inbounds):  # all-or-nothing validation before any write
            try:
                await _precheck(request, inbound, visible)
            except HubError as exc:
                problems.append({"index": index, "code": exc.code, "message": exc.message})
        if problems:
            return json_response(
                error_body(
                    "validation_failed",
                    "some messages are invalid; none was stored",
                    problems=problems,
                ),
                status=422,
            )
        # one write job for the whole batch; the response is sent after it is durable
        results = await self._ingest_many(inbounds)
        items = [
            error_body(r.code, r.message) if isinstance(r, HubError) else _ack(r) for r in results
        ]
        return json_response({"items": items})

    def routes(self) -> list[Route]:
        """The two inbound routes, documented in the OpenAPI document like every other."""
        return [
            Route(
                method="POST",
                path="/v1/inbound",
                handler=self.post_inbound,
                tag="inbound",
                summary="Ingest one message (generic API channel); 201 stored, 200 duplicate. "
                "The answer comes after the write is durable.",
                body=InboundIn,
                response="IngestAck",
                status=201,
                replay_status=200,
            ),
            Route(
                method="POST",
                path="/v1/inbound/batch",
                handler=self.post_inbound_batch,
                tag="inbound",
                summary="Ingest up to server.max_inbound_batch messages; validated all-or-nothing",
                body=InboundBatchIn,
                response="IngestBatchAck",
            ),
        ]
