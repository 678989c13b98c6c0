"""Single sign-on with OpenID Connect: the ministries' identity provider (Entra ID, Keycloak,
a government IdP) signs their staff in; roles stay assigned in this application.

mozilla-django-oidc runs the authorization code flow: state, nonce and PKCE (S256), the
code exchanged for tokens at the provider, the ID token's signature checked against the
provider's published keys. It does not check the ID token's `iss` and `aud`, nor require
`exp` (upstream issue #340), and lets an expired token through as an exception nobody
catches, so `SsoBackend.verify_token` checks them all itself. Every refusal is an
`SsoRefused` with a reason for the audit trail and a sentence for the person; the callback
writes a `failed` sign-in event with the reason and shows the person a page, never a 500.

A person is matched by issuer and `sub` (`SsoIdentity`), never by email: an unknown one
becomes a new user with no role, who sees only the page saying so (`RoleRequiredMiddleware`)
until an administrator gives them one. `manage.py add_user --sso-subject` pre-registers a
person with their role.

The provider's endpoints come from its discovery document, fetched on first use and cached
(`provider_metadata`), unless a setting names them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import jwt
import requests
from django.conf import settings
from django.contrib.auth import authenticate, get_user_model
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.core.exceptions import SuspiciousOperation, ValidationError
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views import View
from mozilla_django_oidc.auth import OIDCAuthenticationBackend
from mozilla_django_oidc.views import (
    OIDCAuthenticationCallbackView,
    OIDCAuthenticationRequestView,
)

from sharedsvc.audit import audit_context
from sharedsvc.backends import NoTablePermissions
from sharedsvc.models import SignInKind, SsoIdentity, User
from sharedsvc.roles import Role
from sharedsvc.services import validated_save
from sharedsvc.signin import sign_in_event_record

# The `detail` of a single sign-on's `signed_in` event.
SSO_DETAIL = "single sign-on"

# What the person reads when single sign-on is refused (tests reuse these).
SSO_FAILED = (
    "We could not confirm who you are with your organisation's sign-in service. "
    "Try again; if it keeps happening, tell an administrator of this service."
)
SSO_STATE_FAILED = (
    "This sign-in was started in another window or took too long, so it was stopped to keep "
    "your account safe. Try again."
)
SSO_UNREACHABLE = (
    "Your organisation's sign-in service is not answering. Try again later, or ask an "
    "administrator of this service."
)
SSO_ACCOUNT_OFF = "This account cannot sign in. Ask an administrator of the service."
# What the API answers a signed-in user without a role.
NO_ROLE_API = "You have no role yet: an administrator of the service must give you one."

# Why, for the audit trail (the `failed` event's detail); never a secret.
REASON_PREFIX = "single sign-on refused: "
STATE_MISSING = "no sign-in was started in this session"
STATE_MISMATCH = "the state did not match the one this session sent"
CODE_MISSING = "the provider sent no code"
PROVIDER_ERROR = "the provider answered {error}"
CODE_REFUSED = "the provider refused the code (or its PKCE verifier)"
PROVIDER_UNREACHABLE = "the provider could not be reached"
DISCOVERY_ISSUER = "the discovery document names another issuer"
TOKEN_MISSING = "the provider sent no ID token"
TOKEN_MALFORMED = "the ID token is not a valid JWT"
TOKEN_ALGORITHM = "the ID token is signed with an unexpected algorithm"
TOKEN_KEY_UNKNOWN = "the ID token is signed with a key the provider does not publish"
TOKEN_SIGNATURE = "the ID token's signature does not verify (tampered)"
TOKEN_EXPIRED = "the ID token has expired"
TOKEN_NOT_YET_VALID = "the ID token is not valid yet"
TOKEN_AUDIENCE = "the ID token is for another client (aud)"
TOKEN_PARTY = "the ID token was issued to another client (azp)"
TOKEN_ISSUER = "the ID token is from another issuer (iss)"
TOKEN_CLAIM_MISSING = "the ID token lacks a required claim"
TOKEN_INVALID = "the ID token is not valid"
NONCE_MISMATCH = "the ID token's nonce did not match the one this session sent"
USERINFO_MISMATCH = "the userinfo answer is about another subject"
ACCOUNT_INACTIVE = "the account is switched off"

REQUIRED_CLAIMS = ["exp", "iat", "iss", "aud", "sub"]
# The provider's endpoints: the setting that may name each, and its discovery key.
ENDPOINTS = {
    "OIDC_OP_AUTHORIZATION_ENDPOINT": "authorization_endpoint",
    "OIDC_OP_TOKEN_ENDPOINT": "token_endpoint",
    "OIDC_OP_USER_ENDPOINT": "userinfo_endpoint",
    "OIDC_OP_JWKS_ENDPOINT": "jwks_uri",
}
_USERNAME_UNSAFE = re.compile(r"[^\w.@+-]")


class SsoRefused(Exception):
    """A single sign-on that must not sign anyone in: why (for the audit trail), what the
    person reads, and the answer's status."""

    def __init__(
        self,
        reason: str,
        *,
        message: str = SSO_FAILED,
        status: int = 400,
        user: User | None = None,
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.message = message
        self.status = status
        self.user = user


def sso_enabled() -> bool:
    return bool(settings.OIDC_ISSUER)


def discovery_cache_key(issuer: str) -> str:
    return f"sharedsvc:oidc-discovery:{issuer}"


def provider_metadata() -> dict[str, Any]:
    """The provider's discovery document, fetched on first use and then cached."""
    issuer = settings.OIDC_ISSUER
    key = discovery_cache_key(issuer)
    metadata = cache.get(key)
    if metadata is None:
        url = issuer.rstrip("/") + "/.well-known/openid-configuration"
        try:
            response = requests.get(url, timeout=settings.OIDC_TIMEOUT)
            response.raise_for_status()
            metadata = response.json()
        except (requests.RequestException, ValueError) as exc:
            raise SsoRefused(PROVIDER_UNREACHABLE, message=SSO_UNREACHABLE, status=503) from exc
        # OpenID Connect Discovery 4.3: the document must name the issuer it was asked for.
        if metadata.get("issuer") != issuer:
            raise SsoRefused(DISCOVERY_ISSUER, message=SSO_UNREACHABLE, status=503)
        cache.set(key, metadata, settings.OIDC_DISCOVERY_CACHE_SECONDS)
    return metadata


def oidc_setting(name: str, *default: Any) -> Any:
    """A mozilla-django-oidc setting; an endpoint not named in the settings is discovered."""
    if name in ENDPOINTS and not getattr(settings, name, ""):
        return provider_metadata().get(ENDPOINTS[name], "")
    if default:
        return getattr(settings, name, default[0])
    return getattr(settings, name)


def _free_username(claims: Mapping[str, Any], subject: str) -> str:
    """A username for a new single sign-on user, from what the provider calls them; only
    for display and the admin (matching is by issuer and sub)."""
    wanted = str(claims.get("preferred_username") or claims.get("email") or f"sso-{subject}")
    base = _USERNAME_UNSAFE.sub("-", wanted)[:140] or "sso-user"
    username, n = base, 1
    while User.objects.filter(username__iexact=username).exists():
        n += 1
        username = f"{base}-{n}"
    return username


def _profile(claims: Mapping[str, Any]) -> dict[str, str]:
    return {
        "email": str(claims.get("email") or "")[:254],
        "first_name": str(claims.get("given_name") or "")[:150],
        "last_name": str(claims.get("family_name") or "")[:150],
    }


def sso_user_resolve(*, issuer: str, subject: str, claims: Mapping[str, Any]) -> User:
    """The user of one provider account, found by issuer and `sub` (never by email), its
    email and names refreshed from the provider; or, for an account the service does not
    know, a new user with no role and no password. The actor is the person signing in
    (the system, for a new one)."""
    identity = (
        SsoIdentity.objects.select_related("user").filter(issuer=issuer, subject=subject).first()
    )
    if identity is None:
        try:
            with transaction.atomic(), audit_context(actor=None):
                user = User(
                    username=_free_username(claims, subject),
                    role=Role.UNASSIGNED,
                    **_profile(claims),
                )
                user.set_unusable_password()
                validated_save(user, actor=None)
                validated_save(SsoIdentity(user=user, issuer=issuer, subject=subject), actor=None)
                return user
        except ValidationError:
            # Two first sign-ins of one account at once: the unique issuer+subject let one
            # through; this one signs in as the user it made.
            identity = (
                SsoIdentity.objects.select_related("user")
                .filter(issuer=issuer, subject=subject)
                .first()
            )
            if identity is None:
                raise
    user = identity.user
    changes = {
        name: value
        for name, value in _profile(claims).items()
        if value and value != getattr(user, name)
    }
    if changes:
        with transaction.atomic(), audit_context(actor=user):
            for name, value in changes.items():
                setattr(user, name, value)
            user.save(update_fields=list(changes))
    return user


class SsoBackend(NoTablePermissions, OIDCAuthenticationBackend):
    """mozilla-django-oidc's backend with the ID token checked in full (signature, `iss`,
    `aud`, `azp`, `exp`, `iat`, nonce), the user matched by issuer and `sub`, and every
    refusal an `SsoRefused`. It acts only when the callback calls it (with `sso_nonce`), so
    a password sign-in never reaches the provider, and costs nothing to build (Django makes
    one for every request of a user signed in with it)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # mozilla-django-oidc reads every endpoint here; they are read when used instead.
        self.UserModel = get_user_model()

    get_settings = staticmethod(oidc_setting)

    @property
    def OIDC_OP_TOKEN_ENDPOINT(self) -> str:
        return oidc_setting("OIDC_OP_TOKEN_ENDPOINT")

    @property
    def OIDC_OP_USER_ENDPOINT(self) -> str:
        return oidc_setting("OIDC_OP_USER_ENDPOINT")

    @property
    def OIDC_OP_JWKS_ENDPOINT(self) -> str:
        return oidc_setting("OIDC_OP_JWKS_ENDPOINT")

    @property
    def OIDC_RP_CLIENT_ID(self) -> str:
        return settings.OIDC_RP_CLIENT_ID

    @property
    def OIDC_RP_CLIENT_SECRET(self) -> str:
        return settings.OIDC_RP_CLIENT_SECRET

    @property
    def OIDC_RP_SIGN_ALGO(self) -> str:
        return settings.OIDC_RP_SIGN_ALGO

    OIDC_RP_IDP_SIGN_KEY = None

    def authenticate(
        self,
        request: HttpRequest | None,
        sso_nonce: str | None = None,
        sso_code_verifier: str | None = None,
        **kwargs: Any,
    ) -> User | None:
        if request is None or sso_nonce is None or not sso_enabled():
            return None
        try:
            user = super().authenticate(request, nonce=sso_nonce, code_verifier=sso_code_verifier)
        except requests.HTTPError as exc:
            raise SsoRefused(CODE_REFUSED) from exc
        except requests.RequestException as exc:
            raise SsoRefused(PROVIDER_UNREACHABLE, message=SSO_UNREACHABLE, status=503) from exc
        if user is None:
            raise SsoRefused(CODE_MISSING)
        return user

    def verify_token(self, token: str | None, **kwargs: Any) -> dict[str, Any]:
        """The ID token's claims, once every check of OpenID Connect Core 3.1.3.7 passed."""
        if not token:
            raise SsoRefused(TOKEN_MISSING)
        try:
            algorithm = jwt.get_unverified_header(token).get("alg")
        except jwt.InvalidTokenError as exc:
            raise SsoRefused(TOKEN_MALFORMED) from exc
        if algorithm != self.OIDC_RP_SIGN_ALGO:
            raise SsoRefused(TOKEN_ALGORITHM)
        try:
            key = self.retrieve_matching_jwk(token)
        except (SuspiciousOperation, KeyError, jwt.PyJWKError) as exc:
            raise SsoRefused(TOKEN_KEY_UNKNOWN) from exc
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=[algorithm],
                audience=self.OIDC_RP_CLIENT_ID,
                issuer=settings.OIDC_ISSUER,
                leeway=settings.OIDC_LEEWAY_SECONDS,
                options={"require": REQUIRED_CLAIMS},
            )
        except jwt.ExpiredSignatureError as exc:
            raise SsoRefused(TOKEN_EXPIRED) from exc
        except jwt.ImmatureSignatureError as exc:
            raise SsoRefused(TOKEN_NOT_YET_VALID) from exc
        except jwt.InvalidAudienceError as exc:
            raise SsoRefused(TOKEN_AUDIENCE) from exc
        except jwt.InvalidIssuerError as exc:
            raise SsoRefused(TOKEN_ISSUER) from exc
        except jwt.MissingRequiredClaimError as exc:
            raise SsoRefused(TOKEN_CLAIM_MISSING) from exc
        except jwt.InvalidSignatureError as exc:
            raise SsoRefused(TOKEN_SIGNATURE) from exc
        except jwt.InvalidTokenError as exc:
            raise SsoRefused(TOKEN_INVALID) from exc
        # With several audiences, the token must have been issued to this client.
        several = isinstance(claims["aud"], list) and len(claims["aud"]) > 1
        if several and claims.get("azp") != self.OIDC_RP_CLIENT_ID:
            raise SsoRefused(TOKEN_PARTY)
        # Only the ID token carries the nonce (a signed userinfo answer does not).
        if "nonce" in kwargs and claims.get("nonce") != kwargs["nonce"]:
            raise SsoRefused(NONCE_MISMATCH)
        return claims

    def get_or_create_user(self, access_token: str, id_token: str, payload: dict) -> User:
        claims = dict(payload)
        if self.OIDC_OP_USER_ENDPOINT:
            userinfo = self.get_userinfo(access_token, id_token, payload)
            # OpenID Connect Core 5.3.2: an answer about anyone else must not be used.
            if userinfo.get("sub") != payload["sub"]:
                raise SsoRefused(USERINFO_MISMATCH)
            claims.update(userinfo)
        user = sso_user_resolve(issuer=payload["iss"], subject=payload["sub"], claims=claims)
        if not user.is_active:
            raise SsoRefused(ACCOUNT_INACTIVE, message=SSO_ACCOUNT_OFF, status=403, user=user)
        return user


