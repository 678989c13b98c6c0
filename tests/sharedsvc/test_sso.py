"""Single sign-on with OpenID Connect, against a real provider (oidc-provider, started by
`tests/oidc/support.py`): the authorization code flow with PKCE, state and nonce; the ID
token checked (tampered, expired, another audience, another nonce: refused, and each
refusal in the audit trail); a person matched by issuer and `sub`, never email; a new one
without a role sees only the page saying so; `add_user` pre-registers; passwords can be
switched off for all but break-glass administrators."""

from __future__ import annotations

import base64
import datetime
import json
from io import StringIO
from urllib.parse import parse_qs, urlencode, urlsplit

import jwt
import pytest
import rules
import time_machine
from django.contrib.auth import SESSION_KEY, authenticate
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client, RequestFactory
from django.utils.html import escape
from mozilla_django_oidc.auth import OIDCAuthenticationBackend

from clusters.users import (
    BREAK_GLASS_ONLY_ADMINISTRATORS,
    SSO_SUBJECT_TAKEN,
    user_update,
)
from sharedsvc import sso
from sharedsvc.backends import PASSWORD_SIGN_IN_OFF_DETAIL
from sharedsvc.models import SignInEvent, SignInKind, SsoIdentity, User
from sharedsvc.roles import Role
from sharedsvc.sso import (
    NO_ROLE_API,
    SSO_DETAIL,
    SSO_FAILED,
    SSO_STATE_FAILED,
    SsoBackend,
)
from sharedsvc.views import PASSWORD_SIGN_IN_RESTRICTED
from tests.factories import PASSWORD, UserFactory
from tests.oidc.support import CALLBACK_PATH, running_provider, sign_in_at_provider

pytestmark = pytest.mark.django_db

ACCOUNTS = [
    {"sub": "staff-1", "email": "pat@example.gov", "preferred_username": "pat"},
    # Same email as staff-1, another person at the provider.
    {"sub": "staff-2", "email": "pat@example.gov", "preferred_username": "pat"},
    {"sub": "staff-3", "email": "alex@example.gov", "given_name": "Alex"},
]
START = "/accounts/sso/start/"
NO_ROLE = "/accounts/no-role/"


@pytest.fixture(scope="module")
def provider():
    with running_provider(
        redirect_uris=[f"http://testserver{CALLBACK_PATH}"], accounts=ACCOUNTS
    ) as running:
        yield running


@pytest.fixture
def idp(provider, settings):
    provider.settings(settings)
    return provider


def sso_sign_in(client: Client, login: str):
    """Start at the service, sign in at the provider, come back: (visit, callback answer)."""
    response = client.get(START)
    assert response.status_code == 302
    visit = sign_in_at_provider(response["Location"], login)
    return visit, client.get(visit.callback_path)


def signed_in_user(client: Client) -> User | None:
    user_id = client.session.get(SESSION_KEY)
    return User.objects.get(pk=user_id) if user_id else None


def test_a_new_person_is_matched_by_issuer_and_sub_and_has_no_role(idp, client):
    visit, response = sso_sign_in(client, "staff-1")

    # The authorization request: code flow, PKCE (S256), state and nonce.
    sent = visit.authorization
    assert sent["response_type"] == "code"
    assert sent["code_challenge_method"] == "S256" and len(sent["code_challenge"]) == 43
    assert sent["state"] and sent["nonce"] and sent["scope"] == "openid email profile"
    assert response.status_code == 302 and response["Location"] == "/"

    identity = SsoIdentity.objects.get(issuer=idp.issuer, subject="staff-1")
    user = signed_in_user(client)
    assert user == identity.user
    assert (user.role, user.email, user.username) == (Role.UNASSIGNED, "pat@example.gov", "pat")
    assert not user.has_usable_password()
    event = SignInEvent.objects.get(kind=SignInKind.SIGNED_IN)
    assert (event.user, event.detail) == (user, SSO_DETAIL)
    # Without a role, every page leads to the page that says so.
    assert client.get("/")["Location"] == NO_ROLE

    # The state is used once: the same answer again is refused.
    replay = client.get(visit.callback_path)
    assert replay.status_code == 400
    assert SignInEvent.objects.get(kind=SignInKind.FAILED).detail == (
        sso.REASON_PREFIX + sso.STATE_MISSING
    )

    # Same email, another sub: another person, so another user.
    _, response = sso_sign_in(Client(), "staff-2")
    assert response.status_code == 302
    other = SsoIdentity.objects.get(issuer=idp.issuer, subject="staff-2").user
    assert other != user and other.username == "pat-2"
    assert User.objects.filter(email="pat@example.gov").count() == 2

    # The first person again: the same user, nothing new.
    again = Client()
    sso_sign_in(again, "staff-1")
    assert signed_in_user(again) == user
    assert SsoIdentity.objects.count() == 2 and User.objects.count() == 2


