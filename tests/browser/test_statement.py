"""The annual benefits statement in a real browser, every page scanned by axe-core (see
conftest): LCS's manager follows "Statement" in the navigation to the last complete fiscal
year, chooses 2025-26, reads the benefit by cluster (PAY-TECH's total withheld, as it is
TECH's alone) and prints it: on paper no navigation, chooser, downloads or buttons."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import sign_in
from tests.factories import PASSWORD
from tests.web.statement_world import FY, build_statement

pytestmark = pytest.mark.browser


def test_a_manager_reads_and_prints_the_statement(world, site):
    build_statement(world)
    sign_in(site, world.manager.username, PASSWORD)
    page = site.page
    site.follow(page.get_by_role("navigation", name="Menu").get_by_role("link", name="Statement"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("Benefits statement")

    page.get_by_label("Fiscal year").select_option(FY)
    site.submit(page.get_by_role("button", name="Show year"))
    assert page.url.endswith(f"/statement/{FY}/")
    clusters = page.locator("#clusters-table")
    expect(clusters.get_by_role("row", name="PAY-PSOA")).to_contain_text("184,889.04")
    expect(clusters.get_by_role("row", name="PAY-TECH")).to_contain_text("Withheld")
    expect(page.locator("#compliance-table")).to_contain_text("87.5%")
    expect(page.locator("#departures-table")).to_contain_text("Service quality")
    print_button = page.get_by_role("button", name="Print this statement")
    expect(print_button).to_be_visible()
    page.screenshot(path="/tmp/statement.png", full_page=True)  # noqa: S108

    # On paper: no navigation, no chooser, no downloads, no buttons; black on white.
    page.emulate_media(media="print")
    for hidden in (
        page.locator(".govuk-service-navigation"),
        page.locator(".govuk-breadcrumbs"),
        page.locator(".govuk-footer"),
        page.get_by_label("Fiscal year"),
        page.get_by_role("link", name="Download this table (benefit by service) as CSV"),
        print_button,
    ):
        expect(hidden).to_be_hidden()
    expect(clusters).to_be_visible()
    colours = page.evaluate(
        """() => [getComputedStyle(document.body).backgroundColor,
                  getComputedStyle(document.querySelector('h1')).color]"""
    )
    assert colours == ["rgb(255, 255, 255)", "rgb(0, 0, 0)"]
    page.screenshot(path="/tmp/statement_print.png", full_page=True)  # noqa: S108
    page.emulate_media(media="screen")
