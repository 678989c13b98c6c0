"""Two-factor authentication (sharedsvc.two_factor): set up with a code, sign in in two
steps with the app's code or a recovery code, required for administrators. Codes come from
django-otp's own TOTP; the clock is moved with time-machine, never slept."""

from __future__ import annotations

import base64
import datetime
import re

import pytest
import time_machine
from axes.models import AccessAttempt
from django.contrib.auth import SESSION_KEY
from django.core.exceptions import PermissionDenied
from django.test import Client
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from sharedsvc.models import SignInEvent, SignInKind
from sharedsvc.signin import locked_out_message
from sharedsvc.two_factor import (
    MUST_USE,
    WRONG_CODE,
    WRONG_RECOVERY_CODE,
    CodeRefused,
    two_factor_disable,
    two_factor_status,
    two_factor_verify,
)
from sharedsvc.two_factor_views import (
    APP_KEY,
    PENDING,
    SIGN_IN_TIMED_OUT,
    TOO_MANY_WRONG_CODES,
    TWO_FACTOR_OFF,
)
from tests.factories import PASSWORD
from tests.pages import html
from tests.signing_in import (
    CODE,
    LOGIN,
    app_code,
    code_for_key,
    password_step,
    two_factor_give,
)

# The start of a 30-second step, plus 5 seconds: moves of a few seconds stay in the step.
START = datetime.datetime(2026, 3, 2, 9, 0, 5, tzinfo=datetime.UTC)
SET_UP = "/accounts/two-factor/set-up/"
RECOVERY = "/accounts/login/recovery-code/"
SIGN_IN_SET_UP = "/accounts/login/set-up-two-factor/"
TURN_OFF = "/accounts/two-factor/turn-off/"


def page_codes(response) -> list[str]:
    return re.findall(r"<li><code>([a-z2-7]+)</code></li>", response.content.decode())


def wrong_code(who) -> str:
    """A code that the app of `who` (a user, or a key not yet confirmed) shows in none of
    the steps around now."""
    key = who if isinstance(who, str) else TOTPDevice.objects.get(user=who).key
    now = START.timestamp()
    near = {code_for_key(key, at=now + 30 * step) for step in range(-2, 400)}
    return next(f"{n:06d}" for n in range(1000000) if f"{n:06d}" not in near)


def signed_in(client: Client) -> bool:
    return SESSION_KEY in client.session


def kinds(user) -> list[str]:
    return list(SignInEvent.objects.filter(user=user).order_by("id").values_list("kind", flat=True))


@pytest.fixture
def clock():
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


def test_a_manager_sets_it_up_from_their_account(world, client, clock, django_assert_num_queries):
    client.force_login(world.manager)
    page = client.get(SET_UP)
    assert page.status_code == 200
    body = page.content.decode()
    key = client.session[APP_KEY]
    secret = re.search(r'data-testid="two-factor-secret">([A-Z2-7 ]+)<', body).group(1)
    assert secret.replace(" ", "") == base64.b32encode(bytes.fromhex(key)).decode()
    assert '<svg role="img" aria-label="QR code' in body
    assert "style=" not in body and "<script>" not in body
    assert 'autocomplete="one-time-code"' in body and 'inputmode="numeric"' in body

    refused = client.post(SET_UP, {"code": wrong_code(key)})
    assert refused.status_code == 200
    assert WRONG_CODE in html(refused) and "govuk-error-summary" in html(refused)
    assert not TOTPDevice.objects.filter(user=world.manager).exists()

    answer = client.post(SET_UP, {"code": code_for_key(key)})
    assert answer.status_code == 200
    codes = page_codes(answer)
    assert len(codes) == 10
    device = TOTPDevice.objects.get(user=world.manager)
    assert device.confirmed and device.key == key
    assert sorted(
        StaticToken.objects.filter(device__user=world.manager).values_list("token", flat=True)
    ) == sorted(codes)
    assert APP_KEY not in client.session
    assert client.session[DEVICE_ID_SESSION_KEY] == device.persistent_id
    # "Your account" asks once: the app, and the recovery codes left beside it.
    with django_assert_num_queries(1):
        status = two_factor_status(world.manager)
    assert (status.on, status.recovery_codes_left, status.may_turn_off) == (True, 10, True)
    assert "You have 10 unused recovery codes" in html(client.get("/accounts/"))
    assert client.get(SET_UP)["Location"] == "/accounts/"
    assert kinds(world.manager) == [
        SignInKind.SIGNED_IN,
        SignInKind.TWO_FACTOR_ENABLED,
        SignInKind.RECOVERY_CODES_CREATED,
    ]
    # No secret and no code in the audit trail.
    for detail in SignInEvent.objects.values_list("detail", flat=True):
        assert key not in detail and secret not in detail
        assert not any(code in detail for code in codes)


