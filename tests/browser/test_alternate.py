"""An alternate on the board, in a real browser, every page scanned by axe-core (see
conftest): AGRI's deputy minister names their chief of staff from the home page (a wrong
end date first: the error summary), a case opens, the alternate is told, follows the
notification to the case, votes through the form, and the case page says who cast it."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from clusters.models import ALTERNATE_ENDS_BEFORE_START, Alternate
from defection.models import Destination, Reason
from defection.services import exit_request_submit
from governance.models import Vote
from sharedsvc.roles import Role
from tests.browser.conftest import Site, sign_in
from tests.factories import PASSWORD, UserFactory
from tests.governance.conftest import seat_holder

pytestmark = pytest.mark.browser


def words(locator) -> str:
    return " ".join(locator.inner_text().split())


def sign_out(site: Site) -> None:
    site.submit(site.page.get_by_role("button", name="Sign out"))


def fill_date(site: Site, legend: str, day: datetime.date) -> None:
    group = site.page.get_by_role("group", name=legend)
    group.get_by_label("Day").fill(str(day.day))
    group.get_by_label("Month").fill(str(day.month))
    group.get_by_label("Year").fill(str(day.year))


def test_an_alternate_is_named_and_votes_for_the_seat(world, site):
    tech_dm = UserFactory(username="dm_tech", role=Role.DEPUTY_MINISTER, department=world.tech)
    world.tech.deputy_minister = tech_dm
    world.tech.save()
    agri, *_ = (seat_holder(code) for code in ("AGRI", "EDUC", "HLTH", "JAG", "TRAN"))
    stand_in = UserFactory(
        username="cos_agri",
        first_name="Ada",
        last_name="Stand",
        role=Role.DEPARTMENT_MANAGER,
        department=agri.department,
    )
    today = timezone.localdate()

    # AGRI's deputy minister names an alternate, from the home page.
    sign_in(site, agri.username, PASSWORD)
    site.follow(site.page.get_by_role("link", name="Name an alternate"))
    assert site.page.url == site.url("/board/alternates/")
    page = site.page
    expect(page.locator("#namings ~ p")).to_have_text("No alternate has been named for your seat.")
    page.get_by_label("Who stands in").select_option(label="Ada Stand (AGRI)")
    fill_date(site, "From", today + datetime.timedelta(days=2))
    fill_date(site, "Until", today)
    site.submit(page.get_by_role("button", name="Name the alternate"))
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_contain_text(ALTERNATE_ENDS_BEFORE_START)
    assert not Alternate.objects.exists()
    fill_date(site, "From", today)
    fill_date(site, "Until", today + datetime.timedelta(days=7))
    site.submit(page.get_by_role("button", name="Name the alternate"))
    assert page.url == site.url("/board/alternates/")
    expect(page.locator(".govuk-notification-banner")).to_contain_text(
        "Ada Stand may vote for the seat of Ministry AGRI"
    )
    row = page.locator("#alternates-table tbody tr")
    expect(row).to_have_count(1)
    assert words(row.first).startswith("AGRI Ada Stand")
    assert "Current" in words(row.first)
    naming = Alternate.objects.get()
    assert (naming.user, naming.named_by, naming.ends_on) == (
        stand_in,
        agri,
        today + datetime.timedelta(days=7),
    )
    sign_out(site)

    # A case opens: LCS asks to leave PAY-PSOA for TECH's payroll (LCS, FIN, TECH recused).
    case = exit_request_submit(
        actor=world.manager,
        department=world.lcs,
        from_cluster=world.pay_psoa,
        destination=Destination.CLUSTER,
        to_cluster=world.pay_tech,
        reason=Reason.COST,
        justification="Cheaper, and paid on time.",
    ).board_case

    # The alternate is told, follows the notification, and votes for the seat.
    sign_in(site, stand_in.username, PASSWORD)
    site.follow(site.page.locator("#header-notifications"))
    opened = site.page.get_by_role("link", name="Board case opened: LCS asks to leave PAY-PSOA")
    site.follow(opened)
    assert site.page.url == site.url(f"/cases/{case.pk}/")
    expect(page.locator("#as-alternate")).to_contain_text(
        "You hold this seat as alternate for the deputy minister of Ministry AGRI"
    )
    expect(page.locator("#votes-hidden")).to_be_visible()
    page.get_by_label("Approve", exact=True).check()
    site.submit(page.get_by_role("button", name="Cast my vote"))
    assert page.url == site.url(f"/cases/{case.pk}/")
    expect(page.locator(".govuk-notification-banner")).to_contain_text(
        "Your vote is recorded: approve."
    )
    expect(page.locator("#current-vote")).to_contain_text(
        "Cast by Ada Stand as alternate for the deputy minister of Ministry AGRI"
    )
    table = page.locator("#votes-table tbody")
    assert words(table).startswith(
        "AGRI Cast by Ada Stand as alternate for the deputy minister of Ministry AGRI Approve"
    )
    vote = Vote.objects.get()
    assert (vote.department, vote.cast_by, vote.voter, vote.alternate, vote.choice) == (
        agri.department,
        stand_in,
        agri,
        naming,
        "approve",
    )
