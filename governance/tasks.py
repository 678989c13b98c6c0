"""Board jobs for Celery beat: thin, idempotent wrappers of one service each."""

from __future__ import annotations

from celery import shared_task


@shared_task
def close_due_cases() -> int:
    from governance.services import case_close_due

    return len(case_close_due())


@shared_task
def send_reminders() -> int:
    from governance.services import case_send_reminders

    return case_send_reminders()
