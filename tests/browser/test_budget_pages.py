"""The money pages in a real browser, every page scanned by axe-core (see conftest): a
department manager reads the budget and its chart and adds a line; a provider manager
uploads cost pools from a CSV file; an administrator charges a month and watches runs
finish."""

from __future__ import annotations

import datetime
import zoneinfo
from decimal import Decimal

import pytest
import time_machine
from django.conf import settings
from django.utils import timezone
from playwright.sync_api import expect

from budgets import services
from budgets.models import BudgetLine, ChargebackRun, CostPool, RunStatus
from sharedsvc.celery import app as celery_app
from sharedsvc.periods import format_period, next_month
from tests.browser.conftest import Site, sign_in
from tests.factories import PASSWORD

pytestmark = pytest.mark.browser

MONTHS = [datetime.date(2026, m, 1) for m in range(4, 10)]  # April to September 2026


def nav_link(site: Site, name: str):
    return site.page.get_by_role("navigation", name="Menu").get_by_role(
        "link", name=name, exact=True
    )


def table_rows(site: Site, selector: str) -> list[list[str]]:
    rows = site.page.locator(f"{selector} tbody tr")
    return [
        # Whitespace collapsed: a visually hidden span reads as a line of its own.
        [" ".join(cell.split()) for cell in rows.nth(i).locator("th, td").all_inner_texts()]
        for i in range(rows.count())
    ]


def charged_half_year(world) -> None:
    """Six months of payroll and IT pools, charged: LCS pays 4,000.00 of each payroll pool
    and the whole 1,000.00 IT pool."""
    for month in MONTHS:
        services.cost_pool_create(
            actor=world.provider_manager,
            cluster=world.pay_psoa,
            period=month,
            amount=Decimal("7000"),
        )
        services.cost_pool_create(
            actor=world.other_provider_manager,
            cluster=world.it_tech,
            period=month,
            amount=Decimal("1000"),
        )
        services.chargeback_run(actor=world.administrator, period=month)


@pytest.fixture
def in_november_2026():
    """The clock in the middle of fiscal 2026-27, whose months this test charges and reads
    (the budget page opens on the current year), running on from there."""
    zone = zoneinfo.ZoneInfo(settings.TIME_ZONE)
    with time_machine.travel(datetime.datetime(2026, 11, 16, 10, tzinfo=zone), tick=True):
        yield


