"""Signing in and out, the start page for each role, and the error pages."""

from __future__ import annotations

import html as htmllib

import pytest
from django import forms
from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.models import Session
from django.template.loader import render_to_string

from sharedsvc.models import User
from sharedsvc.views import ENTER_PASSWORD, ENTER_USERNAME, INVALID_LOGIN
from tests.factories import PASSWORD
from tests.pages import html

LOGIN = "/accounts/login/"
LOGOUT = "/accounts/logout/"


def signed_in_user_ids() -> set[str]:
    decoded = (s.get_decoded() for s in Session.objects.all())
    return {d[SESSION_KEY] for d in decoded if d.get(SESSION_KEY) is not None}


# --- signing in and out ------------------------------------------------------------


def test_sign_in_page_is_a_govuk_form(db, client):
    body = html(client.get(LOGIN))
    assert '<label class="govuk-label" for="id_username">Username</label>' in body
    assert '<label class="govuk-label" for="id_password">Password</label>' in body
    assert 'autocomplete="current-password"' in body
    assert "govuk-error-summary" not in body


def test_sign_in_with_the_right_password(world, client):
    assert world.manager.last_login is None
    response = client.post(LOGIN, {"username": "mgr_lcs", "password": PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == "/"
    assert signed_in_user_ids() == {str(world.manager.pk)}
    world.manager.refresh_from_db()
    assert world.manager.last_login is not None


def test_sign_in_goes_back_to_the_page_asked_for(world, client):
    response = client.post(
        f"{LOGIN}?next=/departments/LCS/",
        {"username": "mgr_lcs", "password": PASSWORD, "next": "/departments/LCS/"},
    )
    assert response.status_code == 302
    assert response["Location"] == "/departments/LCS/"


def test_wrong_password_shows_the_error_summary(world, client):
    response = client.post(LOGIN, {"username": "mgr_lcs", "password": "wrong"})
    assert response.status_code == 200
    body = html(response)
    assert '<div class="govuk-error-summary" data-module="govuk-error-summary">' in body
    assert f'<a href="#id_username">{INVALID_LOGIN}</a>' in body
    assert "<title>Error: Sign in" in body
    # The username is kept, the password is never sent back.
    assert 'value="mgr_lcs"' in body
    assert 'value="wrong"' not in body
    assert signed_in_user_ids() == set()
    world.manager.refresh_from_db()
    assert world.manager.last_login is None


def test_empty_form_names_each_missing_field(db, client):
    response = client.post(LOGIN, {"username": "", "password": ""})
    body = html(response)
    assert f'<a href="#id_username">{ENTER_USERNAME}</a>' in body
    assert f'<a href="#id_password">{ENTER_PASSWORD}</a>' in body
    # Each field carries its own message and is described by it.
    assert 'id="id_username-error"' in body and 'id="id_password-error"' in body
    assert 'aria-describedby="id_username-error"' in body
    assert "govuk-input--error" in body
    assert signed_in_user_ids() == set()


def test_inactive_user_cannot_sign_in(world, client):
    response = client.post(LOGIN, {"username": "outsider", "password": PASSWORD})
    assert response.status_code == 200
    assert INVALID_LOGIN in html(response)
    assert signed_in_user_ids() == set()


def test_sign_out_is_a_post_that_ends_the_session(world, client):
    client.force_login(world.manager)
    assert signed_in_user_ids() == {str(world.manager.pk)}
    # A link (GET) cannot sign anybody out.
    assert client.get(LOGOUT).status_code == 405
    assert signed_in_user_ids() == {str(world.manager.pk)}
    response = client.post(LOGOUT)
    assert response.status_code == 302
    assert response["Location"] == LOGIN
    assert signed_in_user_ids() == set()
    assert client.get("/").status_code == 302


def test_signed_in_user_sees_sign_out_form(world, client):
    client.force_login(world.manager)
    body = html(client.get("/"))
    assert f'<form method="post" action="{LOGOUT}"' in body
    assert 'name="csrfmiddlewaretoken"' in body
    assert "mgr_lcs (department manager, LCS)" in body


# --- the start page, by role -----------------------------------------------------------


def test_anonymous_start_page_asks_to_sign_in(db, client):
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"] == f"{LOGIN}?next=/"


def home(client, user) -> str:
    client.force_login(user)
    response = client.get("/")
    assert response.status_code == 200
    return html(response)


def nav_labels(client, user) -> list[str]:
    client.force_login(user)
    return [item["label"] for item in client.get("/").context["nav_items"]]


@pytest.mark.parametrize("persona", ["manager", "deputy_minister"])
def test_department_roles_are_pointed_to_their_department(world, client, persona):
    body = home(client, getattr(world, persona))
    assert f'<a class="govuk-link" href="/departments/LCS/">{world.lcs.name}</a>' in body
    assert "My department" in nav_labels(client, getattr(world, persona))
    assert 'href="/admin/"' not in body


def test_deputy_minister_is_told_about_the_board(world, client):
    assert "sit on the board" in home(client, world.deputy_minister)
    assert "sit on the board" not in home(client, world.manager)


def test_provider_manager_sees_their_providers_clusters(world, client):
    body = home(client, world.provider_manager)
    own = set(world.psoa.clusters.values_list("code", flat=True))
    others = set(world.tech_provider.clusters.values_list("code", flat=True))  # TECHSVC's clusters
    assert own == {"PAY-PSOA"} and others == {"PAY-TECH", "IT-TECH"}
    for code in own:
        assert f'href="/clusters/{code}/"' in body
    for code in others:
        assert f'href="/clusters/{code}/"' not in body
    assert 'href="/departments/' not in body.split("<main", 1)[1].split("The catalogue")[0]
    assert "My department" not in nav_labels(client, world.provider_manager)


def test_analyst_reads_everything_but_has_no_admin(world, client):
    body = home(client, world.analyst)
    assert "You can read every department, cluster and membership" in body
    assert 'href="/admin/"' not in body
    assert 'href="/api/v1/docs/"' in body
    assert "Admin" not in nav_labels(client, world.analyst)


def test_administrator_gets_the_admin_link(world, client):
    body = home(client, world.administrator)
    assert 'href="/admin/"' in body
    assert "Admin" in nav_labels(client, world.administrator)


@pytest.mark.parametrize(
    "persona", ["administrator", "analyst", "manager", "deputy_minister", "provider_manager"]
)
def test_everyone_gets_the_catalogue_and_api(world, client, persona):
    body = home(client, getattr(world, persona))
    for href in ("/services/", "/clusters/", "/departments/", "/api/v1/docs/"):
        assert f'href="{href}"' in body
    user = User.objects.get(pk=getattr(world, persona).pk)
    assert user.get_role_display().lower() in body


# --- error pages -------------------------------------------------------------------------


def test_unknown_page_is_the_404_page(world, client):
    client.force_login(world.manager)
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    body = html(response)
    assert "Page not found" in body
    assert '<html lang="en-GB"' in body


def test_500_page_needs_no_request_and_no_database(db, django_assert_num_queries):
    with django_assert_num_queries(0):
        body = render_to_string("500.html")
    assert "Sorry, there is a problem with the service" in body
    assert "Sign out" not in body


def test_403_page_renders(world, rf):
    request = rf.get("/")
    request.user = world.manager
    body = render_to_string("403.html", request=request)
    assert "You cannot see this page" in body


# --- the form includes later forms reuse ----------------------------------------------------


class ExampleForm(forms.Form):
    reason = forms.ChoiceField(
        label="Why do you want to leave?",
        choices=[("cost", "Cost"), ("service_quality", "Service quality")],
        widget=forms.RadioSelect,
        error_messages={"required": "Select why you want to leave"},
    )
    cluster = forms.ChoiceField(
        label="Cluster to join",
        choices=[("", "Choose a cluster"), ("PAY-TECH", "Technology Payroll")],
        error_messages={"required": "Select a cluster to join"},
    )
    justification = forms.CharField(
        label="Justification",
        widget=forms.Textarea,
        help_text="Say what the department expects to gain.",
        error_messages={"required": "Enter a justification"},
    )
    note = forms.CharField(label="Note", required=False)


def render_form(form) -> str:
    template = (
        '{% include "includes/error_summary.html" %}'
        "{% for field in form %}{% include 'includes/field.html' %}{% endfor %}"
    )
    from django.template import engines

    return htmllib.unescape(engines["django"].from_string(template).render({"form": form}))


def test_form_includes_render_each_widget_with_its_error():
    form = ExampleForm(data={"reason": "", "cluster": "", "justification": "", "note": "x"})
    assert not form.is_valid()
    body = render_form(form)
    # The summary links each error to the control it is about (radios: the first one).
    assert '<a href="#id_reason_0">Select why you want to leave</a>' in body
    assert '<a href="#id_cluster">Select a cluster to join</a>' in body
    assert '<a href="#id_justification">Enter a justification</a>' in body
    # Radios sit in a fieldset described by the error; each radio is labelled.
    assert '<fieldset class="govuk-fieldset" aria-describedby="id_reason-error">' in body
    assert 'id="id_reason_0" name="reason" type="radio" value="cost"' in body
    assert (
        '<label class="govuk-label govuk-radios__label" for="id_reason_1">Service quality' in body
    )
    assert 'class="govuk-select govuk-select--error"' in body
    assert 'aria-describedby="id_justification-hint id_justification-error"' in body
    assert 'class="govuk-textarea govuk-textarea--error"' in body
    # A field without an error keeps its value and no error styling.
    assert 'class="govuk-input"' in body and 'value="x"' in body


def test_form_includes_keep_the_choice_made():
    form = ExampleForm(data={"reason": "cost", "cluster": "PAY-TECH", "justification": "Cheaper"})
    assert form.is_valid()
    body = render_form(form)
    assert "govuk-error-summary" not in body
    assert 'value="cost" checked' in body
    assert '<option value="PAY-TECH" selected>' in body
    assert ">Cheaper</textarea>" in body