def _refused(request: HttpRequest, refusal: SsoRefused) -> HttpResponse:
    """Write the `failed` sign-in event with the reason, and tell the person."""
    sign_in_event_record(
        kind=SignInKind.FAILED,
        request=request,
        user=refusal.user,
        detail=REASON_PREFIX + refusal.reason,
    )
    return render(
        request,
        "registration/sso_refused.html",
        {"message": refusal.message},
        status=refusal.status,
    )


class SsoStart(OIDCAuthenticationRequestView):
    """Send the person to the provider, with a fresh state, nonce and PKCE challenge kept in
    their session."""

    def __init__(self, **kwargs: Any) -> None:
        # mozilla-django-oidc reads the endpoint here; it is discovered in get() instead.
        View.__init__(self, **kwargs)

    get_settings = staticmethod(oidc_setting)

    def get(self, request: HttpRequest) -> HttpResponse:
        if not sso_enabled():
            raise Http404
        try:
            self.OIDC_OP_AUTH_ENDPOINT = oidc_setting("OIDC_OP_AUTHORIZATION_ENDPOINT")
        except SsoRefused as refusal:
            return render(
                request,
                "registration/sso_refused.html",
                {"message": refusal.message},
                status=refusal.status,
            )
        self.OIDC_RP_CLIENT_ID = settings.OIDC_RP_CLIENT_ID
        return super().get(request)


