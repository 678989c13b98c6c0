"""Permission-matrix rows of the pilot pages: every signed-in user reads the list and a
pilot's plan; only administrators plan one or put a decision to the board (an empty form
is 400 for them, 403 for anyone else)."""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.utils import timezone

from clusters.models import Lifecycle
from initiatives.pilots import pilot_plan_create
from tests.factories import ClusterFactory, ServiceFactory
from tests.matrix import PAGE, Row, statuses
from tests.personas import World

ADMINISTRATORS_ONLY = statuses(403, 302, administrator=200)
ADMINISTRATORS_FORM = statuses(403, 302, administrator=400)


def _pilot(w: World) -> str:
    service = ServiceFactory(code="MAIL", name="Digital mail", lifecycle=Lifecycle.PILOT)
    cluster = ClusterFactory(code="MAIL-TECH", service=service, provider=w.tech_provider)
    today = timezone.localdate()
    pilot_plan_create(
        actor=None,
        service=service,
        clusters=[cluster],
        starts_on=today - datetime.timedelta(days=90),
        ends_on=today + datetime.timedelta(days=90),
        min_compliance_rate=Decimal("90"),
        max_cost_per_unit=Decimal("10"),
        min_members=1,
    )
    return "/pilots/MAIL/"


ROWS = [
    Row("pilots/", lambda w: "/pilots/", {"GET": PAGE}),
    Row(
        "pilots/new/",
        lambda w: "/pilots/new/",
        {"GET": ADMINISTRATORS_ONLY, "POST": ADMINISTRATORS_FORM},
    ),
    Row("pilots/<code>/", _pilot, {"GET": PAGE, "POST": ADMINISTRATORS_FORM}),
    Row("(no such pilot)", lambda w: "/pilots/NOPE/", {"GET": statuses(404, 302)}),
]
