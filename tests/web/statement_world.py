"""A year of figures on the personas' world for the annual benefits statement, fiscal year
2025-26 (April 2025 to March 2026: the world's memberships begin on its first day).

- PAY-PSOA costs 7,000.00 a month (7,700.00 in March 2026) over LCS's 400 employees and
  ENV's 300, and from January 2026 TECH's 200 too: 10.0000 an employee in April 2025,
  8.5556 in March 2026 (-14.4% in the year), 9.4111 on average (84,700.00 over 9,000
  employee-months). LCS is charged 48,400.00 and ENV 36,300.00 (4/7 and 3/7 of each pool).
  PAY-TECH costs 2,000.00 a month from April to December 2025 over TECH's 200: 10.0000.
  No pool in 2024-25: no average the year before.
- Benefits (baseline 120,000.00 a year each): LCS in PAY-PSOA 71,600.00, ENV 83,700.00,
  TECH 29,589.04 (90 days); TECH in PAY-TECH 90,410.96 (275 days, not charged); LCS in
  IT-TECH 120,000.00 x 306/365 = 100,602.74. PAY-PSOA totals 3 departments (shown to
  all), PAY-TECH and IT-TECH one each (withheld from other departments).
- Paid on time (target 99.5): PAY-PSOA's returns met for LCS every month and missed for
  ENV in May, June and July (21 of 24: 87.5%); PAY-TECH's met April to December (100.0%).
- Departures: TECH left PAY-TECH for PAY-PSOA on 1 January 2026 (cost); LCS took its
  desktops in-house from IT-TECH on 1 February 2026 (service quality, approved by the board
  on 15 December 2025); ENV's notice for 1 March 2026 was withdrawn (no departure).
- Programme PAYALL, active, on 31 March 2026: LCS joined, FIN committed (by 1 June 2026),
  TECH declined, ENV pending.

`extra` more clusters, departures, cases and programmes make the larger world of the
query-count tests.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.utils import timezone

from budgets.models import Charge, ChargebackRun, CostPool
from clusters.models import Membership, Standard
from defection.models import Destination, ExitRequest, ExitStatus, Reason
from governance.models import Case, CaseKind, CaseStatus
from initiatives.models import Answer, Commitment, Programme, ProgrammeStatus
from servicelevels.models import Measurement
from sharedsvc.periods import next_month
from tests.factories import ClusterFactory, DepartmentFactory, MembershipFactory
from tests.personas import World

FY = "2025-26"
START = datetime.date(2025, 4, 1)
END = datetime.date(2026, 4, 1)


def months() -> list[datetime.date]:
    month, out = START, []
    while month < END:
        out.append(month)
        month = next_month(month)
    return out


def at(day: datetime.date) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(12), tzinfo=timezone.get_current_timezone())


def _exit(membership: Membership, leave_on, *, reason, destination=Destination.IN_HOUSE, **kw):
    return ExitRequest.objects.create(
        department=membership.department,
        membership=membership,
        from_cluster=membership.cluster,
        destination=destination,
        reason=reason,
        justification="Why we leave.",
        leave_on=leave_on,
        status=kw.pop("status", ExitStatus.COMPLETED),
        needs_board=kw.pop("needs_board", False),
        requested_on=leave_on - datetime.timedelta(days=90),
        **kw,
    )


def _case(request: ExitRequest, decided: datetime.date) -> Case:
    return Case.objects.create(
        kind=CaseKind.EXIT,
        exit_request=request,
        status=CaseStatus.APPROVED,
        opened_at=at(decided - datetime.timedelta(days=10)),
        closes_at=at(decided + datetime.timedelta(days=4)),
        decided_at=at(decided),
    )


def build_statement(w: World, extra: int = 0) -> None:
    run = ChargebackRun.objects.create(period=START)
    standard = Standard.objects.get(service=w.payroll)
    for month in months():
        amount = Decimal("7700.00") if month.month == 3 else Decimal("7000.00")
        pool = CostPool.objects.create(cluster=w.pay_psoa, period=month, amount=amount)
        for membership, share in ((w.lcs_payroll, Decimal(4) / 7), (w.env_payroll, Decimal(3) / 7)):
            Charge.objects.create(
                cluster=w.pay_psoa,
                department=membership.department,
                period=month,
                amount=(amount * share).quantize(Decimal("0.01")),
                cost_pool=pool,
                run=run,
            )
        returns = [
            (w.lcs_payroll, "100"),
            (w.env_payroll, "90" if month.month in (5, 6, 7) else "100"),
        ]
        if month < datetime.date(2026, 1, 1):
            CostPool.objects.create(cluster=w.pay_tech, period=month, amount="2000.00")
            returns.append((w.tech_payroll, "100"))
        for membership, value in returns:
            Measurement.objects.create(
                standard=standard,
                cluster=membership.cluster,
                department=membership.department,
                period=month,
                value=value,
                submitted_at=at(next_month(month)),
            )
    # TECH moves its payroll to the PSOA on 1 January 2026 (the right to leave).
    moved_on = datetime.date(2026, 1, 1)
    Membership.objects.filter(pk=w.tech_payroll.pk).update(leaves_on=moved_on)
    arrived = MembershipFactory(
        department=w.tech, cluster=w.pay_psoa, joined_on=moved_on, usage_units=200
    )
    _exit(
        w.tech_payroll,
        moved_on,
        reason=Reason.COST,
        destination=Destination.CLUSTER,
        to_cluster=w.pay_psoa,
        new_membership=arrived,
    )
    # LCS takes its desktops in-house on 1 February 2026, as the board approved.
    Membership.objects.filter(pk=w.lcs_it.pk).update(leaves_on=datetime.date(2026, 2, 1))
    desktops = _exit(
        w.lcs_it, datetime.date(2026, 2, 1), reason=Reason.SERVICE_QUALITY, needs_board=True
    )
    _case(desktops, datetime.date(2025, 12, 15))
    # ENV gave notice and withdrew it: nobody left.
    _exit(
        w.env_payroll, datetime.date(2026, 3, 1), reason=Reason.OTHER, status=ExitStatus.WITHDRAWN
    )

    programme = Programme.objects.create(
        code="PAYALL",
        name="One payroll",
        service=w.payroll,
        sponsor=w.deputy_minister,
        goal="Every ministry on the PSOA's payroll.",
        target_on=datetime.date(2026, 9, 1),
        status=ProgrammeStatus.ACTIVE,
        proposed_by=w.deputy_minister,
        proposed_at=at(datetime.date(2025, 5, 1)),
    )
    Commitment.objects.create(
        programme=programme, department=w.lcs, answer=Answer.COMMITTED, join_by=START
    )
    Commitment.objects.create(
        programme=programme,
        department=w.fin,
        answer=Answer.COMMITTED,
        join_by=datetime.date(2026, 6, 1),
    )
    Commitment.objects.create(
        programme=programme, department=w.tech, answer=Answer.DECLINED, reason="We run our own."
    )
    Commitment.objects.create(programme=programme, department=w.env)
    add_more(w, extra)


def add_more(w: World, extra: int) -> None:
    """`extra` more of each kind of row: a cluster with a member, a pool and a return, a
    departure from it, a decided case and a programme with a commitment."""
    standard = Standard.objects.get(service=w.payroll)
    for n in range(extra):
        department = DepartmentFactory(code=f"X{n}", name=f"Extra {n}")
        cluster = ClusterFactory(
            code=f"PAY-X{n}", name=f"Extra payroll {n}", service=w.payroll, provider=w.outside
        )
        membership = MembershipFactory(department=department, cluster=cluster, usage_units=10)
        CostPool.objects.create(cluster=cluster, period=START, amount="100.00")
        Measurement.objects.create(
            standard=standard,
            cluster=cluster,
            department=department,
            period=START,
            value="100",
            submitted_at=at(next_month(START)),
        )
        Membership.objects.filter(pk=membership.pk).update(leaves_on=datetime.date(2025, 10, 1))
        request = _exit(
            membership, datetime.date(2025, 10, 1), reason=Reason.STRATEGIC, needs_board=True
        )
        _case(request, datetime.date(2025, 9, 1))
        programme = Programme.objects.create(
            code=f"EXTRA{n}",
            name=f"Extra programme {n}",
            service=w.payroll,
            sponsor=w.deputy_minister,
            goal="More.",
            target_on=datetime.date(2026, 9, 1),
            status=ProgrammeStatus.ACTIVE,
            proposed_by=w.deputy_minister,
            proposed_at=at(datetime.date(2025, 6, 1)),
        )
        Commitment.objects.create(programme=programme, department=department)
