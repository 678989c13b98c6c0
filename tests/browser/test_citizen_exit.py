"""Leaving a service for citizens in a real browser, every page scanned by axe-core: a
department manager gives notice on the citizen portal, is asked for the citizen-continuity
plan, checks it and confirms; the move to the PSOA's portal is scheduled by right, the
request's page shows the plan, and a deputy minister finds the board's notification with
the plan in their inbox."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from defection.models import ExitRequest, ExitStatus
from notifications.models import Notification, NotificationKind
from tests.browser.conftest import sign_in
from tests.browser.test_exit_flow import summary
from tests.defection.test_citizen_plan import PLAN, portal_fixture  # noqa: F401  (fixture)
from tests.factories import PASSWORD

pytestmark = pytest.mark.browser


def sign_out(site) -> None:
    site.submit(site.page.get_by_role("button", name="Sign out"))


def test_a_citizen_facing_exit_comes_with_its_plan(portal, site):
    page = site.page
    transition = timezone.localdate() + datetime.timedelta(days=45)
    membership = portal.lcs.memberships.get(cluster=portal.portal_tech)
    sign_in(site, portal.manager.username, PASSWORD)
    site.goto("/departments/LCS/")
    site.follow(page.get_by_role("link", name="Leave this cluster (Technology Portal)"))
    assert site.page.url == site.url(f"/memberships/{membership.pk}/leave/")
    expect(page.get_by_role("heading", name="Citizen-continuity plan")).to_be_visible()

    # Without the plan: one message per part, each linked to its field.
    page.get_by_label("PSOA Portal", exact=True).check()
    page.get_by_label("Cost", exact=True).check()
    page.get_by_label("Justification", exact=True).fill("The PSOA's portal costs less.")
    site.submit(page.get_by_role("button", name="Continue"))
    errors = page.locator(".govuk-error-summary")
    expect(errors).to_contain_text("Say what citizens will notice when the department leaves")
    expect(errors).to_contain_text("Give the date citizens move to the new service")
    expect(errors).to_contain_text("Say who answers citizens' questions during the move")
    errors.get_by_role("link", name="Say how citizens' records and open cases move").click()
    expect(page.get_by_label("How will citizens' records and open cases move?")).to_be_focused()

    page.get_by_label("What will citizens notice?").fill(PLAN["citizen_impact"])
    group = page.get_by_role("group", name="When do citizens move?")
    group.get_by_label("Day").fill(str(transition.day))
    group.get_by_label("Month").fill(str(transition.month))
    group.get_by_label("Year").fill(str(transition.year))
    page.get_by_label("How will citizens' records and open cases move?").fill(
        PLAN["records_and_cases"]
    )
    page.get_by_label("Who answers citizens' questions during the move?").fill(PLAN["contact"])
    site.submit(page.get_by_role("button", name="Continue"))
    assert site.page.url == site.url(f"/memberships/{membership.pk}/leave/check/")
    plan = summary(site, "#citizen-plan")
    assert plan == {
        "What citizens will notice": PLAN["citizen_impact"],
        "Transition date": f"{transition.day} {transition:%B %Y}",
        "Records and open cases": PLAN["records_and_cases"],
        "Who answers citizens' questions": PLAN["contact"],
    }
    site.submit(page.get_by_role("button", name="Confirm"))

    request = ExitRequest.objects.get()
    assert request.status == ExitStatus.SCHEDULED
    assert (request.transition_on, request.contact) == (transition, PLAN["contact"])
    assert site.page.url == site.url(f"/exit-requests/{request.pk}/")
    assert summary(site, "#citizen-plan") == plan
    sign_out(site)

    # The board is told, with the plan, though nobody votes.
    told = Notification.objects.get(
        kind=NotificationKind.CITIZEN_EXIT, recipient=portal.deputy_minister
    )
    sign_in(site, portal.deputy_minister.username, PASSWORD)
    site.goto("/notifications/")
    site.follow(page.get_by_role("link", name=told.subject))
    assert site.page.url == site.url(f"/exit-requests/{request.pk}/")
    assert summary(site, "#citizen-plan") == plan
    assert PLAN["records_and_cases"] in told.body
