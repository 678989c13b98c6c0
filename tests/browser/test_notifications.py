"""The inbox in a real browser, every page scanned by axe-core (see conftest): a fellow
member of a cluster that LCS gives notice to leave sees the unread count in the header,
opens the inbox, reads what it says, marks one read (a plain form, no script needed),
follows the other to the exit request, and marks all read."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from defection.models import Destination, Reason
from defection.services import exit_request_submit
from notifications import views
from notifications.models import Notification, NotificationKind
from notifications.services import notify
from tests.browser.conftest import Site, sign_in
from tests.factories import PASSWORD

pytestmark = pytest.mark.browser

NOTICE = "LCS gives notice to leave PAY-PSOA"
BREACH = "Persistent breach: Paid on time for ENV in PAY-PSOA"


def header_count(site: Site) -> str:
    return " ".join(site.page.locator("#header-notifications").inner_text().split())


def test_a_manager_reads_and_marks_their_notifications(world, site):
    request = exit_request_submit(
        actor=world.manager,
        department=world.lcs,
        from_cluster=world.pay_psoa,
        destination=Destination.IN_HOUSE,
        reason=Reason.COST,
        justification="Cheaper in-house.",
    )
    notify(
        recipients=[world.other_manager],
        kind=NotificationKind.BREACH,
        subject=BREACH,
        body="Paid on time has been missed for ENV in PAY-PSOA for 3 months running.",
        link="/clusters/PAY-PSOA/performance/",
    )
    notify(
        recipients=[world.manager],
        kind=NotificationKind.BREACH,
        subject="Somebody else's",
        body="Not for ENV.",
        link="/",
    )

    sign_in(site, world.other_manager.username, PASSWORD)
    assert header_count(site) == "Notifications 2 unread"

    site.follow(site.page.locator("#header-notifications"))
    assert site.page.url == site.url("/notifications/")
    items = site.page.locator("#notifications > li")
    expect(items).to_have_count(2)
    # Newest first: the breach was written after the notice.
    assert items.nth(0).locator("h2 a").inner_text() == BREACH
    assert items.nth(1).locator("h2 a").inner_text() == NOTICE
    expect(site.page.get_by_text("Unread", exact=True)).to_have_count(2)
    assert "Somebody else's" not in site.page.content()

    # What it says: the whole request, as a fellow member may read it.
    items.nth(1).locator("summary").click()
    expect(items.nth(1).locator(".govuk-details__text")).to_contain_text(
        "Justification: Cheaper in-house."
    )

    site.submit(site.page.get_by_role("button", name=f"Mark as read {BREACH}"))
    assert site.page.url == site.url("/notifications/")
    expect(site.page.locator(".govuk-notification-banner")).to_contain_text(
        views.MARKED_READ.format(subject=BREACH)
    )
    assert header_count(site) == "Notifications 1 unread"
    expect(site.page.get_by_text("Unread", exact=True)).to_have_count(1)
    assert Notification.objects.get(subject=BREACH).read_at is not None
    assert Notification.objects.get(subject=NOTICE, recipient=world.other_manager).read_at is None

    # Each notification links to what it tells of.
    site.follow(site.page.get_by_role("link", name=NOTICE))
    assert site.page.url == site.url(f"/exit-requests/{request.pk}/")

    site.goto("/notifications/")
    site.submit(site.page.get_by_role("button", name="Mark all as read"))
    expect(site.page.locator(".govuk-notification-banner")).to_contain_text(views.ONE_MARKED_READ)
    assert header_count(site) == "Notifications"
    assert not Notification.objects.filter(
        recipient=world.other_manager, read_at__isnull=True
    ).exists()
    assert (
        Notification.objects.get(recipient=world.manager, subject="Somebody else's").read_at is None
    )


def test_an_empty_inbox(world, site):
    sign_in(site, world.analyst.username, PASSWORD)
    site.goto("/notifications/")
    expect(site.page.locator("#no-notifications")).to_contain_text("You have no notifications.")
    assert header_count(site) == "Notifications"
