"""A programme in a real browser, every page scanned by axe-core (see conftest): a deputy
minister proposes it through the form (an error first), the board approves it on the case
page, a department commits with a date, the clock moves past that date, the late job runs,
and the programme page flags the department as late. The database and the notifications
are checked after each step."""

from __future__ import annotations

import datetime

import pytest
import time_machine
from django.utils import timezone
from playwright.sync_api import expect

from governance.models import Case, CaseKind, CaseStatus, Vote
from initiatives import forms, views
from initiatives.models import Answer, Commitment, Programme, ProgrammeStatus
from initiatives.tasks import notify_late_commitments
from notifications.models import Notification, NotificationKind
from tests.browser.conftest import Site, sign_in
from tests.factories import PASSWORD

pytestmark = pytest.mark.browser


def nav_link(site: Site, name: str):
    return site.page.get_by_role("navigation", name="Menu").get_by_role(
        "link", name=name, exact=True
    )


def words(locator) -> str:
    return " ".join(locator.inner_text().split())


def sign_out(site: Site) -> None:
    site.submit(site.page.get_by_role("button", name="Sign out"))


def fill_date(site: Site, day: datetime.date) -> None:
    site.page.get_by_label("Day", exact=True).fill(str(day.day))
    site.page.get_by_label("Month", exact=True).fill(str(day.month))
    site.page.get_by_label("Year", exact=True).fill(str(day.year))


def long_date(day: datetime.date) -> str:
    return f"{day.day} {day:%B %Y}"