def test_a_department_manager_reads_the_budget_and_adds_a_line(in_november_2026, world, site):
    charged_half_year(world)
    services.budget_line_create(
        actor=world.manager,
        department=world.lcs,
        fiscal_year="2026-27",
        service=world.payroll,
        allocated=Decimal("26000.00"),  # 24,000.00 charged: past 90%, a warning
    )
    sign_in(site, world.manager.username, PASSWORD)
    site.follow(nav_link(site, "Budget"))
    assert site.page.url == site.url("/departments/LCS/budget/")
    assert site.page.get_by_role("heading", level=1).inner_text() == "Budget, 2026-27"

    assert table_rows(site, "#budget-lines-table") == [
        [
            "Payroll",
            "26,000.00",
            "24,000.00",
            "2,000.00",
            "Warning",
            "Change the allocation of Payroll",
        ]
    ]
    # The chart is an image with a name and a description, and its figures are a table.
    chart = site.page.get_by_role("img", name="Spending against allocation, 2026-27")
    expect(chart).to_be_visible()
    description = chart.get_attribute("aria-labelledby")
    assert description == "spending-chart-title spending-chart-desc"
    assert site.page.locator("#spending-chart-desc").text_content() == (
        "By the end of September 2026, 30,000.00 had been charged against an allocation "
        "of 26,000.00 (115%)."
    )
    spending = table_rows(site, "#spending-table")
    assert spending[0] == ["Apr 2026", "5,000.00", "5,000.00", "26,000.00"]
    assert spending[5] == ["Sep 2026", "5,000.00", "30,000.00", "26,000.00"]
    assert spending[6:] == [
        [f"{month} 202{7 if month in ('Jan', 'Feb', 'Mar') else 6}", "No charges yet", "26,000.00"]
        for month in ("Oct", "Nov", "Dec", "Jan", "Feb", "Mar")
    ]
    assert site.page.locator(".app-chart__bars rect").count() == 6
    # The IT charges have no line: unfunded.
    charges = table_rows(site, "#charges-table")
    assert len(charges) == 12
    assert ["April 2026", "Technology Desktop", "Desktop IT", "1,000.00", "Unfunded"] in charges
    site.page.screenshot(path="/tmp/budget.png", full_page=True)  # noqa: S108 (to look at)

    # A bad allocation: the error summary, nothing saved.
    site.page.get_by_label("Service").select_option("IT")
    site.page.get_by_label("Allocation", exact=True).fill("-12")
    site.submit(site.page.get_by_role("button", name="Add budget line"))
    summary = site.page.locator(".govuk-error-summary")
    assert "The allocation cannot be negative" in summary.inner_text()
    assert site.page.title().startswith("Error: ")
    assert BudgetLine.objects.filter(service=world.it).count() == 0

    site.page.get_by_label("Allocation", exact=True).fill("15000")
    site.submit(site.page.get_by_role("button", name="Add budget line"))
    assert site.page.url == site.url("/departments/LCS/budget/?year=2026-27")
    expect(site.page.locator(".govuk-notification-banner")).to_contain_text(
        "Budget line added: Desktop IT, 2026-27, allocation 15,000.00"
    )
    assert table_rows(site, "#budget-lines-table") == [
        [
            "Desktop IT",
            "15,000.00",
            "6,000.00",
            "9,000.00",
            "OK",
            "Change the allocation of Desktop IT",
        ],
        [
            "Payroll",
            "26,000.00",
            "24,000.00",
            "2,000.00",
            "Warning",
            "Change the allocation of Payroll",
        ],
    ]
    assert " ".join(site.page.locator("#budget-lines-table tfoot").inner_text().split()) == (
        "Total 41,000.00 30,000.00 11,000.00"
    )
    line = BudgetLine.objects.get(service=world.it)
    assert (line.department, line.fiscal_year, line.allocated) == (
        world.lcs,
        "2026-27",
        Decimal("15000.00"),
    )
    assert line.charges.count() == 6  # the unfunded IT charges now land on it
    assert "Unfunded" not in site.page.locator("#charges-table").inner_text()

    # Changing an allocation.
    site.follow(site.page.get_by_role("link", name="Change the allocation of Payroll"))
    site.page.get_by_label("Allocation", exact=True).fill("20000")
    site.submit(site.page.get_by_role("button", name="Save allocation"))
    assert table_rows(site, "#budget-lines-table")[1][:5] == [
        "Payroll",
        "20,000.00",
        "24,000.00",
        "-4,000.00",
        "Overspent",
    ]
    site.page.screenshot(path="/tmp/budget_after.png", full_page=True)  # noqa: S108


def csv_file(content: str) -> dict:
    return {"name": "pools.csv", "mimeType": "text/csv", "buffer": content.encode()}


def test_a_provider_manager_uploads_cost_pools(world, site):
    services.cost_pool_create(
        actor=world.provider_manager,
        cluster=world.pay_psoa,
        period=MONTHS[0],
        amount=Decimal("7000"),
    )
    sign_in(site, world.provider_manager.username, PASSWORD)
    site.follow(nav_link(site, "Cost pools"))
    assert site.page.url == site.url("/providers/PSOA/cost-pools/")
    site.follow(site.page.get_by_role("link", name="Upload a CSV file of cost pools"))

    future = format_period(next_month(timezone.localdate().replace(day=1)))
    bad = (
        "cluster,period,amount\n"
        "PAY-PSOA,2026-05,7100.00\n"
        "PAY-PSOA,2026-04,7000.00\n"  # already entered
        f"PAY-PSOA,{future},1\n"
        "IT-TECH,2026-05,500\n"
    )
    site.page.get_by_label("Upload a CSV file").set_input_files(files=[csv_file(bad)])
    site.submit(site.page.get_by_role("button", name="Check the file"))
    summary = site.page.locator(".govuk-error-summary")
    expect(summary).to_be_focused()
    assert summary.locator("li").all_inner_texts() == [
        "Row 3: PAY-PSOA already has a cost pool for 2026-04",
        f"Row 4: {future} is in the future: enter costs for months that have begun",
        "Row 5: IT-TECH is run by Technology Services, not Public Service Operations Agency",
    ]
    assert [row[0] for row in table_rows(site, "#upload-problems-table")] == ["3", "4", "5"]
    site.page.screenshot(path="/tmp/upload_errors.png", full_page=True)  # noqa: S108
    assert CostPool.objects.count() == 1

    good = 'cluster,period,amount\nPAY-PSOA,2026-05,7100.00\nPAY-PSOA,2026-06,"7,250.75"\n'
    site.page.get_by_label("Upload a CSV file").set_input_files(files=[csv_file(good)])
    site.submit(site.page.get_by_role("button", name="Check the file"))
    assert (
        site.page.get_by_role("heading", level=1).inner_text()
        == "Check the cost pools before saving"
    )
    assert table_rows(site, "#upload-preview-table") == [
        ["2", "PSOA Payroll (PAY-PSOA)", "May 2026", "7,100.00"],
        ["3", "PSOA Payroll (PAY-PSOA)", "June 2026", "7,250.75"],
    ]
    site.page.screenshot(path="/tmp/upload_preview.png", full_page=True)  # noqa: S108
    assert CostPool.objects.count() == 1  # the preview saves nothing

    site.submit(site.page.get_by_role("button", name="Save 2 cost pools"))
    assert site.page.url == site.url("/providers/PSOA/cost-pools/?year=2026-27")
    expect(site.page.locator(".govuk-notification-banner")).to_contain_text(
        "2 cost pools saved from pools.csv"
    )
    rows = table_rows(site, "#cost-pools-table")
    assert [row[:4] for row in rows] == [
        ["June 2026", "PSOA Payroll", "7,250.75", "Not yet charged"],
        ["May 2026", "PSOA Payroll", "7,100.00", "Not yet charged"],
        ["April 2026", "PSOA Payroll", "7,000.00", "Not yet charged"],
    ]
    assert sorted(CostPool.objects.values_list("period", "amount")) == [
        (MONTHS[0], Decimal("7000.00")),
        (MONTHS[1], Decimal("7100.00")),
        (MONTHS[2], Decimal("7250.75")),
    ]
    site.page.screenshot(path="/tmp/cost_pools.png", full_page=True)  # noqa: S108


