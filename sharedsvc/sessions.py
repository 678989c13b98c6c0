"""Sessions that end: after SESSION_IDLE_MINUTES without activity and SESSION_MAX_HOURS
after sign-in, whatever the activity.

The receiver below stamps the sign-in time of every new session; `SharedsvcConfig.ready()`
imports this module, so it is connected before anyone signs in.

Requests signed in with an API token carry no session and are not affected; API requests
signed in with the session are.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import SESSION_KEY, logout
from django.contrib.auth.signals import user_logged_in
from django.contrib.auth.views import redirect_to_login
from django.contrib.sessions.models import Session
from django.db import transaction
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

SIGNED_IN_AT = "sharedsvc_signed_in_at"
LAST_ACTIVITY = "sharedsvc_last_activity"

# Activity is written at most once a minute, so that a page view does not cost a session
# write; the idle limit is therefore kept to within a minute.
ACTIVITY_RESOLUTION = datetime.timedelta(minutes=1)

# What a user signed out by a limit reads on the sign-in page (tests reuse these).
IDLE_SIGNED_OUT = (
    "You were signed out after {minutes} minutes without activity. Sign in again to continue."
)
MAX_AGE_SIGNED_OUT = (
    "You were signed out because you signed in more than {hours} hours ago. "
    "Sign in again to continue."
)
SIGNED_OUT_EVERYWHERE = "You were signed out everywhere. Sign in again to continue."


def idle_signed_out_message() -> str:
    return IDLE_SIGNED_OUT.format(minutes=settings.SESSION_IDLE_MINUTES)


def max_age_signed_out_message() -> str:
    return MAX_AGE_SIGNED_OUT.format(hours=settings.SESSION_MAX_HOURS)


@receiver(user_logged_in, dispatch_uid="sharedsvc.sessions.stamp_sign_in")
def stamp_sign_in(sender, request: HttpRequest, user, **kwargs) -> None:
    """Record when this session signed in; login() saves the session afterwards."""
    now = timezone.now().isoformat()
    request.session[SIGNED_IN_AT] = now
    request.session[LAST_ACTIVITY] = now


def session_touch(request: HttpRequest, *, now: datetime.datetime | None = None) -> None:
    """Count this moment as activity in the session (the "Stay signed in" button)."""
    request.session[LAST_ACTIVITY] = (now or timezone.now()).isoformat()


@dataclass(frozen=True)
class SessionTimeout:
    """What the page needs: seconds left before the idle limit and how long before it to
    warn (the data attributes of <body> its warning script reads), and the limits."""

    idle_seconds: int
    warning_seconds: int
    idle_minutes: int
    max_hours: int

    @property
    def limit_seconds(self) -> int:
        return self.idle_minutes * 60


def _parse(value: object) -> datetime.datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.datetime.fromisoformat(value)
    except ValueError:
        return None


def signed_in_at(session) -> datetime.datetime | None:
    """When this session signed in (None for one from before the limits)."""
    return _parse(session.get(SIGNED_IN_AT))


def expiry_reason(session, now: datetime.datetime) -> str | None:
    """Why a signed-in session has ended at `now`, or None while it lives. A session with
    no sign-in time predates the limits, and ends."""
    signed_in = _parse(session.get(SIGNED_IN_AT))
    last = _parse(session.get(LAST_ACTIVITY))
    if signed_in is None or last is None:
        return max_age_signed_out_message()
    if now - signed_in >= datetime.timedelta(hours=settings.SESSION_MAX_HOURS):
        return max_age_signed_out_message()
    if now - last >= datetime.timedelta(minutes=settings.SESSION_IDLE_MINUTES):
        return idle_signed_out_message()
    return None


class SessionLimitsMiddleware:
    """Signs out a session past its idle or absolute limit; otherwise records activity
    and tells the page how long is left (`request.session_timeout`)."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.user.is_authenticated and SESSION_KEY in request.session:
            now = timezone.now()
            reason = expiry_reason(request.session, now)
            if reason is not None:
                logout(request)
                if not request.path.startswith("/api/"):
                    messages.info(request, reason)
                    return redirect_to_login(request.get_full_path())
                # The API answers the request as it would any signed-out one.
                return self.get_response(request)
            last = _parse(request.session[LAST_ACTIVITY])
            assert last is not None  # checked by expiry_reason
            if now - last >= ACTIVITY_RESOLUTION:
                session_touch(request, now=now)
                last = now
            idle = datetime.timedelta(minutes=settings.SESSION_IDLE_MINUTES)
            request.session_timeout = SessionTimeout(  # type: ignore[attr-defined]
                idle_seconds=int((last + idle - now).total_seconds()),
                warning_seconds=settings.SESSION_WARNING_MINUTES * 60,
                idle_minutes=settings.SESSION_IDLE_MINUTES,
                max_hours=settings.SESSION_MAX_HOURS,
            )
        return self.get_response(request)


def user_sessions_end(*, user) -> int:
    """End every live session of `user` (sign out everywhere); returns how many.

    Sessions are stored without their user, so each live session is decoded: one pass
    over the live sessions, which the 12-hour limit keeps short.
    """
    with transaction.atomic():
        keys = [
            session.session_key
            for session in Session.objects.filter(expire_date__gt=timezone.now()).iterator()
            if session.get_decoded().get(SESSION_KEY) == str(user.pk)
        ]
        Session.objects.filter(session_key__in=keys).delete()
    return len(keys)
