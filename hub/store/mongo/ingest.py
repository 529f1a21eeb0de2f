"""Ingest on MongoDB without transactions: the dedupe index decides before any side effect.

The order is what makes it safe:
1. reads only: the dedupe lookup, the inbox, and where the message goes. A new conversation
   gets its id now but is not written yet; the id is derived from what was read, so racers
   that saw the same conversations (a burst from one new sender) plan the same one;
2. the customer is resolved (an upsert on the identity: every racer for one address ends on
   the same customer, so a losing duplicate leaves no orphan);
3. the message is inserted with a `pending` plan. The unique (channel, provider_id) index
   picks exactly one winner among concurrent duplicates, before any conversation exists;
4. the plan is carried out: insert the new conversation (counters already 1; if a racer
   inserted it first, bump it instead) or bump the existing one, guarded by the message id
   so it counts once; then `pending` is removed.
Every step of 4 is idempotent, so a loser (or a redelivery after a crash) that finds the
message still pending simply carries the plan out too, and nothing is counted twice. The
caller whose conditional write removes `pending` is the one that reports the message as new
(duplicate=False): exactly one caller per message, also when the first attempt crashed, so
its events go out exactly once.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from pymongo import DESCENDING, ReturnDocument
from pymongo.errors import DuplicateKeyError

from hub.conversation_rules import choose_conversation
from hub.errors import HubError, InvalidInput, NotFound
from hub.model import (
    Conversation,
    DeliveryStatus,
    Direction,
    IngestResult,
    MessageKind,
    Priority,
    Status,
    new_id,
    utcnow,
)
from hub.store.base import IngestRequest
from hub.store.mongo import documents as docs
from hub.store.mongo.customers import resolve_owner
from hub.store.mongo.documents import Doc
from hub.store.mongo.errors import translated
from hub.store.mongo.schema import Collections

# How many recent message ids a conversation remembers as counted: the guard that makes a
# re-driven counter bump a no-op. A re-drive comes seconds after the crash that needs it.
APPLIED_KEEP = 50
RECENT_CONVERSATIONS = 20
_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # the alphabet of hub.model.new_id


def creator_key(channel: str, provider_id: str) -> str:
    """Marks a customer as created by one inbound (its dedupe key)."""
    return f"{channel}\x1f{provider_id}"


async def load_conversation(cols: Collections, conversation_id: str) -> Conversation | None:
    """One conversation, without its bookkeeping."""
    found = await cols.conversations.find_one({"_id": conversation_id}, {"applied": 0})
    return docs.conversation(found) if found else None


async def _require_conversation(cols: Collections, conversation_id: str) -> Conversation:
    found = await load_conversation(cols, conversation_id)
    if found is None:
        raise NotFound(
            f"conversation {conversation_id!r} does not exist", code="conversation_not_found"
        )
    return found


async def _by_thread(cols: Collections, req: IngestRequest) -> Conversation | None:
    refs = [r for r in req.inbound.thread.references if r]
    if not refs:
        return None
    found = (
        await cols.messages.find(
            {"thread_key": {"$in": refs}, "inbox_id": req.inbound.inbox_id},
            {"conversation_id": 1},
        )
        .sort([("created_at", DESCENDING), ("_id", DESCENDING)])
        .limit(1)
        .to_list()
    )
    return await load_conversation(cols, found[0]["conversation_id"]) if found else None


def planned_conversation_id(customer_id: str, inbox_id: str, latest: Conversation | None) -> str:
    """The id of the next new conversation of a customer in an inbox, after `latest`.

    The same for every racer that read the same conversations, so their messages converge
    on one conversation instead of each opening its own (the unique _id decides who inserts).
    """
    after = f"{latest.id}\x1f{latest.last_message_at.isoformat()}" if latest else ""
    seed = f"{customer_id}\x1f{inbox_id}\x1f{after}".encode()
    value = int.from_bytes(hashlib.sha256(seed).digest()[:17], "big") >> 6  # 130 bits
    chars = [_CROCKFORD[(value >> (5 * i)) & 31] for i in reversed(range(26))]
    return "cnv_" + "".join(chars)


async def _recent(
    cols: Collections, customer_id: str, inbox_id: str
) -> tuple[Conversation | None, Conversation | None, Conversation | None]:
    """The customer's latest unresolved and latest resolved conversation in an inbox, and
    its latest conversation there of any status."""
    found = [
        docs.conversation(d)
        for d in await cols.conversations.find(
            {"customer_id": customer_id, "inbox_id": inbox_id}, {"applied": 0}
        )
        .sort([("last_message_at", DESCENDING), ("_id", DESCENDING)])
        .limit(RECENT_CONVERSATIONS)
        .to_list()
    ]
    unresolved = next((c for c in found if c.status != Status.RESOLVED), None)
    resolved = max(
        (c for c in found if c.status == Status.RESOLVED and c.resolved_at is not None),
        key=lambda c: c.resolved_at or c.created_at,
        default=None,
    )
    return unresolved, resolved, found[0] if found else None


def _new_conversation_doc(message: Doc, plan: Doc) -> Doc:
    now = message["created_at"]
    return {
        "_id": message["conversation_id"],
        "customer_id": message["customer_id"],
        "inbox_id": message["inbox_id"],
        "channel": message["channel"],
        "status": Status.OPEN.value,
        "priority": Priority.NONE.value,
        "assignee_id": plan.get("assignee_id"),
        "team_id": plan.get("team_id"),
        "tags": [],
        "subject": plan.get("subject"),
        "created_at": now,
        "updated_at": now,
        "last_message_at": now,
        "first_response_at": None,
        "resolved_at": None,
        "snoozed_until": None,
        "unread_count": 1,
        "message_count": 1,
        "applied": [message["_id"]],
        "opened_by": message["_id"],
    }


async def _count(cols: Collections, message: Doc, *, reopen: bool) -> Doc | None:
    """Count a message on its conversation, once (None: it was counted already)."""
    now = message["created_at"]
    sets: Doc = {"updated_at": now}
    if reopen:
        sets.update(status=Status.OPEN.value, resolved_at=None, snoozed_until=None)
    counted: Doc | None = await cols.conversations.find_one_and_update(
        {"_id": message["conversation_id"], "applied": {"$ne": message["_id"]}},
        {
            "$inc": {"unread_count": 1, "message_count": 1},
            "$max": {"last_message_at": now},
            "$set": sets,
            "$push": {"applied": {"$each": [message["_id"]], "$slice": -APPLIED_KEEP}},
        },
        {"applied": 0},
        return_document=ReturnDocument.AFTER,
    )
    return counted


async def complete_ingest(cols: Collections, message: Doc) -> tuple[Conversation, bool, bool]:
    """Carry out a pending message's plan (idempotent: any number of callers, any time).

    Returns the conversation, whether this call finished the plan, and whether the message
    opened the conversation.
    """
    plan = message["pending"]
    after: Doc | None
    if plan["new"]:
        after = _new_conversation_doc(message, plan)
        try:
            await cols.conversations.insert_one(after)
        except DuplicateKeyError:
            # opened by a racer that planned the same id, or by an earlier attempt of this
            # message: either way this message joins it like any inbound, which reopens a
            # conversation that is no longer open
            after = await _count(cols, message, reopen=True)
    else:
        after = await _count(cols, message, reopen=plan["reopen"])
    if after is None:
        after = await cols.conversations.find_one(
            {"_id": message["conversation_id"]}, {"applied": 0}
        )
        if after is None:
            raise NotFound(f"conversation {message['conversation_id']!r} does not exist")
    done = await cols.messages.update_one(
        {"_id": message["_id"], "pending": {"$exists": True}}, {"$unset": {"pending": ""}}
    )
    opened = after.get("opened_by") == message["_id"]
    return docs.conversation(after), bool(done.modified_count), opened


async def _finish(cols: Collections, message: Doc) -> IngestResult:
    """The result of a stored message: new for the caller that finishes its plan."""
    plan = message.get("pending")
    finished = opened = False
    if plan is not None:
        conversation, finished, opened = await complete_ingest(cols, message)
    else:
        conversation = await _require_conversation(cols, message["conversation_id"])
    customer = await cols.customers.find_one({"_id": message["customer_id"]})
    if customer is None:
        raise NotFound(f"customer {message['customer_id']!r} does not exist")
    key = creator_key(message["channel"], message["provider_id"])
    return IngestResult(
        message=docs.message({k: v for k, v in message.items() if k != "pending"}),
        conversation=conversation,
        customer=docs.customer(customer),
        duplicate=not finished,
        customer_created=finished and customer.get("created_by") == key,
        conversation_created=finished and opened,
        conversation_reopened=finished and bool(plan and plan["reopen"]),
    )


async def _inbox(cols: Collections, req: IngestRequest) -> Doc:
    ib = req.inbound
    inbox = await cols.inboxes.find_one({"_id": ib.inbox_id})
    if inbox is None:
        raise NotFound(f"inbox {ib.inbox_id!r} does not exist", code="inbox_not_found")
    if inbox["channel"] != ib.channel:
        raise InvalidInput(
            f"inbox {ib.inbox_id!r} belongs to channel {inbox['channel']!r}, not {ib.channel!r}",
            code="channel_mismatch",
        )
    return inbox


async def _name_after_sender(cols: Collections, customer: Doc, req: IngestRequest) -> None:
    """Name a customer after the sender if it has no name yet."""
    name = req.inbound.sender_name
    if customer.get("name") is None and name:
        await cols.customers.update_one(
            {"_id": customer["_id"], "name": None},
            {"$set": {"name": name, "updated_at": docs.stored(req.received_at)}},
        )


def _message_doc(req: IngestRequest, customer_id: str, conversation_id: str, plan: Doc) -> Doc:
    ib = req.inbound
    return {
        "_id": new_id("msg"),
        "conversation_id": conversation_id,
        "customer_id": customer_id,
        "inbox_id": ib.inbox_id,
        "direction": Direction.IN.value,
        "kind": MessageKind.MESSAGE.value,
        "channel": ib.channel,
        "text": ib.text,
        "html": ib.html,
        "attachments": docs.attachments_doc(ib.attachments),
        "provider_id": ib.provider_id,
        "thread_key": ib.thread.message_key,
        "sender": req.sender,
        "author_id": None,
        "delivery_status": DeliveryStatus.RECEIVED.value,
        "error": None,
        "created_at": docs.stored(req.received_at),
        "sent_at": docs.stored_or_none(ib.sent_at),
        "pending": plan,
    }


async def run_ingest(cols: Collections, req: IngestRequest) -> IngestResult:
    """Dedupe, resolve, thread and store one inbound message (see the module docstring)."""
    ib = req.inbound
    dedupe = {"channel": ib.channel, "provider_id": ib.provider_id}
    stored = await cols.messages.find_one(dedupe)
    if stored is not None:
        return await _finish(cols, stored)
    inbox = await _inbox(cols, req)
    now = docs.stored(req.received_at)
    created_by = creator_key(ib.channel, ib.provider_id)
    customer, _ = await resolve_owner(
        cols, ib.sender_kind, req.sender, name=ib.sender_name, now=now, created_by=created_by
    )
    unresolved, resolved, latest = await _recent(cols, customer["_id"], ib.inbox_id)
    placement = choose_conversation(
        by_thread=await _by_thread(cols, req),
        latest_unresolved=unresolved,
        latest_resolved=resolved,
        now=now,
        reopen_window=req.reopen_window,
    )
    target = placement.conversation
    team_id = inbox.get("team_id")
    plan = {
        "since": utcnow(),  # wall-clock: when this attempt started, whatever received_at says
        "new": target is None,
        "reopen": placement.reopen,
        "team_id": team_id,
        "subject": ib.subject,
        # chosen with the plan, so every re-drive of it opens the conversation the same way.
        # Unlike SQLite this is before the dedupe insert settles a race, so racing
        # duplicates of one new sender's first message may each take a round-robin turn.
        "assignee_id": (
            req.assign_new(team_id) if target is None and req.assign_new is not None else None
        ),
    }
    conversation_id = (
        target.id if target else planned_conversation_id(customer["_id"], ib.inbox_id, latest)
    )
    message = _message_doc(req, customer["_id"], conversation_id, plan)
    try:
        await cols.messages.insert_one(message)
    except DuplicateKeyError:
        winner = await cols.messages.find_one(dedupe)
        if winner is None:
            raise
        return await _finish(cols, winner)
    await _name_after_sender(cols, customer, req)
    return await _finish(cols, message)


async def run_ingest_many(
    cols: Collections, reqs: Sequence[IngestRequest], url: str
) -> list[IngestResult | HubError]:
    """`run_ingest` for each request in order (a later one threads onto an earlier one)."""
    results: list[IngestResult | HubError] = []
    for req in reqs:
        try:
            async with translated(url):
                results.append(await run_ingest(cols, req))
        except HubError as exc:
            results.append(exc)
    return results
