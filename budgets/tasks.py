"""Chargeback tasks: thin wrappers that take ids and call one service.

`budgets.services` records `chargeback_execute_task` in the outbox (by name) with the run,
and the outbox hands it to a worker once the run is committed.
"""

from __future__ import annotations

from celery import shared_task
from django.utils import timezone

from budgets import services
from sharedsvc.periods import previous_month


@shared_task
def chargeback_execute_task(run_id: int) -> None:
    services.chargeback_execute(run_id=run_id)


@shared_task
def chargeback_runs_recover_task() -> dict[int, str]:
    """Beat, every five minutes: queue again, or fail with the reason, the runs that are
    stuck (their worker died, their message was lost)."""
    return services.chargeback_runs_recover(now=timezone.now())


@shared_task
def chargeback_month_just_ended() -> int:
    """Beat, on the first of each month: queue the chargeback of the month just ended."""
    return services.chargeback_request(actor=None, period=previous_month(timezone.localdate())).pk
