"""Guessing is slowed: 5 failures for a username, or 20 from an address, within 15 minutes
lock sign-in for 15 minutes, on the site and in the admin (django-axes)."""

from __future__ import annotations

import datetime

import pytest
import time_machine
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth import SESSION_KEY, authenticate
from django.test import Client, RequestFactory
from django.utils import timezone

from sharedsvc.signin import SIGN_IN_LOCKED_OUT, client_address, locked_out_message
from tests.factories import PASSWORD

LOGIN = "/accounts/login/"
ADMIN_LOGIN = "/admin/login/"
ADDRESS = "203.0.113.7"


def attempt(client: Client, username: str, password: str, *, path: str = LOGIN, address=ADDRESS):
    return client.post(path, {"username": username, "password": password}, REMOTE_ADDR=address)


def signed_in(client: Client) -> bool:
    return SESSION_KEY in client.session


def fail(client: Client, username: str, times: int, **kwargs) -> None:
    for _ in range(times):
        response = attempt(client, username, "not-the-password", **kwargs)
        assert response.status_code in (200, 429)


def test_the_settings_say_5_for_a_username_20_for_an_address_15_minutes():
    assert settings.AXES_FAILURE_LIMIT == 5
    assert settings.SIGN_IN_ADDRESS_FAILURE_LIMIT == 20
    assert datetime.timedelta(minutes=15) == settings.AXES_COOLOFF_TIME
    assert settings.AUTHENTICATION_BACKENDS[0] == "axes.backends.AxesStandaloneBackend"
    assert settings.MIDDLEWARE[-1] == "axes.middleware.AxesMiddleware"
    assert locked_out_message() == SIGN_IN_LOCKED_OUT.format(minutes=15)


def test_four_failures_do_not_lock_and_the_right_password_then_signs_in(world, client):
    fail(client, world.manager.username, 4)
    response = attempt(client, world.manager.username, PASSWORD)
    assert response.status_code == 302
    assert signed_in(client)
    # A success clears the username's failures.
    assert not AccessAttempt.objects.filter(username=world.manager.username).exists()


def test_five_failures_lock_the_username_even_for_the_right_password(world, client):
    for _ in range(4):
        response = attempt(client, world.manager.username, "wrong")
        assert response.status_code == 200
        assert locked_out_message() not in response.content.decode()
    fifth = attempt(client, world.manager.username, "wrong")
    assert fifth.status_code == 429
    assert locked_out_message() in fifth.content.decode()

    sixth = attempt(client, world.manager.username, PASSWORD)
    assert sixth.status_code == 429
    assert locked_out_message() in sixth.content.decode()
    assert "You cannot sign in for now" in sixth.content.decode()
    assert not signed_in(client)
    [row] = AccessAttempt.objects.filter(username=world.manager.username)
    assert row.failures_since_start == 5  # the refused attempt does not extend the lockout
    assert row.ip_address == ADDRESS


def test_a_locked_username_is_locked_from_every_address(world, client):
    fail(client, world.manager.username, 5)
    response = attempt(Client(), world.manager.username, PASSWORD, address="198.51.100.9")
    assert response.status_code == 429


def test_another_username_from_the_same_address_is_not_locked_until_20(world, client):
    fail(client, world.manager.username, 5)
    # 14 failures for other (unknown) usernames: 19 from the address, none locked yet.
    for n in range(14):
        fail(client, f"guess{n}", 1)
    response = attempt(client, world.analyst.username, PASSWORD)
    assert response.status_code == 302
    assert signed_in(client)

    other = Client()
    fail(other, "guess-last", 1)  # the 20th failure from the address
    response = attempt(Client(), world.other_manager.username, PASSWORD)
    assert response.status_code == 429
    assert locked_out_message() in response.content.decode()
    assert AccessAttempt.objects.filter(ip_address=ADDRESS).count() == 16
    # Another address is not locked.
    response = attempt(Client(), world.other_manager.username, PASSWORD, address="198.51.100.9")
    assert response.status_code == 302


def test_the_admin_login_is_locked_too(world, client):
    admin = world.administrator
    fail(client, admin.username, 5, path=ADMIN_LOGIN)
    response = attempt(Client(), admin.username, PASSWORD, path=ADMIN_LOGIN)
    assert response.status_code == 429
    assert locked_out_message() in response.content.decode()
    # And the site's login refuses the same username.
    assert attempt(Client(), admin.username, PASSWORD).status_code == 429
    assert AccessAttempt.objects.get(username=admin.username).path_info == ADMIN_LOGIN


def test_after_15_minutes_sign_in_works_again(world, client):
    start = timezone.now()
    with time_machine.travel(start, tick=False) as clock:
        fail(client, world.manager.username, 5)
        clock.move_to(start + datetime.timedelta(minutes=14, seconds=59))
        assert attempt(Client(), world.manager.username, PASSWORD).status_code == 429
        clock.move_to(start + datetime.timedelta(minutes=15, seconds=1))
        again = Client()
        response = attempt(again, world.manager.username, PASSWORD)
        assert response.status_code == 302
        assert signed_in(again)
    assert not AccessAttempt.objects.filter(username=world.manager.username).exists()


def test_authenticate_without_a_lockout_still_checks_the_password(world):
    request = RequestFactory().post(LOGIN)
    assert authenticate(request, username=world.manager.username, password=PASSWORD)
    assert authenticate(request, username=world.manager.username, password="wrong") is None


@pytest.mark.parametrize(
    ("trusted", "expected"), [(False, "10.0.0.2"), (True, "192.0.2.1")], ids=["direct", "proxy"]
)
def test_the_address_is_forwarded_for_only_behind_a_trusted_proxy(settings, trusted, expected):
    settings.TRUST_X_FORWARDED_FOR = trusted
    request = RequestFactory().post(
        LOGIN, REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="192.0.2.1, 10.0.0.1"
    )
    assert client_address(request) == expected
