"""Writes of the money side: budget lines, cost pools and the monthly chargeback."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone

from budgets.models import BudgetLine, Charge, ChargebackRun, CostPool, RunStatus
from clusters.models import Cluster, Department, Service
from sharedsvc.audit import audit_context
from sharedsvc.errors import Conflict
from sharedsvc.outbox import outbox_enqueue
from sharedsvc.periods import (
    fiscal_year_bounds,
    fiscal_year_of,
    format_period,
    month_start,
    next_month,
)
from sharedsvc.services import model_create, model_delete, model_update, require_permission

PERIOD_NOT_ENDED = "{period} has not ended yet; a month can be charged once it is over."
PERIOD_IN_FUTURE = "{period} is in the future; enter costs for months that have begun."
POOL_ALREADY_CHARGED = (
    "{period} has already been charged for this cluster, so its cost pool can no longer change."
)
LINE_HAS_CHARGES = "This budget line has charges against it, so it cannot be deleted."
NOT_YOUR_DEPARTMENT = "You may only manage the budget lines of your own department."
NOT_YOUR_CLUSTER = "You may only enter cost pools for your own provider's clusters."
RUNS_FOR_ADMINISTRATORS = "Only administrators start chargeback runs."


# Budget lines ------------------------------------------------------------------------


def budget_line_create(
    *, actor: Any, department: Department, fiscal_year: str, service: Service, allocated: Decimal
) -> BudgetLine:
    """A department sets aside money for a service; charges already recorded for that year
    and service as unfunded now land on the new line."""
    require_permission(actor, "budgets.add_budgetline", department, NOT_YOUR_DEPARTMENT)
    with transaction.atomic(), audit_context(actor=actor):
        line = model_create(
            BudgetLine,
            actor=actor,
            data={
                "department": department,
                "fiscal_year": fiscal_year,
                "service": service,
                "allocated": allocated,
            },
        )
        _attach_unfunded_charges(line)
    return line


def _attach_unfunded_charges(line: BudgetLine) -> int:
    start, end = fiscal_year_bounds(line.fiscal_year)
    return Charge.objects.filter(
        department_id=line.department_id,
        cluster__service_id=line.service_id,
        period__gte=start,
        period__lt=end,
        budget_line__isnull=True,
    ).update(budget_line=line)


def budget_line_update(
    *, actor: Any, budget_line: BudgetLine, allocated: Decimal | None = None, **ignored: Any
) -> BudgetLine:
    """Only the allocation changes; department, year and service identify the line (a
    change naming none of what may change leaves the line as it is)."""
    require_permission(
        actor, "budgets.change_budgetline", budget_line.department_id, NOT_YOUR_DEPARTMENT
    )
    if allocated is None:
        return budget_line
    return model_update(budget_line, actor=actor, data={"allocated": allocated})


def budget_line_delete(*, actor: Any, budget_line: BudgetLine) -> None:
    require_permission(
        actor, "budgets.delete_budgetline", budget_line.department_id, NOT_YOUR_DEPARTMENT
    )
    if budget_line.charges.exists():
        raise Conflict(LINE_HAS_CHARGES)
    model_delete(budget_line, actor=actor)


# Cost pools --------------------------------------------------------------------------


def _check_pool_period(period: datetime.date, today: datetime.date | None = None) -> None:
    today = today or timezone.localdate()
    if period > month_start(today):
        raise ValidationError({"period": PERIOD_IN_FUTURE.format(period=format_period(period))})


def _check_not_charged(cluster: Cluster, period: datetime.date) -> None:
    if Charge.objects.filter(cluster=cluster, period=period).exists():
        raise Conflict(POOL_ALREADY_CHARGED.format(period=format_period(period)))


def cost_pool_create(
    *, actor: Any, cluster: Cluster, period: datetime.date, amount: Decimal
) -> CostPool:
    require_permission(actor, "budgets.add_costpool", cluster, NOT_YOUR_CLUSTER)
    period = month_start(period)
    _check_pool_period(period)
    _check_not_charged(cluster, period)
    return model_create(
        CostPool,
        actor=actor,
        data={"cluster": cluster, "period": period, "amount": amount, "entered_by": actor},
    )


def cost_pool_update(
    *, actor: Any, cost_pool: CostPool, amount: Decimal | None = None, **ignored: Any
) -> CostPool:
    """A pool may be corrected until its month is charged; after that it is history (a
    change naming none of what may change leaves the pool as it is)."""
    require_permission(actor, "budgets.change_costpool", cost_pool.cluster, NOT_YOUR_CLUSTER)
    if amount is None:
        return cost_pool
    with transaction.atomic():
        # Lock the pool so a chargeback and a correction cannot interleave.
        locked = CostPool.objects.select_for_update().get(pk=cost_pool.pk)
        _check_not_charged(locked.cluster, locked.period)
        return model_update(locked, actor=actor, data={"amount": amount, "entered_by": actor})


def cost_pool_delete(*, actor: Any, cost_pool: CostPool) -> None:
    require_permission(actor, "budgets.delete_costpool", cost_pool.cluster, NOT_YOUR_CLUSTER)
    _check_not_charged(cost_pool.cluster, cost_pool.period)
    model_delete(cost_pool, actor=actor)


def cost_pools_import(*, actor: Any, rows: list[dict[str, Any]]) -> list[CostPool]:
    """Save many pools at once (a CSV upload): all of them, or none."""
    with transaction.atomic():
        return [cost_pool_create(actor=actor, **row) for row in rows]


# The chargeback ----------------------------------------------------------------------

# One INSERT turns every cost pool of the month into charges:
#   weight = usage_units x days active in the month (the days_in_month divisor is the
#   same for every member of a pool, so it cancels out of weight / sum(weights));
#   exact  = pool x weight / sum(weights), in cents;
#   each member gets floor(exact) cents, and the cents left over go one each to the
#   largest remainders (ties: lowest department id), so a pool's charges add up to it.
# Each charge lands on the department's line for the period's fiscal year and the
# cluster's service, or none (unfunded). ON CONFLICT keeps a month charged once.
CHARGEBACK_SQL = """
WITH pools AS (
    SELECT p.id AS pool_id, p.cluster_id, p.amount AS pool, c.service_id
    FROM budgets_costpool p
    JOIN clusters_cluster c ON c.id = p.cluster_id
    WHERE p.period = %(start)s
), weights AS (
    SELECT pools.pool_id, pools.cluster_id, pools.pool, pools.service_id, m.department_id,
           SUM(m.usage_units::numeric
               * (LEAST(COALESCE(m.leaves_on, %(end)s), %(end)s) - GREATEST(m.joined_on, %(start)s))
           ) AS weight
    FROM pools
    JOIN clusters_membership m ON m.cluster_id = pools.cluster_id
    WHERE m.joined_on < %(end)s AND (m.leaves_on IS NULL OR m.leaves_on > %(start)s)
    GROUP BY pools.pool_id, pools.cluster_id, pools.pool, pools.service_id, m.department_id
), exact AS (
    SELECT w.*, w.pool * 100 * w.weight / SUM(w.weight) OVER (PARTITION BY w.pool_id) AS cents
    FROM weights w
), floored AS (
    SELECT e.*, FLOOR(e.cents) AS floor_cents, e.cents - FLOOR(e.cents) AS remainder
    FROM exact e
), ranked AS (
    SELECT f.*,
           f.pool * 100 - SUM(f.floor_cents) OVER (PARTITION BY f.pool_id) AS leftover,
           ROW_NUMBER() OVER (PARTITION BY f.pool_id ORDER BY f.remainder DESC, f.department_id) AS place
    FROM floored f
)
INSERT INTO budgets_charge
    (cluster_id, department_id, period, amount, budget_line_id, cost_pool_id, run_id, created_at)
