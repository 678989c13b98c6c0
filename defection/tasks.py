"""Daily: scheduled exits whose date has come are completed."""

from __future__ import annotations

from celery import shared_task

from defection.services import exit_requests_complete


@shared_task
def complete_due_exits() -> int:
    return exit_requests_complete()
