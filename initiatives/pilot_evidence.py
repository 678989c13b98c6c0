"""The evidence against a pilot's success criteria, compiled from the measured data: the
returns (compliance with the service's standards), the cost pools (cost per unit), the
memberships (members on the day, departures during the pilot) and the charges against the
members' baselines (benefit).

The evidence covers the months of the pilot that are complete on the day it is compiled,
and is kept with the evaluation as it was (`PilotEvaluation.evidence`), so that the board's
decision can be read later against what it was shown. Four queries, whatever the size.

Money is summed month by month, each month rounded to the cent, so the months add up to
the total shown.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db.models import Count, Q, Sum

from budgets.models import Charge, CostPool
from clusters.models import Membership
from clusters.rules import WITHHELD, sees_total_over
from initiatives.models import PilotPlan
from servicelevels.models import Measurement, met_expression
from sharedsvc.periods import format_period, month_start, next_month

CENT = Decimal("0.01")
TENTH = Decimal("0.1")
DAYS_IN_YEAR = Decimal("365")

COMPLIANCE = "compliance_rate"
COST = "cost_per_unit"
MEMBERS = "members"
BENEFIT = "benefit"


def _cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def _text(value: Decimal | int | None) -> str | None:
    return None if value is None else str(value)


def pilot_months(plan: PilotPlan, as_of: datetime.date) -> list[datetime.date]:
    """The pilot's months (first days) from its start to its end, complete on `as_of`."""
    months = []
    month = month_start(plan.starts_on)
    last = month_start(plan.ends_on)
    complete_before = month_start(as_of)
    while month <= last and month < complete_before:
        months.append(month)
        month = next_month(month)
    return months


def _overlap_days(membership: Membership, start: datetime.date, end: datetime.date) -> int:
    """Days of [start, end) the membership [joined_on, leaves_on) covers."""
    first = max(membership.joined_on, start)
    last = min(membership.leaves_on or end, end)
    return max(0, (last - first).days)


