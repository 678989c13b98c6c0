"""Benchmark: the set-based chargeback against a straightforward per-member ORM loop.

Run by `make bench` (or `.venv/bin/python bench/chargeback.py`). It works in a throwaway
database of its own (`sharedsvc_bench`, created and migrated on the configured PostgreSQL
server, DATABASE_URL or the embedded one, and dropped at the end): the developer's database
is never touched. There it builds the demo at `--scale 200` (over 10,000 memberships),
enters the cost pools and budget lines of the last month that has ended, and charges that
month twice, in the same run:

(a) `chargeback_run`, the service: one INSERT ... SELECT for every pool of the month;
(b) the loop anyone would write first: for each pool, for each member, compute the weight
    and share, round by the largest remainder in Python, `Charge.objects.create(...)`.

Both write the same audited rows under the same conditions (each in a transaction, the
loop's then rolled back), the charges must be identical, and it prints both times, the
ratio and the query counts. Targets: at least 20x faster, and under 30 queries.

Environment: BENCH_SCALE (default 200), BENCH_DATABASE_NAME (default sharedsvc_bench).
"""

from __future__ import annotations

import math
import os
import sys
import time
from collections import deque
from fractions import Fraction
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sharedsvc.settings")

SCALE = int(os.environ.get("BENCH_SCALE", "200"))
BENCH_DATABASE = os.environ.get("BENCH_DATABASE_NAME", "sharedsvc_bench")
TARGET_RATIO = 20
TARGET_QUERIES = 30


def per_member_loop(period, run) -> None:
    """The chargeback written the obvious way, one member and one INSERT at a time."""
    from decimal import Decimal

    from budgets.models import BudgetLine, Charge, CostPool
    from clusters.models import Membership
    from sharedsvc.periods import days_in_month, fiscal_year_of, next_month

    start, end = period, next_month(period)
    fiscal_year = fiscal_year_of(period)
    for pool in CostPool.objects.filter(period=period).select_related("cluster"):
        weights: dict[int, Fraction] = {}
        members = Membership.objects.filter(cluster=pool.cluster, joined_on__lt=end).exclude(
            leaves_on__lte=start
        )
        for member in members:
            days = (min(member.leaves_on or end, end) - max(member.joined_on, start)).days
            weight = Fraction(member.usage_units * days, days_in_month(period))
            weights[member.department_id] = weights.get(member.department_id, 0) + weight
        total = sum(weights.values())
        if not total:
            continue
        cents = int(pool.amount * 100)
        exact = {dept: cents * weight / total for dept, weight in weights.items()}
        floors = {dept: math.floor(share) for dept, share in exact.items()}
        left = cents - sum(floors.values())
        by_remainder = sorted(exact, key=lambda dept: (-(exact[dept] - floors[dept]), dept))
        for dept in by_remainder[:left]:
            floors[dept] += 1
        for dept, amount in floors.items():
            line = BudgetLine.objects.filter(
                department_id=dept, service_id=pool.cluster.service_id, fiscal_year=fiscal_year
            ).first()
            Charge.objects.create(
                cluster=pool.cluster,
                department_id=dept,
                period=period,
                amount=Decimal(amount) / 100,
                budget_line=line,
                cost_pool=pool,
                run=run,
            )


def charges_of(period) -> dict[tuple[int, int], tuple]:
    from budgets.models import Charge

    return {
        (cluster, department): (amount, line, pool)
        for cluster, department, amount, line, pool in Charge.objects.filter(
            period=period
        ).values_list("cluster_id", "department_id", "amount", "budget_line_id", "cost_pool_id")
    }


