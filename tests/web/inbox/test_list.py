"""The conversation list: views, filters, counts, search, paging, live rows, visibility."""

from __future__ import annotations

from aiohttp.test_utils import TestClient

from hub.actions import do_assign, do_set_status, do_tag
from hub.keys import ACTIONS_KEY
from hub.model import Status
from hub.web.inbox.listing import PAGE_SIZE
from tests.conftest import World
from tests.web.inbox_world import (
    ingest,
    make_inbox,
    page,
    row_ids,
)
from tests.web.signin import sign_in


async def test_mine_lists_only_conversations_assigned_to_me(
    client: TestClient, world: World
) -> None:
    ctx = client.app[ACTIONS_KEY]
    mine = await ingest(client, world.api_inbox, sender="one@example.com")
    other = await ingest(client, world.api_inbox, sender="two@example.com")
    await do_assign(ctx, mine.conversation.id, agent_id=world.agent_a.id)
    await do_assign(ctx, other.conversation.id, agent_id=world.admin.id)
    await sign_in(client, "a@hub.test")
    assert row_ids(await page(client, "/inbox")) == [mine.conversation.id]  # "mine" is the default
    assert row_ids(await page(client, "/inbox?view=mine")) == [mine.conversation.id]


async def test_unassigned_lists_only_conversations_nobody_holds(
    client: TestClient, world: World
) -> None:
    held = await ingest(client, world.api_inbox, sender="one@example.com")
    free = await ingest(client, world.api_inbox, sender="two@example.com")
    await do_assign(client.app[ACTIONS_KEY], held.conversation.id, agent_id=world.admin.id)
    await sign_in(client, "admin@hub.test")
    assert row_ids(await page(client, "/inbox?view=unassigned")) == [free.conversation.id]
    assert set(row_ids(await page(client, "/inbox?view=all"))) == {
        held.conversation.id,
        free.conversation.id,
    }


async def test_status_filter_defaults_to_open(client: TestClient, world: World) -> None:
    done = await ingest(client, world.api_inbox, sender="one@example.com")
    live = await ingest(client, world.api_inbox, sender="two@example.com")
    await do_set_status(client.app[ACTIONS_KEY], done.conversation.id, Status.RESOLVED)
    await sign_in(client, "admin@hub.test")
    assert row_ids(await page(client, "/inbox?view=all")) == [live.conversation.id]
    resolved = await page(client, "/inbox?view=all&status=resolved")
    assert row_ids(resolved) == [done.conversation.id]
    both = await page(client, "/inbox?view=all&status=any")
    assert set(row_ids(both)) == {done.conversation.id, live.conversation.id}


async def test_inbox_filter_lists_only_that_inbox(client: TestClient, world: World) -> None:
    in_a = await ingest(client, world.inbox_a, sender="one@example.com")
    await ingest(client, world.inbox_b, sender="two@example.com")
    await sign_in(client, "admin@hub.test")
    html = await page(client, f"/inbox?view=all&inbox={world.inbox_a.id}")
    assert row_ids(html) == [in_a.conversation.id]


async def test_tag_filter_lists_only_tagged_conversations(client: TestClient, world: World) -> None:
    tagged = await ingest(client, world.api_inbox, sender="one@example.com")
    await ingest(client, world.api_inbox, sender="two@example.com")
    await do_tag(client.app[ACTIONS_KEY], tagged.conversation.id, add=["Billing"])
    await sign_in(client, "admin@hub.test")
    assert row_ids(await page(client, "/inbox?view=all&tag=billing")) == [tagged.conversation.id]


async def test_team_filter_lists_only_the_teams_conversations(
    client: TestClient, world: World
) -> None:
    moved = await ingest(client, world.api_inbox, sender="one@example.com")
    await ingest(client, world.api_inbox, sender="two@example.com")
    team_b = world.inbox_b.team_id
    assert team_b
    await do_assign(client.app[ACTIONS_KEY], moved.conversation.id, team_id=team_b)
    await sign_in(client, "admin@hub.test")
    assert row_ids(await page(client, f"/inbox?view=all&team={team_b}")) == [moved.conversation.id]