def test_add_user_pre_registers_a_person_who_signs_in_with_their_role(idp, client):
    out = StringIO()
    call_command("add_user", "alex", "--role", "analyst", "--sso-subject", "staff-3", stdout=out)
    alex = User.objects.get(username="alex")
    assert f"Signs in with single sign-on as staff-3 at {idp.issuer}." in out.getvalue()
    assert "Password:" not in out.getvalue() and not alex.has_usable_password()
    identity = SsoIdentity.objects.get(subject="staff-3")
    assert (identity.user, identity.issuer) == (alex, idp.issuer)  # OIDC_ISSUER by default

    _, response = sso_sign_in(client, "staff-3")
    assert response.status_code == 302
    assert signed_in_user(client) == alex
    assert client.get("/").status_code == 200
    alex.refresh_from_db()
    assert (alex.role, alex.first_name) == (Role.ANALYST, "Alex")
    assert User.objects.count() == 1

    # One user per provider account; break-glass is for administrators only.
    with pytest.raises(CommandError, match="already has a user"):
        call_command("add_user", "alex2", "--role", "analyst", "--sso-subject", "staff-3")
    assert SSO_SUBJECT_TAKEN.startswith("The single sign-on account")
    with pytest.raises(CommandError, match=BREAK_GLASS_ONLY_ADMINISTRATORS):
        call_command("add_user", "sam", "--role", "analyst", "--break-glass")
    call_command("add_user", "root", "--role", "administrator", "--break-glass", stdout=out)
    assert User.objects.get(username="root").break_glass
    assert not User.objects.filter(username__in=["alex2", "sam"]).exists()


def _b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def _tampered(token: str, provider) -> str:
    # The payload changed after signing: another person's sub under the real signature.
    header, _, signature = token.split(".")
    claims = jwt.decode(token, options={"verify_signature": False})
    return ".".join([header, _b64({**claims, "sub": "staff-3"}), signature])


def _other_audience(token: str, provider) -> str:
    claims = jwt.decode(token, options={"verify_signature": False})
    return provider.sign({**claims, "aud": "another-client"})


def _other_nonce(token: str, provider) -> str:
    claims = jwt.decode(token, options={"verify_signature": False})
    return provider.sign({**claims, "nonce": "not-the-nonce-this-session-sent"})


TOKEN_CHANGES = {
    "tampered": (_tampered, sso.TOKEN_SIGNATURE),
    "another audience": (_other_audience, sso.TOKEN_AUDIENCE),
    "another nonce": (_other_nonce, sso.NONCE_MISMATCH),
}


@pytest.mark.parametrize("case", ["wrong state", "wrong PKCE verifier", "expired", *TOKEN_CHANGES])
def test_a_refused_callback_signs_nobody_in_and_is_audited(idp, client, monkeypatch, case):
    response = client.get(START)
    visit = sign_in_at_provider(response["Location"], "staff-1")
    path = visit.callback_path
    message, reason = SSO_FAILED, None
    if case == "wrong state":
        code = parse_qs(urlsplit(path).query)["code"][0]
        path = f"{CALLBACK_PATH}?{urlencode({'code': code, 'state': 'not-the-state'})}"
        message, reason = SSO_STATE_FAILED, sso.STATE_MISMATCH
    elif case == "wrong PKCE verifier":
        # The provider itself checks the verifier against the challenge it was sent.
        session = client.session
        session["oidc_states"][visit.authorization["state"]]["code_verifier"] = "x" * 64
        session.save()
        reason = sso.CODE_REFUSED
    elif case in TOKEN_CHANGES:
        change, reason = TOKEN_CHANGES[case]

        def get_token(self, payload):
            tokens = OIDCAuthenticationBackend.get_token(self, payload)
            return {**tokens, "id_token": change(tokens["id_token"], idp)}

        monkeypatch.setattr(SsoBackend, "get_token", get_token)
    if case == "expired":
        # The provider's ID tokens live five minutes (and the leeway is one).
        later = datetime.datetime.now(tz=datetime.UTC) + datetime.timedelta(minutes=10)
        with time_machine.travel(later, tick=True):
            response = client.get(path)
        reason = sso.TOKEN_EXPIRED
    else:
        response = client.get(path)

    assert response.status_code == 400
    assert escape(message) in response.content.decode()
    assert signed_in_user(client) is None
    assert not User.objects.exists() and not SsoIdentity.objects.exists()
    event = SignInEvent.objects.get()
    assert (event.kind, event.detail) == (SignInKind.FAILED, sso.REASON_PREFIX + reason)


