"""Permission-matrix rows of the money pages.

A department's budget is its own people's, administrators' and analysts': anyone else gets
404, since even its existence is private. Cost pools belong to the provider's managers and
administrators (analysts read them); the chargeback to administrators (analysts read it).
Writes posted without a form's fields answer 400 to those allowed to write.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

from budgets import services
from budgets.models import ChargebackRun
from tests.matrix import Row, statuses
from tests.personas import World

SIGNED_OUT = 302  # pages send the signed-out to sign in

BUDGET_READ = statuses(
    404, SIGNED_OUT, administrator=200, analyst=200, manager=200, deputy_minister=200
)
BUDGET_WRITE = statuses(
    404, SIGNED_OUT, administrator=400, analyst=403, manager=400, deputy_minister=400
)
LINE_FORM = statuses(
    404, SIGNED_OUT, administrator=200, analyst=403, manager=200, deputy_minister=200
)
POOLS_READ = statuses(403, SIGNED_OUT, administrator=200, analyst=200, provider_manager=200)
POOLS_WRITE = statuses(403, SIGNED_OUT, administrator=400, provider_manager=400)
POOLS_FORM = statuses(403, SIGNED_OUT, administrator=200, provider_manager=200)
# No preview waiting: those allowed are sent back to the upload page.
POOLS_CONFIRM = statuses(403, SIGNED_OUT, administrator=302, provider_manager=302)
RUNS_READ = statuses(403, SIGNED_OUT, administrator=200, analyst=200)
RUNS_WRITE = statuses(403, SIGNED_OUT, administrator=400)


def _line(w: World) -> str:
    line = services.budget_line_create(
        actor=w.administrator,
        department=w.lcs,
        fiscal_year="2026-27",
        service=w.payroll,
        allocated=Decimal("1000.00"),
    )
    return f"/departments/LCS/budget/lines/{line.pk}/"


def _run(w: World) -> str:
    run = ChargebackRun.objects.create(period=datetime.date(2026, 4, 1))
    return f"/chargeback/runs/{run.pk}/"


ROWS: list[Row] = [
    Row(
        "departments/<code>/budget/",
        lambda w: "/departments/LCS/budget/",
        {"GET": BUDGET_READ, "POST": BUDGET_WRITE},
    ),
    Row(
        "departments/<code>/budget/lines/<pk>/",
        _line,
        {"GET": LINE_FORM, "POST": BUDGET_WRITE},
    ),
    Row(
        "providers/<code>/cost-pools/",
        lambda w: "/providers/PSOA/cost-pools/",
        {"GET": POOLS_READ, "POST": POOLS_WRITE},
    ),
    Row(
        "providers/<code>/cost-pools/upload/",
        lambda w: "/providers/PSOA/cost-pools/upload/",
        {"GET": POOLS_FORM, "POST": POOLS_WRITE},
    ),
    Row(
        "providers/<code>/cost-pools/upload/confirm/",
        lambda w: "/providers/PSOA/cost-pools/upload/confirm/",
        {"POST": POOLS_CONFIRM, "GET": statuses(405, SIGNED_OUT)},
    ),
    Row("chargeback/", lambda w: "/chargeback/", {"GET": RUNS_READ, "POST": RUNS_WRITE}),
    Row("chargeback/runs/<pk>/", _run, {"GET": RUNS_READ}),
]
