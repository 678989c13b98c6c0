"""Celery for real: a task goes through the configured broker (Redis with REDIS_URL, else
kombu's filesystem transport) to a real worker; notifications' emails wait for the commit."""

from __future__ import annotations

import time
import uuid

import pytest
from django.core import mail
from django.core.cache import cache
from django.db import transaction
from kombu import Exchange, Queue

from notifications.models import Notification, NotificationKind
from notifications.services import notify
from sharedsvc.celery import app as celery_app
from sharedsvc.tasks import heartbeat, send_email
from tests.factories import UserFactory

HEARTBEAT_KEY = "sharedsvc:heartbeat"


def wait_for(condition, *, seconds: float = 30.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return condition()


@pytest.mark.broker
def test_a_real_worker_consumes_tasks_from_the_broker(transactional_db):
    from celery.contrib.testing.worker import start_worker

    # Through the broker, not run in place.
    assert not celery_app.conf.task_always_eager
    # A queue of its own, so no other worker on this broker (`make run`) takes the tasks.
    queue = f"test-{uuid.uuid4().hex}"
    subject = f"Broker check {queue}"
    mail.outbox = []
    cache.delete(HEARTBEAT_KEY)

    try:
        with start_worker(
            celery_app, perform_ping_check=False, queues=[queue], shutdown_timeout=30
        ):
            send_email.apply_async(
                kwargs={"to": ["lcs.manager@example.gov"], "subject": subject, "body": "Hello"},
                queue=queue,
            )
            heartbeat.apply_async(queue=queue)
            delivered = wait_for(lambda: any(m.subject == subject for m in mail.outbox))
            beat = wait_for(lambda: cache.get(HEARTBEAT_KEY) is not None)
    finally:
        # Forget the queue and its binding (kombu keeps bindings in Redis otherwise).
        with celery_app.connection_for_write() as connection:
            bound = Queue(queue, Exchange(queue), routing_key=queue)(connection.default_channel)
            bound.declare()
            bound.delete()
        cache.delete(HEARTBEAT_KEY)

    assert delivered, "the worker did not send the email"
    assert [(m.subject, m.to) for m in mail.outbox] == [(subject, ["lcs.manager@example.gov"])]
    assert beat, "the worker did not run the heartbeat"


def test_notify_sends_nothing_when_the_transaction_rolls_back(
    db, settings, django_capture_on_commit_callbacks
):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    manager = UserFactory(username="lcs.manager")
    mail.outbox = []

    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        notify(
            recipients=[manager],
            kind=NotificationKind.EXIT_NOTICE,
            subject="Left",
            body="Never sent",
            link="/exit-requests/",
        )
        raise RuntimeError("roll back")

    assert callbacks == []
    assert mail.outbox == []
    assert not Notification.objects.exists()


def test_notify_sends_after_commit_and_not_before(db, settings, django_capture_on_commit_callbacks):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    # Run the task in place so that the send can be seen here; the broker is tested above.
    a, b = UserFactory(username="a"), UserFactory(username="b")
    no_address = UserFactory(username="c", email="")
    celery_app.conf.task_always_eager = True
    mail.outbox = []
    try:
        with django_capture_on_commit_callbacks(execute=True) as callbacks, transaction.atomic():
            notify(
                recipients=[b, no_address, a, a],
                kind=NotificationKind.CASE_OPENED,
                subject="Case opened",
                body="A case was opened.",
                link="/cases/",
            )
            assert mail.outbox == []
    finally:
        celery_app.conf.task_always_eager = False

    # One row per distinct recipient; one email each for those with an address, each
    # dispatched after commit on its own, To: that one person.
    assert Notification.objects.filter(subject="Case opened").count() == 3
    assert len(callbacks) == 2
    assert sorted((m.subject, m.to) for m in mail.outbox) == [
        ("Case opened", ["a@example.gov"]),
        ("Case opened", ["b@example.gov"]),
    ]
