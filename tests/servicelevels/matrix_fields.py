"""Field-level matrix rows of the benefits report: a cluster's benefit flag on a member's row.

LCS's PAY-PSOA row is LCS's own (its baseline and benefit), read by LCS's managers and
deputy minister, analysts and administrators. Its `cluster_flagged` says whether the
cluster's total benefit is negative: a total over two departments (LCS and ENV), so it is
withheld (null) from LCS, and seen by analysts and administrators only. In IT-TECH, where
LCS is the only member, the total is LCS's own and LCS sees the flag.
"""

from __future__ import annotations

import datetime

from sharedsvc.periods import fiscal_year_bounds, fiscal_year_of, previous_month
from tests.field_matrix import READERS, FieldRow

LCS_PEOPLE = READERS | {"manager", "deputy_minister"}


def _benefits(w) -> str:
    today = datetime.date.today()
    last = fiscal_year_of(previous_month(fiscal_year_bounds(fiscal_year_of(today))[0]))
    return f"/api/v1/reports/benefits/?fiscal_year={last}"


def _row(cluster: str):
    return lambda w, row: row["department"] == "LCS" and row["cluster"] == cluster


FIELD_ROWS = [
    FieldRow(
        name="benefits: PAY-PSOA's flag on LCS's row (a total over two departments)",
        url=_benefits,
        pick=_row("PAY-PSOA"),
        field="cluster_flagged",
        seen_by=READERS,
        readers=LCS_PEOPLE,
    ),
    FieldRow(
        name="benefits: IT-TECH's flag on LCS's row (LCS's own total)",
        url=_benefits,
        pick=_row("IT-TECH"),
        field="cluster_flagged",
        seen_by=LCS_PEOPLE,
        readers=LCS_PEOPLE,
    ),
    FieldRow(
        name="benefits: LCS's baseline in PAY-PSOA",
        url=_benefits,
        pick=_row("PAY-PSOA"),
        field="baseline",
        seen_by=LCS_PEOPLE,
        readers=LCS_PEOPLE,
    ),
]
