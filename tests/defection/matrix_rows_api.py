"""Permission-matrix rows of the exit-request API.

Everyone signed in lists the requests they may see. The department's managers and its
deputy minister (and administrators) give and withdraw notice; others get 403 when they
may see the request, 404 when they may not (TECHSVC is no party to LCS going in-house).
Nothing is edited or deleted (405).
"""

from __future__ import annotations

from defection.models import Destination, Reason
from defection.services import exit_request_submit
from tests.matrix import API_READ, Row, statuses
from tests.personas import World

BASE = "/api/v1/exit-requests/"
NOTICE = {
    "department": "LCS",
    "from_cluster": "PAY-PSOA",
    "destination": "in_house",
    "reason": "cost",
    "justification": "Cheaper in-house.",
}
# LCS's own people and administrators act; everyone else signed in is refused.
GIVE_NOTICE = statuses(403, 401, administrator=201, manager=201, deputy_minister=201)
READ_REQUEST = statuses(200, 401, other_provider_manager=404)
WITHDRAW = statuses(
    403, 401, administrator=200, manager=200, deputy_minister=200, other_provider_manager=404
)
NOT_ALLOWED = statuses(405, 401)


def _request(w: World) -> str:
    request = exit_request_submit(
        actor=w.manager,
        department=w.lcs,
        from_cluster=w.pay_psoa,
        destination=Destination.IN_HOUSE,
        reason=Reason.COST,
        justification="Cheaper in-house.",
    )
    return f"{BASE}{request.pk}/"


ROWS: list[Row] = [
    Row(
        "api/v1/exit-requests/",
        lambda w: BASE,
        {"GET": API_READ, "POST": GIVE_NOTICE},
        body=lambda w: NOTICE,
    ),
    Row(
        "api/v1/exit-requests/<pk>/",
        _request,
        {
            "GET": READ_REQUEST,
            "PUT": NOT_ALLOWED,
            "PATCH": NOT_ALLOWED,
            "DELETE": NOT_ALLOWED,
            "POST": NOT_ALLOWED,
        },
        body=lambda w: {"justification": "Changed."},
    ),
    Row(
        "api/v1/exit-requests/<pk>/withdraw/",
        lambda w: f"{_request(w)}withdraw/",
        {"POST": WITHDRAW, "GET": NOT_ALLOWED, "DELETE": NOT_ALLOWED},
    ),
]
