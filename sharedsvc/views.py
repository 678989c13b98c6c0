"""Sign-in."""

from __future__ import annotations

from django.contrib.auth.forms import AuthenticationForm

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
