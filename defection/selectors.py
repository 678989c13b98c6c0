"""Reads of the defection app: what a departure costs those who stay."""

from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db.models import Q

from budgets.models import CostPool
from clusters.models import Cluster, Membership, ProviderKind
from sharedsvc.periods import format_period, next_month

CENT = Decimal("0.01")
UNIT = Decimal("0.0001")


def _q(value: Decimal | None, step: Decimal) -> str | None:
    return None if value is None else str(value.quantize(step, rounding=ROUND_HALF_UP))


def exit_impact(*, cluster: Cluster, department_id: int) -> dict[str, Any]:
    """The exit impact of DESIGN.md, from the cluster's latest cost pool.

    U = usage of the members active in the pool's month, u = the leaver's,
    f = fixed_cost_ratio; pool_after = pool x (f + (1 - f) x (U - u) / U);
    unit costs before and after, and each remaining member's share before and after.
    Values are null where there is no pool yet or nobody remains.
    """
    latest = CostPool.objects.filter(cluster=cluster).order_by("-period").first()
    if latest is None:
        members = (
            Membership.objects.filter(cluster=cluster, leaves_on__isnull=True)
            .exclude(department_id=department_id)
            .select_related("department")
            .order_by("department__code")
        )
        return {
            "period": None,
            "pool": None,
            "fixed_cost_ratio": str(cluster.fixed_cost_ratio),
            "units_before": None,
            "units_after": None,
            "unit_cost_before": None,
            "unit_cost_after": None,
            "members": [
                {
                    "department": m.department.code,
                    "usage_units": m.usage_units,
                    "before": None,
                    "after": None,
                }
                for m in members
            ],
        }
    start, end = latest.period, next_month(latest.period)
    usage: dict[str, int] = defaultdict(int)
    leaver_code = None
    for m in (
        Membership.objects.filter(cluster=cluster, joined_on__lt=end)
        .exclude(leaves_on__lte=start)
        .select_related("department")
    ):
        usage[m.department.code] += m.usage_units
        if m.department_id == department_id:
            leaver_code = m.department.code
    total = sum(usage.values())
    leaver = usage.pop(leaver_code, 0) if leaver_code else 0
    remaining = total - leaver
    pool, f = latest.amount, cluster.fixed_cost_ratio
    before = pool / total if total else None
    if total and remaining:
        pool_after = pool * (f + (1 - f) * Decimal(remaining) / Decimal(total))
        after = pool_after / remaining
    else:
        pool_after, after = (pool if total else None), None
    return {
        "period": format_period(latest.period),
        "pool": str(pool),
        "fixed_cost_ratio": str(f),
        "pool_after": _q(pool_after, CENT),
        "units_before": total,
        "units_after": remaining,
        "unit_cost_before": _q(before, UNIT),
        "unit_cost_after": _q(after, UNIT),
        "members": [
            {
                "department": code,
                "usage_units": units,
                "before": _q(units * before, CENT) if before is not None else None,
                "after": _q(units * after, CENT) if after is not None else None,
            }
            for code, units in sorted(usage.items())
        ],
    }


def cluster_room(cluster: Cluster, on) -> int | None:
    """Usage units a cluster can still take on a day (None: unlimited)."""
    if cluster.capacity is None:
        return None
    used = sum(
        Membership.objects.filter(cluster=cluster)
        .active_on(on)
        .values_list("usage_units", flat=True)
    )
    return cluster.capacity - used


@dataclass(frozen=True)
class ClusterOption:
    """Another cluster of the same service a member could move to, as the leave page shows it."""

    cluster: Cluster
    period: datetime.date | None  # the month of its latest cost pool
    unit_cost: Decimal | None  # that pool / units of the members active that month
    room: int | None  # units it can still take on the leave date (None: unlimited)
    needed: int

    @property
    def fits(self) -> bool:
        return self.room is None or self.room >= self.needed

    @property
    def is_psoa(self) -> bool:
        return self.cluster.provider.kind == ProviderKind.PSOA


def destination_clusters(*, user, membership: Membership, on: datetime.date) -> list[ClusterOption]:
    """The other clusters of the membership's service, each with its current cost per unit
    and its room on `on` (3 queries: clusters, latest pools, their memberships).

    Cost per unit and room are figures about other clusters that DESIGN.md shows to any
    member weighing its alternatives, so they are computed here from pools and
    memberships the user may not otherwise read; nothing else of them is shown.
    """
    clusters = list(
        Cluster.objects.visible_to(user)
        .filter(service_id=membership.cluster.service_id)
        .exclude(pk=membership.cluster_id)
        .select_related("provider__host_department", "service")
        .order_by("name", "code")
    )
    if not clusters:
        return []
    ids = [c.pk for c in clusters]
    # The latest pool of each cluster: PostgreSQL's DISTINCT ON.
    pools = {
        pool.cluster_id: pool
        for pool in CostPool.objects.filter(cluster_id__in=ids)
        .order_by("cluster_id", "-period")
        .distinct("cluster_id")
    }
    since = min([pool.period for pool in pools.values()] + [on])
    units_in_month: dict[int, int] = defaultdict(int)
    used_on: dict[int, int] = defaultdict(int)
    for cluster_id, joined_on, leaves_on, units in (
        Membership.objects.filter(cluster_id__in=ids)
        .filter(Q(leaves_on__isnull=True) | Q(leaves_on__gt=since))
        .values_list("cluster_id", "joined_on", "leaves_on", "usage_units")
    ):
        pool = pools.get(cluster_id)
        # Active in the pool's month: the same members exit_impact counts.
        if (
            pool is not None
            and joined_on < next_month(pool.period)
            and (leaves_on is None or leaves_on > pool.period)
        ):
            units_in_month[cluster_id] += units
        # Active on the day: as cluster_room counts them.
        if joined_on <= on and (leaves_on is None or leaves_on > on):
            used_on[cluster_id] += units
    options = []
    for cluster in clusters:
        pool = pools.get(cluster.pk)
        units = units_in_month.get(cluster.pk, 0)
        options.append(
            ClusterOption(
                cluster=cluster,
                period=pool.period if pool else None,
                unit_cost=(pool.amount / units).quantize(UNIT, rounding=ROUND_HALF_UP)
                if pool and units
                else None,
                room=None
                if cluster.capacity is None
                else cluster.capacity - used_on.get(cluster.pk, 0),
                needed=membership.usage_units,
            )
        )
    return options