def test_a_right_code_signs_in_a_wrong_or_reused_one_does_not(world, client, clock):
    two_factor_give(world.manager)
    clock.shift(60)
    first = password_step(client, world.manager)
    assert first["Location"] == CODE
    assert not signed_in(client)

    wrong = client.post(CODE, {"code": wrong_code(world.manager)})
    assert wrong.status_code == 200 and WRONG_CODE in html(wrong)
    assert not signed_in(client)
    assert AccessAttempt.objects.get(username=world.manager.username).failures_since_start == 1

    clock.shift(2)  # django-otp's throttle: 1 second after one wrong code
    code = app_code(world.manager)
    right = client.post(CODE, {"code": code})
    assert right.status_code == 302 and right["Location"] == "/"
    assert client.session[SESSION_KEY] == str(world.manager.pk)
    assert PENDING not in client.session
    assert DEVICE_ID_SESSION_KEY in client.session
    assert not AccessAttempt.objects.filter(username=world.manager.username).exists()

    again = Client()
    password_step(again, world.manager)
    reused = again.post(CODE, {"code": code})
    assert WRONG_CODE in html(reused) and not signed_in(again)
    assert kinds(world.manager)[2:] == [
        SignInKind.TWO_FACTOR_FAILED,
        SignInKind.SIGNED_IN,
        SignInKind.TWO_FACTOR_FAILED,
    ]
    assert not SignInEvent.objects.filter(kind=SignInKind.FAILED).exists()


def test_the_code_of_the_step_before_or_after_is_accepted_not_two_away(world, clock):
    two_factor_give(world.manager)
    clock.shift(300)
    now = START.timestamp() + 300
    with pytest.raises(CodeRefused):
        two_factor_verify(user=world.manager, code=app_code(world.manager, at=now - 60))
    clock.shift(2)
    two_factor_verify(user=world.manager, code=app_code(world.manager, at=now + 30))
    device = TOTPDevice.objects.get(user=world.manager)
    assert device.drift == 1  # the app runs one step ahead: remembered
    assert device.throttling_failure_count == 0


def test_a_recovery_code_works_once_and_new_codes_replace_the_old(world, client, clock):
    codes = two_factor_give(world.manager)
    password_step(client, world.manager)
    answer = client.post(RECOVERY, {"code": " " + codes[0].upper() + " "})
    assert answer.status_code == 302 and signed_in(client)
    assert StaticToken.objects.filter(device__user=world.manager).count() == 9
    used = SignInEvent.objects.get(kind=SignInKind.RECOVERY_CODE_USED)
    assert used.detail == "9 recovery codes left"

    again = Client()
    password_step(again, world.manager)
    refused = again.post(RECOVERY, {"code": codes[0]})
    assert WRONG_RECOVERY_CODE in html(refused) and not signed_in(again)

    renewed = client.post("/accounts/two-factor/recovery-codes/")
    assert renewed.status_code == 200
    new = page_codes(renewed)
    assert len(new) == 10 and not set(new) & set(codes)
    tokens = StaticToken.objects.filter(device__user=world.manager).values_list("token", flat=True)
    assert sorted(tokens) == sorted(new)
    clock.shift(2)
    with pytest.raises(CodeRefused):
        two_factor_verify(user=world.manager, code=codes[1], recovery=True)
    assert SignInEvent.objects.filter(kind=SignInKind.RECOVERY_CODES_CREATED).count() == 2


def test_an_administrator_is_signed_in_only_once_set_up_and_cannot_turn_it_off(world, client):
    admin = world.administrator
    assert admin.has_perm("sharedsvc.must_use_two_factor")
    assert not world.manager.has_perm("sharedsvc.must_use_two_factor")
    first = password_step(client, admin)
    assert first["Location"] == SIGN_IN_SET_UP
    assert not signed_in(client)
    assert client.get(CODE)["Location"] == SIGN_IN_SET_UP
    page = client.get(SIGN_IN_SET_UP)
    assert page.status_code == 200 and not signed_in(client)

    answer = client.post(SIGN_IN_SET_UP, {"code": code_for_key(client.session[APP_KEY])})
    assert answer.status_code == 200 and len(page_codes(answer)) == 10
    assert client.session[SESSION_KEY] == str(admin.pk)
    assert TOTPDevice.objects.filter(user=admin, confirmed=True).count() == 1
    assert kinds(admin) == [
        SignInKind.TWO_FACTOR_ENABLED,
        SignInKind.RECOVERY_CODES_CREATED,
        SignInKind.SIGNED_IN,
    ]

    assert client.get(TURN_OFF).status_code == 403
    assert client.post(TURN_OFF, {"code": app_code(admin)}).status_code == 403
    with pytest.raises(PermissionDenied, match=MUST_USE):
        two_factor_disable(actor=admin, code=app_code(admin))
    assert TOTPDevice.objects.filter(user=admin).exists()
    assert not SignInEvent.objects.filter(kind=SignInKind.TWO_FACTOR_DISABLED).exists()


