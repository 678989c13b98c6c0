"""The lockout in a real browser, every page scanned by axe-core (see conftest): five wrong
passwords lock the username, and the right one is then refused with the lockout page."""

from __future__ import annotations

import pytest
from axes.models import AccessAttempt
from playwright.sync_api import expect

from sharedsvc.models import SignInEvent, SignInKind
from sharedsvc.signin import locked_out_message
from tests.browser.conftest import sign_in
from tests.factories import PASSWORD

pytestmark = pytest.mark.browser


def test_five_wrong_passwords_lock_the_username(world, site):
    for _ in range(4):
        sign_in(site, world.manager.username, "not-the-password")
        expect(site.page.get_by_role("heading", name="Sign in", exact=True)).to_be_visible()

    sign_in(site, world.manager.username, "not-the-password")
    expect(site.page.get_by_role("heading", name="You cannot sign in for now")).to_be_visible()

    sign_in(site, world.manager.username, PASSWORD)
    expect(site.page.get_by_role("heading", name="You cannot sign in for now")).to_be_visible()
    expect(site.page.get_by_text(locked_out_message())).to_be_visible()
    site.follow(site.page.get_by_role("link", name="Back to sign in"))
    expect(site.page.get_by_role("heading", name="Sign in", exact=True)).to_be_visible()

    assert AccessAttempt.objects.get(username=world.manager.username).failures_since_start == 5
    assert SignInEvent.objects.filter(kind=SignInKind.LOCKED_OUT).count() == 2
    assert not SignInEvent.objects.filter(kind=SignInKind.SIGNED_IN).exists()