def test_a_user_without_a_role_sees_only_the_page_that_says_so(client, api, settings):
    settings.ROLE_REQUEST_CONTACT = "the service desk (desk@example.gov)"
    newcomer = UserFactory(role=Role.UNASSIGNED)
    client.force_login(newcomer)
    assert not newcomer.has_perm("sharedsvc.use_service")

    for path in ("/", "/clusters/", "/accounts/", "/api/v1/departments/"):
        response = client.get(path)
        if path.startswith("/api/"):
            assert response.status_code == 403 and response.json()["detail"] == NO_ROLE_API
        else:
            assert (response.status_code, response["Location"]) == (302, NO_ROLE), path
    page = client.get(NO_ROLE).content.decode()
    assert "You do not have a role yet" in page and "the service desk (desk@example.gov)" in page
    assert newcomer.username in page and 'id="navigation"' not in page
    # With a token too.
    response = api.as_user(newcomer).get("/api/v1/departments/")
    assert response.status_code == 403 and response.json()["detail"] == NO_ROLE_API

    # Once an administrator gives a role, the same session may use the service.
    admin = UserFactory(role=Role.ADMINISTRATOR, is_superuser=True, is_staff=True)
    user_update(actor=admin, user=newcomer, role=Role.ANALYST)
    assert client.get("/").status_code == 200
    assert client.get(NO_ROLE)["Location"] == "/"

    # Signing out works (as it does without a role).
    user_update(actor=admin, user=newcomer, role=Role.UNASSIGNED)
    assert client.post("/accounts/logout/").status_code == 302
    assert signed_in_user(client) is None
    assert SignInEvent.objects.filter(kind=SignInKind.SIGNED_OUT, user=newcomer).exists()


def test_passwords_can_be_switched_off_for_all_but_break_glass_administrators(settings):
    settings.PASSWORD_SIGN_IN = "break_glass"
    analyst = UserFactory(role=Role.ANALYST)
    admin = UserFactory(role=Role.ADMINISTRATOR, is_superuser=True, is_staff=True)
    break_glass = UserFactory(
        role=Role.ADMINISTRATOR, is_superuser=True, is_staff=True, break_glass=True
    )
    request = RequestFactory().post("/accounts/login/")
    assert authenticate(request, username=break_glass.username, password=PASSWORD) == break_glass
    assert rules.test_rule("sharedsvc.sign_in_with_password", break_glass)

    for refused in (analyst, admin):
        assert not rules.test_rule("sharedsvc.sign_in_with_password", refused)
        client = Client()
        response = client.post(
            "/accounts/login/", {"username": refused.username, "password": PASSWORD}
        )
        assert response.status_code == 200
        assert PASSWORD_SIGN_IN_RESTRICTED in response.content.decode()
        assert signed_in_user(client) is None
        event = SignInEvent.objects.filter(kind=SignInKind.FAILED, username=refused.username)
        assert event.get().detail == PASSWORD_SIGN_IN_OFF_DETAIL
    # A wrong password reads the same: the message tells nothing about the password.
    response = Client().post("/accounts/login/", {"username": analyst.username, "password": "x"})
    assert PASSWORD_SIGN_IN_RESTRICTED in response.content.decode()

    # The break-glass administrator's password is accepted (their sign-in goes on).
    response = Client().post(
        "/accounts/login/", {"username": break_glass.username, "password": PASSWORD}
    )
    assert response.status_code == 302
    assert not SignInEvent.objects.filter(kind=SignInKind.FAILED, user=break_glass).exists()

    settings.PASSWORD_SIGN_IN = "everyone"
    assert authenticate(request, username=analyst.username, password=PASSWORD) == analyst


def test_single_sign_on_shows_only_when_configured(client, settings):
    assert 'id="sso-sign-in"' not in client.get("/accounts/login/").content.decode()
    assert client.get(START).status_code == 404
    assert client.get(CALLBACK_PATH + "?code=x&state=y").status_code == 404
    assert not SignInEvent.objects.exists()

    settings.OIDC_ISSUER = "https://idp.example.gov"
    settings.OIDC_PROVIDER_NAME = "Sign in with Entra ID"
    page = client.get("/accounts/login/?next=/clusters/").content.decode()
    assert 'href="/accounts/sso/start/?next=/clusters/"' in page
    assert ">Sign in with Entra ID</a>" in page
