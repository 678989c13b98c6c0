"""Sessions end after the idle and absolute limits; the page warns before the idle limit;
a user signs out everywhere and changes their own password (sharedsvc.sessions and
sharedsvc.account). The clock is moved with time-machine, never slept."""

from __future__ import annotations

import datetime

import pytest
import time_machine
from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.models import Session
from django.test import Client
from django.utils import timezone
from knox.models import AuthToken

from sharedsvc.account import PASSWORD_CHANGED, WRONG_CURRENT_PASSWORD
from sharedsvc.sessions import (
    SIGNED_OUT_EVERYWHERE,
    idle_signed_out_message,
    max_age_signed_out_message,
)
from tests.factories import PASSWORD
from tests.pages import html

START = datetime.datetime(2026, 3, 2, 9, 0, tzinfo=datetime.UTC)
NEW_PASSWORD = "a-quite-different-passphrase-9"
DEPARTMENTS = "/api/v1/departments/"


def sign_in(user, when: datetime.datetime = START) -> Client:
    client = Client()
    with time_machine.travel(when, tick=False):
        client.force_login(user)
    return client


def get_at(client: Client, url: str, when: datetime.datetime, **extra):
    with time_machine.travel(when, tick=False):
        return client.get(url, **extra)


def session_user_ids() -> list[str | None]:
    return [s.get_decoded().get(SESSION_KEY) for s in Session.objects.all()]


# --- the limits ------------------------------------------------------------------------


def test_the_limits_default_to_30_minutes_idle_and_12_hours_in_all(settings):
    assert settings.SESSION_IDLE_MINUTES == 30
    assert settings.SESSION_MAX_HOURS == 12
    assert settings.SESSION_COOKIE_AGE == 12 * 60 * 60
    assert idle_signed_out_message().startswith(
        "You were signed out after 30 minutes without activity"
    )


def test_idle_session_is_signed_out_with_the_reason(world):
    client = sign_in(world.manager)
    assert get_at(client, "/", START + datetime.timedelta(minutes=29)).status_code == 200

    later = START + datetime.timedelta(minutes=29 + 30)
    response = get_at(client, "/departments/", later)
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/departments/"
    assert session_user_ids() == [None] or str(world.manager.pk) not in session_user_ids()

    page = get_at(client, response["Location"], later)
    assert page.status_code == 200
    assert idle_signed_out_message() in html(page)
    assert not page.wsgi_request.user.is_authenticated


def test_activity_keeps_the_session(world):
    client = sign_in(world.manager)
    for minutes in range(20, 20 * 30, 20):  # ten hours, a page every 20 minutes
        response = get_at(client, "/", START + datetime.timedelta(minutes=minutes))
        assert response.status_code == 200, minutes
        assert response.wsgi_request.user == world.manager


def test_session_ends_after_12_hours_whatever_the_activity(world):
    client = sign_in(world.manager)
    for minutes in range(25, 12 * 60, 25):
        assert get_at(client, "/", START + datetime.timedelta(minutes=minutes)).status_code == 200
    response = get_at(client, "/", START + datetime.timedelta(hours=12))
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/"
    page = get_at(client, "/accounts/login/", START + datetime.timedelta(hours=12))
    assert max_age_signed_out_message() in html(page)
    assert str(world.manager.pk) not in session_user_ids()


def test_limits_come_from_settings(world, settings):
    settings.SESSION_IDLE_MINUTES = 5
    client = sign_in(world.manager)
    response = get_at(client, "/", START + datetime.timedelta(minutes=5))
    assert response.status_code == 302
    page = get_at(client, "/accounts/login/", START + datetime.timedelta(minutes=5))
    assert "You were signed out after 5 minutes without activity" in html(page)


def test_activity_is_written_at_most_once_a_minute(world):
    client = sign_in(world.manager)
    # The first page keeps the header's count of what needs the user (web.needs), for a
    # minute: a write of its own.
    get_at(client, "/clusters/", START)
    row = Session.objects.get()
    before = row.session_data
    get_at(client, "/clusters/", START + datetime.timedelta(seconds=30))
    row.refresh_from_db()
    assert row.session_data == before  # no write for a page half a minute later
    get_at(client, "/clusters/", START + datetime.timedelta(minutes=2))
    row.refresh_from_db()
    assert row.session_data != before


def test_api_with_the_session_is_signed_out_when_idle(world):
    client = sign_in(world.analyst)
    assert get_at(client, DEPARTMENTS, START + datetime.timedelta(minutes=10)).status_code == 200
    response = get_at(client, DEPARTMENTS, START + datetime.timedelta(minutes=41))
    assert response.status_code in (401, 403)
    assert str(world.analyst.pk) not in session_user_ids()


def test_api_with_a_token_is_not_affected(world):
    _, key = AuthToken.objects.create(user=world.analyst)
    client = Client()
    for hours in (1, 13, 48):
        response = get_at(
            client,
            DEPARTMENTS,
            timezone.now() + datetime.timedelta(hours=hours),
            HTTP_AUTHORIZATION=f"Token {key}",
        )
        assert response.status_code == 200, hours


# --- the warning -----------------------------------------------------------------------


