"""A department manager changes their password with the keyboard only, and sees the
warning before the idle limit (the page's clock moved, not slept). Every page is scanned
by axe-core (see conftest), and so is the warning once it shows."""

from __future__ import annotations

import pytest
from knox.models import AuthToken

from sharedsvc.account import PASSWORD_CHANGED
from tests.browser.conftest import WCAG_TAGS, Site, sign_in
from tests.factories import PASSWORD

pytestmark = pytest.mark.browser

NEW_PASSWORD = "a-quite-different-passphrase-9"

_AXE_BANNER = """
async (tags) => {
  const results = await axe.run('#session-warning', {runOnly: {type: 'tag', values: tags}});
  return results.violations.map(v => v.id + ': ' + v.help);
}
"""


def tab_to(site: Site, name: str, limit: int = 40) -> None:
    """Press Tab until the control called `name` has the focus."""
    for _ in range(limit):
        site.page.keyboard.press("Tab")
        focused = site.page.evaluate(
            "() => (document.activeElement.labels && document.activeElement.labels[0]"
            " ? document.activeElement.labels[0].innerText"
            " : document.activeElement.innerText || '').trim()"
        )
        if focused == name:
            return
    raise AssertionError(f"{name!r} cannot be reached with the Tab key")


def press_enter_and_load(site: Site) -> None:
    with site.page.expect_navigation():
        site.page.keyboard.press("Enter")
    site.axe_check()


def test_change_password_with_the_keyboard(world, site):
    sign_in(site, world.manager.username, PASSWORD)

    tab_to(site, "Your account")
    press_enter_and_load(site)
    assert site.page.url == site.url("/accounts/")
    assert site.page.get_by_role("heading", level=1).inner_text() == "Your account"

    tab_to(site, "Change your password")
    press_enter_and_load(site)
    assert site.page.url == site.url("/accounts/password/")

    # A wrong current password: the error summary takes the focus and links to the field.
    tab_to(site, "Current password")
    site.page.keyboard.type("not-my-password")
    site.page.keyboard.press("Tab")
    site.page.keyboard.type(NEW_PASSWORD)
    site.page.keyboard.press("Tab")
    site.page.keyboard.type(NEW_PASSWORD)
    press_enter_and_load(site)
    assert site.page.locator(".govuk-error-summary").is_visible()

    tab_to(site, "Current password")
    site.page.keyboard.type(PASSWORD)
    site.page.keyboard.press("Tab")
    site.page.keyboard.type(NEW_PASSWORD)
    site.page.keyboard.press("Tab")
    site.page.keyboard.type(NEW_PASSWORD)
    press_enter_and_load(site)

    assert site.page.url == site.url("/accounts/")
    assert PASSWORD_CHANGED in site.page.get_by_role("alert").first.inner_text()
    world.manager.refresh_from_db()
    assert world.manager.check_password(NEW_PASSWORD)


def test_warning_before_the_idle_limit(world, site):
    site.page.clock.install()
    sign_in(site, world.manager.username, PASSWORD)
    site.goto("/accounts/")
    banner = site.page.locator("#session-warning")
    assert banner.is_hidden()

    site.page.clock.fast_forward("24:00")
    assert banner.is_hidden()
    site.page.clock.fast_forward("01:01")  # 5 minutes before the 30-minute limit
    banner.wait_for(state="visible")
    assert banner.get_attribute("role") == "alert"
    assert "You will be signed out soon" in banner.inner_text()
    assert site.page.evaluate("() => document.activeElement.id") == "session-warning"
    assert site.page.evaluate(_AXE_BANNER, WCAG_TAGS) == []

    site.page.keyboard.press("Tab")
    assert site.page.evaluate("() => document.activeElement.innerText.trim()") == ("Stay signed in")
    with site.page.expect_response("**/accounts/session/") as answer:
        site.page.keyboard.press("Enter")
    assert answer.value.status == 204
    banner.wait_for(state="hidden")
    assert site.page.url == site.url("/accounts/")


def test_create_and_revoke_an_api_token_with_the_keyboard(world, site):
    sign_in(site, world.analyst.username, PASSWORD)
    site.goto("/accounts/tokens/")
    assert site.page.get_by_role("heading", level=1).inner_text() == "Your API tokens"

    # Refused without a name: the error summary takes the focus.
    tab_to(site, "Name")
    press_enter_and_load(site)
    assert site.page.evaluate(
        "() => document.activeElement.closest('.govuk-error-summary') !== null"
    )

    tab_to(site, "Name")
    site.page.keyboard.type("Monthly cost report")
    press_enter_and_load(site)
    key = site.page.get_by_label("Your new token").input_value()
    token = AuthToken.objects.get(user=world.analyst)
    assert token.detail.name == "Monthly cost report" and key.startswith(token.token_key)

    # The button's accessible name says which token it revokes.
    site.page.get_by_role("button", name="Revoke Monthly cost report").focus()
    press_enter_and_load(site)
    assert "has been revoked" in site.page.get_by_role("alert").first.inner_text()
    assert not AuthToken.objects.filter(user=world.analyst).exists()
