"""The home page on the demo, in a real browser (issue 16): each role signs in and finds
what needs it, each item a link that opens the page to act on, with the keyboard alone
(signing in, and moving to each item and opening it). Every page is scanned by axe-core (see conftest). The demo is
built on the suite's today, so the items are those of whatever day the suite runs on."""

from __future__ import annotations

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from governance.models import Case, CaseStatus
from sharedsvc.models import User
from tests.browser.conftest import Site
from tests.browser.keyboard import activate_and_load, assert_focused, sign_in_by_keyboard, tab_to
from web.demo import build_demo
from web.needs import needs_of

pytestmark = pytest.mark.browser


def passwords() -> dict[str, str]:
    demo = build_demo(today=timezone.localdate())
    return {username: password for username, _role, _tied, password in demo.credentials}


def section(page: Page, kind: str):
    """The list under the home page's heading of one kind of item."""
    return page.locator(f'ul[aria-labelledby="needs-{kind}"]')


def header_count(page: Page) -> str:
    """The count beside "Needs you" in the header, as read aloud: "5 things"."""
    return " ".join(page.locator("#header-needs .app-account__count").inner_text().split())


def sign_out(site: Site) -> None:
    site.submit(site.page.get_by_role("button", name="Sign out"))


def test_each_role_finds_what_needs_it_on_the_demo(site):
    logins = passwords()
    page = site.page
    # (username, kind of item, the start of the link it goes to, the page's heading there)
    journeys = [
        ("lcs.manager", "budget_line", "/departments/LCS/budget/lines/", "Change the allocation"),
        ("lcs.manager", "exit_request", "/exit-requests/", "Labour and Citizens' Services leaving"),
        ("lcs.manager", "departure", "/exit-requests/", " leaving "),
        ("lcs.manager", "breach", "/departments/LCS/service-levels/", "Service levels"),
        ("psoa.manager", "returns_due", "/providers/PSOA/returns/upload/", "Upload service-level"),
        ("psoa.manager", "breach", "/providers/PSOA/scorecard/", "Service-level scorecard"),
        ("analyst", "flag", "/overview/", "Overview of every cluster"),
        ("admin", "user", "/admin/sharedsvc/user/", "user"),
    ]
    signed_in_as = None
    for username, kind, link_start, heading in journeys:
        if username != signed_in_as:
            if signed_in_as is not None:
                sign_out(site)
            user = User.objects.get(username=username)
            sign_in_by_keyboard(site, user, logins[username])
            signed_in_as = username
            expected = len(needs_of(user))
            expect(page.get_by_role("heading", name="What needs you")).to_be_visible()
            expect(page.get_by_text(f"{expected} things need you")).to_be_visible()
            assert header_count(page) == f"{expected} things"
        links = section(page, kind).get_by_role("link")
        expect(links.first).to_be_visible()
        href = links.first.get_attribute("href")
        assert href and href.startswith(link_start), (username, kind, href)
        tab_to(page, links.first)
        activate_and_load(site)
        assert page.url.split("?")[0] == site.url(href.split("?")[0])
        expect(page.get_by_role("heading", level=1)).to_contain_text(heading)
        # The count is the same on the page the item led to.
        if not page.url.startswith(site.url("/admin/")):
            assert header_count(page) == f"{expected} things"
        site.goto("/")

    # What happened: the chargeback of the month just ended, done, is told, not counted.
    expect(page.locator('ul[aria-labelledby="what-happened"]')).to_contain_text(
        "is charged to the members"
    )


def test_a_deputy_minister_goes_from_the_home_page_to_a_vote_with_the_keyboard(site):
    logins = passwords()
    page = site.page
    dm = User.objects.get(username="lcs.dm")
    sign_in_by_keyboard(site, dm, logins["lcs.dm"])
    assert page.url == site.url("/")
    votes = section(page, "vote").get_by_role("link")
    # Soonest deadline first, with the time left.
    waiting = list(
        Case.objects.visible_to(dm)
        .filter(status=CaseStatus.OPEN, seats__department=dm.department, seats__recused=False)
        .exclude(votes__department=dm.department)
        .order_by("closes_at", "pk")
        .values_list("pk", flat=True)
    )
    assert waiting, "the demo has cases waiting for LCS's vote"
    expect(votes).to_have_count(len(waiting))
    assert [link.get_attribute("href") for link in votes.all()] == [
        f"/cases/{pk}/" for pk in waiting
    ]
    expect(section(page, "vote")).to_contain_text("left")
    # The header's count leads to the list, as the first thing after the navigation.
    tab_to(page, page.locator("#header-needs"))
    assert_focused(page, page.locator("#header-needs"))
    tab_to(page, votes.first)
    activate_and_load(site)
    assert page.url == site.url(f"/cases/{waiting[0]}/")
    expect(page.get_by_role("group", name="How does your department vote?")).to_be_visible()
