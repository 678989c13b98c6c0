"""A pilot in a real browser, every page scanned by axe-core: an administrator reads the
evidence against each criterion and puts a decision to the board; a deputy minister reads
the evidence on the case page and votes; each of the three decisions takes effect: extend
moves the end date, go live makes the service live, stop winds the clusters down and tells
each member with its alternatives."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from clusters.models import Lifecycle, Membership, Service
from governance import services as board
from governance.models import Case, CaseStatus, Choice
from initiatives.models import PilotDecisionKind, PilotEvaluation, PilotPlan, PilotStatus
from notifications.models import Notification, NotificationKind
from tests.browser.conftest import Site, sign_in
from tests.factories import PASSWORD, ClusterFactory, MembershipFactory, ServiceFactory, UserFactory
from tests.initiatives.pilot_world import (  # noqa: F401  (fixtures)
    mail_fixture,
    months_back,
    plan_of,
    seated_fixture,
)

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


def put_to_the_board(site: Site, service: str, decision: str, **dates: datetime.date) -> Case:
    site.goto("/pilots/")
    site.follow(site.page.get_by_role("link", name=service))
    site.page.get_by_label(decision, exact=True).check()
    for legend, day in dates.items():
        fill_date(site, legend, day)
    site.submit(site.page.get_by_role("button", name="Compile the evidence and open the case"))
    case = Case.objects.latest("pk")
    assert site.page.url == site.url(f"/cases/{case.pk}/")
    return case


def decide(case: Case) -> None:
    """The three eligible seats approve (TECH, the provider's host, is recused)."""
    for code in ("lcs", "fin", "env"):
        if Case.objects.get(pk=case.pk).status != CaseStatus.OPEN:
            break
        board.vote_cast(actor=UserFactory(username=f"dm_{code}"), case=case, choice=Choice.APPROVE)
    assert Case.objects.get(pk=case.pk).status == CaseStatus.APPROVED


def test_a_pilot_is_evaluated_and_each_decision_takes_effect(mail, site):
    page = site.page
    sign_in(site, "admin", PASSWORD)

    # Planning: an empty form says what each field needs; then the plan is made.
    site.follow(page.get_by_role("navigation", name="Menu").get_by_role("link", name="Pilots"))
    site.follow(page.get_by_role("button", name="Plan a pilot"))
    site.submit(page.get_by_role("button", name="Plan the pilot"))
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_contain_text("Select the service in pilot")
    expect(summary).to_contain_text("Enter the minimum compliance rate")
    assert not PilotPlan.objects.exists()
    plan = plan_of(mail, min_members=3)

    # The evidence so far, criterion by criterion, with the months behind it.
    site.goto("/pilots/MAIL/")
    criteria = words(page.locator("#criteria tbody"))
    assert "Compliance with the service's standards at least 85.0% 88.9% Met" in criteria
    assert "Cost per unit at most 10.00 8.00 Met" in criteria
    assert "Member departments at least 3 3 Met" in criteria
    expect(page.locator("#months tbody tr")).to_have_count(3)

    # Extend: a date before the current end is refused with a message, nothing opened.
    put = page.get_by_role("button", name="Compile the evidence and open the case")
    page.get_by_label("Extend", exact=True).check()
    fill_date(site, "New end date (to extend)", plan.ends_on)
    site.submit(put)
    expect(page.locator(".govuk-error-summary")).to_contain_text(
        "The new end date must be after the current one"
    )
    assert not Case.objects.exists()
    new_end = plan.ends_on + datetime.timedelta(days=90)
    case = put_to_the_board(site, "Digital mail", "Extend", **{"New end date (to extend)": new_end})
    expect(page.locator("#pilot")).to_be_visible()
    assert f"Extend the pilot of Digital mail to {new_end:%-d %B %Y}" in words(page.locator("main"))
    decide(case)
    plan.refresh_from_db()
    assert (plan.ends_on, plan.status) == (new_end, PilotStatus.RUNNING)

    # Go live; the decision record names the pilot and its evidence.
    case = put_to_the_board(site, "Digital mail", "Go live")
    decide(case)
    site.goto(f"/cases/{case.pk}/decision/")
    assert "Take the pilot of Digital mail live" in words(page.locator("main"))
    assert "Member departments at least 3 3 Met" in words(page.locator("#criteria tbody"))
    site.goto("/pilots/MAIL/")
    expect(page.locator("main .govuk-tag").first).to_have_text("Gone live")
    assert Service.objects.get(code="MAIL").lifecycle == Lifecycle.LIVE
    assert PilotPlan.objects.get(pk=plan.pk).status == PilotStatus.LIVE
    assert list(PilotEvaluation.objects.values_list("decision", flat=True).order_by("pk")) == [
        PilotDecisionKind.EXTEND,
        PilotDecisionKind.GO_LIVE,
    ]

    # Stop, on a second pilot: every membership ends on the wind-down date.
    scan = ServiceFactory(code="SCAN", name="Scanning", category="it", lifecycle=Lifecycle.PILOT)
    cluster = ClusterFactory(
        code="SCAN-TECH", service=scan, provider=mail.tech_provider, notice_days=30
    )
    for department in (mail.lcs, mail.env):
        MembershipFactory(
            department=department, cluster=cluster, joined_on=months_back(2), usage_units=10
        )
    plan_of(mail, service=scan, clusters=[cluster], min_members=1)
    wind_down = timezone.localdate() + datetime.timedelta(days=60)
    case = put_to_the_board(
        site, "Scanning", "Stop", **{"Wind-down date (to stop, optional)": wind_down}
    )
    sign_out(site)

    # A deputy minister reads the evidence on the case and votes through the form.
    sign_in(site, "dm_lcs", PASSWORD)
    site.goto(f"/cases/{case.pk}/")
    assert "Member departments at least 1 2 Met" in words(page.locator("#criteria tbody"))
    page.get_by_label("Approve", exact=True).check()
    site.submit(page.get_by_role("button", name="Cast my vote"))
    expect(page.locator(".govuk-notification-banner")).to_contain_text("Your vote is recorded")
    sign_out(site)
    decide(case)
    assert set(Membership.objects.filter(cluster=cluster).values_list("leaves_on", flat=True)) == {
        wind_down
    }

    # A member's manager is told, with the alternatives.
    sign_in(site, "mgr_lcs", PASSWORD)
    told = Notification.objects.get(recipient=mail.manager, kind=NotificationKind.PILOT_WIND_DOWN)
    assert "Technology Desktop (IT-TECH)" in told.body
    site.goto("/notifications/")
    expect(page.get_by_role("link", name=told.subject)).to_be_visible()
