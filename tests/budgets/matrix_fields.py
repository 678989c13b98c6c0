"""Field-level matrix rows of charges: who reads whether a charge is on a budget line.

`budget_line` and `unfunded` tell whether the department has a budget line: its private
figure, for its managers and deputy minister, analysts and administrators. The fellow
current member (ENV's manager, for LCS's PAY-PSOA charge) and the provider running the
cluster (the PSOA's manager) read the charge and its amount, but those two fields are null
for them. TECHSVC's manager and FIN's deputy minister do not read the charge at all.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

from budgets import services
from budgets.models import Charge
from tests.field_matrix import READERS, FieldRow
from tests.personas import World

APRIL = datetime.date(2026, 4, 1)
DEPARTMENT = READERS | {"manager", "deputy_minister"}
CHARGE_READERS = DEPARTMENT | {"other_manager", "provider_manager"}


def _charged(w: World) -> None:
    """LCS has a payroll line for 2026-27; April's PAY-PSOA pool is charged."""
    services.budget_line_create(
        actor=None,
        department=w.lcs,
        fiscal_year="2026-27",
        service=w.payroll,
        allocated=Decimal("5000.00"),
    )
    services.cost_pool_create(actor=None, cluster=w.pay_psoa, period=APRIL, amount=Decimal("700"))
    services.chargeback_run(actor=None, period=APRIL)


def _lcs_charge(w: World) -> str:
    charge = Charge.objects.get(department=w.lcs, cluster=w.pay_psoa, period=APRIL)
    return f"/api/v1/charges/{charge.pk}/"


def _lcs_row(w: World, row: dict) -> bool:
    return row["department"] == "LCS" and row["cluster"] == "PAY-PSOA"


FIELD_ROWS = (
    [
        FieldRow(
            name=f"charge {field} of LCS in PAY-PSOA",
            url=_lcs_charge,
            field=field,
            seen_by=DEPARTMENT,
            readers=CHARGE_READERS,
            setup=_charged,
        )
        for field in ("budget_line", "unfunded")
    ]
    + [
        FieldRow(
            name=f"charge {field} of LCS in the charges list",
            url=lambda w: "/api/v1/charges/?cluster=PAY-PSOA",
            pick=_lcs_row,
            field=field,
            seen_by=DEPARTMENT,
            readers=CHARGE_READERS,
            setup=_charged,
        )
        for field in ("budget_line", "unfunded")
    ]
    + [
        FieldRow(
            name="charge amount of LCS in PAY-PSOA",
            url=_lcs_charge,
            field="amount",
            seen_by=CHARGE_READERS,
            readers=CHARGE_READERS,
            setup=_charged,
        ),
    ]
)
