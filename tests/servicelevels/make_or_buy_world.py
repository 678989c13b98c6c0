"""Make-or-buy figures on the personas' world, shared by the selector, page and API tests.

Today is `T` (the suite's clock); the 12 complete months before it are the buy window.

- LCS in PAY-PSOA (400 employees, baseline 120,000.00) is charged 3,000.00 a month over
  the window: buy_cost 36,000.00; a charge in the month under way and one the month before
  the window do not count.
- PAY-TECH's latest pool is 2,000.00 over TECH's 200 employees: 10.0000 per employee, so
  for LCS's 400 a year 10 x 400 x 12 = 48,000.00, its best alternative. PAY-FULL is
  cheaper (1.0000) but has room for 300 only; PAY-NEW has no pool yet.
- LCS in IT-TECH (350 devices) has no charges and no other IT cluster.

The creep back to making, at the quarter before today's (its last day) and today's (today):
- HOME left IT-TECH (150 devices) for in-house on the first day of today's quarter;
- BACK left PAY-TECH (80 employees) for in-house on the first day of the quarter before,
  and joined PAY-PSOA again (50) on the first day of today's;
- ENV's exit to in-house was withdrawn: it counts for nothing.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.utils import timezone

from budgets.models import Charge, ChargebackRun, CostPool
from clusters.models import Cluster, Department, Membership
from defection.models import Destination, ExitRequest, ExitStatus, Reason
from servicelevels.selectors import add_months, buy_window, quarter_start
from tests.factories import ClusterFactory, DepartmentFactory, MembershipFactory
from tests.personas import World

MONTHLY = Decimal("3000.00")


def today() -> datetime.date:
    return timezone.localdate()


def _charge(run: ChargebackRun, cluster: Cluster, department: Department, period, amount):
    pool, _ = CostPool.objects.get_or_create(
        cluster=cluster, period=period, defaults={"amount": amount}
    )
    return Charge.objects.create(
        cluster=cluster,
        department=department,
        period=period,
        amount=amount,
        cost_pool=pool,
        run=run,
    )


def build_costs(w: World) -> None:
    start, end = buy_window(today())
    run = ChargebackRun.objects.create(period=start)
    month = start
    while month < end:
        _charge(run, w.pay_psoa, w.lcs, month, MONTHLY)
        month = add_months(month, 1)
    _charge(run, w.pay_psoa, w.lcs, end, Decimal("9999.00"))  # the month under way
    _charge(run, w.pay_psoa, w.lcs, add_months(start, -1), Decimal("7777.00"))  # before
    CostPool.objects.create(cluster=w.pay_tech, period=add_months(end, -1), amount="2000.00")
    CostPool.objects.create(cluster=w.pay_tech, period=add_months(end, -2), amount="1000.00")
    full = ClusterFactory(code="PAY-FULL", service=w.payroll, provider=w.outside, capacity=400)
    MembershipFactory(department=w.fin, cluster=full, usage_units=100)
    CostPool.objects.create(cluster=full, period=add_months(end, -1), amount="100.00")
    ClusterFactory(code="PAY-NEW", service=w.payroll, provider=w.outside)


def _exit(membership: Membership, leave_on, status=ExitStatus.COMPLETED) -> ExitRequest:
    return ExitRequest.objects.create(
        department=membership.department,
        membership=membership,
        from_cluster=membership.cluster,
        destination=Destination.IN_HOUSE,
        reason=Reason.COST,
        justification="Cheaper in-house.",
        leave_on=leave_on,
        status=status,
        needs_board=True,
        requested_on=leave_on - datetime.timedelta(days=90),
    )


def build_exits(w: World) -> None:
    current = quarter_start(today())
    before = add_months(current, -3)
    home = DepartmentFactory(code="HOME")
    left_it = MembershipFactory(
        department=home, cluster=w.it_tech, usage_units=150, leaves_on=current
    )
    _exit(left_it, current)
    back = DepartmentFactory(code="BACK")
    left_pay = MembershipFactory(
        department=back, cluster=w.pay_tech, usage_units=80, leaves_on=before
    )
    _exit(left_pay, before)
    MembershipFactory(department=back, cluster=w.pay_psoa, usage_units=50, joined_on=current)
    withdrawn = MembershipFactory(
        department=DepartmentFactory(code="STAY"), cluster=w.it_tech, usage_units=10
    )
    _exit(withdrawn, before, status=ExitStatus.WITHDRAWN)
