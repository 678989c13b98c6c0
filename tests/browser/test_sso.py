"""Single sign-on in the browser, through a real OpenID provider (oidc-provider, started by
`tests/oidc/support.py`): a pre-registered person lands signed in with their role; a person
the service does not know lands on the page saying they have no role yet."""

from __future__ import annotations

import re

import pytest

from clusters.users import user_create
from sharedsvc.models import SignInEvent, SignInKind, SsoIdentity, User
from sharedsvc.roles import Role
from sharedsvc.sso import SSO_DETAIL
from tests.oidc.support import CALLBACK_PATH, running_provider

ACCOUNTS = [
    {"sub": "known-1", "email": "lee@example.gov", "given_name": "Lee", "family_name": "Ng"},
    {"sub": "new-1", "email": "kim@example.gov", "preferred_username": "kim"},
]


@pytest.fixture(scope="module")
def provider(live_server):
    with running_provider(
        redirect_uris=[live_server.url + CALLBACK_PATH], accounts=ACCOUNTS
    ) as running:
        yield running


def sign_in_with_the_provider(site, login: str) -> None:
    """From the sign-in page, through the provider's own login page, back to the service."""
    site.goto("/accounts/login/")
    # To the provider: its page is not ours, so it is neither counted nor scanned.
    site.follow(site.page.get_by_role("button", name="Sign in with the test provider"))
    site.page.get_by_label("Username").fill(login)
    back = re.compile("^" + re.escape(site.base_url))
    with site.page.expect_navigation(url=back):
        site.page.get_by_role("button", name="Continue").click()
    site.axe_check()


def test_sign_in_through_the_provider(site, provider, settings):
    provider.settings(settings)
    lee = user_create(actor=None, username="lee", role=Role.ANALYST, sso_subject="known-1")

    sign_in_with_the_provider(site, "known-1")
    assert site.page.url == site.url("/")
    assert "Lee Ng (analyst)" in site.page.locator(".app-account__name").inner_text()
    assert SignInEvent.objects.get(kind=SignInKind.SIGNED_IN, user=lee).detail == SSO_DETAIL

    site.follow(site.page.get_by_role("button", name="Sign out"))
    # A new visit to the provider asks who you are again.
    site.page.context.clear_cookies()

    sign_in_with_the_provider(site, "new-1")
    assert site.page.url == site.url("/accounts/no-role/")
    heading = site.page.get_by_role("heading", level=1)
    assert heading.inner_text() == "You do not have a role yet"
    kim = SsoIdentity.objects.get(issuer=provider.issuer, subject="new-1").user
    assert (kim.username, kim.role) == ("kim", Role.UNASSIGNED)
    assert User.objects.count() == 2
    # Every other page leads back here; signing out still works.
    site.goto("/clusters/")
    assert site.page.url == site.url("/accounts/no-role/")
    site.follow(site.page.get_by_role("main").get_by_role("button", name="Sign out"))
    assert site.page.url.startswith(site.url("/accounts/login/"))
