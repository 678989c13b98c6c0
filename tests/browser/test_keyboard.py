"""Five journeys with the keyboard alone (Tab, Shift+Tab, the arrows, Enter, Space and
typing; tests/browser/keyboard.py): a department manager gives notice, a deputy minister
votes, a department manager adds a budget line, a provider manager uploads returns and an
administrator starts a chargeback run. Each is first refused (a missing or bad field): the
error summary takes the focus and its link takes the person to the field. At every step the
focus is where it should be, inside the viewport and visible; every page is scanned by
axe-core (see conftest). The dates come from today, whatever day the suite runs on."""

from __future__ import annotations

import datetime
import time
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import FilePayload, Page, expect

from budgets import services as budget_services
from budgets.models import BudgetLine, ChargebackRun, RunStatus
from budgets.services import PERIOD_NOT_ENDED
from defection.models import Destination, ExitRequest, ExitStatus, Reason
from defection.services import TOO_EARLY, exit_request_submit
from governance.models import Vote
from governance.services import REJECT_NEEDS_REASON
from servicelevels.forms import ROW_MESSAGE, ROW_NOT_A_MEMBER
from servicelevels.models import Measurement
from sharedsvc.periods import fiscal_year_of, format_period, previous_month
from sharedsvc.roles import Role
from tests.browser.keyboard import (
    activate_and_load,
    assert_error_summary_focused,
    assert_focused,
    choose_file,
    choose_option,
    choose_radio,
    follow_error_link,
    sign_in_by_keyboard,
    tab_to,
    type_text,
)
from tests.browser.test_budget_pages import eager_tasks  # noqa: F401 (a fixture)
from tests.factories import (
    PASSWORD,
    ClusterFactory,
    DepartmentFactory,
    MembershipFactory,
    UserFactory,
)
from tests.governance.conftest import seat_holder
from tests.signing_in import two_factor_give

pytestmark = pytest.mark.browser


def long_date(day: datetime.date) -> str:
    return f"{day.day} {day:%B %Y}"


def menu_link(page: Page, name: str):
    return page.get_by_role("navigation", name="Menu").get_by_role("link", name=name, exact=True)


def banner(page: Page) -> str:
    return " ".join(page.locator(".govuk-notification-banner").inner_text().split())