def test_a_programme_is_proposed_approved_committed_to_and_flagged_late(world, site):
    # Time is an input: the clock starts now and is moved on below (the browser's own clock
    # stays on the real time, so its cookies stay valid: every date here is relative).
    with time_machine.travel(timezone.now(), tick=True) as clock:
        today = timezone.localdate()
        target = today + datetime.timedelta(days=120)
        join_by = today + datetime.timedelta(days=30)
        page = site.page

        # LCS's deputy minister proposes it; the first try has no target date.
        sign_in(site, world.deputy_minister.username, PASSWORD)
        site.follow(nav_link(site, "Programmes"))
        assert page.url == site.url("/programmes/")
        site.follow(page.get_by_role("button", name="Propose a programme"))
        assert page.url == site.url("/programmes/new/")
        page.get_by_label("Code", exact=True).fill("ITNOW")
        page.get_by_label("Name", exact=True).fill("Desktop IT for every ministry")
        page.get_by_label("Service", exact=True).select_option(label="Desktop IT")
        page.get_by_label("Sponsor", exact=True).select_option(label="dm_lcs")
        page.get_by_label("Goal", exact=True).fill("Every ministry on one shared desktop service.")
        page.get_by_label("Environment (ENV)").check()
        page.get_by_label("Finance (FIN)").check()
        site.submit(page.get_by_role("button", name="Propose the programme"))
        summary = page.locator(".govuk-error-summary")
        expect(summary).to_contain_text(forms.ENTER_TARGET_DATE)
        assert page.title().startswith("Error: ")
        assert not Programme.objects.exists()
        summary.get_by_role("link", name=forms.ENTER_TARGET_DATE).click()
        expect(page.get_by_label("Day", exact=True)).to_be_focused()
        # The answers given are kept.
        expect(page.get_by_label("Code", exact=True)).to_have_value("ITNOW")
        expect(page.get_by_label("Finance (FIN)")).to_be_checked()
        fill_date(site, target)
        site.submit(page.get_by_role("button", name="Propose the programme"))

        assert page.url == site.url("/programmes/ITNOW/")
        programme = Programme.objects.get()
        case = Case.objects.get(programme_decision__programme=programme)
        assert (programme.status, programme.sponsor, programme.target_on) == (
            ProgrammeStatus.PROPOSED,
            world.deputy_minister,
            target,
        )
        assert case.kind == CaseKind.PROGRAMME and case.is_open
        assert sorted(c.department.code for c in programme.commitments.all()) == ["ENV", "FIN"]
        expect(page.locator(".govuk-notification-banner")).to_contain_text(
            views.PROPOSED.format(code="ITNOW", case=case.pk)
        )

        # The board: LCS's and FIN's deputy ministers, no seat recused. LCS votes first.
        site.follow(page.get_by_role("link", name=f"case {case.pk}", exact=True))
        assert page.url == site.url(f"/cases/{case.pk}/")
        assert words(page.get_by_role("heading", level=1)) == (
            "Make programme ITNOW active (Desktop IT for every ministry)"
        )
        assert "Programme Desktop IT for every ministry (ITNOW)" in words(
            page.locator("#programme-summary")
        )
        page.get_by_label("Approve", exact=True).check()
        site.submit(page.get_by_role("button", name="Cast my vote"))
        expect(page.locator(".govuk-notification-banner")).to_contain_text(
            "Your vote is recorded: approve."
        )
        assert Case.objects.get(pk=case.pk).is_open
        sign_out(site)

        sign_in(site, world.recused_deputy_minister.username, PASSWORD)  # FIN: not a party here
        site.follow(nav_link(site, "Cases"))
        site.follow(page.locator("#waiting-table").get_by_role("link", name=f"Case {case.pk}"))
        page.get_by_label("Approve", exact=True).check()
        site.submit(page.get_by_role("button", name="Cast my vote"))
        expect(page.locator(".govuk-notification-banner")).to_contain_text(
            "With your vote the case is decided: approved."
        )
        assert Case.objects.get(pk=case.pk).status == CaseStatus.APPROVED
        assert Vote.objects.filter(case=case).count() == 2
        assert Programme.objects.get().status == ProgrammeStatus.ACTIVE
        site.follow(page.get_by_role("link", name="Read the decision record"))
        expect(page.locator("#programme-summary")).to_contain_text("Active")
        sign_out(site)

        # ENV's manager commits to join within a month.
        sign_in(site, world.other_manager.username, PASSWORD)
        site.follow(nav_link(site, "Programmes"))
        site.follow(page.get_by_role("link", name="Desktop IT for every ministry"))
        site.follow(page.get_by_role("button", name="Answer for Environment"))
        assert page.url == site.url("/programmes/ITNOW/answers/ENV/")
        page.get_by_label("Yes, it commits to join").check()
        fill_date(site, join_by)
        site.submit(page.get_by_role("button", name="Save the answer"))
        assert page.url == site.url("/programmes/ITNOW/")
        expect(page.locator(".govuk-notification-banner")).to_contain_text(
            views.ANSWERED_COMMITTED.format(department="Environment", date=long_date(join_by))
        )
        saved = Commitment.objects.get(department=world.env)
        assert (saved.answer, saved.join_by, saved.answered_by) == (
            Answer.COMMITTED,
            join_by,
            world.other_manager,
        )
        expect(page.locator("#late-warning")).to_have_count(0)
        sign_out(site)

        # The date passes without ENV joining; the daily job runs.
        clock.shift(datetime.timedelta(days=32))
        assert notify_late_commitments() == 1
        late = Notification.objects.filter(kind=NotificationKind.PROGRAMME_LATE)
        assert sorted(n.recipient.username for n in late) == ["dm_lcs", "mgr_env"]
        assert all(n.link == "/programmes/ITNOW/" for n in late)
        assert Commitment.objects.get(department=world.env).late_notified_on == (
            timezone.localdate()
        )
        assert notify_late_commitments() == 0  # told once
        assert Notification.objects.filter(kind=NotificationKind.PROGRAMME_LATE).count() == 2

        # The sponsor reads the programme: ENV is flagged late.
        sign_in(site, world.deputy_minister.username, PASSWORD)
        site.goto("/programmes/ITNOW/")
        expect(page.locator("#late-warning")).to_contain_text(
            views.LATE_WARNING_ONE.format(departments="Environment")
        )
        row = page.locator("#departments tbody tr", has_text="Environment")
        expect(row).to_contain_text("Late")
        expect(page.locator("#over-time-table")).to_be_visible()
        chart = page.get_by_role(
            "img", name="Departments committed and joined, Desktop IT for every ministry, by month"
        )
        expect(chart).to_be_visible()
        page.screenshot(path="/tmp/programme_late.png", full_page=True)  # noqa: S108 (to look at)
