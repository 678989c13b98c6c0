"""Field-level matrix rows of board cases: who reads an open case's `tally`.

ENV leaves the PSOA's payroll in-house: ENV and FIN (the PSOA's host) are parties; LCS,
AGRI and EDUC hold eligible seats (quorum 2). LCS's deputy minister has voted, so the case
stays open and its tally is seen by that seat, analysts and administrators only: not by
LCS's manager (finding 3), nor the seats that have not voted, nor the parties, until the
case is decided. TECHSVC is no party: it does not read the case at all.
"""

from __future__ import annotations

from defection.models import Destination, Reason
from defection.services import exit_request_submit
from governance.models import Case
from governance.services import vote_cast
from tests.field_matrix import READERS, FieldRow
from tests.governance.conftest import seat_holder
from tests.personas import World

READ_THE_CASE = READERS | {
    "manager",
    "other_manager",
    "deputy_minister",
    "recused_deputy_minister",
    "provider_manager",
}


def _voted_case(w: World) -> Case:
    if not hasattr(w, "voted_case"):
        seat_holder("AGRI")
        seat_holder("EDUC")
        case = exit_request_submit(
            actor=w.other_manager,
            department=w.env,
            from_cluster=w.pay_psoa,
            destination=Destination.IN_HOUSE,
            reason=Reason.COST,
            justification="Cheaper in-house.",
        ).board_case
        vote_cast(actor=w.deputy_minister, case=case, choice="approve")
        w.voted_case = case  # type: ignore[attr-defined]
    return w.voted_case  # type: ignore[attr-defined]


FIELD_ROWS: list[FieldRow] = [
    FieldRow(
        name="open case with one vote: tally",
        url=lambda w: f"/api/v1/cases/{_voted_case(w).pk}/",
        field="tally",
        seen_by=READERS | {"deputy_minister"},
        readers=READ_THE_CASE,
        setup=_voted_case,
    ),
    FieldRow(
        name="open cases listed, one vote: tally",
        url=lambda w: "/api/v1/cases/",
        pick=lambda w, row: row["id"] == _voted_case(w).pk,
        field="tally",
        seen_by=READERS | {"deputy_minister"},
        readers=READ_THE_CASE,
        setup=_voted_case,
    ),
]