def test_a_department_manager_gives_notice_with_the_keyboard(world, site):
    today = timezone.localdate()
    earliest = today + datetime.timedelta(days=world.pay_psoa.notice_days)
    east = ClusterFactory(
        code="PAY-PSOA-2", name="PSOA Payroll East", service=world.payroll, provider=world.psoa
    )
    MembershipFactory(department=DepartmentFactory(code="AGR"), cluster=east, usage_units=100)
    page = site.page

    sign_in_by_keyboard(site, world.manager, PASSWORD)
    tab_to(page, menu_link(page, "My department"))
    activate_and_load(site)
    assert page.url == site.url("/departments/LCS/")
    tab_to(page, page.get_by_role("link", name="Leave this cluster (PSOA Payroll)"))
    activate_and_load(site)
    assert page.url == site.url(f"/memberships/{world.lcs_payroll.pk}/leave/")

    # A date inside the notice period: refused, naming the earliest date.
    choose_radio(
        page,
        page.get_by_role("group", name="Where will the department get the service from?"),
        "PSOA Payroll East",
    )
    choose_radio(page, page.get_by_role("group", name="Why is the department leaving?"), "Cost")
    tab_to(page, page.get_by_role("textbox", name="Justification"))
    type_text(page, "The east cluster is cheaper per employee.")
    too_early = earliest - datetime.timedelta(days=1)
    for box, value in (("Day", too_early.day), ("Month", too_early.month)):
        tab_to(page, page.get_by_role("textbox", name=box, exact=True), limit=1)
        type_text(page, str(value))
    tab_to(page, page.get_by_role("textbox", name="Year", exact=True), limit=1)
    type_text(page, str(too_early.year))
    tab_to(page, page.get_by_role("button", name="Continue"), limit=1)
    activate_and_load(site)

    error = TOO_EARLY.format(earliest=long_date(earliest), days=world.pay_psoa.notice_days)
    assert_error_summary_focused(page, error)
    assert not ExitRequest.objects.exists()
    day = page.get_by_role("textbox", name="Day", exact=True)
    follow_error_link(page, error, day)

    # The earliest date instead, over what the boxes held; the other answers were kept.
    type_text(page, str(earliest.day), replace=True)
    tab_to(page, page.get_by_role("textbox", name="Month", exact=True), limit=1)
    type_text(page, str(earliest.month), replace=True)
    tab_to(page, page.get_by_role("textbox", name="Year", exact=True), limit=1)
    type_text(page, str(earliest.year), replace=True)
    # Back up to the justification and on again: Shift+Tab walks the same stops.
    tab_to(page, page.get_by_role("textbox", name="Justification"), backwards=True, limit=5)
    tab_to(page, page.get_by_role("button", name="Continue"), limit=5)
    activate_and_load(site, "Space")
    assert page.url == site.url(f"/memberships/{world.lcs_payroll.pk}/leave/check/")
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Check your answers before giving notice"
    )
    assert not ExitRequest.objects.exists()

    tab_to(page, page.get_by_role("button", name="Confirm and give notice"))
    activate_and_load(site)
    request = ExitRequest.objects.get()
    assert page.url == site.url(f"/exit-requests/{request.pk}/")
    assert (
        f"Notice given: Labour and Citizens' Services leaves PSOA Payroll on {long_date(earliest)}"
        in banner(page)
    )
    assert (
        request.department,
        request.from_cluster,
        request.destination,
        request.to_cluster,
        request.reason,
        request.justification,
        request.requested_leave_on,
        request.leave_on,
        request.status,
        request.requested_by,
    ) == (
        world.lcs,
        world.pay_psoa,
        Destination.CLUSTER,
        east,
        Reason.COST,
        "The east cluster is cheaper per employee.",
        earliest,
        earliest,
        ExitStatus.SCHEDULED,
        world.manager,
    )


def test_a_deputy_minister_votes_with_the_keyboard(world, site):
    tech_dm = UserFactory(username="dm_tech", role=Role.DEPUTY_MINISTER, department=world.tech)
    world.tech.deputy_minister = tech_dm
    world.tech.save()
    agri, *_others = (seat_holder(code) for code in ("AGRI", "EDUC", "HLTH"))
    request = exit_request_submit(
        actor=world.manager,
        department=world.lcs,
        from_cluster=world.pay_psoa,
        destination=Destination.CLUSTER,
        to_cluster=world.pay_tech,
        reason=Reason.SERVICE_QUALITY,
        justification="Payslips were late in seven of the last twelve months.",
    )
    case = request.board_case
    page = site.page

    sign_in_by_keyboard(site, agri, PASSWORD)
    tab_to(page, menu_link(page, "Cases"))
    activate_and_load(site)
    assert page.url == site.url("/cases/")
    tab_to(page, page.locator("#waiting-table").get_by_role("link", name=f"Case {case.pk}"))
    activate_and_load(site)
    assert page.url == site.url(f"/cases/{case.pk}/")

    # A reject without a reason: refused.
    choose_radio(page, page.get_by_role("group", name="How does your department vote?"), "Reject")
    reason = page.get_by_role("textbox", name="Reason", exact=True)
    tab_to(page, reason, limit=1)
    tab_to(page, page.get_by_role("button", name="Cast my vote"), limit=1)
    activate_and_load(site)
    assert_error_summary_focused(page, REJECT_NEEDS_REASON)
    assert not Vote.objects.exists()
    follow_error_link(page, REJECT_NEEDS_REASON, reason)

    type_text(page, "Give the PSOA three months to fix it.")
    tab_to(page, page.get_by_role("button", name="Cast my vote"), limit=1)
    activate_and_load(site, "Space")
    assert page.url == site.url(f"/cases/{case.pk}/")
    assert "Your vote is recorded: reject." in banner(page)
    expect(page.locator("#tally")).to_contain_text("0 approve, 1 reject, 0 abstain")
    vote = Vote.objects.get()
    assert (vote.case, vote.department, vote.voter, vote.choice, vote.reason) == (
        case,
        agri.department,
        agri,
        "reject",
        "Give the PSOA three months to fix it.",
    )


