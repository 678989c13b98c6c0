"""Field-level matrix rows of exit requests: who reads `justification` and `impact`.

An exit request is seen whole by its department (LCS: manager, deputy_minister), the
fellow current members of the cluster it leaves (ENV: other_manager), the provider running
that cluster (PSOA: provider_manager), the board while it is a case (seat holders:
recused_deputy_minister, FIN's), analysts and administrators. The destination provider
(TECHSVC: other_provider_manager) reads it in part: those fields are null.
"""

from __future__ import annotations

from clusters.models import Cluster
from defection.models import Destination, ExitRequest, Reason
from defection.services import exit_request_submit
from tests.factories import ClusterFactory
from tests.field_matrix import READERS, FieldRow
from tests.personas import World

BASE = "/api/v1/exit-requests/"
WHOLE_OF_A_CASE = READERS | {
    "manager",
    "deputy_minister",
    "other_manager",
    "provider_manager",
    "recused_deputy_minister",
}
READ_A_CASE = WHOLE_OF_A_CASE | {"other_provider_manager"}
# A move to a PSOA cluster never reaches the board: FIN's deputy minister does not read it.
WHOLE_OF_A_MOVE = READERS | {"manager", "deputy_minister", "other_manager", "provider_manager"}


def _to_tech(w: World) -> ExitRequest:
    """LCS leaves the PSOA's payroll for TECHSVC's: a board case."""
    if not hasattr(w, "exit_to_tech"):
        w.exit_to_tech = exit_request_submit(  # type: ignore[attr-defined]
            actor=w.manager,
            department=w.lcs,
            from_cluster=w.pay_psoa,
            destination=Destination.CLUSTER,
            to_cluster=w.pay_tech,
            reason=Reason.COST,
            justification="Technology Services quoted less.",
        )
    return w.exit_to_tech  # type: ignore[attr-defined]


def _to_psoa(w: World) -> ExitRequest:
    """LCS moves to a second PSOA payroll cluster: the right to leave, no board."""
    if not hasattr(w, "exit_to_psoa"):
        second: Cluster = ClusterFactory(
            code="PAY-PSOA-2", service=w.payroll, provider=w.psoa, name="PSOA Payroll 2"
        )
        w.exit_to_psoa = exit_request_submit(  # type: ignore[attr-defined]
            actor=w.manager,
            department=w.lcs,
            from_cluster=w.pay_psoa,
            destination=Destination.CLUSTER,
            to_cluster=second,
            reason=Reason.COST,
            justification="A cheaper PSOA cluster.",
        )
    return w.exit_to_psoa  # type: ignore[attr-defined]


FIELD_ROWS: list[FieldRow] = [
    *(
        FieldRow(
            name=f"exit request to another provider's cluster: {field}",
            url=lambda w: f"{BASE}{_to_tech(w).pk}/",
            field=field,
            seen_by=WHOLE_OF_A_CASE,
            readers=READ_A_CASE,
            setup=_to_tech,
        )
        for field in ("justification", "impact")
    ),
    *(
        FieldRow(
            name=f"exit requests listed, to another provider's cluster: {field}",
            url=lambda w: BASE,
            pick=lambda w, row: row["id"] == _to_tech(w).pk,
            field=field,
            seen_by=WHOLE_OF_A_CASE,
            readers=READ_A_CASE,
            setup=_to_tech,
        )
        for field in ("justification", "impact")
    ),
    *(
        FieldRow(
            name=f"exit request to a PSOA cluster: {field}",
            url=lambda w: f"{BASE}{_to_psoa(w).pk}/",
            field=field,
            seen_by=WHOLE_OF_A_MOVE,
            readers=WHOLE_OF_A_MOVE,
            setup=_to_psoa,
        )
        for field in ("justification", "impact")
    ),
]
