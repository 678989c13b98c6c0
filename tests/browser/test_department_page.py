"""A department manager signs in, opens their department from the navigation and reads its
memberships; an analyst reads a cluster and the service catalogue. Every page is scanned
by axe-core (see conftest)."""

from __future__ import annotations

import datetime

import pytest

from clusters.models import Membership, Service
from sharedsvc.views import INVALID_LOGIN
from tests.browser.conftest import Site, sign_in
from tests.factories import PASSWORD

pytestmark = pytest.mark.browser


def long_date(day: datetime.date) -> str:
    return f"{day.day} {day:%B %Y}"


def table_rows(site: Site, selector: str) -> list[list[str]]:
    rows = site.page.locator(f"{selector} tbody tr")
    return [
        [cell.strip() for cell in rows.nth(i).locator("th, td").all_inner_texts()]
        for i in range(rows.count())
    ]


def nav_link(site: Site, name: str):
    return site.page.get_by_role("navigation", name="Menu").get_by_role("link", name=name)


def test_department_manager_reads_their_department(world, site):
    # Anonymous: the start page sends them to sign in.
    site.goto("/")
    assert site.page.url == site.url("/accounts/login/?next=/")

    sign_in(site, world.manager.username, PASSWORD)
    assert site.page.url == site.url("/")
    assert site.page.get_by_role("heading", level=1).inner_text() == "Shared services"

    # GOV.UK Frontend's styles are applied, on a system font, with no GOV.UK marks.
    font = site.page.evaluate("() => getComputedStyle(document.querySelector('h1')).fontFamily")
    assert "system-ui" in font and "GDS Transport" not in font
    header_background = site.page.evaluate(
        "() => getComputedStyle(document.querySelector('.govuk-generic-header')).backgroundColor"
    )
    assert header_background not in ("rgba(0, 0, 0, 0)", "transparent")
    assert site.page.locator(".govuk-logo, .govuk-header__logo, .govuk-footer__crown").count() == 0
    assert (
        site.page.locator(".govuk-footer__copyright-logo, .govuk-footer__licence-logo").count() == 0
    )

    site.follow(nav_link(site, "My department"))
    assert site.page.url == site.url(f"/departments/{world.lcs.code}/")
    assert site.page.get_by_role("heading", level=1).inner_text() == world.lcs.name

    expected = sorted(
        [
            m.cluster.name,
            m.cluster.service.name,
            m.cluster.provider.name,
            long_date(m.joined_on),
            f"{m.cluster.notice_days} days",
            m.status.capitalize(),
        ]
        for m in Membership.objects.filter(department=world.lcs).select_related(
            "cluster__service", "cluster__provider"
        )
    )
    assert len(expected) == 2  # LCS is in PAY-PSOA and IT-TECH
    assert sorted(table_rows(site, "#memberships-table")) == expected
    site.page.screenshot(path="/tmp/dept.png", full_page=True)  # noqa: S108 (to look at)

    # Signing out (a POST) ends the session: the start page asks to sign in again.
    site.submit(site.page.get_by_role("button", name="Sign out"))
    assert site.page.url == site.url("/accounts/login/")
    site.goto("/")
    assert site.page.url == site.url("/accounts/login/?next=/")


def test_wrong_password_shows_the_error_summary(world, site):
    site.goto("/accounts/login/")
    site.page.get_by_label("Username").fill(world.manager.username)
    site.page.get_by_label("Password").fill("not-the-password")
    site.submit(site.page.get_by_role("button", name="Sign in"))

    summary = site.page.locator(".govuk-error-summary")
    assert INVALID_LOGIN in summary.inner_text()
    assert site.page.title().startswith("Error: ")
    # GOV.UK Frontend's JavaScript ran: it moves focus to the summary.
    assert summary.evaluate("el => el === document.activeElement")
    # The summary's link leads to the field.
    site.page.get_by_role("link", name=INVALID_LOGIN).click()
    assert site.page.evaluate("() => document.activeElement.id") == "id_username"


def test_analyst_reads_a_cluster_and_the_catalogue(world, site):
    sign_in(site, world.analyst.username, PASSWORD)

    site.follow(nav_link(site, "Clusters"))
    site.follow(site.page.get_by_role("link", name=world.pay_psoa.name))
    assert site.page.url == site.url(f"/clusters/{world.pay_psoa.code}/")

    expected = sorted(
        [
            m.department.name,
            long_date(m.joined_on),
            long_date(m.leaves_on) if m.leaves_on else "Not leaving",
            str(m.usage_units),
            m.status.capitalize(),
        ]
        for m in Membership.objects.filter(cluster=world.pay_psoa).select_related("department")
    )
    assert len(expected) == 2  # LCS and ENV
    assert sorted(table_rows(site, "#members-table")) == expected

    site.follow(nav_link(site, "Services"))
    headings = site.page.get_by_role("heading", level=2).all_inner_texts()
    for service in Service.objects.all():
        assert any(h.startswith(service.name) for h in headings), (service.name, headings)