def test_a_department_manager_adds_a_budget_line_with_the_keyboard(world, site):
    # Last month's IT pool, charged: LCS, its only member, owes it all, with no line to
    # fund it yet (the line added below takes it).
    last_month = previous_month(timezone.localdate().replace(day=1))
    year = fiscal_year_of(last_month)
    budget_services.cost_pool_create(
        actor=world.other_provider_manager,
        cluster=world.it_tech,
        period=last_month,
        amount=Decimal("1000"),
    )
    budget_services.chargeback_run(actor=world.administrator, period=last_month)
    page = site.page

    sign_in_by_keyboard(site, world.manager, PASSWORD)
    tab_to(page, menu_link(page, "Budget"))
    activate_and_load(site)
    assert page.url == site.url("/departments/LCS/budget/")

    # A negative allocation: refused.
    tab_to(page, page.get_by_role("textbox", name="Fiscal year"))
    type_text(page, year, replace=True)
    service = page.get_by_role("combobox", name="Service")
    tab_to(page, service, limit=1)
    choose_option(page, service, "Desktop IT")
    allocation = page.get_by_role("textbox", name="Allocation")
    tab_to(page, allocation, limit=1)
    type_text(page, "-12")
    tab_to(page, page.get_by_role("button", name="Add budget line"), limit=1)
    activate_and_load(site)
    assert_error_summary_focused(page, "The allocation cannot be negative")
    assert not BudgetLine.objects.exists()
    follow_error_link(page, "The allocation cannot be negative", allocation)

    type_text(page, "15000", replace=True)
    tab_to(page, page.get_by_role("button", name="Add budget line"), limit=1)
    activate_and_load(site, "Space")
    assert page.url == site.url(f"/departments/LCS/budget/?year={year}")
    assert f"Budget line added: Desktop IT, {year}, allocation 15,000.00" in banner(page)
    line = BudgetLine.objects.get()
    assert (line.department, line.fiscal_year, line.service, line.allocated) == (
        world.lcs,
        year,
        world.it,
        Decimal("15000.00"),
    )
    assert list(line.charges.values_list("period", "amount")) == [(last_month, Decimal("1000.00"))]


def csv_file(name: str, content: str) -> FilePayload:
    return {"name": name, "mimeType": "text/csv", "buffer": content.encode()}


