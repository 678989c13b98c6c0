"""Signing in as a person does, through both steps, in one place: the codes an
authenticator app would show (django-otp's own TOTP), two-factor turned on for a persona,
and a test client signed in with a password and a code."""

from __future__ import annotations

import base64
import binascii
import time

from django.test import Client
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from sharedsvc.models import User
from sharedsvc.two_factor import new_app_key, two_factor_enable
from tests.factories import PASSWORD

LOGIN = "/accounts/login/"
CODE = "/accounts/login/code/"


def code_for_key(key: str, *, at: float | None = None) -> str:
    """The code an app set up with `key` (hex, as django-otp keeps it) shows at `at`
    (default: now, as the clock says, time-machine's included)."""
    totp = TOTP(binascii.unhexlify(key))
    totp.time = time.time() if at is None else at
    return f"{totp.token():06d}"


def code_for_secret(secret: str, *, at: float | None = None) -> str:
    """The same, for the secret as the set-up page shows it (base32, in groups)."""
    key = base64.b32decode("".join(secret.split())).hex()
    return code_for_key(key, at=at)


def app_code(user: User, *, at: float | None = None) -> str:
    """The code `user`'s authenticator app shows now (or at `at`)."""
    return code_for_key(TOTPDevice.objects.get(user=user, confirmed=True).key, at=at)


def two_factor_give(user: User, *, at: float | None = None) -> list[str]:
    """Turn two-factor on for `user` through the service; returns the recovery codes."""
    key = new_app_key()
    return two_factor_enable(actor=user, key=key, code=code_for_key(key, at=at))


def password_step(client: Client, user: User, *, password: str = PASSWORD, path: str = LOGIN):
    return client.post(path, {"username": user.get_username(), "password": password})


def sign_in_with_code(client: Client, user: User, *, path: str = LOGIN) -> Client:
    """Sign `client` in as `user` with the password, then the app's current code."""
    first = password_step(client, user, path=path)
    assert first.status_code == 302 and first["Location"] == CODE, first
    second = client.post(CODE, {"code": app_code(user)})
    assert second.status_code == 302, second
    return client
