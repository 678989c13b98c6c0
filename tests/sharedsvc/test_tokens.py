"""API tokens a person manages: "Your API tokens" creates one (its key shown once) with a
name and an expiry (90 days by default, at most 365), lists them with their last use, and
revokes one or all; at most 10 live tokens a person; an expired token answers 401 saying
so. Creating and revoking are in the audit trail."""

from __future__ import annotations

import datetime
import threading
from io import StringIO

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.utils import timezone
from knox.models import AuthToken
from rest_framework.test import APIClient

from sharedsvc.api.authentication import INVALID_TOKEN
from sharedsvc.models import ApiToken, SignInEvent, SignInKind
from sharedsvc.tokens import (
    ENTER_TOKEN_DAYS,
    ENTER_TOKEN_NAME,
    TOO_MANY_TOKENS,
    api_token_create,
    api_token_revoke,
    api_tokens_revoke_all,
)
from tests.pages import count_queries

PAGE = "/accounts/tokens/"
NOW = datetime.datetime(2026, 12, 5, 10, 0, tzinfo=datetime.UTC)


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def with_key(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def created_key(response) -> str:
    return response.context["new_key"]


@time_machine.travel(NOW, tick=False)
def test_a_token_created_on_the_page_is_shown_once_named_and_expires_after_90_days(world):
    client = signed_in(world.analyst)
    response = client.post(PAGE, {"name": "Monthly cost report", "days": "90"})
    assert response.status_code == 201
    key = created_key(response)
    assert key in response.content.decode()
    assert response["Cache-Control"] == "no-store"

    token = AuthToken.objects.get(user=world.analyst)
    assert token.expiry == NOW + datetime.timedelta(days=90)
    assert ApiToken.objects.get(token=token).name == "Monthly cost report"
    event = SignInEvent.objects.get(kind=SignInKind.TOKEN_CREATED)
    assert event.user == world.analyst
    assert "Monthly cost report" in event.detail and key not in event.detail
    assert key[:8] not in event.detail

    # Shown once: the page lists the token by name, never its key again.
    listing = client.get(PAGE).content.decode()
    assert "Monthly cost report" in listing and key not in listing


@time_machine.travel(NOW, tick=False)
def test_the_form_offers_90_days_and_refuses_more_than_365_or_no_name(world):
    client = signed_in(world.manager)
    assert client.get(PAGE).context["form"]["days"].value() == 90

    too_long = client.post(PAGE, {"name": "Report", "days": "366"})
    assert too_long.status_code == 400
    assert ENTER_TOKEN_DAYS.format(max_days=365) in too_long.content.decode()
    no_name = client.post(PAGE, {"name": "  ", "days": "30"})
    assert no_name.status_code == 400
    assert ENTER_TOKEN_NAME in no_name.content.decode()
    assert not AuthToken.objects.filter(user=world.manager).exists()

    assert client.post(PAGE, {"name": "A year", "days": "365"}).status_code == 201
    token = AuthToken.objects.get(user=world.manager)
    assert token.expiry == NOW + datetime.timedelta(days=365)


def test_the_service_gives_the_default_expiry_and_checks_the_bounds(world):
    with time_machine.travel(NOW, tick=False):
        token, _ = api_token_create(actor=world.analyst, user=world.analyst, name="Default")
    assert token.expiry == NOW + datetime.timedelta(days=90)
    for days in (0, 366):
        with pytest.raises(ValidationError) as refused:
            api_token_create(actor=world.analyst, user=world.analyst, name="Bad", days=days)
        assert refused.value.message_dict["days"] == [ENTER_TOKEN_DAYS.format(max_days=365)]
    assert AuthToken.objects.filter(user=world.analyst).count() == 1


def test_no_one_creates_or_revokes_a_token_of_someone_else_but_an_administrator(world):
    with pytest.raises(Exception, match="You may not do this"):
        api_token_create(actor=world.manager, user=world.analyst, name="Not mine")
    token, _ = api_token_create(actor=world.analyst, user=world.analyst, name="Mine")
    with pytest.raises(Exception, match="You may not do this"):
        api_token_revoke(actor=world.manager, user=world.analyst, digest=token.digest)
    assert AuthToken.objects.filter(pk=token.pk).exists()
    assert api_token_revoke(actor=world.administrator, user=world.analyst, digest=token.digest)
    assert not AuthToken.objects.filter(pk=token.pk).exists()


def test_at_most_ten_live_tokens_and_expired_ones_do_not_count(world):
    with time_machine.travel(NOW - datetime.timedelta(days=40), tick=False):
        api_token_create(actor=world.analyst, user=world.analyst, name="Old", days=30)
    with time_machine.travel(NOW, tick=False):
        for n in range(10):
            api_token_create(actor=world.analyst, user=world.analyst, name=f"Live {n}")
        with pytest.raises(ValidationError) as refused:
            api_token_create(actor=world.analyst, user=world.analyst, name="Eleventh")
        page = signed_in(world.analyst).post(PAGE, {"name": "Eleventh", "days": "90"})
    assert refused.value.message_dict["name"] == [TOO_MANY_TOKENS.format(limit=10)]
    assert page.status_code == 400
    assert TOO_MANY_TOKENS.format(limit=10) in page.content.decode()
    assert AuthToken.objects.filter(user=world.analyst).count() == 11  # 10 live, 1 expired
    assert not ApiToken.objects.filter(name="Eleventh").exists()


@pytest.mark.django_db(transaction=True)
def test_two_creations_at_once_cannot_pass_the_limit_together(world) -> None:
    for n in range(9):
        api_token_create(actor=world.analyst, user=world.analyst, name=f"Live {n}")
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def create(name: str) -> None:
        barrier.wait()
        try:
            api_token_create(actor=world.analyst, user=world.analyst, name=name)
            outcomes.append("created")
        except ValidationError:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=create, args=(f"Racer {n}",)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["created", "refused"]
    assert AuthToken.objects.filter(user=world.analyst).count() == 10


def test_an_expired_token_answers_401_saying_so_and_is_kept(world):
    with time_machine.travel(NOW, tick=False):
        token, key = api_token_create(actor=world.analyst, user=world.analyst, name="Short", days=1)
    with time_machine.travel(NOW + datetime.timedelta(days=1, seconds=1), tick=False):
        response = with_key(key).get("/api/v1/departments/")
    assert response.status_code == 401
    assert "This API token expired on 6 December 2026" in response.json()["detail"]
    assert AuthToken.objects.filter(pk=token.pk).exists()

    assert with_key(key[:-1] + "x").get("/api/v1/departments/").json()["detail"] == INVALID_TOKEN


def test_a_use_is_noted_at_most_once_a_minute(world):
    with time_machine.travel(NOW, tick=False):
        token, key = api_token_create(actor=world.analyst, user=world.analyst, name="Report")
        assert with_key(key).get("/api/v1/departments/").status_code == 200
    detail = ApiToken.objects.get(token=token)
    assert detail.last_used_at == NOW
    with time_machine.travel(NOW + datetime.timedelta(seconds=30), tick=False):
        with_key(key).get("/api/v1/departments/")
    detail.refresh_from_db()
    assert detail.last_used_at == NOW
    later = NOW + datetime.timedelta(minutes=2)
    with time_machine.travel(later, tick=False):
        with_key(key).get("/api/v1/departments/")
    detail.refresh_from_db()
    assert detail.last_used_at == later
    assert "Report" in signed_in(world.analyst).get(PAGE).content.decode()


def test_revoking_one_token_stops_it_and_leaves_the_others(world):
    kept, kept_key = api_token_create(actor=world.analyst, user=world.analyst, name="Keep")
    gone, gone_key = api_token_create(actor=world.analyst, user=world.analyst, name="Drop")
    client = signed_in(world.analyst)
    response = client.post(f"{PAGE}revoke/", {"token": gone.digest})
    assert response.status_code == 302
    assert with_key(gone_key).get("/api/v1/departments/").status_code == 401
    assert with_key(kept_key).get("/api/v1/departments/").status_code == 200
    assert list(AuthToken.objects.filter(user=world.analyst)) == [kept]
    event = SignInEvent.objects.get(kind=SignInKind.TOKEN_REVOKED)
    assert event.user == world.analyst and "Drop" in event.detail


def test_a_token_of_someone_else_cannot_be_revoked_from_the_page(world):
    theirs, _ = api_token_create(actor=world.analyst, user=world.analyst, name="Theirs")
    response = signed_in(world.manager).post(f"{PAGE}revoke/", {"token": theirs.digest})
    assert response.status_code == 404
    assert AuthToken.objects.filter(pk=theirs.pk).exists()
    assert not SignInEvent.objects.filter(kind=SignInKind.TOKEN_REVOKED).exists()


def test_revoking_all_removes_every_token_of_the_user_only(world):
    for n in range(3):
        api_token_create(actor=world.analyst, user=world.analyst, name=f"Mine {n}")
    api_token_create(actor=world.manager, user=world.manager, name="Someone else's")
    response = signed_in(world.analyst).post(f"{PAGE}revoke-all/")
    assert response.status_code == 302
    assert not AuthToken.objects.filter(user=world.analyst).exists()
    assert AuthToken.objects.filter(user=world.manager).count() == 1
    assert api_tokens_revoke_all(actor=world.analyst, user=world.analyst) == 0
    assert SignInEvent.objects.filter(kind=SignInKind.TOKEN_REVOKED).count() == 1


def test_add_user_token_is_named_and_expires(db):
    out = StringIO()
    with time_machine.travel(NOW, tick=False):
        call_command("add_user", "reporter", "--role", "analyst", "--token", stdout=out)
    token = AuthToken.objects.get(user__username="reporter")
    assert token.detail.name == "add_user"
    assert token.expiry == NOW + datetime.timedelta(days=90)
    assert "It expires after 90 days." in out.getvalue()


def test_token_events_are_in_the_audit_trail_for_analysts(world, api):
    api_token_create(actor=world.manager, user=world.manager, name="Budget export")
    response = api.as_user(world.analyst).get(
        "/api/v1/audit-events/", {"model": "sharedsvc.SignInEvent"}
    )
    kinds = [event["after"]["kind"] for event in response.json()["results"]]
    assert SignInKind.TOKEN_CREATED in kinds


def test_the_page_runs_the_same_queries_for_one_token_or_many(world):
    client = signed_in(world.analyst)
    api_token_create(actor=world.analyst, user=world.analyst, name="One")
    one = count_queries(client, PAGE)
    for n in range(6):
        api_token_create(actor=world.analyst, user=world.analyst, name=f"More {n}")
    # session, user, the tokens with their names, the header's unread notifications
    assert count_queries(client, PAGE) == one == 4


def test_tokens_made_before_names_existed_are_listed_and_expire_too(world):
    with time_machine.travel(NOW, tick=False):
        token, _ = AuthToken.objects.create(user=world.analyst)
    assert token.expiry == NOW + datetime.timedelta(days=90)
    assert "Unnamed token" in signed_in(world.analyst).get(PAGE).content.decode()
    assert timezone.is_aware(token.expiry)
