"""Permission-matrix rows of the pilot pages: every signed-in user reads the list and a
pilot's plan; only administrators plan one or put a decision to the board (an empty form
is 400 for them, 403 for anyone else)."""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.utils import timezone

from clusters.models import Lifecycle
from initiatives.models import PilotPlan
from initiatives.pilots import pilot_evaluate, pilot_plan_create
from tests.factories import ClusterFactory, MembershipFactory, ServiceFactory
from tests.matrix import PAGE, Row, statuses
from tests.personas import World

ADMINISTRATORS_ONLY = statuses(403, 302, administrator=200)
ADMINISTRATORS_FORM = statuses(403, 302, administrator=400)
NOT_A_READER = {"other_manager": 404, "provider_manager": 404}
CASE_READERS = statuses(200, 302, **NOT_A_READER)
CASE_VOTERS = statuses(403, 302, deputy_minister=400, recused_deputy_minister=400, **NOT_A_READER)


def _plan(w: World) -> PilotPlan:
    service = ServiceFactory(code="MAIL", name="Digital mail", lifecycle=Lifecycle.PILOT)
    cluster = ClusterFactory(code="MAIL-TECH", service=service, provider=w.tech_provider)
    MembershipFactory(department=w.lcs, cluster=cluster, joined_on=datetime.date(2025, 4, 1))
    today = timezone.localdate()
    return pilot_plan_create(
        actor=None,
        service=service,
        clusters=[cluster],
        starts_on=today - datetime.timedelta(days=90),
        ends_on=today + datetime.timedelta(days=90),
        min_compliance_rate=Decimal("90"),
        max_cost_per_unit=Decimal("10"),
        min_members=1,
    )


def _pilot(w: World) -> str:
    _plan(w)
    return "/pilots/MAIL/"


def _pilot_case(w: World) -> str:
    """The case is opened as the daily job would, at the pilot's end."""
    at_end = timezone.now() + datetime.timedelta(days=91)
    return f"/cases/{pilot_evaluate(actor=None, plan=_plan(w), now=at_end).case_id}/"


ROWS = [
    Row("pilots/", lambda w: "/pilots/", {"GET": PAGE}),
    Row(
        "pilots/new/",
        lambda w: "/pilots/new/",
        {"GET": ADMINISTRATORS_ONLY, "POST": ADMINISTRATORS_FORM},
    ),
    Row("pilots/<code>/", _pilot, {"GET": PAGE, "POST": ADMINISTRATORS_FORM}),
    Row("(no such pilot)", lambda w: "/pilots/NOPE/", {"GET": statuses(404, 302)}),
    # A pilot's case: read by the board's seats, analysts, administrators, the provider
    # running its cluster (TECHSVC) and its member (LCS); voted on by the eligible seats
    # (LCS and FIN: TECH, the provider's host, is recused).
    Row(
        "(a pilot case)",
        _pilot_case,
        {"GET": CASE_READERS, "POST": CASE_VOTERS},
    ),
]
