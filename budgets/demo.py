"""The money side of the demo (`manage.py seed_demo`): cost pools, budget lines, chargebacks.

Every cluster gets a cost pool for every month from the demo's start up to the last month
that has ended, proportional to the usage it served that month (at a rate per unit that
differs by cluster, rising a little each year, higher at the fiscal year-end, and with some
month-to-month noise). Every department holds a budget line per fiscal year for each
service it buys, set from what that service was expected to cost it, except:

- a few lines are set too low, so they are in *warning* or *overspent*;
- Transportation joined the portal pilot without budgeting for it, so its portal charges
  are *unfunded*.

Then each ended month is charged through `chargeback_run`, as the monthly job would.
Running it again creates nothing: pools are found by cluster and month, lines by
department, year and service, and months already charged are skipped.

Last (`build_in_house_estimates`, once the rest of the demo is built), Labour and Citizens'
Services records an in-house estimate of its payroll below what the PSOA charged it over the
last 12 months: make or buy shows it cheaper in-house.

The copies that `--scale` adds (see `clusters.demo`) get the same, written in bulk: the
services would take minutes at that size. The audit triggers still fire on bulk inserts,
with the demo's actor as the context.
"""

from __future__ import annotations

import datetime
import random
import re
from collections import defaultdict
from dataclasses import dataclass
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal

from django.db.models import Sum

from budgets import services
from budgets.models import BudgetLine, Charge, CostPool, InHouseEstimate
from clusters.demo import BASELINE_PER_UNIT, Demo, checked_at_once
from clusters.models import Membership
from sharedsvc.audit import audit_context
from sharedsvc.periods import (
    days_in_month,
    fiscal_year_of,
    month_start,
    next_month,
    previous_month,
)

CENT = Decimal("0.01")

# What a unit of service costs a cluster per month, as a share of what the same unit cost
# a department on its own (clusters.demo.BASELINE_PER_UNIT, a year's worth). Below 1 is a
# saving; Cascadia's managed desktop costs more than doing it in-house.
RATE_FACTOR: dict[str, Decimal] = {
    "PAY-PSOA": Decimal("0.78"),
    "PAY-TECH": Decimal("0.92"),
    "HR-PSOA": Decimal("0.85"),
    "FIN-PSOA": Decimal("0.80"),
    "FIN-CASC": Decimal("0.88"),
    "IT-TECH": Decimal("0.90"),
    "IT-CASC": Decimal("1.06"),
    "PORTAL-PILOT": Decimal("0.95"),
    "DOCS-PILOT": Decimal("0.70"),
}
YEARLY_RISE = Decimal("0.03")
YEAR_END_BUMP = Decimal("0.05")  # March: year-end work
NOISE_BP = 400  # +/- 4% month to month, in basis points

# Lines set too low: (department, service, fiscal years back from the year of the last
# month that ended: the current one but in its first month).
# Allocated = charged so far / share, so the state holds at the moment of seeding.
WARNING_LINES = {("LCS", "IT", 0), ("EDUC", "HR", 0), ("SDPR", "FINOPS", 1), ("FIN", "HR", 2)}
OVERSPENT_LINES = {("HLTH", "IT", 0), ("JAG", "PAY", 1)}
WARNING_SHARE = Decimal("0.95")
OVERSPENT_SHARE = Decimal("1.04")
# Transportation joined the portal pilot without a budget line: its charges are unfunded.
UNFUNDED = {("TRAN", "PORTAL")}

_COPY = re.compile(r"^(?P<base>.+)-(?P<copy>\d{3,})$")


def base_code(code: str) -> str:
    """'PAY-PSOA-002' -> 'PAY-PSOA': what a `--scale` copy was copied from."""
    match = _COPY.match(code)
    return match.group("base") if match else code


def is_copy(code: str) -> bool:
    return _COPY.match(code) is not None


@dataclass(frozen=True)
class Member:
    department_id: int
    department: str
    cluster_id: int
    cluster: str
    service_id: int
    service: str
    joined_on: datetime.date
    leaves_on: datetime.date | None
    usage_units: int

    def days_in(self, start: datetime.date) -> int:
        """Days of the month starting `start` that the membership covers."""
        end = next_month(start)
        first = max(self.joined_on, start)
        last = min(self.leaves_on or end, end)
        return max((last - first).days, 0)


def months(first: datetime.date, last: datetime.date) -> list[datetime.date]:
    found, month = [], first
    while month <= last:
        found.append(month)
        month = next_month(month)
    return found


def build_money(
    demo: Demo,
    today: datetime.date,
    *,
    periods: list[datetime.date] | None = None,
    charge: bool = True,
) -> None:
    """Pools, lines and charges for every month of the demo that has ended (or only
    `periods`; `charge=False` leaves the months to be charged, as the benchmark does)."""
    if periods is None:
        last = previous_month(today)
        if last < demo.start:
            return
        periods = months(demo.start, last)
    members = _members(demo)
    weights = _weights(members, periods)
    pools = _cost_pools(demo, periods, weights)
    _budget_lines(demo, today, periods, members, weights, pools)
    if charge:
        _chargebacks(demo, periods, weights, pools)


