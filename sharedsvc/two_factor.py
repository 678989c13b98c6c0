"""Two-factor authentication for local accounts: an authenticator app (TOTP, django-otp's
`otp_totp`) and ten recovery codes (`otp_static`), required for administrators (the
`sharedsvc.must_use_two_factor` rule).

Each user has at most one confirmed `TOTPDevice` ("Authenticator app") and one
`StaticDevice` ("Recovery codes") holding their unused codes. An app is set up with a secret
kept in the session until a code it shows confirms it (`two_factor_enable`), so an
unconfirmed secret is never stored. Verifying a code locks the device row: two requests with
the same code cannot both be accepted (the TOTP device's `last_t`, the recovery code's
deletion decide). django-otp's throttling (`throttle_increment`: 1, 2, 4... seconds after
each wrong code) and axes' lockout (every wrong code counts as a failed sign-in of the
username) slow guessing.

Every change writes a `SignInEvent` (`sign_in_event_record`); its `detail` never holds a
secret or a code. The device tables are not tracked by the audit trail: their rows hold the
secrets.
"""

from __future__ import annotations

import base64
import math
import time
from dataclasses import dataclass

import segno
from django.contrib.auth import user_login_failed
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count, Subquery
from django.db.models.functions import Coalesce
from django.http import HttpRequest
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe
from django_otp.models import Device
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice, default_key

from sharedsvc.models import SignInKind, User
from sharedsvc.services import require_permission
from sharedsvc.signin import TWO_FACTOR_SENDER, sign_in_event_record

APP_DEVICE_NAME = "Authenticator app"
RECOVERY_DEVICE_NAME = "Recovery codes"
RECOVERY_CODE_COUNT = 10

# What people read (tests reuse these).
ENTER_CODE = "Enter the 6-digit code from your authenticator app"
CODE_NOT_SIX_DIGITS = "The code must be 6 digits"
WRONG_CODE = "The code is not right. Enter the code your authenticator app shows now."
ENTER_RECOVERY_CODE = "Enter one of your recovery codes"
WRONG_RECOVERY_CODE = "The recovery code is not right or has been used. Enter another one."
CODE_TOO_SOON = "You entered a wrong code a moment ago. Wait {seconds} seconds, then try again."
ALREADY_ON = "Two-factor authentication is already on for your account."
NOT_ON = "Two-factor authentication is not on for your account."
MUST_USE = "Administrators must use two-factor authentication, so it cannot be turned off."
NOT_FOR_THIS_ACCOUNT = "Two-factor authentication is for accounts that sign in with a password."


class CodeRefused(Exception):
    """A code that did not sign anyone in. `counted` is True for a wrong code (recorded and
    counted toward the lockout), False for one refused unread (the throttle)."""

    def __init__(self, message: str, *, counted: bool) -> None:
        super().__init__(message)
        self.message = message
        self.counted = counted


# --- reading ----------------------------------------------------------------------------


def app_device(user: User) -> TOTPDevice | None:
    """The user's confirmed authenticator app, if two-factor is on."""
    return TOTPDevice.objects.devices_for_user(user, confirmed=True).first()


def two_factor_is_on(user: User) -> bool:
    return TOTPDevice.objects.devices_for_user(user, confirmed=True).exists()


@dataclass(frozen=True)
class TwoFactorStatus:
    """What "Your account" shows and offers."""

    available: bool  # a local account: it can be set up
    on: bool
    recovery_codes_left: int
    may_turn_off: bool


def two_factor_status(user: User) -> TwoFactorStatus:
    """One query: the confirmed app, with the count of unused recovery codes beside it."""
    left = (
        StaticToken.objects.filter(device__user=user)
        .order_by()
        .values("device__user")
        .annotate(n=Count("id"))
        .values("n")
    )
    found = (
        TOTPDevice.objects.devices_for_user(user, confirmed=True)
        .annotate(left=Coalesce(Subquery(left[:1]), 0))
        .values_list("left", flat=True)
        .first()
    )
    on = found is not None
    return TwoFactorStatus(
        available=user.has_perm("sharedsvc.use_two_factor"),
        on=on,
        recovery_codes_left=found or 0,
        may_turn_off=on and not user.has_perm("sharedsvc.must_use_two_factor"),
    )


@dataclass(frozen=True)
class Enrolment:
    """What the set-up page shows for a new secret: the QR code and the secret to type."""

    secret: str  # base32, in groups of four, for typing into an app
    qr_svg: SafeString


def new_app_key() -> str:
    """A new secret for an authenticator app (hex, as django-otp keeps it)."""
    return default_key()


def enrolment(user: User, key: str) -> Enrolment:
    device = TOTPDevice(user=user, key=key, name=APP_DEVICE_NAME)
    secret = base64.b32encode(device.bin_key).decode()
    svg = segno.make(device.config_url, error="m").svg_inline(
        scale=4, svgclass="app-qr-code", lineclass=None, title="QR code"
    )
    # An image with a name for screen readers; segno's SVG has no style attributes (CSP).
    svg = svg.replace(
        "<svg ", '<svg role="img" aria-label="QR code for your authenticator app" ', 1
    )
    return Enrolment(
        secret=" ".join(secret[i : i + 4] for i in range(0, len(secret), 4)),
        qr_svg=mark_safe(svg),  # noqa: S308 (segno's own markup of a URL we made)
    )


def normalise_recovery_code(code: str) -> str:
    return "".join(code.split()).replace("-", "").lower()


# --- the services -----------------------------------------------------------------------


def _app_code_matches(device: TOTPDevice, code: str) -> bool:
    """Check a code against an app not yet saved, as `TOTPDevice.verify_token` would."""
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time()
    if not totp.verify(int(code), device.tolerance, device.last_t + 1):
        return False
    device.last_t = totp.t()
    device.drift = totp.drift
    return True


