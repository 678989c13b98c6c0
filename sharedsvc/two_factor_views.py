"""Signing in in two steps, and two-factor authentication on "Your account".

Step one is the password (`SignIn`, also at /admin/login/). When it is right for someone
with an authenticator app, or who must use one (`sharedsvc.must_use_two_factor`), nobody is
signed in yet: the session only remembers the pending sign-in (who, how, where to go next,
until when: `TWO_FACTOR_PENDING_MINUTES`) and step two asks for a code (`SignInCode`, or
`SignInRecoveryCode`), or has an administrator without an app set one up first
(`SignInSetUp`). Only a right code calls `login()`, so a half-done sign-in is a signed-out
session: every page sends it to sign in and the API answers 401 or 403.

A wrong code is recorded, counts toward the lockout (axes) and, after
`TWO_FACTOR_CODE_ATTEMPTS`, ends the pending sign-in.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import cast

import django_otp
from axes.handlers.proxy import AxesProxyHandler
from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.contrib.auth.mixins import LoginRequiredMixin
from django.contrib.auth.views import LoginView, redirect_to_login
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST
from django.views.generic import FormView

from sharedsvc.models import User
from sharedsvc.signin import locked_out_response
from sharedsvc.two_factor import (
    CODE_NOT_SIX_DIGITS,
    ENTER_CODE,
    ENTER_RECOVERY_CODE,
    MUST_USE,
    NOT_FOR_THIS_ACCOUNT,
    CodeRefused,
    app_device,
    enrolment,
    new_app_key,
    recovery_codes_create,
    two_factor_disable,
    two_factor_enable,
    two_factor_is_on,
    two_factor_verify,
)
from sharedsvc.views import SignInForm

PENDING = "sharedsvc_two_factor_pending"
APP_KEY = "sharedsvc_two_factor_key"

# What people read (tests reuse these).
SIGN_IN_TIMED_OUT = "You took too long to enter a code. Sign in again."
TOO_MANY_WRONG_CODES = "You entered too many wrong codes. Sign in again."
TWO_FACTOR_ON = "Two-factor authentication is on."
TWO_FACTOR_OFF = "Two-factor authentication is off. You sign in with your password only."


class AppCodeForm(forms.Form):
    code = forms.CharField(
        label="Code from your authenticator app",
        max_length=20,
        error_messages={"required": ENTER_CODE},
    )

    def clean_code(self) -> str:
        code = "".join(self.cleaned_data["code"].split())
        if len(code) != 6 or not code.isdigit():
            raise ValidationError(CODE_NOT_SIX_DIGITS)
        return code


class RecoveryCodeForm(forms.Form):
    code = forms.CharField(
        label="Recovery code", max_length=40, error_messages={"required": ENTER_RECOVERY_CODE}
    )


# --- the pending sign-in ----------------------------------------------------------------


@dataclass(frozen=True)
class PendingSignIn:
    """A sign-in whose password was right and that waits for a code."""

    user: User
    backend: str
    next_url: str
    failures: int


def pending_sign_in_start(request: HttpRequest, *, user: User, next_url: str) -> None:
    expires = timezone.now() + datetime.timedelta(minutes=settings.TWO_FACTOR_PENDING_MINUTES)
    request.session.pop(APP_KEY, None)
    request.session[PENDING] = {
        "user": user.pk,
        # Set by authenticate(): login() at the second step names the same backend.
        "backend": user.backend,  # type: ignore[attr-defined]
        "next": next_url,
        "expires": expires.isoformat(),
        "failures": 0,
    }


def pending_sign_in_drop(request: HttpRequest) -> None:
    request.session.pop(PENDING, None)
    request.session.pop(APP_KEY, None)


def pending_sign_in(request: HttpRequest) -> PendingSignIn | None:
    """The pending sign-in of this session, or None (one that has expired is dropped, with
    a message)."""
    data = request.session.get(PENDING)
    if not isinstance(data, dict):
        return None
    if timezone.now() >= datetime.datetime.fromisoformat(data["expires"]):
        pending_sign_in_drop(request)
        messages.info(request, SIGN_IN_TIMED_OUT)
        return None
    user = User.objects.filter(pk=data["user"], is_active=True).first()
    if user is None:
        pending_sign_in_drop(request)
        return None
    return PendingSignIn(
        user=user, backend=data["backend"], next_url=data["next"], failures=data["failures"]
    )


def pending_sign_in_failed(request: HttpRequest) -> int:
    """Count a wrong code against the pending sign-in; returns the count so far."""
    data = request.session[PENDING]
    data["failures"] += 1
    request.session.modified = True
    return data["failures"]


def pending_sign_in_finish(request: HttpRequest, pending: PendingSignIn, device) -> HttpResponse:
    """Sign the person in (a new session key), verified by `device`, and send them on."""
    pending_sign_in_drop(request)
    login(request, pending.user, backend=pending.backend)
    django_otp.login(request, device)
    return redirect(pending.next_url)


# --- step one: the password -------------------------------------------------------------


class SignIn(LoginView):
    """The password. Right, for someone with two-factor on (or who must have it): the
    second step, not a session."""

    template_name = "registration/login.html"
    authentication_form = SignInForm
    redirect_authenticated_user = True

    def form_valid(self, form):
        user = form.get_user()
        if two_factor_is_on(user):
            step = "sign-in-code"
        elif user.has_perm("sharedsvc.must_use_two_factor"):
            step = "sign-in-set-up"
        else:
            return super().form_valid(form)
        pending_sign_in_start(self.request, user=user, next_url=self.get_success_url())
        return redirect(step)


class AdminSignIn(SignIn):
    """/admin/login/: the same two steps. A visit is sent to the site's sign-in page (its
    `next` kept); a password posted here is checked as there, so that axes counts it."""

    redirect_authenticated_user = False
    next_page = "admin:index"

    def get(self, request, *args, **kwargs):
        if request.user.is_authenticated:
            # Signed in, and the admin sent them here: it is not for them.
            if admin.site.has_permission(request):
                return redirect(self.get_success_url())
            raise PermissionDenied
        return redirect_to_login(self.get_success_url(), login_url=reverse("login"))


# --- step two: a code -------------------------------------------------------------------


class PendingSignInMixin:
    """Step two's pages: only for a pending sign-in (otherwise: sign in), and not while
    the username is locked out."""

    pending: PendingSignIn

    def dispatch(self, request, *args, **kwargs):
        pending = pending_sign_in(request)
        if pending is None:
            return redirect("login")
        if AxesProxyHandler.is_locked(request, {"username": pending.user.get_username()}):
            pending_sign_in_drop(request)
            return locked_out_response(request, None)
        self.pending = pending
        return super().dispatch(request, *args, **kwargs)  # type: ignore[misc]


class SignInCode(PendingSignInMixin, FormView):
    """The code the authenticator app shows now."""

    form_class: type[forms.Form] = AppCodeForm
    template_name = "registration/sign_in_code.html"
    recovery = False

    def get(self, request, *args, **kwargs):
        if not two_factor_is_on(self.pending.user):
            return redirect("sign-in-set-up")
        return super().get(request, *args, **kwargs)

    def form_valid(self, form):
        request = self.request
        try:
            device = two_factor_verify(
                user=self.pending.user,
                code=form.cleaned_data["code"],
                request=request,
                recovery=self.recovery,
            )
        except CodeRefused as refused:
            if refused.counted:
                failures = pending_sign_in_failed(request)
                if getattr(request, "axes_locked_out", False):
                    pending_sign_in_drop(request)
                    return locked_out_response(request, None)
                if failures >= settings.TWO_FACTOR_CODE_ATTEMPTS:
                    pending_sign_in_drop(request)
                    messages.info(request, TOO_MANY_WRONG_CODES)
                    return redirect("login")
            form.add_error("code", refused.message)
            return self.form_invalid(form)
        return pending_sign_in_finish(request, self.pending, device)


class SignInRecoveryCode(SignInCode):
    """One of the recovery codes, when the app is not to hand; it is then used up."""

    form_class = RecoveryCodeForm
    template_name = "registration/sign_in_recovery_code.html"
    recovery = True


# --- setting up an app ------------------------------------------------------------------


class SetUp(FormView):
    """The set-up page: a QR code and the secret to type, then a code to confirm them. The
    secret stays in the session until then."""

    form_class = AppCodeForm
    template_name = "registration/two_factor_set_up.html"

    def who(self) -> User:
        raise NotImplementedError

    def app_key(self) -> str:
        key = self.request.session.get(APP_KEY)
        if not isinstance(key, str):
            key = self.request.session[APP_KEY] = new_app_key()
        return key

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["enrolment"] = enrolment(self.who(), self.app_key())
        context["issuer"] = settings.OTP_TOTP_ISSUER
        return context

    def form_valid(self, form):
        user = self.who()
        try:
            codes = two_factor_enable(
                actor=user, key=self.app_key(), code=form.cleaned_data["code"], request=self.request
            )
        except ValidationError as refused:
            form.add_error("code", refused.messages[0])
            return self.form_invalid(form)
        self.request.session.pop(APP_KEY, None)
        return self.enabled(user, codes)

    def enabled(self, user: User, codes: list[str]) -> HttpResponse:
        raise NotImplementedError


def recovery_codes_page(request: HttpRequest, codes: list[str], *, continue_url: str, new: bool):
    """The recovery codes, shown once: in the answer to the request that made them, never
    stored for a later page."""
    response = render(
        request,
        "registration/recovery_codes.html",
        {"codes": codes, "continue_url": continue_url, "new": new, "turned_on": TWO_FACTOR_ON},
    )
    response["Cache-Control"] = "no-store"
    return response


class SignInSetUp(PendingSignInMixin, SetUp):
    """Signing in, for someone who must use two-factor and has no app yet: set it up, and
    only then be signed in."""

    def get(self, request, *args, **kwargs):
        if two_factor_is_on(self.pending.user):
            return redirect("sign-in-code")
        return super().get(request, *args, **kwargs)

    def who(self) -> User:
        return self.pending.user

    def get_context_data(self, **kwargs):
        return super().get_context_data(signing_in=True, **kwargs)

    def enabled(self, user: User, codes: list[str]) -> HttpResponse:
        pending_sign_in_finish(self.request, self.pending, app_device(user))
        return recovery_codes_page(
            self.request, codes, continue_url=self.pending.next_url, new=False
        )


class TwoFactorSetUp(LoginRequiredMixin, SetUp):
    """On "Your account": turn two-factor on."""

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated:
            if not request.user.has_perm("sharedsvc.use_two_factor"):
                raise PermissionDenied(NOT_FOR_THIS_ACCOUNT)
            if two_factor_is_on(request.user):
                return redirect("account")
        return super().dispatch(request, *args, **kwargs)

    def who(self) -> User:
        return self.request.user  # type: ignore[return-value]

    def enabled(self, user: User, codes: list[str]) -> HttpResponse:
        django_otp.login(self.request, app_device(user))
        return recovery_codes_page(self.request, codes, continue_url=reverse("account"), new=False)


@login_required
@require_POST
def recovery_codes_new(request: HttpRequest) -> HttpResponse:
    """On "Your account": ten new recovery codes; the old ones stop working."""
    user = cast(User, request.user)
    if not two_factor_is_on(user):
        return redirect("account")
    codes = recovery_codes_create(actor=user, request=request)
    return recovery_codes_page(request, codes, continue_url=reverse("account"), new=True)


class TwoFactorTurnOff(LoginRequiredMixin, FormView):
    """On "Your account": turn two-factor off, with a current code. Not for those who must
    use it."""

    form_class = AppCodeForm
    template_name = "registration/two_factor_turn_off.html"

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated:
            if request.user.has_perm("sharedsvc.must_use_two_factor"):
                raise PermissionDenied(MUST_USE)
            if not two_factor_is_on(request.user):
                return redirect("account")
        return super().dispatch(request, *args, **kwargs)

    def form_valid(self, form):
        try:
            two_factor_disable(
                actor=self.request.user, code=form.cleaned_data["code"], request=self.request
            )
        except CodeRefused as refused:
            form.add_error("code", refused.message)
            return self.form_invalid(form)
        self.request.session.pop(django_otp.DEVICE_ID_SESSION_KEY, None)
        messages.success(self.request, TWO_FACTOR_OFF)
        return redirect("account")
