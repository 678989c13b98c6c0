"""Helpers for tests that read the emails sent from notifications."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sharedsvc.celery import app as celery_app


@contextmanager
def celery_eager() -> Iterator[None]:
    """Run tasks in place (the outbox hands them to Celery after commit), so a test sees
    the emails; the broker itself is tested in tests/sharedsvc/test_celery.py."""
    before = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    try:
        yield
    finally:
        celery_app.conf.task_always_eager = before