def _recovery_codes_replace(user: User) -> list[str]:
    device, _ = StaticDevice.objects.get_or_create(
        user=user, defaults={"name": RECOVERY_DEVICE_NAME, "confirmed": True}
    )
    device.token_set.all().delete()
    codes = [StaticToken.random_token() for _ in range(RECOVERY_CODE_COUNT)]
    StaticToken.objects.bulk_create(StaticToken(device=device, token=code) for code in codes)
    return codes


def _lock_user(user: User) -> None:
    # Two tabs setting up (or turning off) at once: the second waits, then sees the first.
    User.objects.select_for_update().filter(pk=user.pk).first()


def two_factor_enable(
    *, actor: User, key: str, code: str, request: HttpRequest | None = None
) -> list[str]:
    """Turn on two-factor for `actor` with the app whose secret is `key`, once a `code` it
    shows confirms it; returns the ten new recovery codes (shown once, never again)."""
    require_permission(actor, "sharedsvc.use_two_factor", message=NOT_FOR_THIS_ACCOUNT)
    with transaction.atomic():
        _lock_user(actor)
        if two_factor_is_on(actor):
            raise ValidationError(ALREADY_ON)
        device = TOTPDevice(user=actor, key=key, name=APP_DEVICE_NAME, confirmed=True)
        if not _app_code_matches(device, code):
            raise ValidationError(WRONG_CODE)
        device.set_last_used_timestamp(commit=False)
        device.save()
        codes = _recovery_codes_replace(actor)
        sign_in_event_record(
            kind=SignInKind.TWO_FACTOR_ENABLED, request=request, user=actor, detail=APP_DEVICE_NAME
        )
        sign_in_event_record(
            kind=SignInKind.RECOVERY_CODES_CREATED,
            request=request,
            user=actor,
            detail=f"{RECOVERY_CODE_COUNT} recovery codes",
        )
    return codes


def recovery_codes_create(*, actor: User, request: HttpRequest | None = None) -> list[str]:
    """Ten new recovery codes for `actor`; the old ones stop working. Shown once."""
    require_permission(actor, "sharedsvc.use_two_factor", message=NOT_FOR_THIS_ACCOUNT)
    with transaction.atomic():
        _lock_user(actor)
        if not two_factor_is_on(actor):
            raise ValidationError(NOT_ON)
        codes = _recovery_codes_replace(actor)
        sign_in_event_record(
            kind=SignInKind.RECOVERY_CODES_CREATED,
            request=request,
            user=actor,
            detail=f"{RECOVERY_CODE_COUNT} recovery codes",
        )
    return codes


def two_factor_disable(*, actor: User, code: str, request: HttpRequest | None = None) -> None:
    """Turn off two-factor for `actor`, who proves it with a current code from the app.
    Refused to those who must use it."""
    require_permission(actor, "sharedsvc.use_two_factor", message=NOT_FOR_THIS_ACCOUNT)
    if actor.has_perm("sharedsvc.must_use_two_factor"):
        raise PermissionDenied(MUST_USE)
    if not two_factor_is_on(actor):
        raise ValidationError(NOT_ON)
    two_factor_verify(user=actor, code=code, request=request, sign_in=False)
    with transaction.atomic():
        _lock_user(actor)
        TOTPDevice.objects.filter(user=actor).delete()
        StaticDevice.objects.filter(user=actor).delete()
        sign_in_event_record(kind=SignInKind.TWO_FACTOR_DISABLED, request=request, user=actor)


def two_factor_failure_record(
    *, user: User, request: HttpRequest | None, what: str, sign_in: bool
) -> None:
    """A wrong code: an audit event and, while signing in, a failed sign-in of the username
    for axes, so that wrong codes lead to the lockout as wrong passwords do."""
    sign_in_event_record(kind=SignInKind.TWO_FACTOR_FAILED, request=request, user=user, detail=what)
    if sign_in and request is not None:
        user_login_failed.send(
            sender=TWO_FACTOR_SENDER,
            credentials={"username": user.get_username()},
            request=request,
        )


def two_factor_verify(
    *,
    user: User,
    code: str,
    request: HttpRequest | None = None,
    recovery: bool = False,
    sign_in: bool = True,
) -> Device:
    """The device that accepts `code`: the app's current code, or (`recovery`) one unused
    recovery code, which is used up. Raises CodeRefused. A wrong code while signing in
    (`sign_in`) counts toward the lockout; one from a signed-in person (turning two-factor
    off) is recorded and throttled only: the lockout page is for signing in."""
    model = StaticDevice if recovery else TOTPDevice
    what = "recovery code" if recovery else "authenticator app code"
    if recovery:
        code = normalise_recovery_code(code)
    with transaction.atomic():
        # Locked: the same code sent twice at once is accepted once.
        device = model.objects.devices_for_user(user, confirmed=True).select_for_update().first()
        if device is None:
            raise CodeRefused(NOT_ON, counted=False)
        allowed, why = device.verify_is_allowed()
        if not allowed:
            wait = (why["locked_until"] - timezone.now()).total_seconds()
            raise CodeRefused(CODE_TOO_SOON.format(seconds=max(1, math.ceil(wait))), counted=False)
        verified = device.verify_token(code)
        if verified and recovery:
            left = device.token_set.count()
            sign_in_event_record(
                kind=SignInKind.RECOVERY_CODE_USED,
                request=request,
                user=user,
                detail=f"{left} recovery codes left",
            )
    # Outside the block, so that the throttle's count of this failure is kept.
    if not verified:
        two_factor_failure_record(user=user, request=request, what=what, sign_in=sign_in)
        raise CodeRefused(WRONG_RECOVERY_CODE if recovery else WRONG_CODE, counted=True)
    return device
