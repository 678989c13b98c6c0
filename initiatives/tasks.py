"""Daily jobs of programmes and pilots, thin and idempotent wrappers of one service each:
tell the sponsor and the department, once, of each commitment whose date has passed
without the department joining; evaluate each pilot whose end date has come."""

from __future__ import annotations

from celery import shared_task
from django.utils import timezone

from initiatives.pilots import pilots_evaluate_due
from initiatives.services import commitments_notify_late


@shared_task
def notify_late_commitments() -> int:
    return commitments_notify_late(as_of=timezone.localdate())


@shared_task
def evaluate_due_pilots() -> int:
    return len(pilots_evaluate_due())
