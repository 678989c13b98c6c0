"""Permission-matrix rows of "Your account": every signed-in user has one; signed-out
personas go to sign in. The matrix posts an empty body: the password form answers with
its errors, sign-out everywhere and "Stay signed in" redirect."""

from __future__ import annotations

from tests.matrix import PAGE, Row, statuses

ROWS = [
    Row("accounts/", lambda w: "/accounts/", {"GET": PAGE}),
    Row(
        "accounts/password/",
        lambda w: "/accounts/password/",
        {"GET": PAGE, "POST": statuses(200, 302)},
    ),
    Row(
        "accounts/sign-out-everywhere/",
        lambda w: "/accounts/sign-out-everywhere/",
        {"GET": statuses(405, 302), "POST": statuses(302, 302)},
    ),
    Row(
        "accounts/session/",
        lambda w: "/accounts/session/",
        {"GET": statuses(405, 302), "POST": statuses(302, 302)},
    ),
]
