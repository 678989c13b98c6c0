"""The world of the pilot tests: a service in pilot, Digital mail, in one cluster run by
TECHSVC (hosted by TECH), with three members, three months of pools, charges and returns,
and four seats on the board."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from budgets.services import chargeback_run, cost_pool_create
from clusters.models import Lifecycle
from initiatives import pilots
from initiatives.models import PilotPlan
from servicelevels.models import Measurement
from sharedsvc.periods import month_start, previous_month
from sharedsvc.roles import Role
from tests.factories import (
    ClusterFactory,
    MembershipFactory,
    ServiceFactory,
    StandardFactory,
    UserFactory,
)


def months_back(n: int) -> datetime.date:
    month = month_start(timezone.localdate())
    for _ in range(n):
        month = previous_month(month)
    return month


@pytest.fixture(name="seated")
def seated_fixture(world):
    """Deputy ministers for ENV and TECH too: four seats (TECH hosts the pilot's provider)."""
    for department in (world.env, world.tech):
        dm = UserFactory(
            username=f"dm_{department.code.lower()}",
            role=Role.DEPUTY_MINISTER,
            department=department,
        )
        department.deputy_minister = dm
        department.save()
    return world


@pytest.fixture(name="mail")
def mail_fixture(seated):
    """A pilot service, Digital mail, in one cluster run by TECHSVC (hosted by TECH), with
    LCS, ENV and FIN as members (100 units and a 12,000 baseline each) from three months
    ago, a 2,400 pool each month, charged, and each member's return for each month: ENV's
    first one misses the standard."""
    world = seated
    service = ServiceFactory(
        code="MAIL", name="Digital mail", category="it", lifecycle=Lifecycle.PILOT
    )
    standard = StandardFactory(
        service=service, name="Delivered the same day", unit="%", target="95"
    )
    cluster = ClusterFactory(
        code="MAIL-TECH",
        name="Technology Mail",
        service=service,
        provider=world.tech_provider,
        notice_days=30,
    )
    start = months_back(3)
    for department in (world.lcs, world.env, world.fin):
        MembershipFactory(
            department=department,
            cluster=cluster,
            joined_on=start,
            usage_units=100,
            baseline_annual_cost=Decimal("12000.00"),
        )
    months = [months_back(n) for n in (3, 2, 1)]
    for month in months:
        cost_pool_create(
            actor=world.administrator, cluster=cluster, period=month, amount=Decimal("2400.00")
        )
        chargeback_run(actor=world.administrator, period=month)
        for department in (world.lcs, world.env, world.fin):
            missed = department == world.env and month == months[0]
            Measurement.objects.create(
                standard=standard,
                cluster=cluster,
                department=department,
                period=month,
                value=Decimal("90" if missed else "97"),
                submitted_by=world.other_provider_manager,
                submitted_at=timezone.now(),
            )
    world.mail = service
    world.mail_cluster = cluster
    return world


def plan_of(world, **overrides) -> PilotPlan:
    fields = {
        "actor": world.administrator,
        "service": world.mail,
        "clusters": [world.mail_cluster],
        "starts_on": months_back(3),
        "ends_on": timezone.localdate() + datetime.timedelta(days=60),
        "min_compliance_rate": Decimal("85"),
        "max_cost_per_unit": Decimal("10.00"),
        "min_members": 3,
        "min_benefit": Decimal("0"),
    }
    return pilots.pilot_plan_create(**{**fields, **overrides})
