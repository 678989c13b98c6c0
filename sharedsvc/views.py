"""The start page and sign-in."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import AuthenticationForm
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from clusters import selectors

# What the sign-in form says, in GOV.UK's words (tests reuse these).
ENTER_USERNAME = "Enter your username"
ENTER_PASSWORD = "Enter your password"  # noqa: S105 (a message, not a password)
INVALID_LOGIN = "Enter a correct username and password. Both are case-sensitive."
INACTIVE_ACCOUNT = "This account cannot sign in. Ask an administrator of the service."


class SignInForm(AuthenticationForm):
    """Django's sign-in form with GOV.UK error messages."""

    error_messages = {
        "invalid_login": INVALID_LOGIN,
        "inactive": INACTIVE_ACCOUNT,
    }

    def __init__(self, request=None, *args, **kwargs) -> None:
        super().__init__(request, *args, **kwargs)
        self.fields["username"].error_messages["required"] = ENTER_USERNAME
        self.fields["password"].error_messages["required"] = ENTER_PASSWORD


@login_required
def home(request: HttpRequest) -> HttpResponse:
    user = request.user
    return render(
        request,
        "sharedsvc/home.html",
        {
            "department": user.department if user.acts_for_department else None,
            "provider": user.provider if user.is_provider_manager else None,
            "provider_clusters": list(selectors.provider_clusters(user=user)),
        },
    )
