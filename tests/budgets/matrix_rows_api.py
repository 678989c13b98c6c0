"""Permission-matrix rows of the money side's REST API (list and detail, every method).

Budget lines are the department's: its manager and deputy minister write them, another
department gets 404 (even their existence is private), providers 403 (the resource is not
for their role). Cost pools are written by the provider's managers for their own clusters;
a detail outside what one may see is 404. Charges are read only (405 to any write).
Chargeback runs are the administrators' to start, the analysts' to follow. Each URL builds
its object inside the request's rolled-back savepoint, so a delete never runs out of rows.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

from budgets import services
from budgets.models import Charge, ChargebackRun, CostPool
from tests.matrix import Row, statuses
from tests.personas import World

APRIL = datetime.date(2026, 4, 1)
MAY = datetime.date(2026, 5, 1)
EVERY_METHOD = ("GET", "POST", "PUT", "PATCH", "DELETE")

# Budget lines ------------------------------------------------------------------------

LINES_READ = statuses(200, 401, provider_manager=403, other_provider_manager=403)
# Adding a line for LCS: LCS's people and administrators; ENV's and FIN's people 403.
LINES_ADD = statuses(403, 401, administrator=201, manager=201, deputy_minister=201)
LINE_READ = statuses(
    200,
    401,
    other_manager=404,
    recused_deputy_minister=404,
    provider_manager=403,
    other_provider_manager=403,
)


def _line_write(ok: int) -> dict[str, int]:
    return statuses(
        403,
        401,
        administrator=ok,
        manager=ok,
        deputy_minister=ok,
        other_manager=404,
        recused_deputy_minister=404,
    )


# Cost pools --------------------------------------------------------------------------

POOLS_ADD = statuses(403, 401, administrator=201, provider_manager=201)
# A PAY-PSOA pool: LCS and ENV belong to the cluster and read it; FIN and TECHSVC do not.
POOL_READ = statuses(200, 401, recused_deputy_minister=404, other_provider_manager=404)


def _pool_write(ok: int) -> dict[str, int]:
    return statuses(403, 401, administrator=ok, provider_manager=ok, other_provider_manager=404)


# Charges and runs --------------------------------------------------------------------

READ_ONLY = statuses(405, 401)
# LCS's PAY-PSOA charge: LCS's people, its fellow current member ENV and PSOA's managers
# see it (ENV and PSOA without `budget_line` and `unfunded`); other parties do not.
CHARGE_READ = statuses(
    200,
    401,
    recused_deputy_minister=404,
    other_provider_manager=404,
)
RUNS_READ = statuses(403, 401, administrator=200, analyst=200)
RUNS_ADD = statuses(403, 401, administrator=201)
RUN_WRITE = statuses(403, 401, administrator=405, analyst=405)


def _line(w: World) -> str:
    line = services.budget_line_create(
        actor=w.administrator,
        department=w.lcs,
        fiscal_year="2026-27",
        service=w.payroll,
        allocated=Decimal("1000.00"),
    )
    return f"/api/v1/budget-lines/{line.pk}/"


def _pool(w: World) -> str:
    pool = CostPool.objects.create(cluster=w.pay_psoa, period=MAY, amount=Decimal("10.00"))
    return f"/api/v1/cost-pools/{pool.pk}/"


def _charge(w: World) -> str:
    CostPool.objects.create(cluster=w.pay_psoa, period=APRIL, amount=Decimal("700.00"))
    services.chargeback_run(actor=w.administrator, period=APRIL)
    charge = Charge.objects.get(department=w.lcs, cluster=w.pay_psoa, period=APRIL)
    return f"/api/v1/charges/{charge.pk}/"


def _run(w: World) -> str:
    run = ChargebackRun.objects.create(period=APRIL, requested_by=w.administrator)
    return f"/api/v1/chargeback-runs/{run.pk}/"


ROWS: list[Row] = [
    Row(
        "api/v1/budget-lines/",
        lambda w: "/api/v1/budget-lines/",
        {
            "GET": LINES_READ,
            "POST": LINES_ADD,
            # No method on the list but GET and POST; providers are still told 405, not
            # that budgets exist (a 405 says nothing about any line).
            "PUT": statuses(405, 401),
            "PATCH": statuses(405, 401),
            "DELETE": statuses(405, 401),
        },
        body=lambda w: {
            "department": "LCS",
            "fiscal_year": "2025-26",
            "service": "PAY",
            "allocated": "5.00",
        },
    ),
    Row(
        "api/v1/budget-lines/<pk>/",
        _line,
        {
            "GET": LINE_READ,
            "POST": statuses(405, 401),
            "PUT": _line_write(200),
            "PATCH": _line_write(200),
            "DELETE": _line_write(204),
        },
        body=lambda w: {"allocated": "7.00"},
    ),
    Row(
        "api/v1/cost-pools/",
        lambda w: "/api/v1/cost-pools/",
        {
            "GET": statuses(200, 401),
            "POST": POOLS_ADD,
            "PUT": statuses(405, 401),
            "PATCH": statuses(405, 401),
            "DELETE": statuses(405, 401),
        },
        body=lambda w: {"cluster": "PAY-PSOA", "period": "2026-05", "amount": "10.00"},
    ),
    Row(
        "api/v1/cost-pools/<pk>/",
        _pool,
        {
            "GET": POOL_READ,
            "POST": statuses(405, 401),
            "PUT": _pool_write(200),
            "PATCH": _pool_write(200),
            "DELETE": _pool_write(204),
        },
        body=lambda w: {"amount": "11.00"},
    ),
    Row(
        "api/v1/charges/",
        lambda w: "/api/v1/charges/",
        {"GET": statuses(200, 401), **{m: READ_ONLY for m in EVERY_METHOD if m != "GET"}},
        body=lambda w: {"department": "LCS", "cluster": "PAY-PSOA", "amount": "1.00"},
    ),
    Row(
        "api/v1/charges/<pk>/",
        _charge,
        {"GET": CHARGE_READ, **{m: READ_ONLY for m in EVERY_METHOD if m != "GET"}},
        body=lambda w: {"amount": "1.00"},
    ),
    Row(
        "api/v1/chargeback-runs/",
        lambda w: "/api/v1/chargeback-runs/",
        {
            "GET": RUNS_READ,
            "POST": RUNS_ADD,
            "PUT": RUN_WRITE,
            "PATCH": RUN_WRITE,
            "DELETE": RUN_WRITE,
        },
        body=lambda w: {"period": "2026-04"},
    ),
    Row(
        "api/v1/chargeback-runs/<pk>/",
        _run,
        {
            "GET": RUNS_READ,
            "POST": RUN_WRITE,
            "PUT": RUN_WRITE,
            "PATCH": RUN_WRITE,
            "DELETE": RUN_WRITE,
        },
        body=lambda w: {"status": "done"},
    ),
]
