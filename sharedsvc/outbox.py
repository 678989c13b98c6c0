"""The transactional outbox: background work that survives a broker outage.

A write that wants work done later (an email, a chargeback run) calls `outbox_enqueue`
inside its own transaction: the work is a row in PostgreSQL, committed with the change or
rolled back with it. Once the transaction commits, the dispatcher hands the row to Celery.
When the broker cannot be reached the write still succeeds; the row waits, and the
dispatcher runs again every minute from beat and whenever a worker starts, so the work
goes out within a minute of the broker coming back.

Delivery:
- each item has a `key`: enqueueing the same key twice records the work once;
- `outbox_dispatch` locks the rows it hands over (`FOR UPDATE SKIP LOCKED`), so two
  dispatchers running at once never hand the same item twice;
- the broker being down is nobody's fault: the item stays due and no try is counted; a
  request that finds the broker down does not try again for the next few seconds (its
  items wait for beat), so an outage costs a request one refused connection, not one per
  email;
- an error of the item itself (an unknown task, arguments Celery cannot serialise) counts
  a try and is retried with back-off; after `MAX_ATTEMPTS` the item is `failed` with the
  error, which administrators see in the admin;
- the tasks themselves are idempotent (they take ids and check state), because a broker
  may deliver a message more than once.

A library was considered: django-celery-outbox (0.4) needs sentry-sdk, datadog and
structlog at run time and a relay process of its own, and has no key per item; this module
is the part of it we need, on the scheduler we already run.
"""

from __future__ import annotations

import datetime
import functools
import logging
import threading
import time
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from kombu.exceptions import OperationalError as KombuOperationalError

from sharedsvc.celery import app as celery_app
from sharedsvc.models import OutboxItem, OutboxStatus
from sharedsvc.request_context import request_id

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
# After the broker refused a connection, requests leave their items to beat (at most a
# minute away) for this long instead of each waiting on the broker in turn.
BROKER_DOWN_PAUSE = 15.0
BATCH = 200

# What "the broker cannot be reached" looks like from kombu and the Redis client.
BROKER_ERRORS: tuple[type[BaseException], ...] = (
    KombuOperationalError,
    ConnectionError,
    TimeoutError,
    OSError,
)


def backoff(attempts: int) -> datetime.timedelta:
    """30 s, 1 min, 2 min, ... up to an hour between tries of a failing item."""
    return datetime.timedelta(seconds=min(30 * 2 ** max(attempts - 1, 0), 3600))


def outbox_enqueue(*, task: str, key: str, kwargs: dict[str, Any] | None = None) -> OutboxItem:
    """Record work to do once the current transaction commits, and ask for it to be
    dispatched then. Call it inside the transaction of the change that wants the work."""
    with transaction.atomic():
        try:
            with transaction.atomic():
                item = OutboxItem.objects.create(
                    key=key, task=task, kwargs=kwargs or {}, request_id=request_id.get()
                )
        except IntegrityError:
            # The same work was recorded before: once is enough.
            return OutboxItem.objects.get(key=key)
    _local.keys.append(key)
    transaction.on_commit(dispatch_after_commit)
    return item


class _Local(threading.local):
    def __init__(self) -> None:
        # The keys enqueued since the last after-commit dispatch in this thread: the first
        # callback of a commit hands them all over in one connection to the broker, the
        # others find nothing left. (A key of a rolled-back savepoint matches no row.)
        self.keys: list[str] = []


_local = _Local()
# Until when (time.monotonic) requests leave their items to beat: the broker was down.
_broker_down_until = 0.0


def dispatch_after_commit() -> None:
    """Hand freshly committed items to Celery now; never fail the request that made them."""
    keys, _local.keys = _local.keys, []
    if not keys or time.monotonic() < _broker_down_until:
        return
    try:
        outbox_dispatch(keys=keys)
    except Exception:  # the dispatcher of beat and the worker tries again
        logger.exception("outbox: dispatch after commit failed; the item waits")


@functools.cache
def _load_tasks() -> None:
    # The web process imports no tasks module by itself; without this every task would
    # look unknown to it. Autodiscovery imports each installed app's `tasks` (by name, so
    # the ground still imports no app).
    celery_app.loader.import_default_modules()


def outbox_dispatch(
    *, keys: list[str] | None = None, now: datetime.datetime | None = None, limit: int = BATCH
) -> int:
    """Hand the pending items that are due to Celery; returns how many were handed over."""
    global _broker_down_until
    now = now or timezone.now()
    _load_tasks()
    handed = 0
    with transaction.atomic():
        # SKIP LOCKED: a second dispatcher running at the same time takes other rows, or
        # none, so no item is handed over twice.
        due = OutboxItem.objects.select_for_update(skip_locked=True).filter(
            status=OutboxStatus.PENDING, next_attempt_at__lte=now
        )
        if keys is not None:
            due = due.filter(key__in=keys)
        items = list(due.order_by("next_attempt_at", "id")[:limit])
        if not items:
            return 0
        try:
            # One connection for the batch, from the broker URL configured now; one try
            # to connect (a refused connection fails at once, the socket timeout bounds
            # the rest): the items wait in PostgreSQL, not in a retry loop.
            with celery_app.connection_for_write(transport_options={"max_retries": 0}) as broker:
                for item in items:
                    if _hand_over(item, broker=broker, now=now):
                        handed += 1
            _broker_down_until = 0.0
        except BROKER_ERRORS as exc:
            waiting = [i.pk for i in items if i.status == OutboxStatus.PENDING]
            # The broker being down is nobody's fault: no try is counted and the items
            # stay due for the next dispatch.
            OutboxItem.objects.filter(pk__in=waiting).update(
                last_error=f"Broker unreachable: {exc}"[:2000]
            )
            _broker_down_until = time.monotonic() + BROKER_DOWN_PAUSE
            logger.warning("outbox: broker unreachable, %d items wait", len(waiting))
    return handed


def _hand_over(item: OutboxItem, *, broker: Any, now: datetime.datetime) -> bool:
    """Publish one item; a broker error propagates (the batch waits), an error of the item
    itself counts a try."""
    try:
        # A task this app does not know is the item's own error (KeyError).
        celery_app.tasks[item.task].apply_async(
            kwargs=item.kwargs,
            retry=False,
            connection=broker,
            headers={"outbox_key": item.key, "request_id": item.request_id},
        )
    except BROKER_ERRORS:
        raise
    except Exception as exc:
        item.attempts += 1
        item.last_error = f"{type(exc).__name__}: {exc}"[:2000]
        if item.attempts >= MAX_ATTEMPTS:
            item.status = OutboxStatus.FAILED
            logger.error("outbox: %s failed after %d tries", item.key, item.attempts)
        else:
            item.next_attempt_at = now + backoff(item.attempts)
        item.save(update_fields=["attempts", "last_error", "status", "next_attempt_at"])
        return False
    item.attempts += 1
    item.status = OutboxStatus.SENT
    item.sent_at = now
    item.last_error = ""
    item.save(update_fields=["attempts", "status", "sent_at", "last_error"])
    return True