def bench() -> int:
    from django.db import connection, transaction
    from django.db.models import Q, Sum
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from budgets.demo import build_money
    from budgets.models import ChargebackRun, CostPool, RunStatus
    from budgets.services import chargeback_run
    from clusters.demo import checked_at_once
    from clusters.models import Membership
    from sharedsvc.audit import audit_context
    from sharedsvc.periods import format_period, next_month, previous_month
    from web.demo import build_demo

    today = timezone.localdate()
    month = previous_month(today)
    started = time.monotonic()
    demo = build_demo(scale=SCALE, money=False)
    with transaction.atomic():
        build_money(demo, today, periods=[month], charge=False)
    active = Membership.objects.filter(joined_on__lt=next_month(month)).filter(
        Q(leaves_on__isnull=True) | Q(leaves_on__gt=month)
    )
    pools = CostPool.objects.filter(period=month)
    print(
        f"Built in {time.monotonic() - started:.0f}s: scale {SCALE}, "
        f"{active.count():,} memberships active in {format_period(month)}, "
        f"{pools.count():,} cost pools totalling {pools.aggregate(t=Sum('amount'))['t']:,}."
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")  # as autovacuum would have, after the bulk load
    # CaptureQueriesContext keeps Django's last 9,000 queries; the loop makes more.
    connection.queries_log = deque(maxlen=1_000_000)

    # (b) the loop, in a transaction rolled back afterwards so (a) can make the same rows.
    with transaction.atomic():
        with audit_context(actor=demo.actor):
            run = ChargebackRun.objects.create(
                period=month, requested_by=demo.actor, status=RunStatus.RUNNING
            )
            # The same immediate foreign-key checks as the service, so the comparison is
            # about one statement against one per member, not about the trigger queue.
            with checked_at_once(), CaptureQueriesContext(connection) as loop_queries:
                began = time.monotonic()
                per_member_loop(month, run)
                loop_seconds = time.monotonic() - began
        loop_charges = charges_of(month)
        transaction.set_rollback(True)

    # (a) the service.
    with CaptureQueriesContext(connection) as set_queries:
        began = time.monotonic()
        run = chargeback_run(actor=demo.actor, period=month)
        set_seconds = time.monotonic() - began
    set_charges = charges_of(month)

    identical = loop_charges == set_charges
    ratio = loop_seconds / set_seconds
    n_set, n_loop = len(set_queries.captured_queries), len(loop_queries.captured_queries)
    print(f"Chargeback of {format_period(month)}: {run.charges:,} charges, {run.total:,}")
    print(f"  (a) chargeback_run (set-based): {set_seconds:8.2f} s {n_set:>8,} queries")
    print(f"  (b) per-member ORM loop:        {loop_seconds:8.2f} s {n_loop:>8,} queries")
    print(f"  ratio: {ratio:.1f}x faster")
    print(f"  identical charges: {'yes' if identical else 'NO'} ({len(loop_charges):,} each)")
    met_ratio, met_queries = ratio >= TARGET_RATIO, n_set < TARGET_QUERIES
    print(
        f"  targets: >= {TARGET_RATIO}x faster {'met' if met_ratio else 'MISSED'}; "
        f"< {TARGET_QUERIES} queries {'met' if met_queries else 'MISSED'}"
    )
    if not identical:
        differ = sorted(
            k
            for k in loop_charges.keys() | set_charges.keys()
            if loop_charges.get(k) != set_charges.get(k)
        )
        print(f"  first differences (cluster id, department id): {differ[:5]}")
        return 1
    return 0 if met_queries else 1


def main() -> int:
    import django

    django.setup()
    from django.conf import settings
    from django.db import connection

    # The demo's users get passwords; a fast hasher, since that is not what is measured.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    main_database = connection.settings_dict["NAME"]
    if main_database == BENCH_DATABASE:
        print(f"BENCH_DATABASE_NAME must not be the main database ({main_database}).")
        return 2
    connection.settings_dict["TEST"]["NAME"] = BENCH_DATABASE
    print(f"Creating and migrating the throwaway database {BENCH_DATABASE}...")
    connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    try:
        return bench()
    finally:
        connection.creation.destroy_test_db(main_database, verbosity=0)
        print(f"Dropped {BENCH_DATABASE}.")


if __name__ == "__main__":
    sys.exit(main())
