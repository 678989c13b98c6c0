"""Sign-in: guessing is slowed (django-axes) and every sign-in, sign-out, failure and
lockout leaves an audit event.

Lockout: axes compares one failure count with one limit, so `SignInAttemptHandler`
counts the failures of the username and of the address within the cool-off, each against
its own limit (`AXES_FAILURE_LIMIT` for a username, `SIGN_IN_ADDRESS_FAILURE_LIMIT` for an
address), and answers axes with the username's limit when either is reached.

Audit: Django's `user_logged_in`, `user_logged_out`, `user_login_failed` and axes'
`user_locked_out` are the only hooks the sign-in views offer, so their receivers (connected
in `SharedsvcConfig.ready`) write a `SignInEvent` through `sign_in_event_record`; the
row's insert is its append-only audit event.
"""

from __future__ import annotations

from typing import Any

from axes.attempts import get_cool_off_threshold
from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_username
from axes.models import AccessAttempt
from axes.signals import user_locked_out
from django.conf import settings
from django.contrib.auth import user_logged_in, user_logged_out, user_login_failed
from django.db import transaction
from django.db.models import Sum
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from sharedsvc.audit import audit_context
from sharedsvc.models import SignInEvent, SignInKind, User

SIGN_IN_LOCKED_OUT = (
    "There have been too many attempts to sign in. Wait {minutes} minutes, then try again."
)


def locked_out_message() -> str:
    """What a locked-out person reads (the page and the tests use it)."""
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    return SIGN_IN_LOCKED_OUT.format(minutes=minutes)


def client_address(request: HttpRequest) -> str | None:
    """The address a request came from: REMOTE_ADDR, or the first X-Forwarded-For address
    when the proxy in front is trusted to set it (`TRUST_X_FORWARDED_FOR`)."""
    if settings.TRUST_X_FORWARDED_FOR:
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        first = forwarded.split(",")[0].strip()
        if first:
            return first
    return request.META.get("REMOTE_ADDR") or None


def locked_out_response(
    request: HttpRequest, original_response: HttpResponse | None, credentials: Any = None
) -> HttpResponse:
    """The page axes answers a locked-out sign-in with (AXES_LOCKOUT_CALLABLE)."""
    return render(
        request,
        "registration/locked_out.html",
        {"message": locked_out_message()},
        status=settings.AXES_HTTP_RESPONSE_CODE,
    )


class SignInAttemptHandler(AxesDatabaseHandler):
    """Axes' database handler with a limit for a username and another for an address."""

    def get_failures(self, request, credentials: dict | None = None) -> int:
        threshold = get_cool_off_threshold(request)
        recent = AccessAttempt.objects.filter(attempt_time__gte=threshold)
        username = get_client_username(request, credentials)
        by_username = (
            recent.filter(username=username).aggregate(n=Sum("failures_since_start"))["n"] or 0
        )
        by_address = (
            recent.filter(ip_address=request.axes_ip_address).aggregate(
                n=Sum("failures_since_start")
            )["n"]
            or 0
        )
        if by_address >= settings.SIGN_IN_ADDRESS_FAILURE_LIMIT:
            return max(by_username, settings.AXES_FAILURE_LIMIT)
        return by_username

    def reset_user_attempts(self, request: HttpRequest, credentials: dict | None = None) -> int:
        # A success clears the failures of its username only: signing in to one's own
        # account must not clear an address's count of guesses at other accounts.
        username = get_client_username(request, credentials)
        count, _ = AccessAttempt.objects.filter(username=username).delete()
        return count


def sign_in_event_record(
    *,
    kind: SignInKind | str,
    request: HttpRequest | None,
    username: str = "",
    user: User | None = None,
    detail: str = "",
    at: Any = None,
) -> SignInEvent:
    """Write one sign-in event (its insert is the audit event), with the address and user
    agent of the request; the actor is the user when known."""
    if user is not None and not username:
        username = user.get_username()
    if user is None and username:
        user = User.objects.filter(username=username).first()
    meta = request.META if request is not None else {}
    with transaction.atomic(), audit_context(actor=user):
        return SignInEvent.objects.create(
            kind=kind,
            username=username[:150],
            user=user,
            address=client_address(request) if request is not None else None,
            user_agent=meta.get("HTTP_USER_AGENT", "")[:500],
            detail=detail[:200],
            at=at or timezone.now(),
        )


def _on_signed_in(sender, request, user, **kwargs) -> None:
    # The way of signing in, when the sign-in view named one (single sign-on does).
    detail = getattr(request, "sign_in_detail", "")
    sign_in_event_record(kind=SignInKind.SIGNED_IN, request=request, user=user, detail=detail)


def _on_signed_out(sender, request, user, **kwargs) -> None:
    if user is not None:
        sign_in_event_record(kind=SignInKind.SIGNED_OUT, request=request, user=user)


# The sender of the failed sign-in that a wrong two-factor code counts as (for axes):
# `sharedsvc.two_factor` records that as TWO_FACTOR_FAILED, not as a wrong password.
TWO_FACTOR_SENDER = "sharedsvc.two_factor"


def _on_failed(sender, credentials, request=None, **kwargs) -> None:
    if sender == TWO_FACTOR_SENDER:
        return
    username = str(credentials.get(User.USERNAME_FIELD) or credentials.get("username") or "")
    # Why, when a backend said (a right password refused: passwords are switched off).
    detail = getattr(request, "sign_in_failure_detail", "")
    sign_in_event_record(kind=SignInKind.FAILED, request=request, username=username, detail=detail)


def _on_locked_out(sender, request, username, ip_address, **kwargs) -> None:
    sign_in_event_record(kind=SignInKind.LOCKED_OUT, request=request, username=username or "")


def connect_receivers() -> None:
    """Connect the audit receivers (called once from `SharedsvcConfig.ready`)."""
    user_logged_in.connect(_on_signed_in, dispatch_uid="sharedsvc.signin.signed_in")
    user_logged_out.connect(_on_signed_out, dispatch_uid="sharedsvc.signin.signed_out")
    user_login_failed.connect(_on_failed, dispatch_uid="sharedsvc.signin.failed")
    user_locked_out.connect(_on_locked_out, dispatch_uid="sharedsvc.signin.locked_out")
