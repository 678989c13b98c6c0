"""Field-level matrix rows of memberships: who reads a member's `baseline_annual_cost`.

A baseline is the department's own private figure: its managers and deputy minister,
analysts and administrators. Fellow current members (ENV's manager, for LCS) and the
provider running the cluster (the PSOA's manager) read the membership and its usage, but
the baseline is null for them.
"""

from __future__ import annotations

from tests.field_matrix import READERS, FieldRow


def _row_of(code: str):
    return lambda w, row: row["department"] == code


FIELD_ROWS = [
    FieldRow(
        name="membership baseline of LCS in PAY-PSOA",
        url=lambda w: f"/api/v1/memberships/{w.lcs_payroll.pk}/",
        field="baseline_annual_cost",
        seen_by=READERS | {"manager", "deputy_minister"},
        readers=READERS | {"manager", "deputy_minister", "other_manager", "provider_manager"},
    ),
    FieldRow(
        name="membership baseline of ENV in the PAY-PSOA list",
        url=lambda w: "/api/v1/memberships/?cluster=PAY-PSOA",
        pick=_row_of("ENV"),
        field="baseline_annual_cost",
        seen_by=READERS | {"other_manager"},
        readers=READERS | {"manager", "deputy_minister", "other_manager", "provider_manager"},
    ),
    FieldRow(
        name="membership usage of ENV in the PAY-PSOA list",
        url=lambda w: "/api/v1/memberships/?cluster=PAY-PSOA",
        pick=_row_of("ENV"),
        field="usage_units",
        seen_by=READERS | {"manager", "deputy_minister", "other_manager", "provider_manager"},
        readers=READERS | {"manager", "deputy_minister", "other_manager", "provider_manager"},
    ),
]
