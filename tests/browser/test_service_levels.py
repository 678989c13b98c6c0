"""The service-level pages in a real browser, every page scanned by axe-core (see conftest):
a provider manager uploads returns (a file with a bad row, then a good one) and reads the
scorecard; an analyst reads and sorts the overview and a cluster's performance; a
department manager finds a persistent breach among its service levels."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import FilePayload, expect

from budgets import services as budget_services
from defection import services as defection_services
from servicelevels import services
from servicelevels.models import Measurement
from sharedsvc.periods import format_period, previous_month
from tests.browser.conftest import Site, sign_in
from tests.factories import PASSWORD

pytestmark = pytest.mark.browser

TODAY = timezone.localdate()


def months_back(n: int) -> datetime.date:
    month = TODAY.replace(day=1)
    for _ in range(n):
        month = previous_month(month)
    return month


M1, M2, M3, M4 = (months_back(n) for n in (1, 2, 3, 4))


def nav_link(site: Site, name: str):
    return site.page.get_by_role("navigation", name="Menu").get_by_role(
        "link", name=name, exact=True
    )


def table_rows(site: Site, selector: str) -> list[list[str]]:
    rows = site.page.locator(f"{selector} tbody tr")
    return [
        [" ".join(cell.split()) for cell in rows.nth(i).locator("th, td").all_inner_texts()]
        for i in range(rows.count())
    ]


def submit(world, department, period, value, *, cluster=None, standard=None, actor=None):
    return services.measurement_submit(
        actor=actor or world.provider_manager,
        standard=standard or world.payroll.standards.get(name="Paid on time"),
        cluster=cluster or world.pay_psoa,
        department=department,
        period=period,
        value=Decimal(value),
    )


def returns_history(world) -> None:
    """Eight months of payroll returns: LCS met them all, ENV missed three running (a
    persistent breach); the last complete month is left for the upload."""
    for n in range(2, 10):
        month = months_back(n)
        submit(world, world.lcs, month, "99.8")
        submit(world, world.env, month, "97" if n in (2, 3, 4) else "99.9")


def upload_file(site: Site, name: str, content: str) -> None:
    site.page.get_by_label("Upload a CSV file").set_input_files(
        files=[FilePayload(name=name, mimeType="text/csv", buffer=content.encode())]
    )
    site.submit(site.page.get_by_role("button", name="Check the file"))


def test_a_provider_manager_uploads_returns_and_reads_the_scorecard(world, site):
    returns_history(world)
    sign_in(site, world.provider_manager.username, PASSWORD)
    site.follow(nav_link(site, "Scorecard"))
    assert site.page.url == site.url("/providers/PSOA/scorecard/")
    site.follow(site.page.get_by_role("link", name="Upload returns from a CSV file"))

    last = format_period(M1)
    header = "standard,cluster,department,period,value\n"
    upload_file(
        site,
        "bad.csv",
        header
        + f"Paid on time,PAY-PSOA,LCS,{last},99.9\n"
        + f"Paid on time,PAY-PSOA,ENV,{last},99.9\n"
        + f"Paid on time,PAY-PSOA,TECH,{last},99.9\n",
    )
    summary = site.page.locator(".govuk-error-summary")
    expect(summary).to_contain_text(f"Row 4: TECH was not a member of PAY-PSOA in {last}")
    assert site.page.title().startswith("Error: ")
    assert table_rows(site, "#upload-problems-table") == [
        [
            "4",
            "Paid on time",
            "PAY-PSOA",
            "TECH",
            last,
            "99.9",
            f"TECH was not a member of PAY-PSOA in {last}",
        ]
    ]
    assert Measurement.objects.filter(period=M1).count() == 0

    upload_file(
        site,
        "good.csv",
        header
        + f"Paid on time,PAY-PSOA,LCS,{last},99.9\n"
        + f"Paid on time,PAY-PSOA,ENV,{last},98.5\n",
    )
    expect(site.page.get_by_role("heading", level=1)).to_have_text(
        "Check the returns before saving"
    )
    assert table_rows(site, "#upload-preview-table") == [
        ["2", "Paid on time", "PAY-PSOA", "LCS", f"{M1:%B %Y}", "99.9", "Met"],
        ["3", "Paid on time", "PAY-PSOA", "ENV", f"{M1:%B %Y}", "98.5", "Missed"],
    ]
    assert Measurement.objects.filter(period=M1).count() == 0  # the preview saved nothing
    site.submit(site.page.get_by_role("button", name="Save 2 returns"))

    assert site.page.url == site.url("/providers/PSOA/scorecard/")
    expect(site.page.locator(".govuk-notification-banner")).to_contain_text(
        "2 returns saved from good.csv"
    )
    assert sorted(
        Measurement.objects.filter(period=M1).values_list("department__code", "value")
    ) == [("ENV", Decimal("98.5000")), ("LCS", Decimal("99.9000"))]

    # The scorecard: the uploaded month, ENV's misses and its persistent breach.
    rows = {row[0]: row for row in table_rows(site, "#scorecard-table")}
    assert rows[f"{M1:%b %Y}"][1].startswith("1 of 2 met 1 missed")
    assert rows[f"{months_back(9):%b %Y}"][1] == "2 of 2 met All met 2 late"
    expect(site.page.locator("#breaches-table")).to_contain_text("Ongoing")
    chart = site.page.get_by_role("img", name="Returns meeting their standard, Public Service")
    expect(chart).to_be_visible()
    assert (
        site.page.locator("#compliance-chart-desc")
        .text_content()
        .startswith(f"From {months_back(12):%B %Y} to {M1:%B %Y}")
    )
    site.page.screenshot(path="/tmp/scorecard.png", full_page=True)  # noqa: S108 (to look at)


def test_an_analyst_sorts_the_overview_and_reads_a_clusters_performance(world, site):
    returns_history(world)
    for n in range(1, 13):
        month = months_back(n)
        budget_services.cost_pool_create(
            actor=world.provider_manager,
            cluster=world.pay_psoa,
            period=month,
            amount=Decimal(7000 + 70 * n),
        )
    budget_services.cost_pool_create(
        actor=world.other_provider_manager,
        cluster=world.it_tech,
        period=M1,
        amount=Decimal("700"),
    )
    defection_services.exit_request_submit(
        actor=world.other_manager,
        department=world.env,
        from_cluster=world.pay_psoa,
        destination="in_house",
        reason="service_quality",
        justification="Pay runs late three months running.",
    )
    sign_in(site, world.analyst.username, PASSWORD)
    site.follow(nav_link(site, "Overview"))
    assert site.page.url == site.url("/overview/")

    def order() -> list[str]:
        return [row[0].split(" ")[-1] for row in table_rows(site, "#overview-table")]

    def sorted_header():
        return site.page.locator("#overview-table th[aria-sort]")

    expect(sorted_header()).to_have_attribute("aria-sort", "ascending")
    expect(sorted_header()).to_contain_text("Cluster")
    site.follow(site.page.get_by_role("link", name="Cost per unit"))
    expect(sorted_header()).to_contain_text("Cost per unit")
    expect(sorted_header()).to_have_attribute("aria-sort", "ascending")
    assert [row[0].split(",")[0] for row in table_rows(site, "#overview-table")] == [
        "Technology Desktop IT-TECH",
        "PSOA Payroll PAY-PSOA",
        "Technology Payroll PAY-TECH",
    ]
    site.follow(site.page.get_by_role("link", name="Cost per unit"))
    expect(sorted_header()).to_have_attribute("aria-sort", "descending")
    first = table_rows(site, "#overview-table")[0]
    assert first[0].startswith("PSOA Payroll PAY-PSOA")
    assert first[-1] == "1"  # ENV's pending departure
    site.follow(site.page.get_by_role("link", name="Pending departures"))
    site.follow(site.page.get_by_role("link", name="Pending departures"))
    expect(sorted_header()).to_have_attribute("aria-sort", "descending")
    assert table_rows(site, "#overview-table")[0][0].startswith("PSOA Payroll")
    site.page.screenshot(path="/tmp/overview.png", full_page=True)  # noqa: S108 (to look at)

    site.follow(site.page.get_by_role("link", name="PSOA Payroll"))
    assert site.page.url == site.url("/clusters/PAY-PSOA/performance/")
    expect(
        site.page.get_by_role("img", name="Cost per employee, PSOA Payroll, by month")
    ).to_be_visible()
    cost = table_rows(site, "#cost-table")
    assert cost[-1] == [f"{M1:%b %Y}", "7,070.00", "700", "10.10"]
    compliance = table_rows(site, "#compliance-table")
    assert compliance[-2] == [f"{M2:%b %Y}", "1", "2", "50%"]
    site.page.screenshot(path="/tmp/performance.png", full_page=True)  # noqa: S108 (to look at)


def test_a_department_manager_sees_a_persistent_breach(world, site):
    returns_history(world)
    sign_in(site, world.other_manager.username, PASSWORD)
    site.follow(nav_link(site, "Service levels"))
    assert site.page.url == site.url("/departments/ENV/service-levels/")
    expect(site.page.locator(".govuk-warning-text")).to_contain_text(
        "1 persistent breach is ongoing"
    )
    assert table_rows(site, "#breaches-table") == [
        ["Paid on time", "PAY-PSOA", f"3: {M4:%b %Y} to {M2:%b %Y}", "Ongoing"]
    ]
    levels = table_rows(site, "#levels-PAY-PSOA")
    assert len(levels) == 1
    assert "Persistent breach" in levels[0][0]
    last = "No return" if TODAY.day > 10 else "Not due yet"
    assert levels[0][1:] == [
        "Met 99.9",
        "Met 99.9",
        "Missed 97",
        "Missed 97",
        "Missed 97",
        last,
        "40%",
    ]
    site.page.screenshot(path="/tmp/department_levels.png", full_page=True)  # noqa: S108
