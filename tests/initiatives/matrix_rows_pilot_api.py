"""Permission-matrix rows of the pilots' API.

Digital mail (MAIL) is a service in pilot, in one cluster run by TECHSVC with LCS and ENV
as members. Every signed-in user reads its plan and the list of its evaluations (which is
empty for those who may not read the evidence, never a 404: the plan is public).
Administrators plan a pilot (201) and ask for its evaluation (201; 409 once it is with the
board); everyone else is refused (403). Its evidence so far is read by those who read the
pilot's evidence (everyone but the PSOA's provider manager, whose provider runs no cluster of
it: 404), while it runs or is with the board (a decided pilot's is 404 to all). Nothing else
is written here (405).
"""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

from django.utils import timezone

from clusters.models import Lifecycle
from initiatives.models import PilotPlan, PilotStatus
from initiatives.pilots import pilot_evaluate, pilot_plan_create
from tests.factories import ClusterFactory, MembershipFactory, ServiceFactory
from tests.matrix import API_READ, Row, statuses
from tests.personas import World

PILOT_PLANS = "/api/v1/pilot-plans/"
NOT_ALLOWED = statuses(405, 401)
ADMINISTRATORS = statuses(403, 401, administrator=201)
# Who reads MAIL's evidence: all but the PSOA's provider manager (no cluster of the pilot).
READS_EVIDENCE = statuses(200, 401, provider_manager=404)


def _pilot_service(w: World, code: str = "MAIL"):
    service = ServiceFactory(
        code=code, name=f"Digital {code.lower()}", category="it", lifecycle=Lifecycle.PILOT
    )
    cluster = ClusterFactory(
        code=f"{code}-TECH", service=service, provider=w.tech_provider, notice_days=30
    )
    start = timezone.localdate() - datetime.timedelta(days=90)
    for department in (w.lcs, w.env):
        MembershipFactory(department=department, cluster=cluster, joined_on=start)
    return service, cluster


def _running(w: World) -> PilotPlan:
    service, cluster = _pilot_service(w)
    today = timezone.localdate()
    return pilot_plan_create(
        actor=w.administrator,
        service=service,
        clusters=[cluster],
        starts_on=today - datetime.timedelta(days=90),
        ends_on=today + datetime.timedelta(days=60),
        min_compliance_rate=Decimal("85"),
        max_cost_per_unit=Decimal("10.00"),
        min_members=2,
        min_benefit=Decimal("0"),
    )


def _plan(w: World) -> str:
    return _running(w).service.code


def _evaluated(w: World) -> str:
    plan = _running(w)
    pilot_evaluate(actor=w.administrator, plan=plan)
    return plan.service.code


def _decided(w: World) -> str:
    plan = _running(w)
    PilotPlan.objects.filter(pk=plan.pk).update(status=PilotStatus.LIVE)
    return plan.service.code


def _new_plan(w: World) -> dict[str, Any]:
    service, cluster = _pilot_service(w, "POST")
    today = timezone.localdate()
    return {
        "service": service.code,
        "clusters": [cluster.code],
        "starts_on": today.isoformat(),
        "ends_on": (today + datetime.timedelta(days=180)).isoformat(),
        "min_compliance_rate": "90.0",
        "max_cost_per_unit": "12.50",
        "min_members": 2,
    }


ROWS: list[Row] = [
    Row(
        "api/v1/pilot-plans/",
        lambda w: PILOT_PLANS,
        {"GET": API_READ, "POST": ADMINISTRATORS},
        body=_new_plan,
    ),
    Row(
        "api/v1/pilot-plans/<service_code>/",
        lambda w: f"{PILOT_PLANS}{_plan(w)}/",
        {"GET": API_READ, "PUT": NOT_ALLOWED, "PATCH": NOT_ALLOWED, "DELETE": NOT_ALLOWED},
    ),
    Row(
        "(no such pilot plan, API)",
        lambda w: f"{PILOT_PLANS}NOPE/",
        {"GET": statuses(404, 401)},
    ),
    Row(
        "api/v1/pilot-plans/<service_code>/evaluations/",
        lambda w: f"{PILOT_PLANS}{_plan(w)}/evaluations/",
        {"GET": API_READ, "POST": ADMINISTRATORS},
        body=lambda w: {},
    ),
    Row(
        "(a pilot already with the board, API)",
        lambda w: f"{PILOT_PLANS}{_evaluated(w)}/evaluations/",
        {"GET": API_READ, "POST": statuses(403, 401, administrator=409)},
        body=lambda w: {"decision": "go_live"},
    ),
    Row(
        "(no such pilot plan's evaluations, API)",
        lambda w: f"{PILOT_PLANS}NOPE/evaluations/",
        {"GET": statuses(404, 401), "POST": statuses(403, 401, administrator=404)},
    ),
    Row(
        "api/v1/pilot-plans/<service_code>/evidence/",
        lambda w: f"{PILOT_PLANS}{_plan(w)}/evidence/",
        {
            "GET": READS_EVIDENCE,
            "POST": NOT_ALLOWED,
            "PUT": NOT_ALLOWED,
            "PATCH": NOT_ALLOWED,
            "DELETE": NOT_ALLOWED,
        },
    ),
    Row(
        "(a pilot with the board: its evidence so far, API)",
        lambda w: f"{PILOT_PLANS}{_evaluated(w)}/evidence/",
        {"GET": READS_EVIDENCE},
    ),
    Row(
        "(a decided pilot: no evidence so far, API)",
        lambda w: f"{PILOT_PLANS}{_decided(w)}/evidence/",
        {"GET": statuses(404, 401)},
    ),
    Row(
        "(no such pilot plan's evidence, API)",
        lambda w: f"{PILOT_PLANS}NOPE/evidence/",
        {"GET": statuses(404, 401)},
    ),
]
