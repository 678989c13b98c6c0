"""Notification tasks: thin, by id, idempotent (the outbox hands them over by name)."""

from __future__ import annotations

from celery import shared_task

from notifications import services


# Mail servers fail: retried with back-off; the service sends at most once per row.
@shared_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def send_notification_email(notification_id: int) -> bool:
    return services.notification_email_send(notification_id=notification_id)
