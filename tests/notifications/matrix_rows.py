"""Permission-matrix rows of notifications, pages and API.

Everyone signed in has an inbox; a notification is its recipient's alone (the LCS
manager's here): everyone else, administrators included, gets 404 for it. The forms and
commands are POST only (405 to a GET); nothing is created, edited or deleted through
the API (405).
"""

from __future__ import annotations

from notifications.models import NotificationKind
from notifications.services import notify
from tests.matrix import API_READ, PAGE, Row, statuses
from tests.personas import World

API = "/api/v1/notifications/"
SIGNED_OUT_PAGE = 302  # pages send the signed-out to sign in

ONLY_THE_RECIPIENT_PAGE = statuses(404, SIGNED_OUT_PAGE, manager=302)
ONLY_THE_RECIPIENT_API = statuses(404, 401, manager=200)
POST_ONLY_PAGE = statuses(405, SIGNED_OUT_PAGE)
NOT_ALLOWED_API = statuses(405, 401)


def _mine(w: World) -> int:
    """A notification of the LCS manager's."""
    [row] = notify(
        recipients=[w.manager],
        kind=NotificationKind.EXIT_NOTICE,
        subject="ENV gives notice to leave PAY-PSOA",
        body="Environment leaves PSOA Payroll.",
        link="/exit-requests/",
    )
    return row.pk


ROWS: list[Row] = [
    Row("notifications/", lambda w: "/notifications/", {"GET": PAGE, "POST": POST_ONLY_PAGE}),
    Row(
        "notifications/read-all/",
        lambda w: "/notifications/read-all/",
        {"POST": statuses(302, SIGNED_OUT_PAGE), "GET": POST_ONLY_PAGE},
    ),
    Row(
        "notifications/<pk>/read/",
        lambda w: f"/notifications/{_mine(w)}/read/",
        {"POST": ONLY_THE_RECIPIENT_PAGE, "GET": POST_ONLY_PAGE},
    ),
    Row("api/v1/notifications/", lambda w: API, {"GET": API_READ, "POST": NOT_ALLOWED_API}),
    Row(
        "api/v1/notifications/<pk>/",
        lambda w: f"{API}{_mine(w)}/",
        {
            "GET": ONLY_THE_RECIPIENT_API,
            "PUT": NOT_ALLOWED_API,
            "PATCH": NOT_ALLOWED_API,
            "DELETE": NOT_ALLOWED_API,
            "POST": NOT_ALLOWED_API,
        },
        body=lambda w: {"subject": "Changed."},
    ),
    Row(
        "api/v1/notifications/<pk>/read/",
        lambda w: f"{API}{_mine(w)}/read/",
        {"POST": ONLY_THE_RECIPIENT_API, "GET": NOT_ALLOWED_API},
    ),
    Row(
        "api/v1/notifications/read-all/",
        lambda w: f"{API}read-all/",
        {"POST": API_READ, "GET": NOT_ALLOWED_API},
    ),
]