def test_a_manager_turns_it_off_with_a_current_code(world, client, clock):
    two_factor_give(world.manager)
    clock.shift(60)
    client.force_login(world.manager)
    refused = client.post(TURN_OFF, {"code": wrong_code(world.manager)})
    assert refused.status_code == 200 and WRONG_CODE in html(refused)
    assert TOTPDevice.objects.filter(user=world.manager).exists()
    # A signed-in person's wrong code is recorded, not counted toward the lockout.
    assert not AccessAttempt.objects.exists()

    clock.shift(2)
    done = client.post(TURN_OFF, {"code": app_code(world.manager)})
    assert done["Location"] == "/accounts/"
    assert TWO_FACTOR_OFF in html(client.get("/accounts/"))
    assert not TOTPDevice.objects.filter(user=world.manager).exists()
    assert not StaticToken.objects.filter(device__user=world.manager).exists()
    assert kinds(world.manager)[-2:] == [
        SignInKind.TWO_FACTOR_FAILED,
        SignInKind.TWO_FACTOR_DISABLED,
    ]
    assert password_step(Client(), world.manager)["Location"] == "/"


def test_a_pending_sign_in_reaches_nothing_and_expires(world, client, clock):
    two_factor_give(world.manager)
    clock.shift(60)
    password_step(client, world.manager)
    for page in ("/", "/accounts/", "/departments/LCS/", SET_UP):
        response = client.get(page)
        assert response.status_code == 302 and response["Location"].startswith(LOGIN), page
    assert client.get("/api/v1/departments/").status_code in (401, 403)
    assert client.post("/accounts/sign-out-everywhere/").status_code == 302

    clock.shift(5 * 60)
    expired = client.post(CODE, {"code": app_code(world.manager)})
    assert expired["Location"] == LOGIN
    assert not signed_in(client) and PENDING not in client.session
    assert SIGN_IN_TIMED_OUT in html(client.get(LOGIN))
    assert not SignInEvent.objects.filter(kind=SignInKind.SIGNED_IN).exists()


def test_the_admin_login_goes_through_the_same_steps(world, client, clock):
    admin = world.administrator
    two_factor_give(admin)
    clock.shift(60)
    visit = client.get("/admin/login/?next=/admin/clusters/")
    assert visit["Location"] == "/accounts/login/?next=/admin/clusters/"

    first = client.post(
        "/admin/login/?next=/admin/clusters/",
        {"username": admin.username, "password": PASSWORD},
    )
    assert first["Location"] == CODE and not signed_in(client)
    assert client.get("/admin/")["Location"].startswith("/admin/login/")
    second = client.post(CODE, {"code": app_code(admin)})
    assert second["Location"] == "/admin/clusters/"
    assert client.get("/admin/").status_code == 200
    assert client.session[SESSION_KEY] == str(admin.pk)


def test_wrong_codes_end_the_pending_sign_in_then_lock_the_username(world, client, clock):
    two_factor_give(world.manager)
    wrong = wrong_code(world.manager)
    password_step(client, world.manager)
    for n in range(3):
        clock.shift(2**n)  # past django-otp's throttle
        response = client.post(CODE, {"code": wrong})
    assert response["Location"] == LOGIN
    assert PENDING not in client.session
    assert TOO_MANY_WRONG_CODES in html(client.get(LOGIN))

    assert password_step(client, world.manager)["Location"] == CODE
    for n in range(3, 5):
        clock.shift(2**n)
        response = client.post(CODE, {"code": wrong})
    assert response.status_code == 429
    assert locked_out_message() in html(response)
    assert PENDING not in client.session
    attempt = AccessAttempt.objects.get(username=world.manager.username)
    assert attempt.failures_since_start == 5
    assert wrong not in attempt.post_data  # masked, as passwords are
    assert SignInEvent.objects.filter(kind=SignInKind.TWO_FACTOR_FAILED).count() == 5
    assert SignInEvent.objects.filter(kind=SignInKind.LOCKED_OUT).count() == 1
    # Even the right password, then, is refused.
    assert password_step(Client(), world.manager).status_code == 429
    assert not signed_in(client)
