"""Benchmark: the set-based chargeback against a per-member ORM loop and a bare INSERT.

Run by `make bench` (or `.venv/bin/python bench/chargeback.py`), through the shared harness
(bench/harness.py): it works in a throwaway database of its own (BENCH_DATABASE_NAME,
default `sharedsvc_bench`, created and migrated on the configured PostgreSQL server and
dropped at the end), so the developer's database is never touched. There it builds the
demo at BENCH_SCALE (default 200: over 10,000 memberships), enters the cost pools and
budget lines of the last month that has ended, and charges that month three times, in the
same run and on the same data:

(a) the loop anyone would write first: for each pool, for each member, compute the weight
    and share, round by the largest remainder in Python, `Charge.objects.create(...)`;
(b) the bare baseline: one hand-written `INSERT INTO budgets_charge ... SELECT` of the
    month (the same weights, days pro rata, and largest-remainder rounding in SQL window
    functions), with the audit triggers disabled (`DISABLE TRIGGER USER`: the foreign-key
    checks stay, checked at once as in the service) and no run bookkeeping, month lock or
    ON CONFLICT;
(c) `chargeback_run`, the service: the run's bookkeeping and one audited INSERT ... SELECT
    for every pool of the month.

(a) and (b) are each in a transaction rolled back afterwards, so (c) makes the same rows;
the three sets of charges must be identical. Targets (issue 15), recorded in
bench/results.json: the service at least 50x faster than the loop (its time at most 0.02 of
the loop's), within 3x of the bare INSERT, and under 30 queries. The exit code is 0 only if
the charges are identical and every target is met.
"""

from __future__ import annotations

import math
import os
import sys
import time
from collections import deque
from fractions import Fraction
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import (
    Result,
    limit_result,
    ratio_result,
    record,
    setup_django,
    throwaway_database,
)

SCALE = int(os.environ.get("BENCH_SCALE", "200"))
DATABASE = os.environ.get("BENCH_DATABASE_NAME", "sharedsvc_bench")
MAX_SHARE_OF_LOOP = 0.02  # at least 50x faster
MAX_TIMES_BARE = 3
MAX_QUERIES = 30

# The bare baseline: the chargeback's computation as one plain INSERT ... SELECT. weight =
# usage_units x days active in the month (the days_in_month divisor cancels out of
# weight / sum(weights)); each member gets the floor of its exact share in cents, and the
# cents left over go one each to the largest remainders (ties: lowest department id).
BARE_SQL = """
INSERT INTO budgets_charge
    (cluster_id, department_id, period, amount, budget_line_id, cost_pool_id, run_id, created_at)
SELECT s.cluster_id, s.department_id, %(start)s,
       ((FLOOR(s.cents)
         + CASE WHEN ROW_NUMBER() OVER (
                         PARTITION BY s.pool_id
                         ORDER BY s.cents - FLOOR(s.cents) DESC, s.department_id)
                     <= s.pool * 100 - SUM(FLOOR(s.cents)) OVER (PARTITION BY s.pool_id)
                THEN 1 ELSE 0 END) / 100)::numeric(14, 2),
       bl.id, s.pool_id, %(run)s, NOW()
FROM (
    SELECT p.id AS pool_id, p.cluster_id, p.amount AS pool, c.service_id, m.department_id,
           p.amount * 100 * SUM(m.usage_units::numeric
               * (LEAST(COALESCE(m.leaves_on, %(end)s), %(end)s) - GREATEST(m.joined_on, %(start)s)))
           / SUM(SUM(m.usage_units::numeric
               * (LEAST(COALESCE(m.leaves_on, %(end)s), %(end)s) - GREATEST(m.joined_on, %(start)s))))
             OVER (PARTITION BY p.id) AS cents
    FROM budgets_costpool p
    JOIN clusters_cluster c ON c.id = p.cluster_id
    JOIN clusters_membership m ON m.cluster_id = p.cluster_id
    WHERE p.period = %(start)s
      AND m.joined_on < %(end)s AND (m.leaves_on IS NULL OR m.leaves_on > %(start)s)
    GROUP BY p.id, p.cluster_id, p.amount, c.service_id, m.department_id
) s
LEFT JOIN budgets_budgetline bl
       ON bl.department_id = s.department_id
      AND bl.service_id = s.service_id
      AND bl.fiscal_year = %(fiscal_year)s
"""


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


def bare_insert(period, run) -> int:
    """The bare baseline: one INSERT ... SELECT, audit triggers off; the rows it wrote."""
    from django.db import connection

    from sharedsvc.periods import fiscal_year_of, next_month

    params = {
        "start": period,
        "end": next_month(period),
        "run": run.pk,
        "fiscal_year": fiscal_year_of(period),
    }
    with connection.cursor() as cursor:
        cursor.execute(BARE_SQL, params)
        return cursor.rowcount


def charges_of(period) -> dict[tuple[int, int], tuple]:
    from budgets.models import Charge

    return {
        (cluster, department): (amount, line, pool)
        for cluster, department, amount, line, pool in Charge.objects.filter(
            period=period
        ).values_list("cluster_id", "department_id", "amount", "budget_line_id", "cost_pool_id")
    }


