"""Shared Celery tasks: the outbox's dispatcher, mail, and a heartbeat that shows beat is
alive; and the worker's hooks that carry a request's id into the work it asked for."""

from __future__ import annotations

import logging

from celery import shared_task
from celery.signals import task_postrun, task_prerun, worker_ready
from django.core.cache import cache
from django.core.mail import send_mail
from django.utils import timezone

from sharedsvc.outbox import outbox_dispatch
from sharedsvc.request_context import request_id

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


@shared_task
def outbox_dispatch_task() -> int:
    """Beat, every minute: hand the waiting background work to the workers."""
    return outbox_dispatch()


@worker_ready.connect
def dispatch_waiting_work(**_: object) -> None:
    # A worker that starts (after an outage, a deploy) sends what waited for it.
    try:
        outbox_dispatch()
    except Exception:
        logger.exception("outbox: dispatch at worker start failed")


@task_prerun.connect
def take_request_id(task=None, **_: object) -> None:
    rid = getattr(task.request, "request_id", None) if task is not None else None
    request_id.set(rid or "")


@task_postrun.connect
def drop_request_id(**_: object) -> None:
    request_id.set("")
