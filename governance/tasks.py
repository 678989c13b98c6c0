"""Board jobs for Celery beat: thin, idempotent wrappers of one service each."""

from __future__ import annotations

from celery import shared_task

from governance.services import case_close_due, case_send_reminders


@shared_task
def close_due_cases() -> int:
    return len(case_close_due())


@shared_task
def send_reminders() -> int:
    return case_send_reminders()
