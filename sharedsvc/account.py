"""Your account: who you are, your password, and your sessions."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import PasswordChangeForm
from django.contrib.auth.views import PasswordChangeView
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.utils.decorators import method_decorator
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from sharedsvc.sessions import SIGNED_OUT_EVERYWHERE, session_touch, user_sessions_end

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
    return render(request, "registration/account.html")


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
