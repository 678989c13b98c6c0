"""Permission-matrix rows of the service-levels REST API: measurements and the reports.

Measurements are read by everyone signed in (as far as `visible_to` lets them see: a
PAY-PSOA return is for LCS's and ENV's people and PSOA's managers, not FIN's or
TECHSVC's, who get 404); they are submitted and corrected by the provider's managers for
their own clusters (another provider's cluster is 403) and by administrators; nothing is
replaced or deleted (405). Reports answer GET only, to everyone signed in (rows scoped by
role); a department's people asking for another department's alternatives get 403.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

from servicelevels import services
from tests.matrix import Row, statuses
from tests.personas import World

JANUARY = datetime.date(2026, 1, 1)
FEBRUARY = datetime.date(2026, 2, 1)
EVERY_METHOD = ("GET", "POST", "PUT", "PATCH", "DELETE")
NOT_ALLOWED = statuses(405, 401)

# A PAY-PSOA return for LCS: PSOA's managers and administrators; TECHSVC's manager 403
# (not their cluster), everyone else 403 (not their role).
ADD = statuses(403, 401, administrator=201, provider_manager=201)
READ_ONE = statuses(200, 401, recused_deputy_minister=404, other_provider_manager=404)
CHANGE = statuses(403, 401, administrator=200, provider_manager=200, other_provider_manager=404)
REPORT = {"GET": statuses(200, 401), **{m: NOT_ALLOWED for m in EVERY_METHOD if m != "GET"}}


def _standard(w: World):
    return w.payroll.standards.get()


def _measurement(w: World) -> str:
    m = services.measurement_submit(
        actor=w.provider_manager,
        standard=_standard(w),
        cluster=w.pay_psoa,
        department=w.lcs,
        period=FEBRUARY,
        value=Decimal("99.9"),
    )
    return f"/api/v1/measurements/{m.pk}/"


def _report(name: str, query: str = "") -> Row:
    return Row(f"api/v1/reports/{name}/", lambda w: f"/api/v1/reports/{name}/{query}", REPORT)


ROWS: list[Row] = [
    Row(
        "api/v1/measurements/",
        lambda w: "/api/v1/measurements/",
        {
            "GET": statuses(200, 401),
            "POST": ADD,
            "PUT": NOT_ALLOWED,
            "PATCH": NOT_ALLOWED,
            "DELETE": NOT_ALLOWED,
        },
        body=lambda w: {
            "standard": _standard(w).pk,
            "cluster": "PAY-PSOA",
            "department": "LCS",
            "period": "2026-01",
            "value": "99.6",
        },
    ),
    Row(
        "api/v1/measurements/",
        lambda w: "/api/v1/measurements/",
        # A list at once: the same rules for every row.
        {"POST": ADD},
        body=lambda w: [
            {
                "standard": _standard(w).pk,
                "cluster": "PAY-PSOA",
                "department": code,
                "period": "2026-01",
                "value": "99.6",
            }
            for code in ("LCS", "ENV")
        ],
    ),
    Row(
        "api/v1/measurements/<pk>/",
        _measurement,
        {
            "GET": READ_ONE,
            "POST": NOT_ALLOWED,
            "PUT": NOT_ALLOWED,
            "PATCH": CHANGE,
            "DELETE": NOT_ALLOWED,
        },
        body=lambda w: {"value": "98.0"},
    ),
    _report("cluster-costs", "?fiscal_year=2025-26"),
    _report("service-levels", "?period_after=2026-01&persistent_breach=false"),
    _report("self-preference", "?as_of=2026-03"),
    _report("benefits"),
    _report("alternatives"),
    Row(
        "api/v1/reports/alternatives/",
        lambda w: "/api/v1/reports/alternatives/?department=LCS",
        {
            "GET": statuses(
                200, 401, other_manager=403, recused_deputy_minister=403
            ),  # not their department
        },
    ),
]
