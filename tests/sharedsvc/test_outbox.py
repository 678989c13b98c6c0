"""The transactional outbox: work is recorded with the change, handed to the broker once,
waits while the broker is down, and fails visibly after its last try.

Real servers: PostgreSQL for the locks, and a redis-server of the test's own (or a port
nothing listens on) for the broker; no mock of the broker.
"""

from __future__ import annotations

import datetime
import threading
import time

import pytest
import redis
from django.db import connection, transaction
from django.test import Client
from django.utils import timezone

from sharedsvc.models import OutboxItem, OutboxStatus
from sharedsvc.outbox import MAX_ATTEMPTS, backoff, outbox_dispatch, outbox_enqueue
from tests.servers import broker, free_port, redis_server

HEARTBEAT = "sharedsvc.tasks.heartbeat"  # a real task; no worker runs in these tests


def nowhere() -> str:
    """A Redis URL on a loopback port nothing listens on: the broker is down."""
    return f"redis://127.0.0.1:{free_port()}/0"


def test_enqueue_is_idempotent_by_key(db):
    with transaction.atomic():
        first = outbox_enqueue(task=HEARTBEAT, key="once", kwargs={})
        again = outbox_enqueue(task=HEARTBEAT, key="once", kwargs={"other": 1})
    assert again.pk == first.pk
    assert list(OutboxItem.objects.values_list("key", "kwargs")) == [("once", {})]


def test_a_rolled_back_change_leaves_no_item_and_sends_nothing(
    db, django_capture_on_commit_callbacks
):
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        outbox_enqueue(task=HEARTBEAT, key="rolled-back")
        raise RuntimeError("roll back")
    assert callbacks == []
    assert not OutboxItem.objects.exists()


def test_items_wait_while_the_broker_is_down_and_no_try_is_counted(
    db, django_capture_on_commit_callbacks
):
    with broker(nowhere()):
        started = time.monotonic()
        # Five items in one change: the request is not failed, and it asks the broker
        # once, not once an item.
        with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
            for i in range(5):
                outbox_enqueue(task=HEARTBEAT, key=f"wait-{i}")
        assert time.monotonic() - started < 5
        # Beat's dispatcher, later: still down, still waiting, still no try counted.
        later = timezone.now() + datetime.timedelta(minutes=1)
        assert outbox_dispatch(now=later) == 0
    items = list(OutboxItem.objects.all())
    assert len(items) == 5
    for item in items:
        assert (item.status, item.attempts, item.sent_at) == (OutboxStatus.PENDING, 0, None)
        assert item.last_error.startswith("Broker unreachable")
        assert item.next_attempt_at <= later  # due again at the next dispatch


def test_items_waiting_for_the_broker_go_once_it_is_back(db):
    with redis_server() as server, broker(server.url):
        server.stop()
        with transaction.atomic():
            outbox_enqueue(task=HEARTBEAT, key="after-outage")
        assert outbox_dispatch() == 0
        server.start()
        assert outbox_dispatch() == 1
        assert outbox_dispatch() == 0  # handed over once
        assert redis.Redis.from_url(server.url).llen("celery") == 1
    item = OutboxItem.objects.get()
    assert (item.status, item.attempts, item.last_error) == (OutboxStatus.SENT, 1, "")


def test_an_unknown_task_is_retried_with_backoff_then_failed_with_the_error(db):
    with transaction.atomic():
        outbox_enqueue(task="nowhere.tasks.missing", key="unknown")
    now = timezone.now()
    for attempt in range(1, MAX_ATTEMPTS + 1):
        assert outbox_dispatch(now=now) == 0
        item = OutboxItem.objects.get()
        assert item.attempts == attempt
        assert "nowhere.tasks.missing" in item.last_error
        if attempt < MAX_ATTEMPTS:
            assert item.status == OutboxStatus.PENDING
            assert item.next_attempt_at == now + backoff(attempt)
            # Not tried again before its back-off is over.
            assert outbox_dispatch(now=item.next_attempt_at - datetime.timedelta(seconds=1)) == 0
            assert OutboxItem.objects.get().attempts == attempt
            now = item.next_attempt_at
    assert item.status == OutboxStatus.FAILED
    assert item.last_error.startswith("NotRegistered")
    # Failed is final: no dispatcher takes it again.
    assert outbox_dispatch(now=now + datetime.timedelta(days=1)) == 0
    assert OutboxItem.objects.get().attempts == MAX_ATTEMPTS


def test_backoff_doubles_up_to_an_hour():
    assert [backoff(n).total_seconds() for n in (1, 2, 3, 4, 8, 20)] == [
        30,
        60,
        120,
        240,
        3600,
        3600,
    ]


def test_two_dispatchers_at_once_never_hand_an_item_twice(transactional_db) -> None:
    total = 60
    for i in range(total):
        OutboxItem.objects.create(key=f"race-{i}", task=HEARTBEAT)
    threads_n = 4
    barrier = threading.Barrier(threads_n)
    handed: list[int] = []
    errors: list[BaseException] = []

    with redis_server() as server, broker(server.url):

        def dispatcher() -> None:
            try:
                barrier.wait(timeout=10)
                count = 0
                # Small batches, so the dispatchers overlap many times.
                while (n := outbox_dispatch(limit=3)) or OutboxItem.objects.filter(
                    status=OutboxStatus.PENDING
                ).exists():
                    count += n
                handed.append(count)
            except BaseException as exc:  # reported by the assertion below
                errors.append(exc)
            finally:
                connection.close()

        threads = [threading.Thread(target=dispatcher) for _ in range(threads_n)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=30)
        assert not any(t.is_alive() for t in threads), "a dispatcher did not finish"
        queued = redis.Redis.from_url(server.url).llen("celery")

    assert errors == []
    assert sum(handed) == total
    assert queued == total  # the broker got each item once
    assert len([n for n in handed if n]) > 1, "the dispatchers did not overlap"
    assert set(OutboxItem.objects.values_list("status", "attempts")) == {(OutboxStatus.SENT, 1)}


@pytest.mark.parametrize(("persona", "status"), [("administrator", 200), ("analyst", 302)])
def test_failed_items_are_shown_to_administrators_in_the_admin(world, persona, status):
    OutboxItem.objects.create(
        key="gave-up",
        task="nowhere.tasks.missing",
        status=OutboxStatus.FAILED,
        attempts=MAX_ATTEMPTS,
        last_error="NotRegistered: 'nowhere.tasks.missing'",
    )
    OutboxItem.objects.create(key="fine", task=HEARTBEAT, status=OutboxStatus.SENT)
    client = Client()
    client.force_login(getattr(world, persona))
    response = client.get("/admin/sharedsvc/outboxitem/", {"status__exact": "failed"})
    assert response.status_code == status
    if status == 200:
        body = response.content.decode()
        assert "gave-up" in body and "NotRegistered" in body
        assert "fine" not in body
        # Read only: no add, no change.
        item = OutboxItem.objects.get(key="fine")
        assert client.get("/admin/sharedsvc/outboxitem/add/").status_code == 403
        assert client.post(f"/admin/sharedsvc/outboxitem/{item.pk}/change/", {}).status_code == 403
