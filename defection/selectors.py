"""Reads of the defection app: what a departure costs those who stay."""

from __future__ import annotations

from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from budgets.models import CostPool
from clusters.models import Cluster, Membership
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
