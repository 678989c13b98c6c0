"""The demo's service-level returns (`manage.py seed_demo`): every cluster, standard, member
and month from the demo's start up to the last month that has ended, with

- a persistent breach: the PSOA's pay accuracy for Labour and Citizens' Services missed for
  the last four months (the evidence behind its service-quality complaints);
- a late provider: Cascadia files its returns on the 14th, after the 10th they are due, and
  missed one month of its financial-operations returns altogether;
- a self-preferring host: Technology Services meets every standard for its own host,
  Technology and Corporate Services, while its other customers get noticeably less;
- the cluster that does not deliver its benefit is in the money part: Cascadia's desktops cost
  more than departments spent on their own (budgets.demo.RATE_FACTOR).

Written in bulk (a few thousand rows; the audit triggers still fire), skipping the returns
that exist, so a second run adds nothing.
"""

from __future__ import annotations

import datetime
import random
from decimal import Decimal

from django.utils import timezone

from clusters.models import Direction, Membership, Standard
from servicelevels.models import Measurement
from servicelevels.services import breaches_notify
from sharedsvc.audit import audit_context
from sharedsvc.periods import next_month, previous_month

LATE_PROVIDERS = {"CASCADIA"}
# (cluster, months before the last complete month) without returns: HR-PSOA has not sent
# last month's yet (due on the 10th), FIN-CASC never sent one of three months ago.
MISSING = {("FIN-CASC", 2), ("HR-PSOA", 0)}
BREACH = ("PAY-PSOA", "Pay accuracy", "LCS", 4)  # missed for the last 4 months
SELF_PREFERRING = "TECHSVC"


def _value(standard: Standard, met: bool, rng: random.Random) -> Decimal:
    target = standard.target
    step = max(target * Decimal("0.02"), Decimal("0.1"))
    offset = Decimal(rng.randint(0, 20)) / 20 * step
    higher = standard.direction == Direction.HIGHER_IS_BETTER
    if met:
        value = target + offset if higher else target - offset
        if higher and standard.unit == "%":
            value = min(value, Decimal("100"))
    else:
        value = target - step - offset if higher else target + step + offset
    return max(value, Decimal("0")).quantize(Decimal("0.01"))


def build_returns(demo, today: datetime.date) -> None:
    last = previous_month(today)
    clusters = [c for code, c in demo.clusters.items() if code.count("-") < 2]  # not --scale copies
    standards: dict[int, list[Standard]] = {}
    for standard in Standard.objects.filter(service__in={c.service_id for c in clusters}).order_by(
        "pk"
    ):
        standards.setdefault(standard.service_id, []).append(standard)
    memberships = list(
        Membership.objects.filter(cluster__in=clusters).select_related(
            "department", "cluster__provider"
        )
    )
    existing = set(
        Measurement.objects.filter(cluster__in=clusters).values_list(
            "standard_id", "cluster_id", "department_id", "period"
        )
    )
    months_back = {}
    period = last
    for back in range(0, 40):
        months_back[period] = back
        if period <= demo.start:
            break
        period = previous_month(period)
    rng = random.Random(2026)  # noqa: S311 (demo data)
    rows = []
    for m in sorted(memberships, key=lambda m: (m.cluster.code, m.department.code, m.joined_on)):
        provider = m.cluster.provider.code
        host_id = m.cluster.provider.host_department_id
        for period in sorted(months_back):
            if not (
                m.joined_on < next_month(period) and (m.leaves_on is None or m.leaves_on > period)
            ):
                continue
            back = months_back[period]
            if (m.cluster.code, back) in MISSING:
                continue
            for standard in standards.get(m.cluster.service_id, []):
                key = (standard.pk, m.cluster_id, m.department_id, period)
                if key in existing:
                    continue
                chance = 0.95
                if provider == SELF_PREFERRING:
                    chance = 1.0 if m.department_id == host_id else 0.8
                met = rng.random() < chance
                if (m.cluster.code, standard.name, m.department.code) == BREACH[:3]:
                    met = back >= BREACH[3]  # the last four months missed
                day = 14 if provider in LATE_PROVIDERS else 8
                submitted = timezone.make_aware(
                    datetime.datetime.combine(
                        next_month(period).replace(day=day), datetime.time(10)
                    )
                )
                rows.append(
                    Measurement(
                        standard=standard,
                        cluster=m.cluster,
                        department=m.department,
                        period=period,
                        value=_value(standard, met, rng),
                        submitted_at=submitted,
                        submitted_by=None,
                    )
                )
                existing.add(key)
    with audit_context(actor=demo.actor):
        Measurement.objects.bulk_create(rows, batch_size=2000)
    demo.count("service-level returns", len(rows))
    breaches_notify(actor=demo.actor)
