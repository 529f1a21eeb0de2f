"""The customer access policy's decision table (hub/customer_access.py `decide`)."""

from __future__ import annotations

import pytest

from hub.customer_access import CustomerMode, Need, Verdict, Viewer, decide

SHARED, TEAM = CustomerMode.SHARED, CustomerMode.TEAM
ALLOW, HIDE, REFUSE = Verdict.ALLOW, Verdict.HIDE, Verdict.REFUSE
ADMIN = Viewer.of(None)
AGENT_A = Viewer.of(["inbox_a", "inbox_api"])  # team A's inbox and a team-less one
MINE, THEIRS, BOTH, NONE = (
    frozenset({"inbox_a"}),
    frozenset({"inbox_b"}),
    frozenset({"inbox_a", "inbox_b"}),
    frozenset[str](),
)


@pytest.mark.parametrize("mode", list(CustomerMode))
@pytest.mark.parametrize("need", list(Need))
@pytest.mark.parametrize("inboxes", [MINE, THEIRS, BOTH, NONE])
def test_an_admin_may_do_everything_in_both_modes(
    mode: CustomerMode, need: Need, inboxes: frozenset[str]
) -> None:
    assert decide(mode, ADMIN, inboxes, need) == ALLOW


@pytest.mark.parametrize(
    ("inboxes", "need", "verdict"),
    [
        (THEIRS, Need.READ, ALLOW),  # one company-wide customer file
        (THEIRS, Need.EDIT, REFUSE),
        (THEIRS, Need.TAKE, REFUSE),
        (THEIRS, Need.NOTIFY, HIDE),
        (BOTH, Need.READ, ALLOW),
        (BOTH, Need.EDIT, ALLOW),
        (BOTH, Need.TAKE, REFUSE),  # a merge would move team B's conversation
        (BOTH, Need.NOTIFY, ALLOW),
        (MINE, Need.TAKE, ALLOW),
        (NONE, Need.READ, ALLOW),
        (NONE, Need.EDIT, ALLOW),  # nobody's customer yet
        (NONE, Need.TAKE, ALLOW),
        (NONE, Need.NOTIFY, HIDE),
    ],
)
def test_shared_mode_reads_every_profile_but_changes_only_the_agents_customers(
    inboxes: frozenset[str], need: Need, verdict: Verdict
) -> None:
    assert decide(SHARED, AGENT_A, inboxes, need) == verdict


@pytest.mark.parametrize(
    ("inboxes", "need", "verdict"),
    [
        (THEIRS, Need.READ, HIDE),  # another client's customer does not exist for A
        (THEIRS, Need.EDIT, HIDE),
        (THEIRS, Need.TAKE, HIDE),
        (THEIRS, Need.NOTIFY, HIDE),
        (NONE, Need.READ, HIDE),
        (NONE, Need.TAKE, HIDE),
        (BOTH, Need.READ, ALLOW),
        (BOTH, Need.EDIT, ALLOW),
        (BOTH, Need.TAKE, REFUSE),  # A sees the customer: a 403, not a 404
        (MINE, Need.TAKE, ALLOW),
        (MINE, Need.NOTIFY, ALLOW),
    ],
)
def test_team_mode_hides_customers_without_a_visible_conversation(
    inboxes: frozenset[str], need: Need, verdict: Verdict
) -> None:
    assert decide(TEAM, AGENT_A, inboxes, need) == verdict


def test_an_agent_without_inboxes_sees_no_customer_in_team_mode() -> None:
    assert decide(TEAM, Viewer.of([]), MINE, Need.READ) == HIDE
    assert decide(SHARED, Viewer.of([]), MINE, Need.READ) == ALLOW
