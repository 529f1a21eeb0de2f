"""The customer access policy (config `access.customers`): who may see and change which customer.

`decide` is the whole policy; the API, the inbox pages, the merge finder, customer listings
and the live `/ws` feed all ask it, through the checks below or directly. A "visible
conversation" is one in an inbox the agent sees (admins: every inbox; agents: their teams'
inboxes and the team-less ones), as `Viewer.inbox_ids` holds it.

    shared  any agent reads any profile (name, identities, attributes, tags); editing needs
            a visible conversation of the customer (or a customer with none); a merge, an
            unmerge or an address of another customer needs every conversation visible.
    team    customers without a visible conversation do not exist for the agent (404);
            within the rest, the shared rules for editing and merging hold.

Admins may do everything in both modes. Listings of conversations and messages show only
visible ones in both modes: that is the inbox filter every listing already applies.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from hub.errors import Forbidden, NotFound
from hub.model import Customer, MergeRecord
from hub.store.base import Store

LIST_ROUNDS = 5  # store pages read to fill one filtered listing page (team mode)


class CustomerMode(StrEnum):
    """`access.customers`: one company-wide customer file, or customers per team."""

    SHARED = "shared"
    TEAM = "team"


class Need(StrEnum):
    """What the caller wants to do with a customer."""

    READ = "read"  # the profile: name, identities, attributes, tags
    EDIT = "edit"  # name, attributes, tags, or an address that belongs to no one
    TAKE = "take"  # merge, unmerge, or an address that belongs to another customer
    NOTIFY = "notify"  # a live `customer.*` event (ids only), to refresh an open file


class Verdict(StrEnum):
    """The policy's answer: allowed, hidden (404, as if missing) or refused (403)."""

    ALLOW = "allow"
    HIDE = "hide"
    REFUSE = "refuse"


@dataclass(frozen=True, kw_only=True, slots=True)
class Viewer:
    """Who asks: the inboxes whose conversations they see (None: an admin, every inbox)."""

    inbox_ids: frozenset[str] | None

    @classmethod
    def of(cls, visible: Sequence[str] | None) -> Viewer:
        """From `visible_inbox_ids`' answer."""
        return cls(inbox_ids=None if visible is None else frozenset(visible))

    @property
    def scope(self) -> tuple[str, ...] | None:
        """The inboxes whose messages listings and search may show (None: every inbox)."""
        return None if self.inbox_ids is None else tuple(sorted(self.inbox_ids))


def decide(mode: CustomerMode, viewer: Viewer, inboxes: frozenset[str], need: Need) -> Verdict:
    """The policy: may `viewer` do `need` to a customer with conversations in `inboxes`?"""
    if viewer.inbox_ids is None:
        return Verdict.ALLOW
    sees_one = not inboxes.isdisjoint(viewer.inbox_ids)
    if mode == CustomerMode.TEAM and not sees_one:
        return Verdict.HIDE  # an outsourcer's other clients: not even their existence
    if need == Need.READ:
        return Verdict.ALLOW
    if need == Need.NOTIFY:  # the event refreshes an open customer file: none is open
        return Verdict.ALLOW if sees_one else Verdict.HIDE
    if need == Need.EDIT:
        return Verdict.ALLOW if sees_one or not inboxes else Verdict.REFUSE
    # a merge moves conversations between customers: every one of them must be the agent's
    return Verdict.ALLOW if inboxes <= viewer.inbox_ids else Verdict.REFUSE


def missing(customer_id: str) -> NotFound:
    """The 404 of a customer that does not exist, or that the policy hides: one body."""
    return NotFound(f"customer {customer_id!r} does not exist", code="customer_not_found")


def _refused(need: Need) -> Forbidden:
    if need == Need.EDIT:
        reason = "this customer's conversations are all in inboxes of teams you are not in"
    else:
        reason = (
            "merging, unmerging or moving an address needs an admin, or an agent who sees"
            " every conversation of both customers"
        )
    return Forbidden(reason, code="customer_not_yours")