def _members(demo: Demo) -> list[Member]:
    cluster_ids = [c.pk for c in demo.clusters.values()]
    rows = Membership.objects.filter(cluster_id__in=cluster_ids).values_list(
        "department_id",
        "department__code",
        "cluster_id",
        "cluster__code",
        "service_id",
        "service__code",
        "joined_on",
        "leaves_on",
        "usage_units",
    )
    return [Member(*row) for row in rows]


def _weights(
    members: list[Member], periods: list[datetime.date]
) -> dict[tuple[int, datetime.date], dict[Member, int]]:
    """(cluster id, month) -> member -> usage units x days active, as the chargeback weighs."""
    weights: dict[tuple[int, datetime.date], dict[Member, int]] = defaultdict(dict)
    for member in members:
        for period in periods:
            days = member.days_in(period)
            if days:
                weights[(member.cluster_id, period)][member] = member.usage_units * days
    return weights


def pool_amount(cluster_code: str, service_code: str, period, start, unit_days: int) -> Decimal:
    """A month's cost: the units served (unit-days / days in month) at the cluster's rate."""
    base = base_code(cluster_code)
    rate = BASELINE_PER_UNIT[service_code] / 12 * RATE_FACTOR.get(base, Decimal("0.90"))
    years = (period.year - start.year) * 12 + period.month - start.month
    rate *= (1 + YEARLY_RISE) ** (years // 12)
    if period.month == 3:
        rate *= 1 + YEAR_END_BUMP
    # The same noise for a copy as for its original, and on every run.
    noise = random.Random(f"{base}:{period:%Y-%m}").randint(-NOISE_BP, NOISE_BP)  # noqa: S311
    rate *= 1 + Decimal(noise) / 10_000
    units = Decimal(unit_days) / days_in_month(period)
    return (rate * units).quantize(CENT, rounding=ROUND_HALF_UP)


def _cost_pools(
    demo: Demo, periods: list[datetime.date], weights
) -> dict[tuple[int, datetime.date], Decimal]:
    """(cluster id, month) -> the pool's amount, creating the pools that are missing."""
    cluster_ids = [c.pk for c in demo.clusters.values()]
    service_codes = {s.pk: s.code for s in demo.services.values()}
    existing = {
        (cluster_id, period): amount
        for cluster_id, period, amount in CostPool.objects.filter(
            cluster_id__in=cluster_ids, period__gte=periods[0], period__lte=periods[-1]
        ).values_list("cluster_id", "period", "amount")
    }
    pools = dict(existing)
    bulk: list[CostPool] = []
    for cluster in demo.clusters.values():
        for period in periods:
            key = (cluster.pk, period)
            served = weights.get(key)
            if key in existing or not served:
                continue  # no members that month (the pilot had not begun): no cost
            amount = pool_amount(
                cluster.code,
                service_codes[cluster.service_id],
                period,
                demo.start,
                sum(served.values()),
            )
            pools[key] = amount
            if is_copy(cluster.code):
                bulk.append(
                    CostPool(cluster=cluster, period=period, amount=amount, entered_by=demo.actor)
                )
            else:
                services.cost_pool_create(
                    actor=demo.actor, cluster=cluster, period=period, amount=amount
                )
                demo.count("cost pools")
    if bulk:
        with audit_context(actor=demo.actor), checked_at_once():
            CostPool.objects.bulk_create(bulk, batch_size=5000)
        demo.count("cost pools", len(bulk))
    return pools


def _budget_lines(demo: Demo, today, periods, members, weights, pools) -> None:
    """A line per department, fiscal year and service bought, sized from expected charges."""
    current_year = fiscal_year_of(today)
    years = sorted({fiscal_year_of(p) for p in periods} | {current_year})
    # The lines set too low are counted back from the year of the last month charged: on
    # the first days of a fiscal year nothing is charged in it yet, and the year just ended
    # is the one in warning.
    charged_year = fiscal_year_of(previous_month(today))
    # (department id, service id, fiscal year) -> expected charges of the months ended
    expected: dict[tuple[int, int, str], Decimal] = defaultdict(Decimal)
    months_charged: dict[str, int] = defaultdict(int)
    for period in periods:
        months_charged[fiscal_year_of(period)] += 1
    for (cluster_id, period), served in weights.items():
        pool = pools.get((cluster_id, period))
        if pool is None:
            continue
        total = sum(served.values())
        for member, weight in served.items():
            key = (member.department_id, member.service_id, fiscal_year_of(period))
            expected[key] += pool * weight / total

    bought: dict[tuple[int, int], Member] = {}
    for member in members:
        bought.setdefault((member.department_id, member.service_id), member)
    existing = set(
        BudgetLine.objects.filter(
            department_id__in=[d.pk for d in demo.departments.values()], fiscal_year__in=years
        ).values_list("department_id", "service_id", "fiscal_year")
    )
    bulk: list[BudgetLine] = []
    for (department_id, service_id), member in sorted(bought.items()):
        department_code = base_code(member.department)
        if (department_code, member.service) in UNFUNDED:
            continue
        for year in years:
            if (department_id, service_id, year) in existing:
                continue
            so_far = expected.get((department_id, service_id, year), Decimal(0))
            n = months_charged.get(year, 0)
            if n == 0 and len(years) > 1:
                # A year with nothing charged yet: budget as last year, a little more.
                previous = expected.get((department_id, service_id, years[-2]), Decimal(0))
                full_year = previous * (1 + YEARLY_RISE)
            else:
                full_year = so_far * 12 / max(n, 1)
            if not full_year and not so_far:
                continue  # not a member that year
            back = years.index(charged_year) - years.index(year)
            allocated = _allocation(department_code, member.service, back, so_far, full_year)
            if is_copy(member.department):
                bulk.append(
                    BudgetLine(
                        department_id=department_id,
                        fiscal_year=year,
                        service_id=service_id,
                        allocated=allocated,
                    )
                )
            else:
                services.budget_line_create(
                    actor=demo.actor,
                    department=demo.departments[member.department],
                    fiscal_year=year,
                    service=demo.services[member.service],
                    allocated=allocated,
                )
                demo.count("budget lines")
    if bulk:
        with audit_context(actor=demo.actor), checked_at_once():
            BudgetLine.objects.bulk_create(bulk, batch_size=5000)
        demo.count("budget lines", len(bulk))


def _allocation(
    department: str, service: str, back: int, so_far: Decimal, full_year: Decimal
) -> Decimal:
    """What a department set aside: expected cost plus a margin, or too little on purpose."""
    if (department, service, back) in WARNING_LINES and so_far:
        return _round(so_far / WARNING_SHARE, 100)
    if (department, service, back) in OVERSPENT_LINES and so_far:
        return _round(so_far / OVERSPENT_SHARE, 100)
    margin = random.Random(f"{department}:{service}:{back}").randint(12, 25)  # noqa: S311
    return max(_round(full_year * (100 + margin) / 100, 1000), Decimal(1000))


def _round(amount: Decimal, to: int) -> Decimal:
    """To the nearest `to` (100, 1000), as budgets are written, with cents for the model."""
    return ((amount / to).quantize(Decimal(1), rounding=ROUND_HALF_UP) * to).quantize(CENT)


def _chargebacks(demo: Demo, periods: list[datetime.date], weights, pools) -> None:
    """Charge each ended month with a pool not yet charged, as the monthly job would have.

    (A month charged before `--scale` added copies is run again for the copies' pools;
    the charges already made stay as they are.)"""
    cluster_ids = [c.pk for c in demo.clusters.values()]
    charged = set(
        Charge.objects.filter(
            cluster_id__in=cluster_ids, period__gte=periods[0], period__lte=periods[-1]
        )
        .values_list("cluster_id", "period")
        .distinct()
    )
    due = {key[1] for key in pools if weights.get(key) and key not in charged}
    for period in sorted(due):
        run = services.chargeback_run(actor=demo.actor, period=period)
        demo.count("chargeback runs")
        demo.count("charges", run.charges)


# Make or buy -----------------------------------------------------------------------------

# Labour and Citizens' Services has costed running payroll itself again: cheaper than what
# the PSOA charged it over the last 12 complete months (make or buy shows it in-house).
IN_HOUSE_SHARE = Decimal("0.85")
IN_HOUSE_NOTE = (
    "Costed by the ministry's HR branch: two payroll officers on the ministry's own HR "
    "system, whose licence already covers payroll."
)


def build_in_house_estimates(demo: Demo, today: datetime.date) -> None:
    """One in-house estimate: LCS's payroll, at 85% of what it was charged for payroll over
    the last 12 complete months (rounded down to the thousand), dated a fortnight ago.
    None on a second run: LCS's payroll estimate is found."""
    department, service = demo.departments.get("LCS"), demo.services.get("PAY")
    if department is None or service is None:
        return
    if InHouseEstimate.objects.filter(department=department, service=service).exists():
        return
    end = month_start(today)
    start = end.replace(year=end.year - 1)
    charged = Charge.objects.filter(
        department=department, cluster__service=service, period__gte=start, period__lt=end
    ).aggregate(total=Sum("amount"))["total"]
    if not charged:
        return
    estimate = (charged * IN_HOUSE_SHARE / 1000).to_integral_value(rounding=ROUND_DOWN) * 1000
    with audit_context(actor=demo.actor):
        services.in_house_estimate_record(
            actor=None,
            department=department,
            service=service,
            annual_cost=estimate.quantize(CENT),
            estimated_on=today - datetime.timedelta(days=14),
            note=IN_HOUSE_NOTE,
            today=today,
        )
    demo.count("in-house estimates")
