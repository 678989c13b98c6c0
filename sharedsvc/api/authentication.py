"""API token authentication: knox's hashed tokens, sent as `Authorization: Token KEY`.

Unlike knox, an expired token is kept (until its owner revokes it) and answers 401 saying
that it expired, so a program's owner knows to make a new one rather than hunt for a typo;
and each use is noted (`ApiToken.last_used_at`, at most once a minute a token).
"""

from __future__ import annotations

import binascii
from datetime import timedelta
from hmac import compare_digest

from django.utils import formats, timezone
from knox.auth import TokenAuthentication as KnoxTokenAuthentication
from knox.crypto import hash_token
from knox.models import AuthToken
from knox.settings import CONSTANTS
from rest_framework import exceptions

from sharedsvc.models import ApiToken

INVALID_TOKEN = "Invalid token."
TOKEN_EXPIRED = (
    "This API token expired on {date}. Create a new one on the “Your API tokens” page "
    "(/accounts/tokens/)."
)
# How stale a token's "last used" may be before a request writes it again.
LAST_USED_RESOLUTION = timedelta(minutes=1)


class TokenAuthentication(KnoxTokenAuthentication):
    """Knox tokens; the header prefix is `Token` (REST_KNOX['AUTH_HEADER_PREFIX'])."""

    def authenticate_credentials(self, token: bytes):
        key = token.decode("utf-8")
        try:
            digest = hash_token(key)
        except (TypeError, binascii.Error):
            raise exceptions.AuthenticationFailed(INVALID_TOKEN) from None
        candidates = AuthToken.objects.filter(
            token_key=key[: CONSTANTS.TOKEN_KEY_LENGTH]
        ).select_related("user", "detail")
        for auth_token in candidates:
            if not compare_digest(digest, auth_token.digest):
                continue
            now = timezone.now()
            if auth_token.expiry is not None and auth_token.expiry <= now:
                local = timezone.localtime(auth_token.expiry)
                raise exceptions.AuthenticationFailed(
                    TOKEN_EXPIRED.format(date=formats.date_format(local, "j F Y"))
                )
            self._note_use(auth_token, now)
            return self.validate_user(auth_token)
        raise exceptions.AuthenticationFailed(INVALID_TOKEN)

    @staticmethod
    def _note_use(auth_token: AuthToken, now) -> None:
        detail = getattr(auth_token, "detail", None)
        if detail is None:
            return
        if detail.last_used_at is None or now - detail.last_used_at >= LAST_USED_RESOLUTION:
            ApiToken.objects.filter(pk=detail.pk).update(last_used_at=now)