def test_a_provider_manager_uploads_returns_with_the_keyboard(world, site):
    last_month = previous_month(timezone.localdate().replace(day=1))
    last = format_period(last_month)
    header = "standard,cluster,department,period,value\n"
    page = site.page

    sign_in_by_keyboard(site, world.provider_manager, PASSWORD)
    tab_to(page, menu_link(page, "Scorecard"))
    activate_and_load(site)
    assert page.url == site.url("/providers/PSOA/scorecard/")
    tab_to(page, page.get_by_role("link", name="Upload returns from a CSV file"))
    activate_and_load(site)

    # A row for a department that is not a member: refused, nothing saved. The chooser is
    # opened with Space: Enter opened none, now and then, in three of six full runs (on a
    # busy machine, right after Tab or after the error link alike), where Space never failed.
    file_input = page.get_by_label("Upload a CSV file")
    tab_to(page, file_input)
    choose_file(
        page,
        csv_file(
            "bad.csv",
            header
            + f"Paid on time,PAY-PSOA,LCS,{last},99.9\n"
            + f"Paid on time,PAY-PSOA,TECH,{last},99.9\n",
        ),
    )
    tab_to(page, page.get_by_role("button", name="Check the file"), limit=1)
    activate_and_load(site)
    error = ROW_MESSAGE.format(
        number=3,
        problems=ROW_NOT_A_MEMBER.format(department="TECH", cluster="PAY-PSOA", period=last),
    )
    assert_error_summary_focused(page, error)
    assert not Measurement.objects.exists()
    follow_error_link(page, error, file_input)

    choose_file(
        page,
        csv_file(
            "good.csv",
            header
            + f"Paid on time,PAY-PSOA,LCS,{last},99.9\n"
            + f"Paid on time,PAY-PSOA,ENV,{last},98.5\n",
        ),
    )
    tab_to(page, page.get_by_role("button", name="Check the file"), limit=1)
    activate_and_load(site, "Space")
    expect(page.get_by_role("heading", level=1)).to_have_text("Check the returns before saving")
    assert not Measurement.objects.exists()  # the preview saves nothing

    tab_to(page, page.get_by_role("button", name="Save 2 returns"))
    activate_and_load(site)
    assert page.url == site.url("/providers/PSOA/scorecard/")
    assert "2 returns saved from good.csv" in banner(page)
    assert sorted(
        Measurement.objects.values_list(
            "standard__name", "cluster__code", "department__code", "period", "value"
        )
    ) == [
        ("Paid on time", "PAY-PSOA", "ENV", last_month, Decimal("98.5000")),
        ("Paid on time", "PAY-PSOA", "LCS", last_month, Decimal("99.9000")),
    ]


def test_an_administrator_starts_a_chargeback_run_with_the_keyboard(
    world,
    site,
    eager_tasks,  # noqa: F811 (the fixture imported above)
):
    this_month = timezone.localdate().replace(day=1)
    last_month = previous_month(this_month)
    budget_services.cost_pool_create(
        actor=world.provider_manager,
        cluster=world.pay_psoa,
        period=last_month,
        amount=Decimal("7000"),
    )
    # Set up with the app's code of 30 seconds ago, so that signing in now takes a fresh one
    # (a code is accepted once).
    two_factor_give(world.administrator, at=time.time() - 30)
    page = site.page

    sign_in_by_keyboard(site, world.administrator, PASSWORD)
    tab_to(page, menu_link(page, "Chargeback"))
    activate_and_load(site)

    # A month that has not ended: refused.
    period = page.get_by_role("textbox", name="Month to charge")
    tab_to(page, period)
    type_text(page, format_period(this_month))
    tab_to(page, page.get_by_role("button", name="Start chargeback"), limit=1)
    activate_and_load(site)
    error = PERIOD_NOT_ENDED.format(period=format_period(this_month))
    assert_error_summary_focused(page, error)
    assert not ChargebackRun.objects.exists()
    follow_error_link(page, error, period)

    type_text(page, format_period(last_month), replace=True)
    tab_to(page, page.get_by_role("button", name="Start chargeback"), limit=1)
    activate_and_load(site, "Space")
    run = ChargebackRun.objects.get()
    assert page.url == site.url(f"/chargeback/runs/{run.pk}/")
    expect(page.locator("#run-status-value")).to_have_text("Done")
    assert (
        run.period,
        run.requested_by,
        run.status,
        run.charges,
        run.total,
        run.unallocated,
    ) == (last_month, world.administrator, RunStatus.DONE, 2, Decimal("7000.00"), Decimal("0"))

    # The run's page still reads well by keyboard: on to the list of runs.
    tab_to(page, page.get_by_role("link", name="All chargeback runs"))
    assert_focused(page, page.get_by_role("link", name="All chargeback runs"))