def pilot_evidence(plan: PilotPlan, *, as_of: datetime.date) -> dict[str, Any]:
    """Each criterion with its target, what was measured, whether it is met and the months
    behind it; the members on `as_of`, the departures during the pilot, and the ids of the
    departments whose baselines the benefit is summed over (`contributors`). JSON-ready:
    numbers as decimal strings, dates as ISO strings, months as YYYY-MM."""
    cluster_ids = list(plan.plan_clusters.values_list("cluster_id", flat=True))
    months = pilot_months(plan, as_of)
    start = months[0] if months else month_start(plan.starts_on)
    end = next_month(months[-1]) if months else start

    returns = _returns_by_month(cluster_ids, start, end)
    pools: dict[tuple[int, datetime.date], Decimal] = {
        (row["cluster_id"], row["period"]): row["amount"]
        for row in CostPool.objects.filter(
            cluster_id__in=cluster_ids, period__gte=start, period__lt=end
        ).values("cluster_id", "period", "amount")
    }
    charged = {
        row["period"]: row["amount"]
        for row in Charge.objects.filter(
            cluster_id__in=cluster_ids, period__gte=start, period__lt=end
        )
        .values("period")
        .annotate(amount=Sum("amount"))
        .values("period", "amount")
    }
    memberships = list(
        Membership.objects.filter(cluster_id__in=cluster_ids)
        .select_related("department", "cluster")
        .order_by("joined_on", "pk")
    )

    monthly = []
    contributors: set[int] = set()
    for month in months:
        after = next_month(month)
        active = [m for m in memberships if _overlap_days(m, month, after) > 0]
        units = sum(m.usage_units for m in active if (m.cluster_id, month) in pools)
        pool = sum(
            (amount for (cluster, period), amount in pools.items() if period == month),
            Decimal("0"),
        )
        baseline = _cents(
            sum(
                (
                    m.baseline_annual_cost * _overlap_days(m, month, after) / DAYS_IN_YEAR
                    for m in active
                ),
                Decimal("0"),
            )
        )
        contributors.update(m.department_id for m in active)
        got = returns.get(month, {"met": 0, "total": 0})
        month_charged = charged.get(month, Decimal("0"))
        monthly.append(
            {
                "period": format_period(month),
                "returns_met": got["met"],
                "returns": got["total"],
                "compliance_rate": _text(_rate(got["met"], got["total"])),
                "pool": _text(pool) if any(p == month for _, p in pools) else None,
                "units": units,
                "cost_per_unit": _text(_cents(pool / units)) if units else None,
                "members": len({m.department_id for m in active}),
                "baseline": _text(baseline),
                "charged": _text(month_charged),
                "benefit": _text(baseline - month_charged),
            }
        )

    met_total = sum(r["returns_met"] for r in monthly)
    returns_total = sum(r["returns"] for r in monthly)
    rate = _rate(met_total, returns_total)
    pool_total = sum((amount for amount in pools.values()), Decimal("0"))
    units_total = sum(r["units"] for r in monthly)
    cost = _cents(pool_total / units_total) if units_total else None
    members_now = sorted(
        {
            m.department.code
            for m in memberships
            if m.joined_on <= as_of and (m.leaves_on is None or m.leaves_on > as_of)
        }
    )
    departures = [
        {
            "department": m.department.code,
            "cluster": m.cluster.code,
            "left_on": m.leaves_on.isoformat(),
        }
        for m in memberships
        if m.leaves_on is not None and plan.starts_on < m.leaves_on <= as_of
    ]
    benefit = sum((Decimal(r["benefit"]) for r in monthly), Decimal("0"))
    month_labels = [format_period(m) for m in months]
    criteria: list[dict[str, Any]] = [
        {
            "criterion": COMPLIANCE,
            "label": "Compliance with the service's standards",
            "target": f"at least {plan.min_compliance_rate}%",
            "measured": None if rate is None else f"{rate}%",
            "met": rate is not None and rate >= plan.min_compliance_rate,
            "behind": f"{met_total} of {returns_total} returns met their standard",
        },
        {
            "criterion": COST,
            "label": "Cost per unit",
            "target": f"at most {plan.max_cost_per_unit}",
            "measured": _text(cost),
            "met": cost is not None and cost <= plan.max_cost_per_unit,
            "behind": f"cost pools of {pool_total} over {units_total} units served",
        },
        {
            "criterion": MEMBERS,
            "label": "Member departments",
            "target": f"at least {plan.min_members}",
            "measured": str(len(members_now)),
            "met": len(members_now) >= plan.min_members,
            "behind": f"members on {as_of.isoformat()}; {len(departures)} left during the pilot",
        },
        {
            "criterion": BENEFIT,
            "label": "Benefit against the members' baselines",
            "target": f"at least {plan.min_benefit}",
            "measured": _text(benefit) if months else None,
            "met": bool(months) and benefit >= plan.min_benefit,
            "behind": "baselines pro rata to the days of membership, less the charges",
        },
    ]
    return {
        "as_of": as_of.isoformat(),
        "months": month_labels,
        "criteria": criteria,
        "all_met": all(c["met"] for c in criteria),
        "monthly": monthly,
        "members": members_now,
        "departures": departures,
        "contributors": sorted(contributors),
    }


def _rate(met: int, total: int) -> Decimal | None:
    return None if not total else (Decimal(met) * 100 / Decimal(total)).quantize(TENTH)


def _returns_by_month(
    cluster_ids: list[int], start: datetime.date, end: datetime.date
) -> dict[datetime.date, dict[str, int]]:
    rows = (
        Measurement.objects.filter(cluster_id__in=cluster_ids, period__gte=start, period__lt=end)
        .annotate(met_flag=met_expression())
        .values("period")
        .annotate(met=Count("pk", filter=Q(met_flag=True)), total=Count("pk"))
        .order_by("period")
    )
    return {row["period"]: {"met": row["met"], "total": row["total"]} for row in rows}


@dataclass
class EvidenceView:
    """The evidence as one reader may see it: the benefit and the months' baselines and
    charges are a total over the members' private figures, withheld where
    `sees_total_over` says it would reveal another department's."""

    criteria: list[dict[str, Any]]
    monthly: list[dict[str, Any]]
    members: list[str]
    departures: list[dict[str, Any]]
    months: list[str]
    as_of: str
    all_met: bool
    withheld: str | None


def evidence_seen_by(user: Any, evidence: dict[str, Any]) -> EvidenceView:
    shown = sees_total_over(user, evidence["contributors"])
    criteria = [
        c if shown or c["criterion"] != BENEFIT else {**c, "measured": None, "withheld": WITHHELD}
        for c in evidence["criteria"]
    ]
    monthly = [
        row if shown else {**row, "baseline": None, "charged": None, "benefit": None}
        for row in evidence["monthly"]
    ]
    return EvidenceView(
        criteria=criteria,
        monthly=monthly,
        members=evidence["members"],
        departures=evidence["departures"],
        months=evidence["months"],
        as_of=evidence["as_of"],
        all_met=evidence["all_met"],
        withheld=None if shown else WITHHELD,
    )