async def test_channel_filter_and_icons_with_a_generic_fallback(
    client: TestClient, world: World
) -> None:
    email = await make_inbox(client, "Mail", "email", None)
    pigeons = await make_inbox(client, "Loft", "carrier-pigeon", None)
    by_mail = await ingest(client, email, sender="one@example.com")
    by_pigeon = await ingest(client, pigeons, sender="two@example.com")
    await sign_in(client, "admin@hub.test")
    html = await page(client, "/inbox?view=all")
    assert (
        'class="ch ch-email" title="Email" data-testid="channel-icon" data-channel="email"' in html
    )
    assert 'class="ch ch-other" title="carrier-pigeon"' in html
    assert row_ids(await page(client, "/inbox?view=all&channel=email")) == [by_mail.conversation.id]
    filtered = await page(client, "/inbox?view=all&channel=carrier-pigeon")
    assert row_ids(filtered) == [by_pigeon.conversation.id]


async def test_views_show_bounded_counts_and_unread(client: TestClient, world: World) -> None:
    ctx = client.app[ACTIONS_KEY]
    mine = await ingest(client, world.api_inbox, sender="one@example.com")
    await ingest(client, world.api_inbox, sender="two@example.com")
    await ingest(client, world.api_inbox, sender="two@example.com", text="again")
    await do_assign(ctx, mine.conversation.id, agent_id=world.admin.id)
    await sign_in(client, "admin@hub.test")
    html = await page(client, "/inbox")
    assert 'data-testid="count-mine">1<' in html
    assert 'data-testid="count-unassigned">1<' in html
    assert 'data-testid="count-all">2<' in html
    assert 'data-testid="unread-all"' in html
    everyone = await page(client, "/inbox?view=all")
    assert 'data-testid="unread-count" title="unread messages">2<' in everyone  # two wrote twice


async def test_team_a_agent_never_lists_team_b_conversations(
    client: TestClient, world: World
) -> None:
    in_a = await ingest(client, world.inbox_a, sender="one@example.com")
    in_b = await ingest(client, world.inbox_b, sender="two@example.com")
    await sign_in(client, "a@hub.test")
    html = await page(client, "/inbox?view=all")
    assert row_ids(html) == [in_a.conversation.id]
    assert in_b.conversation.id not in html
    asked = await page(client, f"/inbox?view=all&inbox={world.inbox_b.id}")
    assert row_ids(asked) == []


async def test_load_more_pages_through_every_conversation_once(
    client: TestClient, world: World
) -> None:
    made = [
        (await ingest(client, world.api_inbox, sender=f"c{i}@example.com")).conversation.id
        for i in range(PAGE_SIZE + 3)
    ]
    await sign_in(client, "admin@hub.test")
    first = await page(client, "/inbox?view=all")
    assert len(row_ids(first)) == PAGE_SIZE
    marker = 'hx-get="/inbox/rows?view=all&amp;cursor='
    assert marker in first
    more_url = first.split('hx-get="', 1)[1].split('"', 1)[0].replace("&amp;", "&")
    rest = await page(client, more_url)
    assert 'data-testid="load-more"' not in rest
    assert row_ids(first) + row_ids(rest) == list(reversed(made))


async def test_search_finds_only_messages_of_visible_inboxes(
    client: TestClient, world: World
) -> None:
    in_a = await ingest(client, world.inbox_a, sender="one@example.com", text="parcel lost")
    await ingest(client, world.inbox_b, sender="two@example.com", text="parcel late")
    await sign_in(client, "a@hub.test")
    html = await page(client, "/inbox?q=parcel")
    assert row_ids(html) == [in_a.conversation.id]
    assert 'data-testid="search-hit">parcel lost<' in html


async def test_a_live_row_is_rendered_only_when_the_filters_match(
    client: TestClient, world: World
) -> None:
    found = await ingest(client, world.api_inbox, sender="one@example.com")
    cid = found.conversation.id
    await sign_in(client, "admin@hub.test")
    row = await page(client, f"/inbox/row/{cid}?view=all")
    assert row_ids(row) == [cid]
    excluded = await client.get(f"/inbox/row/{cid}?view=all&status=resolved")
    assert excluded.status == 204


async def test_a_live_row_of_another_team_is_forbidden(client: TestClient, world: World) -> None:
    in_b = await ingest(client, world.inbox_b, sender="two@example.com")
    await sign_in(client, "a@hub.test")
    resp = await client.get(f"/inbox/row/{in_b.conversation.id}?view=all")
    assert resp.status == 403


async def test_a_bad_filter_value_is_422_with_the_reason(client: TestClient, world: World) -> None:
    await sign_in(client, "admin@hub.test")
    html = await page(client, "/inbox?status=bogus", status=422)
    assert "status" in html
