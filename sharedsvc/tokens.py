"""API tokens a person manages: create (the key shown once), list, revoke one or all.

Knox keeps each token's hash (`knox.AuthToken`, with its expiry); `ApiToken` beside it keeps
the name and the last use. Every token expires: `API_TOKEN_DAYS` by default, at most
`API_TOKEN_MAX_DAYS`; a person has at most `API_TOKENS_MAX_LIVE` live tokens. Creating and
revoking each write a `SignInEvent` (the audit trail of one's credentials); the key itself is
never stored or logged.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from knox.models import AuthToken

from sharedsvc.audit import audit_context
from sharedsvc.models import ApiToken, SignInKind, User
from sharedsvc.services import require_permission
from sharedsvc.signin import sign_in_event_record

# What the tokens page says (tests reuse these).
ENTER_TOKEN_NAME = "Enter a name for the token, so that you know later what uses it"
TOKEN_NAME_TOO_LONG = "The name must be 100 characters or fewer"
ENTER_TOKEN_DAYS = "Enter the number of days until the token expires, from 1 to {max_days}"
TOO_MANY_TOKENS = (
    "You already have {limit} live API tokens, the most you may have. Revoke one you no "
    "longer use, then create the new one."
)
TOKEN_REVOKED = "The token “{name}” has been revoked. Programs using it can no longer sign in."
TOKENS_REVOKED = "All your API tokens have been revoked ({count})."
UNNAMED_TOKEN = "Unnamed token"


@dataclass(frozen=True)
class TokenRow:
    """One of a person's tokens as the page lists it (never the key)."""

    digest: str
    name: str
    created: datetime
    expiry: datetime | None
    last_used_at: datetime | None
    expired: bool


def tokens_of(*, user: User, now: datetime | None = None) -> list[TokenRow]:
    """A person's tokens, newest first, live and expired (one query)."""
    now = now or timezone.now()
    tokens = AuthToken.objects.filter(user=user).select_related("detail").order_by("-created")
    rows = []
    for token in tokens:
        detail = getattr(token, "detail", None)
        rows.append(
            TokenRow(
                digest=token.digest,
                name=detail.name if detail else UNNAMED_TOKEN,
                created=token.created,
                expiry=token.expiry,
                last_used_at=detail.last_used_at if detail else None,
                expired=token.expiry is not None and token.expiry <= now,
            )
        )
    return rows


def live_tokens(*, user: User, now: datetime | None = None) -> QuerySet[AuthToken]:
    now = now or timezone.now()
    return AuthToken.objects.filter(user=user, expiry__gt=now)


def api_token_create(
    *,
    actor: Any,
    user: User,
    name: str,
    days: int | None = None,
    request: HttpRequest | None = None,
) -> tuple[AuthToken, str]:
    """Create a token for `user` that expires after `days` (default `API_TOKEN_DAYS`) and
    return it with its key, which is shown only this once."""
    require_permission(actor, "sharedsvc.manage_api_tokens", user)
    name = name.strip()
    days = settings.API_TOKEN_DAYS if days is None else days
    errors: dict[str, str] = {}
    if not name:
        errors["name"] = ENTER_TOKEN_NAME
    elif len(name) > 100:
        errors["name"] = TOKEN_NAME_TOO_LONG
    if not 1 <= days <= settings.API_TOKEN_MAX_DAYS:
        errors["days"] = ENTER_TOKEN_DAYS.format(max_days=settings.API_TOKEN_MAX_DAYS)
    if errors:
        raise ValidationError(errors)
    with transaction.atomic(), audit_context(actor=actor):
        # Two creations at once must not both pass the limit: they queue on the user's row.
        User.objects.select_for_update().filter(pk=user.pk).first()
        limit = settings.API_TOKENS_MAX_LIVE
        if live_tokens(user=user).count() >= limit:
            raise ValidationError({"name": TOO_MANY_TOKENS.format(limit=limit)})
        token, key = AuthToken.objects.create(user=user, expiry=timedelta(days=days))
        ApiToken.objects.create(token=token, name=name)
        sign_in_event_record(
            kind=SignInKind.TOKEN_CREATED,
            request=request,
            user=actor or user,
            detail=f"{name} (for {user.get_username()}, expires {token.expiry:%Y-%m-%d})",
        )
    return token, key


def api_token_revoke(
    *, actor: Any, user: User, digest: str, request: HttpRequest | None = None
) -> str | None:
    """Revoke one of `user`'s tokens; returns its name, or None when it was not theirs (or
    is already gone)."""
    require_permission(actor, "sharedsvc.manage_api_tokens", user)
    with transaction.atomic(), audit_context(actor=actor):
        token = (
            AuthToken.objects.select_for_update(of=("self",))
            .select_related("detail")
            .filter(user=user, digest=digest)
            .first()
        )
        if token is None:
            return None
        detail = getattr(token, "detail", None)
        name = detail.name if detail else UNNAMED_TOKEN
        token.delete()
        sign_in_event_record(
            kind=SignInKind.TOKEN_REVOKED,
            request=request,
            user=actor or user,
            detail=f"{name} (for {user.get_username()})",
        )
    return name


def api_tokens_revoke_all(*, actor: Any, user: User, request: HttpRequest | None = None) -> int:
    """Revoke every token of `user`; returns how many there were."""
    require_permission(actor, "sharedsvc.manage_api_tokens", user)
    with transaction.atomic(), audit_context(actor=actor):
        tokens = AuthToken.objects.select_for_update().filter(user=user)
        count = len(tokens)
        tokens.delete()
        if count:
            sign_in_event_record(
                kind=SignInKind.TOKEN_REVOKED,
                request=request,
                user=actor or user,
                detail=f"all {count} tokens (for {user.get_username()})",
            )
    return count