SELECT r.cluster_id, r.department_id, %(start)s,
       ((r.floor_cents + CASE WHEN r.place <= r.leftover THEN 1 ELSE 0 END) / 100)::numeric(14, 2),
       bl.id, r.pool_id, %(run)s, NOW()
FROM ranked r
LEFT JOIN budgets_budgetline bl
       ON bl.department_id = r.department_id
      AND bl.service_id = r.service_id
      AND bl.fiscal_year = %(fiscal_year)s
ORDER BY r.cluster_id, r.department_id
ON CONFLICT (cluster_id, department_id, period) DO NOTHING
RETURNING amount
"""

# Pools of the month that no member was active to pay for: reported, not lost.
UNALLOCATED_SQL = """
SELECT COALESCE(SUM(p.amount), 0)
FROM budgets_costpool p
WHERE p.period = %(start)s
  AND NOT EXISTS (
      SELECT 1 FROM clusters_membership m
      WHERE m.cluster_id = p.cluster_id
        AND m.joined_on < %(end)s AND (m.leaves_on IS NULL OR m.leaves_on > %(start)s)
  )
"""


def check_period_ended(period: datetime.date, today: datetime.date | None = None) -> None:
    today = today or timezone.localdate()
    if next_month(period) > today:
        raise ValidationError({"period": PERIOD_NOT_ENDED.format(period=format_period(period))})


def chargeback_request(*, actor: Any, period: datetime.date) -> ChargebackRun:
    """Queue a chargeback of a month; the worker runs it once this transaction commits."""
    require_permission(actor, "budgets.add_chargebackrun", message=RUNS_FOR_ADMINISTRATORS)
    period = month_start(period)
    check_period_ended(period)
    with transaction.atomic(), audit_context(actor=actor):
        run = ChargebackRun.objects.create(period=period, requested_by=actor)
        # Recorded with the run: a broker outage delays the run, it does not lose it.
        outbox_enqueue(
            task="budgets.tasks.chargeback_execute_task",
            key=f"chargeback-run:{run.pk}",
            kwargs={"run_id": run.pk},
        )
    return run


def chargeback_run(*, actor: Any, period: datetime.date) -> ChargebackRun:
    """Charge a month now (the command and tests); the same work as a queued run."""
    require_permission(actor, "budgets.add_chargebackrun", message=RUNS_FOR_ADMINISTRATORS)
    period = month_start(period)
    check_period_ended(period)
    with audit_context(actor=actor):
        run = ChargebackRun.objects.create(period=period, requested_by=actor)
    return chargeback_execute(run_id=run.pk)


def chargeback_execute(*, run_id: int) -> ChargebackRun:
    """Run a queued chargeback: queued -> running -> done, or failed with the error."""
    with transaction.atomic():
        run = ChargebackRun.objects.select_for_update().get(pk=run_id)
        if run.status != RunStatus.QUEUED:
            return run  # a retried task must not run twice
        run.status = RunStatus.RUNNING
        run.started_at = timezone.now()
        run.save(update_fields=["status", "started_at"])
    try:
        with transaction.atomic(), audit_context(actor=run.requested_by, chargeback_run=run.pk):
            count, total, unallocated = _charge_month(run)
            run.status = RunStatus.DONE
            run.charges, run.total, run.unallocated = count, total, unallocated
            run.finished_at = timezone.now()
            run.save(update_fields=["status", "charges", "total", "unallocated", "finished_at"])
    except Exception as exc:
        ChargebackRun.objects.filter(pk=run.pk).update(
            status=RunStatus.FAILED,
            finished_at=timezone.now(),
            error=f"{type(exc).__name__}: {exc}",
        )
        raise
    return run


def _charge_month(run: ChargebackRun) -> tuple[int, Decimal, Decimal]:
    start, end = run.period, next_month(run.period)
    params = {"start": start, "end": end, "run": run.pk, "fiscal_year": fiscal_year_of(start)}
    with connection.cursor() as cursor:
        # Two runs of one month at once: the second waits here for the first to commit,
        # then finds every charge already made (ON CONFLICT) and adds nothing.
        cursor.execute(
            "SELECT pg_advisory_xact_lock(hashtext('chargeback'), %s)",
            [start.year * 100 + start.month],
        )
        # Check the charges' foreign keys as each is inserted, not at commit: with
        # thousands of deferred checks queued, the audit trigger's insert per charge makes
        # PostgreSQL's trigger queue quadratic (10,000 members: 12 s instead of 3 s).
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute(CHARGEBACK_SQL, params)
        amounts = [row[0] for row in cursor.fetchall()]
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")  # Django's default, for the rest
        cursor.execute(UNALLOCATED_SQL, params)
        unallocated = cursor.fetchone()[0]
    return len(amounts), sum(amounts, Decimal("0.00")), Decimal(unallocated)
