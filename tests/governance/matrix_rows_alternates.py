"""Permission-matrix rows of alternates on the board: the page and its end button, and the
API's `alternates/`.

The matrix's naming: LCS's deputy minister names the LCS manager to stand in for LCS's
seat from today for ten days. The page is open to everyone signed in (it lists what each
may see); naming is for a seat's deputy minister (an empty form: 400; through the API
FIN's deputy minister may not name for LCS's seat: 403) and administrators, others are
refused (403). A naming is seen by its seat's deputy minister, its alternate,
analysts and administrators (others: 404); only the deputy minister and administrators
end it.
"""

from __future__ import annotations

import datetime

from django.utils import timezone

from clusters.services import alternate_name
from tests.matrix import API_READ, PAGE, Row, statuses
from tests.personas import World

SIGNED_OUT = 302  # pages send the signed-out to sign in

# Every seat's deputy minister names for their own seat (FIN's too: recused on PSOA cases,
# it is still a seat).
NAME_ON_PAGE = statuses(
    403, SIGNED_OUT, deputy_minister=400, recused_deputy_minister=400, administrator=400
)
SEEN = {"deputy_minister": 200, "administrator": 200, "analyst": 200, "manager": 200}
END_ON_PAGE = statuses(
    404, SIGNED_OUT, deputy_minister=302, administrator=302, analyst=403, manager=403
)
NOT_ALLOWED = statuses(405, SIGNED_OUT)
API_NAME = statuses(403, 401, deputy_minister=201, administrator=201)
API_READ_ONE = statuses(404, 401, **SEEN)
API_END = statuses(404, 401, deputy_minister=200, administrator=200, analyst=403, manager=403)
API_NOT_ALLOWED = statuses(405, 401)


def _naming(w: World) -> int:
    today = timezone.localdate()
    return alternate_name(
        actor=w.deputy_minister,
        department=w.lcs,
        user=w.manager,
        starts_on=today,
        ends_on=today + datetime.timedelta(days=10),
    ).pk


def _new(w: World) -> dict:
    today = timezone.localdate()
    return {
        "department": "LCS",
        "user": "mgr_lcs",
        "starts_on": today.isoformat(),
        "ends_on": (today + datetime.timedelta(days=10)).isoformat(),
    }


ROWS: list[Row] = [
    Row("board/alternates/", lambda w: "/board/alternates/", {"GET": PAGE, "POST": NAME_ON_PAGE}),
    Row(
        "board/alternates/<pk>/end/",
        lambda w: f"/board/alternates/{_naming(w)}/end/",
        {"GET": NOT_ALLOWED, "POST": END_ON_PAGE},
    ),
    Row(
        "api/v1/alternates/",
        lambda w: "/api/v1/alternates/",
        {"GET": API_READ, "POST": API_NAME},
        body=_new,
    ),
    Row(
        "api/v1/alternates/<pk>/",
        lambda w: f"/api/v1/alternates/{_naming(w)}/",
        {
            "GET": API_READ_ONE,
            "PUT": API_NOT_ALLOWED,
            "PATCH": API_NOT_ALLOWED,
            "DELETE": API_NOT_ALLOWED,
        },
    ),
    Row(
        "api/v1/alternates/<pk>/end/",
        lambda w: f"/api/v1/alternates/{_naming(w)}/end/",
        {"GET": API_NOT_ALLOWED, "POST": API_END},
    ),
]
