"""The home page says what needs the signed-in user, each item a link (issue 16), and the
header carries the same count on every page, kept in the session for a minute."""

from __future__ import annotations

import datetime
import re

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from defection.services import exit_request_withdraw
from governance.models import Vote
from sharedsvc.context_processors import navigation
from tests.pages import SAVEPOINT_STATEMENTS, count_queries, html, text
from tests.personas import World
from tests.web.test_needs import _breaching_returns, env_case, other_cases
from web.needs import COUNT_FRESH_FOR, COUNT_KEY, needs_of

pytestmark = pytest.mark.django_db


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def section(response, element_id: str) -> str:
    """The words of the list that the heading with this id labels."""
    body = html(response)
    match = re.search(rf'<ul[^>]*aria-labelledby="{element_id}".*?</ul>', body, re.S)
    assert match, f"no list labelled #{element_id} on the page"
    return " ".join(re.sub(r"<[^>]+>", " ", match.group(0)).split())


def links(response, element_id: str) -> list[str]:
    body = html(response)
    match = re.search(rf'<ul[^>]*aria-labelledby="{element_id}".*?</ul>', body, re.S)
    assert match, f"no list labelled #{element_id} on the page"
    return re.findall(r'href="([^"]+)"', match.group(0))


def header_count(response) -> int | None:
    """The count beside "Needs you" in the header (None when there is none)."""
    match = re.search(r'id="header-needs">Needs you(.*?)</a>', html(response), re.S)
    assert match, "no 'Needs you' in the header"
    number = re.search(r"app-account__count\">(\d+)<", match.group(1))
    return int(number.group(1)) if number else None


def test_a_deputy_minister_finds_the_cases_waiting_for_their_vote_with_their_links(world):
    case = env_case(world)
    response = signed_in(world.deputy_minister).get("/")
    assert response.status_code == 200
    assert links(response, "needs-vote") == [f"/cases/{case.pk}/"]
    words = section(response, "needs-vote")
    assert f"Vote on case {case.pk}: ENV asks to leave PAY-PSOA" in words
    assert "left" in words
    # What a department manager of LCS sees for it is theirs too: the departure.
    assert links(response, "needs-departure") == [f"/exit-requests/{case.exit_request.pk}/"]
    needs = needs_of(world.deputy_minister)
    assert f"{len(needs)} things need you" in text(response)
    assert header_count(response) == len(needs)


def test_each_persona_finds_its_own_sections_and_no_one_elses(world):
    env_case(world)
    _breaching_returns(world)
    expected = {
        "deputy_minister": {"vote", "departure", "breach"},
        "manager": {"departure", "breach"},
        "other_manager": {"exit_request"},
        "provider_manager": {"returns_due", "cost_pool", "departure", "breach"},
        "administrator": {"chargeback"},
    }
    for persona, kinds in expected.items():
        response = signed_in(getattr(world, persona)).get("/")
        shown = set(re.findall(r'aria-labelledby="needs-([a-z_]+)"', html(response)))
        assert shown == kinds, persona


def test_nothing_needs_them_says_so_and_where_to_look_next(world, rf):
    client = signed_in(world.manager)
    response = client.get("/")
    words = text(response)
    assert "Nothing needs you now." in words
    assert header_count(response) is None
    # Where to look next: the navigation the gate gives the user, less the page itself.
    request = rf.get("/")
    request.user = world.manager
    expected = [item["href"] for item in navigation(request)["nav_items"] if not item["current"]]
    body = html(response)
    after = body[body.index("Where to look next") :]
    listed = re.findall(r'<li><a class="govuk-link" href="([^"]+)"', after.split("</ul>")[0])
    assert listed == expected
    assert "/departments/LCS/budget/" in listed