def differences(ours: dict, theirs: dict) -> list[tuple[int, int]]:
    return sorted(k for k in ours.keys() | theirs.keys() if ours.get(k) != theirs.get(k))


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
    active = (
        Membership.objects.filter(joined_on__lt=next_month(month))
        .filter(Q(leaves_on__isnull=True) | Q(leaves_on__gt=month))
        .count()
    )
    pools = CostPool.objects.filter(period=month)
    print(
        f"Built in {time.monotonic() - started:.0f}s: scale {SCALE}, "
        f"{active:,} memberships active in {format_period(month)}, "
        f"{pools.count():,} cost pools totalling {pools.aggregate(t=Sum('amount'))['t']:,}."
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")  # as autovacuum would have, after the bulk load
    # CaptureQueriesContext keeps Django's last 9,000 queries; the loop makes more.
    connection.queries_log = deque(maxlen=1_000_000)

    # (a) the loop, in a transaction rolled back afterwards so (c) can make the same rows.
    with transaction.atomic():
        with audit_context(actor=demo.actor):
            run = ChargebackRun.objects.create(
                period=month, requested_by=demo.actor, status=RunStatus.RUNNING
            )
            # The same immediate foreign-key checks as the service, so the comparison is
            # about one statement against one per member, not about the trigger queue.
            with checked_at_once(), CaptureQueriesContext(connection) as loop_queries:
                began = time.perf_counter()
                per_member_loop(month, run)
                loop_seconds = time.perf_counter() - began
        loop_charges = charges_of(month)
        transaction.set_rollback(True)

    # (b) the bare INSERT ... SELECT, audit triggers off, rolled back afterwards. Foreign
    # keys are checked at once, as in the service: deferred, a rollback would skip them.
    # Then the same INSERT with the audit triggers on: not a target, the reason for one
    # (an audited charge costs a second row, in the trigger).
    def timed_bare(audited: bool) -> tuple[float, int, dict]:
        with transaction.atomic():
            with audit_context(actor=demo.actor):
                run = ChargebackRun.objects.create(
                    period=month, requested_by=demo.actor, status=RunStatus.RUNNING
                )
            if not audited:
                with connection.cursor() as cursor:
                    cursor.execute("ALTER TABLE budgets_charge DISABLE TRIGGER USER")
            with checked_at_once(), audit_context(actor=demo.actor):
                began = time.perf_counter()
                rows = bare_insert(month, run)
                seconds = time.perf_counter() - began
            charges = charges_of(month)
            transaction.set_rollback(True)
        return seconds, rows, charges

    bare_seconds, bare_rows, bare_charges = timed_bare(audited=False)
    audited_seconds, _, _ = timed_bare(audited=True)

    # (c) the service.
    with CaptureQueriesContext(connection) as set_queries:
        began = time.perf_counter()
        run = chargeback_run(actor=demo.actor, period=month)
        set_seconds = time.perf_counter() - began
    set_charges = charges_of(month)

    loop_differ = differences(loop_charges, set_charges)
    bare_differ = differences(bare_charges, set_charges)
    identical = not loop_differ and not bare_differ
    n_set, n_loop = len(set_queries.captured_queries), len(loop_queries.captured_queries)
    speedup, over_bare = loop_seconds / set_seconds, set_seconds / bare_seconds
    print(f"Chargeback of {format_period(month)}: {run.charges:,} charges, {run.total:,}")
    print(f"  (c) chargeback_run (set-based):  {set_seconds:8.3f} s {n_set:>8,} queries")
    print(f"  (a) per-member ORM loop:         {loop_seconds:8.3f} s {n_loop:>8,} queries")
    print(f"  (b) bare INSERT ... SELECT:      {bare_seconds:8.3f} s {bare_rows:>8,} rows")
    print(f"      the same, audit triggers on: {audited_seconds:8.3f} s")
    print(f"  {speedup:.1f}x faster than the loop; {over_bare:.2f}x the bare INSERT's time")
    print(
        f"  identical charges: {'yes' if identical else 'NO'} "
        f"(loop {len(loop_charges):,}, bare {len(bare_charges):,}, service {len(set_charges):,})"
    )
    if loop_differ:
        print(f"  loop differs at (cluster id, department id): {loop_differ[:5]}")
    if bare_differ:
        print(f"  bare INSERT differs at (cluster id, department id): {bare_differ[:5]}")

    results: list[Result] = [
        ratio_result(
            f"chargeback of {active:,} memberships vs a per-member ORM loop",
            baseline=loop_seconds,
            ours=set_seconds,
            at_most=MAX_SHARE_OF_LOOP,
            unit="s",
            note=(
                f"{speedup:.0f}x faster; the bare INSERT alone is "
                f"{loop_seconds / bare_seconds:.0f}x the loop's speed with no audit trail, "
                f"{loop_seconds / audited_seconds:.0f}x with the audit triggers on"
            ),
        ),
        ratio_result(
            "chargeback vs a bare INSERT ... SELECT, no audit triggers",
            baseline=bare_seconds,
            ours=set_seconds,
            at_most=MAX_TIMES_BARE,
            unit="s",
            note="largest-remainder rounding in SQL; no ON CONFLICT, lock or run bookkeeping",
        ),
        limit_result(
            "chargeback queries",
            ours=n_set,
            below=MAX_QUERIES,
            unit="queries",
            note=f"the loop: {n_loop:,}",
        ),
    ]
    record("chargeback", results)
    return 0 if identical and all(result.met for result in results) else 1


def main() -> int:
    setup_django()
    from django.conf import settings

    # The demo's users get passwords; a fast hasher, since that is not what is measured.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    with throwaway_database(DATABASE):
        return bench()


if __name__ == "__main__":
    sys.exit(main())
