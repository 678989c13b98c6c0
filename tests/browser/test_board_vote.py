"""The board in a real browser, every page scanned by axe-core (see conftest): a deputy
minister finds the case waiting for their vote, is refused a reject without a reason, votes
and sees the tally; a second deputy minister changes their vote; the case is decided and
its decision record reads well on paper."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from budgets.services import cost_pool_create
from defection.models import Destination, ExitStatus, Reason
from defection.services import exit_request_submit
from governance.models import Case, CaseStatus, Vote
from governance.services import REJECT_NEEDS_REASON
from sharedsvc.roles import Role
from tests.browser.conftest import Site, sign_in
from tests.factories import PASSWORD, UserFactory
from tests.governance.conftest import seat_holder

pytestmark = pytest.mark.browser


def nav_link(site: Site, name: str):
    return site.page.get_by_role("navigation", name="Menu").get_by_role(
        "link", name=name, exact=True
    )


def words(locator) -> str:
    return " ".join(locator.inner_text().split())


def sign_out(site: Site) -> None:
    site.submit(site.page.get_by_role("button", name="Sign out"))


def vote_through_the_form(site: Site, choice: str, reason: str, button: str) -> None:
    site.page.get_by_label(choice, exact=True).check()
    site.page.get_by_label("Reason", exact=True).fill(reason)
    site.submit(site.page.get_by_role("button", name=button))


def test_deputy_ministers_vote_and_the_decision_is_recorded(world, site):
    # The board: TECH's and five more deputy ministers; LCS (the requester), FIN (hosts the
    # PSOA) and TECH (hosts the proposed provider) are recused, so five seats vote.
    tech_dm = UserFactory(username="dm_tech", role=Role.DEPUTY_MINISTER, department=world.tech)
    world.tech.deputy_minister = tech_dm
    world.tech.save()
    agri, educ, hlth, _jag, _tran = (
        seat_holder(code) for code in ("AGRI", "EDUC", "HLTH", "JAG", "TRAN")
    )
    cost_pool_create(
        actor=world.provider_manager,
        cluster=world.pay_psoa,
        period=last_month(),
        amount=Decimal("7000.00"),
    )
    request = exit_request_submit(
        actor=world.manager,
        department=world.lcs,
        from_cluster=world.pay_psoa,
        destination=Destination.CLUSTER,
        to_cluster=world.pay_tech,
        reason=Reason.SERVICE_QUALITY,
        justification="Payslips were late in seven of the last twelve months.\n\n"
        "Technology Payroll has paid on time for two years.",
    )
    case = request.board_case

    # AGRI's deputy minister finds the case waiting for their vote.
    sign_in(site, agri.username, PASSWORD)
    site.follow(nav_link(site, "Cases"))
    assert site.page.url == site.url("/cases/")
    waiting = site.page.locator("#waiting-table tbody tr")
    expect(waiting).to_have_count(1)
    assert words(waiting.first).startswith(f"Case {case.pk} LCS PSOA Payroll Technology Payroll")
    assert "13 days 23 hours left" in words(waiting.first)
    site.follow(waiting.first.get_by_role("link", name=f"Case {case.pk}"))
    assert site.page.url == site.url(f"/cases/{case.pk}/")
    page = site.page
    assert words(page.get_by_role("heading", level=1)) == (
        "Labour and Citizens' Services asks to leave PSOA Payroll"
    )
    assert "13 days 23 hours left" in words(page.locator("#time-left"))
    # ENV's 300 units carry the whole pool once LCS's 400 leave (all of it fixed).
    assert words(page.locator("#impact-table tbody")) == "ENV 300 3,000.00 7,000.00 +4,000.00"
    expect(page.get_by_text("cost pool of 7,000.00")).to_have_text(
        f"From the {last_month():%B %Y} cost pool of 7,000.00 (100% of it fixed): the cost per "
        "unit goes from 10.00 to 23.3333 when LCS leaves."
    )
    expect(page.locator("#evidence-none")).to_have_text(
        "No persistent breach of this cluster's standards is recorded for this department."
    )
    recused = words(page.locator("#recused-seats tbody"))
    assert "Finance (FIN) Hosts the current cluster's provider" in recused
    assert "Labour and Citizens' Services (LCS) The requesting department" in recused
    assert "Technology (TECH) Hosts the proposed provider" in recused
    assert page.locator("#eligible-seats li").count() == 5
    expect(page.locator("#quorum")).to_contain_text("Quorum: 3 of the 5 eligible seats")
    expect(page.locator("#votes-hidden")).to_be_visible()
    page.screenshot(path="/tmp/board_case.png", full_page=True)  # noqa: S108 (to look at)

    # A reject without a reason: the error summary, nothing saved.
    vote_through_the_form(site, "Reject", "", "Cast my vote")
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_contain_text(REJECT_NEEDS_REASON)
    assert page.title().startswith("Error: ")
    assert not Vote.objects.exists()
    # The summary's link leads to the reason.
    summary.get_by_role("link", name=REJECT_NEEDS_REASON).click()
    expect(page.get_by_label("Reason", exact=True)).to_be_focused()

    vote_through_the_form(
        site, "Approve", "The evidence of late payslips is clear.", "Cast my vote"
    )
    assert page.url == site.url(f"/cases/{case.pk}/")
    expect(page.locator(".govuk-notification-banner")).to_contain_text(
        "Your vote is recorded: approve."
    )
    expect(page.locator("#tally")).to_contain_text("1 approve, 0 reject, 0 abstain")
    assert words(page.locator("#votes-table tbody")).startswith(
        "AGRI dm_agri Approve The evidence of late payslips is clear."
    )
    expect(page.get_by_label("Approve", exact=True)).to_be_checked()
    expect(page.get_by_role("button", name="Change my vote")).to_be_visible()
    vote = Vote.objects.get()
    assert (vote.department, vote.voter, vote.choice) == (agri.department, agri, "approve")
    sign_out(site)

    # EDUC's deputy minister rejects, then changes the vote to approve.
    sign_in(site, educ.username, PASSWORD)
    site.goto(f"/cases/{case.pk}/")
    vote_through_the_form(site, "Reject", "Give the PSOA three months to fix it.", "Cast my vote")
    expect(page.locator("#tally")).to_contain_text("1 approve, 1 reject, 0 abstain")
    expect(page.get_by_label("Reason", exact=True)).to_have_value(
        "Give the PSOA three months to fix it."
    )
    vote_through_the_form(
        site, "Approve", "On reflection, the record is long enough.", "Change my vote"
    )
    expect(page.locator(".govuk-notification-banner")).to_contain_text(
        "Your vote is changed to approve."
    )
    expect(page.locator("#tally")).to_contain_text("2 approve, 0 reject, 0 abstain")
    assert Vote.objects.count() == 2
    assert Vote.objects.get(department=educ.department).choice == "approve"
    sign_out(site)

    # HLTH's approval settles it: three of five approve, two undecided cannot turn it.
    sign_in(site, hlth.username, PASSWORD)
    site.follow(nav_link(site, "Cases"))
    site.follow(site.page.locator("#waiting-table").get_by_role("link", name=f"Case {case.pk}"))
    vote_through_the_form(site, "Approve", "", "Cast my vote")
    expect(page.locator(".govuk-notification-banner")).to_contain_text(
        "With your vote the case is decided: approved."
    )
    case = Case.objects.get(pk=case.pk)
    assert case.status == CaseStatus.APPROVED
    request.refresh_from_db()
    assert request.status == ExitStatus.SCHEDULED
    expect(page.get_by_role("button", name="Change my vote")).to_have_count(0)

    site.follow(page.get_by_role("link", name="Read the decision record"))
    assert page.url == site.url(f"/cases/{case.pk}/decision/")
    expect(page.locator(".app-decision-record .govuk-body-l")).to_have_text(
        "Labour and Citizens' Services (LCS) asked to leave PSOA Payroll for "
        "Technology Payroll (Technology Services)."
    )
    expect(page.locator("#outcome")).to_have_text("Approved")
    expect(page.locator("#decision-rule")).to_have_text(case.decision_rule)
    assert words(page.locator("#votes-table tbody")) == (
        f"AGRI dm_agri Approve The evidence of late payslips is clear. "
        f"{Vote.objects.get(department=agri.department).cast_at.astimezone(page_tz()):%-d %b %Y, %H:%M} "
        f"EDUC dm_educ Approve On reflection, the record is long enough. "
        f"{Vote.objects.get(department=educ.department).cast_at.astimezone(page_tz()):%-d %b %Y, %H:%M} "
        f"HLTH dm_hlth Approve No reason given "
        f"{Vote.objects.get(department=hlth.department).cast_at.astimezone(page_tz()):%-d %b %Y, %H:%M}"
    )
    expect(page.locator("#not-voted")).to_have_text(
        "Did not vote: Ministry JAG (JAG), Ministry TRAN (TRAN)."
    )
    expect(page.get_by_role("button", name="Print this record")).to_be_visible()
    page.screenshot(path="/tmp/board_decision.png", full_page=True)  # noqa: S108

    # On paper: no navigation, no buttons, black on white.
    page.emulate_media(media="print")
    for hidden in (
        page.locator(".govuk-service-navigation"),
        page.get_by_role("button", name="Print this record"),
        page.locator(".govuk-breadcrumbs"),
        page.locator(".govuk-footer"),
    ):
        expect(hidden).to_be_hidden()
    colours = page.evaluate(
        """() => [getComputedStyle(document.body).backgroundColor,
                  getComputedStyle(document.querySelector('h1')).color,
                  getComputedStyle(document.querySelector('.govuk-tag')).color]"""
    )
    assert colours == ["rgb(255, 255, 255)", "rgb(0, 0, 0)", "rgb(0, 0, 0)"]
    page.screenshot(path="/tmp/board_decision_print.png", full_page=True)  # noqa: S108
    page.emulate_media(media="screen")


def page_tz():
    return timezone.get_current_timezone()


def last_month() -> datetime.date:
    return (timezone.localdate().replace(day=1) - datetime.timedelta(days=1)).replace(day=1)