class SsoCallback(OIDCAuthenticationCallbackView):
    """Where the provider sends the person back: the state must be one this session sent
    (and is used once), then the backend exchanges the code and checks the ID token."""

    get_settings = staticmethod(oidc_setting)

    def get(self, request: HttpRequest) -> HttpResponse:
        if not sso_enabled():
            raise Http404
        try:
            user = self._user(request)
        except SsoRefused as refusal:
            return _refused(request, refusal)
        self.user = user
        # Named in the `signed_in` event that login() writes (sharedsvc.signin).
        request.sign_in_detail = SSO_DETAIL  # type: ignore[attr-defined]
        return self.login_success()

    def _user(self, request: HttpRequest) -> User:
        states = request.session.get("oidc_states")
        state = request.GET.get("state", "")
        if not isinstance(states, dict) or not states:
            raise SsoRefused(STATE_MISSING, message=SSO_STATE_FAILED)
        if state not in states:
            raise SsoRefused(STATE_MISMATCH, message=SSO_STATE_FAILED)
        # Used once: a replayed answer finds no state.
        sent = states.pop(state)
        request.session["oidc_states"] = states
        request.session.save()
        error = request.GET.get("error", "")
        if error:
            raise SsoRefused(PROVIDER_ERROR.format(error=_USERNAME_UNSAFE.sub("", error)[:60]))
        if not request.GET.get("code"):
            raise SsoRefused(CODE_MISSING)
        user = authenticate(
            request=request,
            sso_nonce=sent.get("nonce") or "",
            sso_code_verifier=sent.get("code_verifier"),
        )
        if user is None:
            # Refused before the backend ran (axes: this address is locked out); the
            # failure receiver has recorded it.
            raise SsoRefused(PROVIDER_ERROR.format(error="nothing usable"))
        return user


