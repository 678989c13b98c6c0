"""Permission-matrix rows of the board's pages.

The matrix's case: ENV asks to leave PAY-PSOA for PAY-TECH. Seats are the main departments
with a deputy minister: LCS (eligible, so the quorum is 1) and FIN (recused: it hosts the
PSOA). Everyone signed in may read this case (deputy ministers read every case; the others
are ENV's people, LCS as a fellow member of PAY-PSOA, and the managers of both providers).
Only LCS's deputy minister may vote: an empty form is 400 for them, 403 for anyone else.
"""

from __future__ import annotations

from defection.models import Destination, Reason
from defection.services import exit_request_submit
from governance.models import Case
from governance.services import vote_cast
from tests.matrix import PAGE, Row, statuses
from tests.personas import World

SIGNED_OUT = 302  # pages send the signed-out to sign in

VOTE = statuses(403, SIGNED_OUT, deputy_minister=400)
NO_RECORD_YET = statuses(404, SIGNED_OUT)


def _case(w: World) -> Case:
    request = exit_request_submit(
        actor=w.other_manager,
        department=w.env,
        from_cluster=w.pay_psoa,
        destination=Destination.CLUSTER,
        to_cluster=w.pay_tech,
        reason=Reason.SERVICE_QUALITY,
        justification="Late payslips.",
    )
    return request.board_case


def _open_case(w: World) -> str:
    return f"/cases/{_case(w).pk}/"


def _decided_case(w: World) -> str:
    case = _case(w)
    vote_cast(actor=w.deputy_minister, case=case, choice="approve")  # 1 of 1: decided
    return f"/cases/{case.pk}/decision/"


ROWS: list[Row] = [
    Row("cases/", lambda w: "/cases/", {"GET": PAGE}),
    Row("cases/<pk>/", _open_case, {"GET": PAGE, "POST": VOTE}),
    Row("cases/<pk>/decision/", _decided_case, {"GET": PAGE}),
    Row(
        "(open case: no record yet)", lambda w: f"{_open_case(w)}decision/", {"GET": NO_RECORD_YET}
    ),
]
