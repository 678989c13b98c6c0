"""Permission-matrix rows of single sign-on (off in the matrix: OIDC_ISSUER is empty, so
its two routes are not found) and of the "no role yet" page, which users who have a role
leave for the start page (tests/sharedsvc/test_sso.py covers those without one)."""

from __future__ import annotations

from tests.matrix import Row, statuses

ROWS = [
    Row("accounts/sso/start/", lambda w: "/accounts/sso/start/", {"GET": statuses(404, 404)}),
    Row(
        "accounts/sso/callback/",
        lambda w: "/accounts/sso/callback/?code=x&state=y",
        {"GET": statuses(404, 404)},
    ),
    Row("accounts/no-role/", lambda w: "/accounts/no-role/", {"GET": statuses(302, 302)}),
]