@login_required
def no_role(request: HttpRequest) -> HttpResponse:
    """What a signed-in user without a role sees, in place of every page."""
    if request.user.has_perm("sharedsvc.use_service"):
        return redirect("home")
    return render(request, "registration/no_role.html", {"contact": settings.ROLE_REQUEST_CONTACT})


# The pages a user without a role may still reach: this one, and signing out.
WITHOUT_A_ROLE = {
    "no-role",
    "logout",
    "sign-out-everywhere",
    "stay-signed-in",
    "sso-start",
    "sso-callback",
}


class RoleRequiredMiddleware:
    """A signed-in user who may not use the service (no role yet) is sent to the page that
    says so from every other page; the API answers them 403. Asks the gate
    (`sharedsvc.use_service`), nothing else."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(self, request: HttpRequest, view_func, view_args, view_kwargs):
        match = request.resolver_match
        if match is not None and match.url_name in WITHOUT_A_ROLE:
            return None
        user = request.user
        if not user.is_authenticated or user.has_perm("sharedsvc.use_service"):
            return None
        if request.path.startswith("/api/"):
            return JsonResponse({"detail": NO_ROLE_API}, status=403)
        return redirect("no-role")


def sign_in_options(request: HttpRequest) -> dict[str, str]:
    """The single sign-on button's text for the sign-in page; empty while it is off."""
    return {"sso_provider_name": settings.OIDC_PROVIDER_NAME if sso_enabled() else ""}
