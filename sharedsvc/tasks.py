"""Shared Celery tasks: mail after commit, and a heartbeat that shows beat is alive."""

from __future__ import annotations

import logging

from celery import shared_task
from django.core.cache import cache
from django.core.mail import send_mail
from django.utils import timezone

logger = logging.getLogger(__name__)


@shared_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def send_email(*, to: list[str], subject: str, body: str) -> int:
    """Send one message; mail servers fail, so it retries with back-off."""
    return send_mail(subject, body, None, to)


@shared_task
def heartbeat() -> str:
    stamp = timezone.now().isoformat()
    cache.set("sharedsvc:heartbeat", stamp, timeout=None)
    return stamp
