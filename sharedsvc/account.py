"""Your account: who you are, your password, and your sessions."""

from __future__ import annotations

from typing import cast

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import PasswordChangeForm
from django.contrib.auth.views import PasswordChangeView
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.utils.decorators import method_decorator
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from sharedsvc.models import SignInKind, User
from sharedsvc.sessions import SIGNED_OUT_EVERYWHERE, session_touch, user_sessions_end
from sharedsvc.signin import sign_in_event_record
from sharedsvc.tokens import (
    ENTER_TOKEN_DAYS,
    ENTER_TOKEN_NAME,
    TOKEN_NAME_TOO_LONG,
    TOKEN_REVOKED,
    TOKENS_REVOKED,
    api_token_create,
    api_token_revoke,
    api_tokens_revoke_all,
    tokens_of,
)
from sharedsvc.two_factor import two_factor_status

# What the password form says, in GOV.UK's words (tests reuse these).
ENTER_CURRENT_PASSWORD = "Enter your current password"  # noqa: S105 (a message)
WRONG_CURRENT_PASSWORD = "Your current password is not right. Enter it again."  # noqa: S105
ENTER_NEW_PASSWORD = "Enter a new password"  # noqa: S105
CONFIRM_NEW_PASSWORD = "Enter your new password again"  # noqa: S105
PASSWORDS_DIFFER = "The two new passwords do not match"
PASSWORD_CHANGED = "Your password has been changed. You were signed out everywhere else."  # noqa: S105


@login_required
def account(request: HttpRequest) -> HttpResponse:
    """Who you are signed in as, and what you can do about your sign-in."""
    user = cast(User, request.user)  # signed in: login_required
    return render(request, "registration/account.html", {"two_factor": two_factor_status(user)})


class ChangePasswordForm(PasswordChangeForm):
    """Django's password change form with GOV.UK labels and error messages."""

    error_messages = {
        "password_incorrect": WRONG_CURRENT_PASSWORD,
        "password_mismatch": PASSWORDS_DIFFER,
    }

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        labels = {
            "old_password": ("Current password", ENTER_CURRENT_PASSWORD),
            "new_password1": ("New password", ENTER_NEW_PASSWORD),
            "new_password2": ("Confirm new password", CONFIRM_NEW_PASSWORD),
        }
        for name, (label, required) in labels.items():
            self.fields[name].label = label
            self.fields[name].error_messages["required"] = required


@method_decorator(login_required, name="dispatch")
class ChangePassword(PasswordChangeView):
    """Change your own password: this session stays signed in (Django keeps its session
    hash up to date), every other session of yours is signed out (theirs no longer
    matches)."""

    form_class = ChangePasswordForm
    template_name = "registration/password_change.html"
    success_url = reverse_lazy("account")

    def form_valid(self, form):
        response = super().form_valid(form)
        sign_in_event_record(
            kind=SignInKind.PASSWORD_CHANGED,
            request=self.request,
            user=self.request.user,
            detail="by themselves",
        )
        messages.success(self.request, PASSWORD_CHANGED)
        return response


@login_required
@require_POST
def sign_out_everywhere(request: HttpRequest) -> HttpResponse:
    """End every session of the user, this one included."""
    user = request.user
    logout(request)
    user_sessions_end(user=user)
    messages.info(request, SIGNED_OUT_EVERYWHERE)
    return redirect("login")


@login_required
@require_POST
def stay_signed_in(request: HttpRequest) -> HttpResponse:
    """The warning's "Stay signed in": counts as activity. The page's script asks with
    `X-Requested-With: fetch` and gets 204; a form posted without the script goes back to
    the page it came from."""
    session_touch(request)
    if request.headers.get("X-Requested-With") == "fetch":
        return HttpResponse(status=204)
    back = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(
        back, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        back = "/"
    return redirect(back)


class TokenForm(forms.Form):
    """A new API token: what it is for, and how long it lives."""

    name = forms.CharField(
        label="Name",
        help_text="What will use it, for example “Monthly cost report”.",
        max_length=100,
        error_messages={"required": ENTER_TOKEN_NAME, "max_length": TOKEN_NAME_TOO_LONG},
    )
    days = forms.IntegerField(label="Expires after (days)", min_value=1, initial=90)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        most = settings.API_TOKEN_MAX_DAYS
        days = self.fields["days"]
        assert isinstance(days, forms.IntegerField)
        days.initial = settings.API_TOKEN_DAYS
        days.max_value = most
        days.help_text = f"From 1 to {most} days. {settings.API_TOKEN_DAYS} unless you change it."
        message = ENTER_TOKEN_DAYS.format(max_days=most)
        days.error_messages.update(
            {"required": message, "invalid": message, "min_value": message, "max_value": message}
        )
        # The form's own bounds, with the one message (IntegerField's carry Django's words).
        days.validators = [
            MinValueValidator(1, message=message),
            MaxValueValidator(most, message=message),
        ]


def _tokens_page(request: HttpRequest, form: TokenForm, key: str | None = None, status=200):
    user = cast(User, request.user)  # signed in: its views are login_required
    context = {
        "form": form,
        "tokens": tokens_of(user=user),
        "new_key": key,
        "max_live": settings.API_TOKENS_MAX_LIVE,
    }
    response = render(request, "registration/tokens.html", context, status=status)
    # The new key is in this page alone: no cache may keep it.
    response["Cache-Control"] = "no-store"
    return response


@login_required
def api_tokens(request: HttpRequest) -> HttpResponse:
    """Your API tokens: create one (the key shown once), see them all, revoke one or all."""
    if request.method != "POST":
        return _tokens_page(request, TokenForm())
    form = TokenForm(request.POST)
    if form.is_valid():
        user = cast(User, request.user)  # signed in: login_required
        try:
            _, key = api_token_create(
                actor=user,
                user=user,
                name=form.cleaned_data["name"],
                days=form.cleaned_data["days"],
                request=request,
            )
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            return _tokens_page(request, TokenForm(), key=key, status=201)
    return _tokens_page(request, form, status=400)


@login_required
@require_POST
def api_token_revoke_view(request: HttpRequest) -> HttpResponse:
    """Revoke one of your tokens (named by its hash, never its key)."""
    user = cast(User, request.user)  # signed in: login_required
    name = api_token_revoke(
        actor=user, user=user, digest=request.POST.get("token", ""), request=request
    )
    if name is None:
        raise Http404("No such token of yours.")
    messages.success(request, TOKEN_REVOKED.format(name=name))
    return redirect("api-tokens")


@login_required
@require_POST
def api_tokens_revoke_all_view(request: HttpRequest) -> HttpResponse:
    user = cast(User, request.user)  # signed in: login_required
    count = api_tokens_revoke_all(actor=user, user=user, request=request)
    messages.success(request, TOKENS_REVOKED.format(count=count))
    return redirect("api-tokens")