def test_pages_carry_the_limits_for_the_warning(world):
    client = sign_in(world.manager)
    body = html(get_at(client, "/", START + datetime.timedelta(minutes=10, seconds=30)))
    # The page's activity is written: 30 minutes are left.
    assert 'data-session-idle-seconds="1800"' in body
    assert 'data-session-idle-left-seconds="1800"' in body
    assert 'data-session-warning-seconds="300"' in body
    assert 'id="session-warning"' in body and 'role="alert"' in body
    assert "Stay signed in" in body
    assert "session-timeout.js" in body

    # Half a minute later the activity is not written again (once a minute): 29:30 left.
    body = html(get_at(client, "/", START + datetime.timedelta(minutes=11)))
    assert 'data-session-idle-left-seconds="1770"' in body


def test_signed_out_pages_have_no_warning(db, client):
    body = html(client.get("/accounts/login/"))
    assert "data-session-idle-seconds" not in body
    assert "session-warning" not in body


def test_stay_signed_in_counts_as_activity(world):
    client = sign_in(world.manager)
    with time_machine.travel(START + datetime.timedelta(minutes=27), tick=False):
        response = client.post("/accounts/session/", HTTP_X_REQUESTED_WITH="fetch")
    assert response.status_code == 204
    assert get_at(client, "/", START + datetime.timedelta(minutes=50)).status_code == 200


def test_stay_signed_in_without_script_goes_back(world):
    client = sign_in(world.manager)
    with time_machine.travel(START + datetime.timedelta(minutes=27), tick=False):
        response = client.post("/accounts/session/", {"next": "/departments/"})
        elsewhere = client.post("/accounts/session/", {"next": "https://example.org/"})
    assert response.status_code == 302 and response["Location"] == "/departments/"
    assert elsewhere["Location"] == "/"


# --- your account, sign out everywhere, change your password ---------------------------


def test_account_page_shows_who_you_are(world):
    client = sign_in(world.manager)
    body = html(get_at(client, "/accounts/", START))
    assert "Your account" in body
    assert world.manager.get_full_name() in body
    assert "Department manager" in body
    assert world.lcs.name in body
    assert 'href="/accounts/" id="header-account" aria-current="page"' in body


def test_sign_out_everywhere_ends_every_session_of_the_user(world):
    here = sign_in(world.manager)
    elsewhere = sign_in(world.manager)
    someone_else = sign_in(world.analyst)
    assert session_user_ids().count(str(world.manager.pk)) == 2

    with time_machine.travel(START + datetime.timedelta(minutes=1), tick=False):
        response = here.post("/accounts/sign-out-everywhere/")
    assert response.status_code == 302 and response["Location"] == "/accounts/login/"
    assert str(world.manager.pk) not in session_user_ids()
    assert str(world.analyst.pk) in session_user_ids()

    assert get_at(elsewhere, "/", START + datetime.timedelta(minutes=2)).status_code == 302
    page = get_at(here, "/accounts/login/", START + datetime.timedelta(minutes=2))
    assert SIGNED_OUT_EVERYWHERE in html(page)
    assert get_at(someone_else, "/", START + datetime.timedelta(minutes=2)).status_code == 200


def test_sign_out_everywhere_is_a_post(world):
    client = sign_in(world.manager)
    assert get_at(client, "/accounts/sign-out-everywhere/", START).status_code == 405
    assert str(world.manager.pk) in session_user_ids()


def test_password_change_keeps_this_session_and_ends_the_others(world):
    here = sign_in(world.manager)
    elsewhere = sign_in(world.manager)
    when = START + datetime.timedelta(minutes=5)
    with time_machine.travel(when, tick=False):
        response = here.post(
            "/accounts/password/",
            {
                "old_password": PASSWORD,
                "new_password1": NEW_PASSWORD,
                "new_password2": NEW_PASSWORD,
            },
        )
    assert response.status_code == 302 and response["Location"] == "/accounts/"
    world.manager.refresh_from_db()
    assert world.manager.check_password(NEW_PASSWORD)

    page = get_at(here, "/accounts/", when)
    assert page.status_code == 200
    assert PASSWORD_CHANGED in html(page)
    assert get_at(elsewhere, "/", when).status_code == 302

    # The sign-in time is kept: the absolute limit still counts from the first sign-in.
    assert get_at(here, "/", START + datetime.timedelta(hours=12)).status_code == 302


def test_password_change_checks_the_current_password_and_the_validators(world):
    client = sign_in(world.manager)
    with time_machine.travel(START, tick=False):
        wrong = client.post(
            "/accounts/password/",
            {"old_password": "nope", "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
        )
        weak = client.post(
            "/accounts/password/",
            {"old_password": PASSWORD, "new_password1": "12345678", "new_password2": "12345678"},
        )
    assert wrong.status_code == 200 and WRONG_CURRENT_PASSWORD in html(wrong)
    assert weak.status_code == 200
    assert "This password is entirely numeric." in html(weak)
    assert "govuk-error-summary" in html(weak)
    world.manager.refresh_from_db()
    assert world.manager.check_password(PASSWORD)


# --- query counts ----------------------------------------------------------------------


@pytest.mark.parametrize("persona", ["manager", "provider_manager", "analyst"])
def test_account_page_query_count(world, persona, django_assert_num_queries):
    client = sign_in(getattr(world, persona))
    get_at(client, "/accounts/", START)  # messages and the like out of the way
    # session, user, the user's department or provider (header and page share it),
    # the header's unread notifications, the two-factor section (app and recovery codes)
    expected = 4 if persona == "analyst" else 5
    with django_assert_num_queries(expected):
        get_at(client, "/accounts/", START + datetime.timedelta(seconds=10))
