"""Permission-matrix rows of "Your account": every signed-in user has one; signed-out
personas go to sign in. The matrix posts an empty body: the password form answers with
its errors, sign-out everywhere and "Stay signed in" redirect. The tokens form answers 400
with its errors, revoking a token that is not one's own 404, revoking all 302. The
two-factor rows say what each answers."""

from __future__ import annotations

from tests.matrix import PAGE, Row, statuses


def _sign_in_step(route: str) -> Row:
    # A function, not a lambda in the list, so each row keeps its own route.
    return Row(
        route, lambda w: f"/{route}", {"GET": statuses(302, 302), "POST": statuses(302, 302)}
    )


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
    # Two-factor. The sign-in steps are for a pending sign-in only: everyone else is sent
    # to sign in. Setting up answers the empty form with its errors; new recovery codes and
    # turning off send those without two-factor to their account (nobody in the matrix has
    # it), and turning off is refused to administrators, who must use it.
    *[
        _sign_in_step(route)
        for route in (
            "accounts/login/code/",
            "accounts/login/recovery-code/",
            "accounts/login/set-up-two-factor/",
        )
    ],
    Row(
        "accounts/two-factor/set-up/",
        lambda w: "/accounts/two-factor/set-up/",
        {"GET": PAGE, "POST": statuses(200, 302)},
    ),
    Row(
        "accounts/two-factor/recovery-codes/",
        lambda w: "/accounts/two-factor/recovery-codes/",
        {"GET": statuses(405, 302), "POST": statuses(302, 302)},
    ),
    Row(
        "accounts/two-factor/turn-off/",
        lambda w: "/accounts/two-factor/turn-off/",
        {
            "GET": statuses(302, 302, administrator=403),
            "POST": statuses(302, 302, administrator=403),
        },
    ),
    Row(
        "accounts/tokens/",
        lambda w: "/accounts/tokens/",
        {"GET": PAGE, "POST": statuses(400, 302)},
    ),
    Row(
        "accounts/tokens/revoke/",
        lambda w: "/accounts/tokens/revoke/",
        {"GET": statuses(405, 302), "POST": statuses(404, 302)},
    ),
    Row(
        "accounts/tokens/revoke-all/",
        lambda w: "/accounts/tokens/revoke-all/",
        {"GET": statuses(405, 302), "POST": statuses(302, 302)},
    ),
]