class CustomerAccess:
    """The policy applied with the store: one read of inbox ids per check, none per row."""

    def __init__(self, store: Store, mode: CustomerMode, viewer: Viewer) -> None:
        self.store = store
        self.mode = mode
        self.viewer = viewer

    async def verdicts(self, customer_ids: Sequence[str], need: Need) -> dict[str, Verdict]:
        """The verdict on each customer, from one read (none for an admin)."""
        if self.viewer.inbox_ids is None:
            return dict.fromkeys(customer_ids, Verdict.ALLOW)
        inboxes = await self.store.customer_inbox_ids(customer_ids)
        return {cid: decide(self.mode, self.viewer, inboxes[cid], need) for cid in customer_ids}

    async def require(self, customer_id: str, need: Need) -> Customer:
        """The customer, if the policy allows `need`; else 404 (missing or hidden) or 403."""
        return (await self.require_all([customer_id], need))[0]

    async def require_all(self, customer_ids: Sequence[str], need: Need) -> list[Customer]:
        """`require` for several customers; any hidden one is a 404 before any 403."""
        customers = [await self.store.get_customer(cid) for cid in customer_ids]
        for cid, customer in zip(customer_ids, customers, strict=True):
            if customer is None:
                raise missing(cid)
        verdicts = await self.verdicts(customer_ids, need)
        for cid in customer_ids:
            if verdicts[cid] == Verdict.HIDE:
                raise missing(cid)
        if Verdict.REFUSE in verdicts.values():
            raise _refused(need)
        return [c for c in customers if c is not None]

    async def require_unmerge(self, merge_id: str) -> MergeRecord:
        """The merge, if the agent may undo it: the kept customer holds every conversation
        of both until the undo, so the merge needs `TAKE` on it alone."""
        record = await self.store.get_merge(merge_id)
        not_found = NotFound(f"merge {merge_id!r} does not exist", code="merge_not_found")
        if record is None:
            raise not_found
        verdict = (await self.verdicts([record.kept_id], Need.TAKE))[record.kept_id]
        if verdict == Verdict.HIDE:
            raise not_found
        if verdict == Verdict.REFUSE:
            raise _refused(Need.TAKE)
        return record

    async def shown_merges(
        self, customer_id: str, merges: Sequence[MergeRecord]
    ) -> tuple[MergeRecord, ...]:
        """The merges a customer file shows: a live merge into this customer (its undo is
        decided on this customer), and any other whose other customer the agent may read."""
        other = {m.id: m.merged_id if m.kept_id == customer_id else m.kept_id for m in merges}
        verdicts = await self.verdicts(list(dict.fromkeys(other.values())), Need.READ)
        return tuple(
            m
            for m in merges
            if (m.undone_at is None and m.kept_id == customer_id)
            or verdicts[other[m.id]] == Verdict.ALLOW
        )

    async def allowed(self, customers: Sequence[Customer], need: Need) -> list[Customer]:
        """The customers the policy allows `need` on, in order (one read)."""
        verdicts = await self.verdicts([c.id for c in customers], need)
        return [c for c in customers if verdicts[c.id] == Verdict.ALLOW]

    async def list_customers(
        self, *, query: str | None, limit: int, cursor: str | None
    ) -> tuple[list[Customer], str | None]:
        """A page of the customers the agent may read, and the next page's cursor.

        Filtered after each store page (the store pages by creation, not by inbox), reading
        at most LIST_ROUNDS pages, each asking only for the rows still missing: a page can
        come back short, but its cursor never skips a customer.
        """
        shown: list[Customer] = []
        for _ in range(LIST_ROUNDS):
            page = await self.store.list_customers(
                query=query, limit=limit - len(shown), cursor=cursor
            )
            shown += await self.allowed(page.items, Need.READ)
            cursor = page.next_cursor
            if cursor is None or len(shown) >= limit:
                break
        return shown, cursor
