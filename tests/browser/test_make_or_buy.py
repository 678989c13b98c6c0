"""Make or buy in a real browser, every page scanned by axe-core (see conftest): LCS's
manager reads the department's make-or-buy figures, records an estimate with a date after
today (the error summary), then a good one, and sees payroll cheaper in-house; an analyst
reads the creep back to making on the overview."""

from __future__ import annotations

import datetime

import pytest

from budgets.models import InHouseEstimate
from budgets.services import ESTIMATE_IN_FUTURE
from tests.browser.conftest import Site, sign_in
from tests.factories import PASSWORD
from tests.servicelevels.make_or_buy_world import build_costs, build_exits, today

pytestmark = pytest.mark.browser


def fill_date(site: Site, legend: str, day: datetime.date) -> None:
    group = site.page.get_by_role("group", name=legend)
    group.get_by_label("Day").fill(str(day.day))
    group.get_by_label("Month").fill(str(day.month))
    group.get_by_label("Year").fill(str(day.year))


def test_a_manager_records_an_estimate_and_sees_it_cheaper_in_house(world, site):
    build_costs(world)
    sign_in(site, world.manager.username, PASSWORD)
    site.goto("/departments/LCS/")
    page = site.page
    assert "84,000.00" in page.locator("#make-or-buy-table").inner_text()

    form = page.locator("#in-house-estimate-form")
    form.get_by_label("Service").select_option("PAY")
    form.get_by_label("Annual cost in-house").fill("30000")
    fill_date(site, "Date of the estimate", today() + datetime.timedelta(days=1))
    form.get_by_label("How the estimate was made").fill("Our HR team's quote.")
    site.submit(form.get_by_role("button", name="Record the estimate"))
    assert ESTIMATE_IN_FUTURE in page.locator(".govuk-error-summary").inner_text()
    assert not InHouseEstimate.objects.exists()

    fill_date(site, "Date of the estimate", today())
    site.submit(page.get_by_role("button", name="Record the estimate"))
    assert page.url.endswith("/departments/LCS/#make-or-buy")
    table = page.locator("#make-or-buy-table").inner_text()
    assert "In-house" in table and "-6,000.00" in table
    assert InHouseEstimate.objects.get().annual_cost == 30000


def test_an_analyst_reads_the_creep_back_to_making(world, site):
    build_exits(world)
    sign_in(site, world.analyst.username, PASSWORD)
    site.goto("/overview/")
    assert site.page.locator("#make-or-buy-chart-title").count() == 1
    assert "89.7%" in site.page.locator("#make-or-buy-table").inner_text()
