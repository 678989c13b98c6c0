"""Every sign-in, sign-out, failed sign-in and lockout leaves an append-only audit event
with who, from where, with what and when; analysts and administrators read them."""

from __future__ import annotations

import pytest
from django.apps import apps
from django.db import DatabaseError, transaction
from django.test import Client

from sharedsvc.api.views import AUDIT_FORBIDDEN
from sharedsvc.models import SignInEvent, SignInKind
from tests.factories import PASSWORD

EVENTS = "/api/v1/audit-events/"
MODEL = "sharedsvc.SignInEvent"
ADDRESS = "203.0.113.7"
AGENT = "Mozilla/5.0 (sign-in audit test)"


def attempt(client: Client, username: str, password: str, **extra):
    return client.post(
        "/accounts/login/",
        {"username": username, "password": password},
        REMOTE_ADDR=ADDRESS,
        HTTP_USER_AGENT=AGENT,
        **extra,
    )


def sign_in_events(api, user) -> list[dict]:
    response = api.as_user(user).get(EVENTS, {"model": MODEL, "page_size": "1000"})
    assert response.status_code == 200, response.content
    return response.json()["results"]


def test_sign_in_and_sign_out_are_recorded_with_actor_address_agent_and_time(world, client):
    assert attempt(client, world.manager.username, PASSWORD).status_code == 302
    assert (
        client.post("/accounts/logout/", REMOTE_ADDR=ADDRESS, HTTP_USER_AGENT=AGENT).status_code
        == 302
    )

    signed_in, signed_out = SignInEvent.objects.order_by("id")
    assert signed_in.kind == SignInKind.SIGNED_IN
    assert signed_out.kind == SignInKind.SIGNED_OUT
    for row in (signed_in, signed_out):
        assert row.user == world.manager
        assert row.username == world.manager.username
        assert row.address == ADDRESS
        assert row.user_agent == AGENT
        assert row.at is not None


def test_a_failure_records_the_username_as_typed(world, client):
    attempt(client, "nobody-here", "guess")
    attempt(client, world.manager.username, "wrong")
    unknown, known = SignInEvent.objects.order_by("id")
    assert (unknown.kind, unknown.username, unknown.user) == (
        SignInKind.FAILED,
        "nobody-here",
        None,
    )
    assert (known.kind, known.user) == (SignInKind.FAILED, world.manager)
    assert unknown.address == ADDRESS


def test_a_lockout_is_recorded(world, client):
    for _ in range(5):
        attempt(client, world.manager.username, "wrong")
    assert SignInEvent.objects.filter(kind=SignInKind.FAILED).count() == 5
    [locked] = SignInEvent.objects.filter(kind=SignInKind.LOCKED_OUT)
    assert locked.username == world.manager.username
    assert locked.user == world.manager
    assert locked.address == ADDRESS
    # A refused attempt while locked is recorded too.
    attempt(client, world.manager.username, PASSWORD)
    assert SignInEvent.objects.filter(kind=SignInKind.LOCKED_OUT).count() == 2
    assert not SignInEvent.objects.filter(kind=SignInKind.SIGNED_IN).exists()


def test_the_address_is_the_forwarded_one_only_behind_a_trusted_proxy(world, client, settings):
    attempt(client, "x", "y", HTTP_X_FORWARDED_FOR="192.0.2.1")
    settings.TRUST_X_FORWARDED_FOR = True
    attempt(client, "x", "y", HTTP_X_FORWARDED_FOR="192.0.2.1, 10.0.0.1")
    direct, proxied = SignInEvent.objects.order_by("id")
    assert direct.address == ADDRESS
    assert proxied.address == "192.0.2.1"


def test_an_analyst_reads_every_kind_in_the_audit_trail(world, client, api):
    attempt(Client(), world.manager.username, PASSWORD)
    for _ in range(5):
        attempt(client, world.other_manager.username, "wrong")
    signed_in = Client()
    signed_in.force_login(world.provider_manager)
    signed_in.post("/accounts/logout/")

    events = sign_in_events(api, world.analyst)
    kinds = {event["after"]["kind"] for event in events}
    # The kinds of signing in and out (the account events have their own tests).
    assert kinds == {
        SignInKind.SIGNED_IN,
        SignInKind.SIGNED_OUT,
        SignInKind.FAILED,
        SignInKind.LOCKED_OUT,
    }
    assert {event["action"] for event in events} == {"insert"}
    [locked] = [e for e in events if e["after"]["kind"] == SignInKind.LOCKED_OUT]
    assert locked["after"]["username"] == world.other_manager.username
    assert locked["after"]["address"] == ADDRESS
    assert locked["after"]["user_agent"] == AGENT
    assert locked["at"]
    signed_in_event = next(
        e
        for e in events
        if e["after"]["kind"] == SignInKind.SIGNED_IN and e["after"]["user_id"] == world.manager.pk
    )
    # The actor of a sign-in is the person signing in; of a failure, nobody.
    assert signed_in_event["actor"] == world.manager.username
    assert signed_in_event["url"] == "/accounts/login/"
    assert signed_in_event["after"]["address"] == ADDRESS


def test_an_administrator_reads_them_and_a_manager_does_not(world, client, api):
    attempt(client, world.manager.username, "wrong")
    assert len(sign_in_events(api, world.administrator)) == 1
    response = api.as_user(world.manager).get(EVENTS, {"model": MODEL})
    assert response.status_code == 403
    assert response.json()["detail"] == AUDIT_FORBIDDEN


def test_sign_in_events_cannot_be_edited_or_deleted(world, client):
    attempt(client, world.manager.username, "wrong")
    events = apps.get_model("sharedsvc", "SignInEventEvent").objects
    assert events.count() == 1
    with pytest.raises(DatabaseError, match="append_only"), transaction.atomic():
        events.update(username="someone-else")
    with pytest.raises(DatabaseError, match="append_only"), transaction.atomic():
        events.all().delete()
    assert events.get().username == world.manager.username
