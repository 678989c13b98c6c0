"""Permission-matrix rows of the board's API.

Cases and votes are read by everyone signed in who may see them (TECHSVC is no party to a
department going in-house from a PSOA cluster: 404); nobody writes a case. Only the deputy
minister of an eligible seat votes: on ENV's case LCS's seat is eligible (201) and FIN's is
recused (it hosts the PSOA); everyone else is refused (403).
"""

from __future__ import annotations

from defection.models import Destination, Reason
from defection.services import exit_request_submit
from tests.matrix import API_READ, Row, statuses
from tests.personas import World

CASES = "/api/v1/cases/"
READ_CASE = statuses(200, 401, other_provider_manager=404)
VOTE = statuses(403, 401, deputy_minister=201)
NOT_ALLOWED = statuses(405, 401)


def _case(w: World, department: str = "lcs") -> int:
    request = exit_request_submit(
        actor=w.manager if department == "lcs" else w.other_manager,
        department=getattr(w, department),
        from_cluster=w.pay_psoa,
        destination=Destination.IN_HOUSE,
        reason=Reason.COST,
        justification="Cheaper in-house.",
    )
    return request.board_case.pk


ROWS: list[Row] = [
    Row("api/v1/cases/", lambda w: CASES, {"GET": API_READ, "POST": NOT_ALLOWED}),
    Row(
        "api/v1/cases/<pk>/",
        lambda w: f"{CASES}{_case(w)}/",
        {"GET": READ_CASE, "PUT": NOT_ALLOWED, "PATCH": NOT_ALLOWED, "DELETE": NOT_ALLOWED},
    ),
    Row(
        "api/v1/cases/<case_pk>/votes/",
        lambda w: f"{CASES}{_case(w, 'env')}/votes/",
        {"GET": READ_CASE, "POST": VOTE, "PUT": NOT_ALLOWED, "DELETE": NOT_ALLOWED},
        body=lambda w: {"choice": "approve"},
    ),
    Row("api/v1/votes/", lambda w: "/api/v1/votes/", {"GET": API_READ, "POST": NOT_ALLOWED}),
]
