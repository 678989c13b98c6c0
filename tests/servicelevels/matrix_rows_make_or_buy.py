"""Permission-matrix rows of make or buy: the page that records an in-house estimate, the
API's `reports/make-or-buy/` and `in-house-estimates/`.

The page records an estimate for LCS: its manager and deputy minister and administrators
may (an empty form: 400), everyone else signed in is refused (403: departments are known to
exist). The report answers GET to everyone signed in (rows scoped by the gate). Estimates
are LCS's private figures: the list is for department roles, analysts and administrators
(a provider's managers: 403); LCS's estimate is read by LCS's people, analysts and
administrators (others: 404); it is recorded by LCS's people and administrators (ENV's
manager and FIN's deputy minister: 403), and never changed or deleted (405).
"""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.utils import timezone

from budgets.services import in_house_estimate_record
from tests.matrix import Row, statuses
from tests.personas import World

SIGNED_OUT = 302  # pages send the signed-out to sign in
EVERY_METHOD = ("GET", "POST", "PUT", "PATCH", "DELETE")
API_NOT_ALLOWED = statuses(405, 401)

LCS_PEOPLE = {"manager": 200, "deputy_minister": 200, "administrator": 200}
NEW_PAGE = statuses(403, SIGNED_OUT, **LCS_PEOPLE)
NEW_POST = statuses(403, SIGNED_OUT, manager=400, deputy_minister=400, administrator=400)
REPORT = {"GET": statuses(200, 401), **{m: API_NOT_ALLOWED for m in EVERY_METHOD if m != "GET"}}
ESTIMATES_READ = statuses(200, 401, provider_manager=403, other_provider_manager=403)
ESTIMATES_ADD = statuses(403, 401, manager=201, deputy_minister=201, administrator=201)
ESTIMATE_READ_ONE = statuses(
    404, 401, analyst=200, provider_manager=403, other_provider_manager=403, **LCS_PEOPLE
)
# Nothing changes an estimate (405); a provider's managers are refused before that (403).
ESTIMATE_WRITE = statuses(405, 401, provider_manager=403, other_provider_manager=403)


def _estimate(w: World) -> str:
    estimate = in_house_estimate_record(
        actor=w.manager,
        department=w.lcs,
        service=w.payroll,
        annual_cost=Decimal("90000.00"),
        estimated_on=timezone.localdate() - datetime.timedelta(days=3),
        note="Two payroll officers and the licence.",
    )
    return f"/api/v1/in-house-estimates/{estimate.pk}/"


def _new(w: World) -> dict:
    return {
        "department": "LCS",
        "service": "PAY",
        "annual_cost": "95000.00",
        "estimated_on": timezone.localdate().isoformat(),
        "note": "Quoted by our HR team.",
    }


ROWS: list[Row] = [
    Row(
        "departments/<code>/in-house-estimates/new/",
        lambda w: "/departments/LCS/in-house-estimates/new/",
        {"GET": NEW_PAGE, "POST": NEW_POST, "DELETE": statuses(405, SIGNED_OUT)},
    ),
    Row(
        "api/v1/reports/make-or-buy/",
        lambda w: "/api/v1/reports/make-or-buy/?quarter_after=2025-26-Q1",
        REPORT,
    ),
    Row(
        "api/v1/in-house-estimates/",
        lambda w: "/api/v1/in-house-estimates/",
        {
            "GET": ESTIMATES_READ,
            "POST": ESTIMATES_ADD,
            "PUT": ESTIMATE_WRITE,
            "PATCH": ESTIMATE_WRITE,
            "DELETE": ESTIMATE_WRITE,
        },
        body=_new,
    ),
    Row(
        "api/v1/in-house-estimates/<pk>/",
        _estimate,
        {
            "GET": ESTIMATE_READ_ONE,
            "POST": ESTIMATE_WRITE,
            "PUT": ESTIMATE_WRITE,
            "PATCH": ESTIMATE_WRITE,
            "DELETE": ESTIMATE_WRITE,
        },
        body=lambda w: {"annual_cost": "1.00"},
    ),
]
