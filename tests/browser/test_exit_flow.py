"""Giving notice in a real browser, every page scanned by axe-core (see conftest): a
department manager leaves its PSOA payroll cluster for another PSOA cluster, first with a
date inside the notice period (refused, with the earliest date), then on the earliest
date; sees the impact on the member that stays, confirms, and withdraws."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from budgets.services import cost_pool_create
from clusters.models import Cluster, Membership
from defection import services
from defection.models import ExitRequest, ExitStatus
from sharedsvc.periods import previous_month
from tests.browser.conftest import Site, sign_in
from tests.factories import PASSWORD, ClusterFactory, DepartmentFactory, MembershipFactory

pytestmark = pytest.mark.browser


def long_date(day: datetime.date) -> str:
    return f"{day.day} {day:%B %Y}"


def table_rows(site: Site, selector: str) -> list[list[str]]:
    rows = site.page.locator(f"{selector} tbody tr")
    return [
        [" ".join(cell.split()) for cell in rows.nth(i).locator("th, td").all_inner_texts()]
        for i in range(rows.count())
    ]


def summary(site: Site, selector: str) -> dict[str, str]:
    rows = site.page.locator(f"{selector} .govuk-summary-list__row")
    return {
        " ".join(rows.nth(i).locator("dt").inner_text().split()): " ".join(
            rows.nth(i).locator(".govuk-summary-list__value").inner_text().split()
        )
        for i in range(rows.count())
    }


def test_a_department_manager_gives_notice_and_withdraws_it(world, site):
    today = timezone.localdate()
    earliest = today + datetime.timedelta(days=90)
    east = ClusterFactory(
        code="PAY-PSOA-2", name="PSOA Payroll East", service=world.payroll, provider=world.psoa
    )
    Cluster.objects.filter(pk=world.pay_psoa.pk).update(fixed_cost_ratio=Decimal("0.50"))
    cost_pool_create(
        actor=world.provider_manager,
        cluster=world.pay_psoa,
        period=previous_month(today),
        amount=Decimal("7000"),
    )

    # The east cluster: 1,200.00 last month for its one member's 100 employees.
    MembershipFactory(department=DepartmentFactory(code="AGR"), cluster=east, usage_units=100)
    cost_pool_create(
        actor=world.provider_manager,
        cluster=east,
        period=previous_month(today),
        amount=Decimal("1200"),
    )

    sign_in(site, world.manager.username, PASSWORD)
    site.follow(
        site.page.get_by_role("navigation", name="Menu").get_by_role("link", name="My department")
    )
    assert site.page.url == site.url("/departments/LCS/")
    site.follow(site.page.get_by_role("link", name="Leave this cluster (PSOA Payroll)"))
    assert site.page.url == site.url(f"/memberships/{world.lcs_payroll.pk}/leave/")
    page = site.page
    expect(page.get_by_role("heading", level=1)).to_have_text("Leave PSOA Payroll")
    expect(page.locator("main")).to_contain_text(
        f"the earliest it can leave is {long_date(earliest)}"
    )
    east_radio = page.get_by_label("PSOA Payroll East", exact=True)
    expect(page.locator(f"#{east_radio.get_attribute('id')}-item-hint")).to_contain_text(
        "run by the PSOA, so no board vote is needed"
    )
    expect(page.locator(f"#{east_radio.get_attribute('id')}-item-hint")).to_contain_text(
        f"Cost per employee: 12.00 a month ({previous_month(today):%B %Y})"
    )
    expect(page.get_by_label("Provider", exact=True)).to_contain_text("Acme Outsourcing")
    page.screenshot(path="/tmp/exit_choose.png", full_page=True)  # noqa: S108 (to look at)

    # A date inside the notice period: refused, naming the earliest date; nothing saved.
    east_radio.check()
    page.get_by_label("Cost", exact=True).check()
    page.get_by_label("Justification").fill("The east cluster is cheaper per employee.")
    too_early = earliest - datetime.timedelta(days=1)
    page.get_by_label("Day").fill(str(too_early.day))
    page.get_by_label("Month").fill(str(too_early.month))
    page.get_by_label("Year").fill(str(too_early.year))
    site.submit(page.get_by_role("button", name="Continue"))
    error = services.TOO_EARLY.format(earliest=long_date(earliest), days=90)
    expect(page.locator(".govuk-error-summary")).to_contain_text(error)
    assert page.title().startswith("Error: ")
    expect(page.locator("#id_requested_leave_on-error")).to_contain_text(error)
    page.screenshot(path="/tmp/exit_choose_error.png", full_page=True)  # noqa: S108
    assert not ExitRequest.objects.exists()
    # The summary's link takes the person to the day box.
    page.locator(".govuk-error-summary a").click()
    expect(page.get_by_label("Day")).to_be_focused()

    # The earliest date instead: the check page.
    for box in ("Day", "Month", "Year"):
        page.get_by_label(box).fill("")
    site.submit(page.get_by_role("button", name="Continue"))
    assert page.url == site.url(f"/memberships/{world.lcs_payroll.pk}/leave/check/")
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Check your answers before giving notice"
    )
    assert summary(site, "#dates") == {
        "Notice period": "90 days",
        "Earliest leave date": long_date(earliest),
        "Leave date that will apply": long_date(earliest),
    }
    answers = summary(site, "#answers")
    assert answers["Destination"].startswith(
        "PSOA Payroll East (Public Service Operations Agency, the PSOA)"
    )
    assert answers["Leave date asked for"] == "None: the earliest date applies"
    expect(page.locator("#what-happens")).to_contain_text("nobody can block it")
    assert table_rows(site, "#impact-table") == [
        ["Environment", "300", "3,000.00", "5,000.00", "+2,000.00"]
    ]
    page.screenshot(path="/tmp/exit_check.png", full_page=True)  # noqa: S108 (to look at)
    assert not ExitRequest.objects.exists()

    site.submit(page.get_by_role("button", name="Confirm and give notice"))
    request = ExitRequest.objects.get()
    assert page.url == site.url(f"/exit-requests/{request.pk}/")
    expect(page.locator(".govuk-notification-banner")).to_contain_text(
        f"Notice given: Labour and Citizens' Services leaves PSOA Payroll on {long_date(earliest)}"
    )
    expect(page.locator("#exit-request-status")).to_have_text("Scheduled")
    assert (request.status, request.to_cluster, request.leave_on) == (
        ExitStatus.SCHEDULED,
        east,
        earliest,
    )
    assert Membership.objects.get(department=world.lcs, cluster=east).joined_on == earliest
    page.screenshot(path="/tmp/exit_request.png", full_page=True)  # noqa: S108

    site.follow(page.get_by_role("button", name="Withdraw this request"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Withdraw the request")
    site.submit(page.get_by_role("button", name="Withdraw the request"))
    assert page.url == site.url(f"/exit-requests/{request.pk}/")
    expect(page.locator("#exit-request-status")).to_have_text("Withdrawn")
    expect(page.get_by_role("button", name="Withdraw this request")).to_have_count(0)
    request.refresh_from_db()
    world.lcs_payroll.refresh_from_db()
    assert request.status == ExitStatus.WITHDRAWN
    assert world.lcs_payroll.leaves_on is None
    assert not Membership.objects.filter(department=world.lcs, cluster=east).exists()