def test_decisions_since_the_last_sign_in_are_told_and_not_counted(world):
    case = env_case(world)
    client = signed_in(world.deputy_minister)
    assert links(client.get("/"), "needs-vote") == [f"/cases/{case.pk}/"]
    assert "The board has decided nothing that you can see since then." in text(client.get("/"))
    exit_request_withdraw(actor=world.other_manager, exit_request=case.exit_request)
    response = client.get("/")
    assert links(response, "what-happened") == [f"/cases/{case.pk}/"]
    assert "Withdrawn on" in section(response, "what-happened")
    # A decided case needs nothing: it leaves the count, and nothing is left to vote on.
    assert 'aria-labelledby="needs-vote"' not in html(response)
    assert needs_of(world.deputy_minister) == []
    assert header_count(response) is None


# The header's count ---------------------------------------------------------------------------


def test_the_header_carries_the_home_pages_count_on_every_page(world):
    env_case(world)
    client = signed_in(world.deputy_minister)
    home = client.get("/")
    count = header_count(home)
    assert count == len(needs_of(world.deputy_minister)) and count > 0
    for page in ("/clusters/", "/cases/", "/notifications/", "/accounts/"):
        assert header_count(client.get(page)) == count, page
    assert client.session[COUNT_KEY]["count"] == count


def test_a_page_counts_afresh_once_the_count_is_a_minute_old(world):
    client = signed_in(world.deputy_minister)
    with time_machine.travel(timezone.now(), tick=False) as clock:
        assert header_count(client.get("/")) is None
        env_case(world)  # a case opens: one more to vote on, one more departure
        clock.shift(datetime.timedelta(seconds=59))
        assert header_count(client.get("/clusters/")) is None  # kept for a minute
        clock.shift(datetime.timedelta(seconds=2))
        assert header_count(client.get("/clusters/")) == len(needs_of(world.deputy_minister))


def test_acting_on_an_item_takes_it_off_the_count_at_once(world):
    case = env_case(world)
    client = signed_in(world.deputy_minister)
    before = header_count(client.get("/"))
    assert before is not None
    response = client.post(f"/cases/{case.pk}/", {"choice": "abstain", "reason": ""})
    assert response.status_code == 302
    assert Vote.objects.filter(case=case, department=world.lcs).exists()
    assert COUNT_KEY not in client.session
    after = needs_of(world.deputy_minister)
    assert "vote" not in {need.kind for need in after}
    assert len(after) < before
    assert (header_count(client.get("/clusters/")) or 0) == len(after)


def queries_of(client: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    # A session's write in the test's transaction is wrapped in a savepoint.
    return sum(not q["sql"].startswith(SAVEPOINT_STATEMENTS) for q in ctx.captured_queries)


def test_a_cold_header_asks_what_the_home_page_asks_once(world):
    """A page whose session holds no fresh count runs the needs' queries and keeps the
    count; the next page runs none of them, and the home page does not write it again."""
    env_case(world)
    _breaching_returns(world)
    cold = queries_of(signed_in(world.manager), "/clusters/PAY-PSOA/")
    client = signed_in(world.manager)
    client.get("/")
    warm = queries_of(client, "/clusters/PAY-PSOA/")
    # The department, cases, budget lines, exit requests, commitments, departures and
    # breaches (web.needs), and the session's write of the count.
    assert cold - warm == 8
    assert client.session[COUNT_KEY]["count"] == len(needs_of(world.manager))
    home = queries_of(client, "/")
    with time_machine.travel(timezone.now() + COUNT_FRESH_FOR, tick=False):
        # A minute on, the home page writes the count it made again (and the activity).
        assert queries_of(client, "/") > home


@pytest.mark.parametrize(
    "persona", ["deputy_minister", "manager", "provider_manager", "analyst", "administrator"]
)
def test_the_home_pages_queries_do_not_grow_with_the_data(world: World, persona):
    user = getattr(world, persona)
    env_case(world)
    _breaching_returns(world)
    small = count_queries(signed_in(user), "/")
    other_cases(world, 4, "HM")
    large = count_queries(signed_in(user), "/")
    assert small == large
