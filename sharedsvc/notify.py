"""Emails about a change: recorded in the outbox with the change, one message per recipient,
and sent only once the transaction that caused them commits (a broker outage delays them,
a rollback sends nothing)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from sharedsvc.outbox import outbox_enqueue


def notify(*, to: Iterable[str], subject: str, body: str) -> None:
    """Email each of these addresses (one message each, no shared To: list)."""
    for address in sorted({address for address in to if address}):
        outbox_enqueue(
            task="sharedsvc.tasks.send_email",
            key=f"email:{uuid.uuid4().hex}",
            kwargs={"to": [address], "subject": subject, "body": body},
        )
