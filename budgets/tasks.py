"""Chargeback tasks: thin wrappers that take ids and call one service."""

from __future__ import annotations

from celery import shared_task
from django.utils import timezone

from sharedsvc.periods import previous_month


@shared_task
def chargeback_execute_task(run_id: int) -> None:
    from budgets.services import chargeback_execute

    chargeback_execute(run_id=run_id)


@shared_task
def chargeback_month_just_ended() -> int:
    """Beat, on the first of each month: queue the chargeback of the month just ended."""
    from budgets.services import chargeback_request

    return chargeback_request(actor=None, period=previous_month(timezone.localdate())).pk
