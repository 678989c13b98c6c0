"""Chargeback tasks: thin wrappers that take ids and call one service.

`budgets.services` queues `chargeback_execute_task` after commit and this module calls the
services: both import the other module (not its names) at the top, which Python resolves
whichever is imported first.
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
def chargeback_month_just_ended() -> int:
    """Beat, on the first of each month: queue the chargeback of the month just ended."""
    return services.chargeback_request(actor=None, period=previous_month(timezone.localdate())).pk
