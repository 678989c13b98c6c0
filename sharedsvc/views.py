"""Sign-in, and the answer to a server error."""

from __future__ import annotations

import logging

from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template import loader

from sharedsvc.errors import SERVER_ERROR
from sharedsvc.request_context import request_id

logger = logging.getLogger(__name__)

# What the sign-in form says, in GOV.UK's words (tests reuse these).
ENTER_USERNAME = "Enter your username"
ENTER_PASSWORD = "Enter your password"
INVALID_LOGIN = "Enter a correct username and password. Both are case-sensitive."
INACTIVE_ACCOUNT = "This account cannot sign in. Ask an administrator of the service."
# With PASSWORD_SIGN_IN=break_glass, for every refused password (wrong, or not a break-glass
# administrator's): one message, so that it tells nothing about the password.
PASSWORD_SIGN_IN_RESTRICTED = (
    "Enter a correct username and password. Only break-glass administrators sign in with "
    "a password here: everyone else signs in with single sign-on."
)


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

    def get_invalid_login_error(self) -> ValidationError:
        if settings.PASSWORD_SIGN_IN == "break_glass":
            return ValidationError(PASSWORD_SIGN_IN_RESTRICTED, code="invalid_login")
        return super().get_invalid_login_error()


def server_error(request: HttpRequest) -> HttpResponse:
    """A 500 (handler500): JSON with a reference under /api/, the house-style page
    elsewhere. Rendered without the database or the request's context, which may be what
    failed; Django has already logged the error with the same request id."""
    reference = request_id.get() or getattr(request, "request_id", "")
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": SERVER_ERROR, "reference": reference}, status=500)
    body = loader.get_template("500.html").render({"reference": reference})
    return HttpResponse(body, status=500)
