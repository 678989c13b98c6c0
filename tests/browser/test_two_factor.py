"""Two-factor authentication in a real browser, with the keyboard only (Tab, Enter and
typing): an administrator must set it up before being signed in, sees the recovery codes
once, then signs in with the app's code and with a recovery code. Every page is scanned by
axe-core (see conftest); the server's clock is moved (time-machine), never slept."""

from __future__ import annotations

import time

import pytest
import time_machine
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from sharedsvc.models import SignInEvent, SignInKind
from tests.browser.test_account import press_enter_and_load, tab_to
from tests.factories import PASSWORD
from tests.signing_in import app_code, code_for_secret

pytestmark = pytest.mark.browser

CODE_LABEL = "Code from your authenticator app"


def type_password(site, username: str) -> None:
    site.goto("/accounts/login/")
    tab_to(site, "Username")
    site.page.keyboard.type(username)
    site.page.keyboard.press("Tab")
    site.page.keyboard.type(PASSWORD)
    press_enter_and_load(site)


def sign_out(site) -> None:
    tab_to(site, "Sign out")
    press_enter_and_load(site)
    assert site.page.url == site.url("/accounts/login/")


def test_an_administrator_sets_up_two_factor_and_signs_in_with_it(world, site):
    admin = world.administrator
    # Real time, ticking: the browser's cookies expire by its own clock.
    with time_machine.travel(time.time(), tick=True) as clock:
        type_password(site, admin.username)
        assert site.page.url == site.url("/accounts/login/set-up-two-factor/")
        assert site.page.locator("svg[role=img]").count() == 1
        secret = site.page.get_by_test_id("two-factor-secret").inner_text()
        tab_to(site, CODE_LABEL)
        site.page.keyboard.type(code_for_secret(secret))
        press_enter_and_load(site)

        codes = site.page.get_by_test_id("recovery-codes").locator("li").all_inner_texts()
        assert len(codes) == 10
        tab_to(site, "I have saved them: continue")
        press_enter_and_load(site)
        assert site.page.url == site.url("/")
        sign_out(site)

        # The next step's code: the one used to set up cannot be used again.
        clock.shift(30)
        type_password(site, admin.username)
        assert site.page.url == site.url("/accounts/login/code/")
        tab_to(site, CODE_LABEL)
        site.page.keyboard.type(app_code(admin))
        press_enter_and_load(site)
        assert site.page.url == site.url("/")
        sign_out(site)

        type_password(site, admin.username)
        tab_to(site, "Use a recovery code instead")
        press_enter_and_load(site)
        assert site.page.url == site.url("/accounts/login/recovery-code/")
        tab_to(site, "Recovery code")
        site.page.keyboard.type(codes[0])
        press_enter_and_load(site)
        assert site.page.url == site.url("/")

    assert TOTPDevice.objects.filter(user=admin, confirmed=True).count() == 1
    remaining = set(StaticToken.objects.filter(device__user=admin).values_list("token", flat=True))
    assert remaining == set(codes[1:])
    assert list(
        SignInEvent.objects.filter(user=admin).order_by("id").values_list("kind", flat=True)
    ) == [
        SignInKind.TWO_FACTOR_ENABLED,
        SignInKind.RECOVERY_CODES_CREATED,
        SignInKind.SIGNED_IN,
        SignInKind.SIGNED_OUT,
        SignInKind.SIGNED_IN,
        SignInKind.SIGNED_OUT,
        SignInKind.RECOVERY_CODE_USED,
        SignInKind.SIGNED_IN,
    ]