@pytest.fixture
def eager_tasks(settings):
    """Tasks run in place, after the commit, in the server's thread (no worker here)."""
    settings.CELERY_TASK_ALWAYS_EAGER = True
    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True  # Celery read its settings at start-up
    yield
    celery_app.conf.task_always_eager = previous


def test_an_administrator_charges_a_month_and_watches_runs_finish(world, site, eager_tasks):
    services.cost_pool_create(
        actor=world.provider_manager,
        cluster=world.pay_psoa,
        period=MONTHS[0],
        amount=Decimal("7000"),
    )
    sign_in(site, world.administrator.username, PASSWORD)
    site.follow(nav_link(site, "Chargeback"))

    # A month that has not ended is refused with the service's message.
    this_month = format_period(timezone.localdate().replace(day=1))
    site.page.get_by_label("Month to charge").fill(this_month)
    site.submit(site.page.get_by_role("button", name="Start chargeback"))
    expect(site.page.locator(".govuk-error-summary")).to_contain_text(
        services.PERIOD_NOT_ENDED.format(period=this_month)
    )
    assert not ChargebackRun.objects.exists()

    site.page.get_by_label("Month to charge").fill("2026-04")
    site.submit(site.page.get_by_role("button", name="Start chargeback"))
    run = ChargebackRun.objects.get()
    assert site.page.url == site.url(f"/chargeback/runs/{run.pk}/")
    expect(site.page.locator("#run-status-value")).to_have_text("Done")
    assert (run.status, run.charges, run.total) == (RunStatus.DONE, 2, Decimal("7000.00"))

    # A run the worker has not taken yet: the page polls its status until it is done.
    services.cost_pool_create(
        actor=world.provider_manager,
        cluster=world.pay_psoa,
        period=MONTHS[1],
        amount=Decimal("3500"),
    )
    queued = ChargebackRun.objects.create(period=MONTHS[1], requested_by=world.administrator)
    site.goto(f"/chargeback/runs/{queued.pk}/")
    expect(site.page.locator("#run-status-value")).to_have_text("Queued")
    expect(site.page.get_by_role("link", name="Refresh the status")).to_be_visible()
    site.page.screenshot(path="/tmp/chargeback_run.png", full_page=True)  # noqa: S108
    services.chargeback_execute(run_id=queued.pk)  # the worker runs it
    expect(site.page.locator("#run-status-value")).to_have_text("Done", timeout=10_000)
    expect(site.page.get_by_role("link", name="Refresh the status")).to_have_count(0)
    assert site.page.locator("#run-status").inner_text().count("3,500.00") == 1
    assert len(site.loaded) == len(site.scanned)  # polling loaded no new page

    site.follow(site.page.get_by_role("link", name="All chargeback runs"))
    rows = table_rows(site, "#runs-table")
    assert [row[:5] for row in rows] == [
        [f"May 2026 (run {queued.pk})", "Done", "2", "3,500.00", "0.00"],
        [f"April 2026 (run {run.pk})", "Done", "2", "7,000.00", "0.00"],
    ]
    site.page.screenshot(path="/tmp/chargeback.png", full_page=True)  # noqa: S108
