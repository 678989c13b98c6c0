"""Notifications: queued for sending only once the transaction that caused them commits."""

from __future__ import annotations

from collections.abc import Iterable
from functools import partial

from django.db import transaction

from sharedsvc.tasks import send_email


def notify(*, to: Iterable[str], subject: str, body: str) -> None:
    """Email these addresses after commit; nothing is sent for a change that rolls back."""
    recipients = sorted({address for address in to if address})
    if recipients:
        transaction.on_commit(partial(send_email.delay, to=recipients, subject=subject, body=body))
