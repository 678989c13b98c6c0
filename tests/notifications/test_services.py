"""The services of notifications: one row per recipient written with the change, one
email per row sent once after commit, and marking read by the recipient only."""

from __future__ import annotations

import datetime

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from notifications import services, tasks
from notifications.models import Notification, NotificationKind
from sharedsvc.models import OutboxItem, OutboxStatus
from tests.factories import UserFactory
from tests.notifications.support import celery_eager

LINK = "/exit-requests/7/"


def tell(recipients, **kwargs) -> list[Notification]:
    data = {
        "kind": NotificationKind.EXIT_NOTICE,
        "subject": "LCS gives notice to leave PAY-PSOA",
        "body": "Labour and Citizens' Services leaves PSOA Payroll.",
        "link": LINK,
    }
    data.update(kwargs)
    return services.notify(recipients=recipients, **data)


def test_one_row_per_distinct_active_recipient(world):
    gone = UserFactory(username="gone", is_active=False)
    rows = tell([world.manager, world.other_manager, world.manager, None, gone])
    assert sorted(n.recipient_id for n in rows) == sorted(
        [world.manager.pk, world.other_manager.pk]
    )
    stored = Notification.objects.order_by("recipient_id")
    assert [(n.recipient, n.kind, n.link, n.read_at, n.emailed_at) for n in stored] == sorted(
        [
            (world.manager, NotificationKind.EXIT_NOTICE, LINK, None, None),
            (world.other_manager, NotificationKind.EXIT_NOTICE, LINK, None, None),
        ],
        key=lambda row: row[0].pk,
    )
    # One email each, recorded in the outbox with the rows, keyed by the row.
    assert set(OutboxItem.objects.values_list("key", "task")) == {
        (f"notification-email:{n.pk}", services.EMAIL_TASK) for n in rows
    }


def test_no_email_for_a_recipient_without_an_address(world):
    silent = UserFactory(username="silent", email="")
    [row] = tell([silent])
    assert Notification.objects.get(recipient=silent) == row
    assert not OutboxItem.objects.exists()


def test_a_rolled_back_change_notifies_nobody(world, django_capture_on_commit_callbacks):
    with (
        celery_eager(),
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        tell([world.manager, world.other_manager])
        raise RuntimeError("the change failed")
    assert callbacks == []
    assert not Notification.objects.exists()
    assert not OutboxItem.objects.exists()
    assert mail.outbox == []


def test_emails_go_after_commit_one_message_to_each(world, django_capture_on_commit_callbacks):
    with celery_eager(), django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        rows = tell([world.manager, world.other_manager])
        assert mail.outbox == []
    assert sorted(m.to for m in mail.outbox) == sorted(
        [[world.manager.email], [world.other_manager.email]]
    )
    message = mail.outbox[0]
    assert message.subject == "LCS gives notice to leave PAY-PSOA"
    assert message.body.startswith("Labour and Citizens' Services leaves PSOA Payroll.")
    assert message.body.endswith(LINK)
    assert all(n.emailed_at is not None for n in Notification.objects.all())
    assert set(OutboxItem.objects.values_list("status", flat=True)) == {OutboxStatus.SENT}
    assert len(rows) == 2


def test_the_email_task_sends_once_however_often_it_runs(world):
    [row] = tell([world.manager])
    sent_at = timezone.now() - datetime.timedelta(minutes=5)
    assert services.notification_email_send(notification_id=row.pk, now=sent_at) is True
    # A broker that delivers twice, an outbox that hands over again: still one message.
    assert tasks.send_notification_email(row.pk) is False
    assert tasks.send_notification_email.apply(args=[row.pk]).get() is False
    assert [m.to for m in mail.outbox] == [[world.manager.email]]
    row.refresh_from_db()
    assert row.emailed_at == sent_at


def test_the_email_task_for_a_missing_row_does_nothing(db):
    assert tasks.send_notification_email(987654) is False
    assert mail.outbox == []


def test_a_failed_send_leaves_the_row_unsent_for_the_retry(world, monkeypatch):
    [row] = tell([world.manager])

    def broken(*args, **kwargs):
        raise OSError("mail server down")

    monkeypatch.setattr(services, "send_mail", broken)
    with pytest.raises(OSError):
        services.notification_email_send(notification_id=row.pk)
    row.refresh_from_db()
    assert row.emailed_at is None
    monkeypatch.undo()
    assert services.notification_email_send(notification_id=row.pk) is True
    assert len(mail.outbox) == 1


def test_a_long_subject_is_shortened_to_fit(world):
    [row] = tell([world.manager], subject="x" * 400)
    row.refresh_from_db()
    assert len(row.subject) == 300 and row.subject.endswith("…")


@pytest.mark.parametrize("link", ["https://evil.example/", "//evil.example/", "exit-requests/"])
def test_a_link_is_a_path_in_this_site(world, link):
    with pytest.raises(IntegrityError), transaction.atomic():
        tell([world.manager], link=link)
    notification = Notification(
        recipient=world.manager, kind=NotificationKind.BREACH, subject="s", body="b", link=link
    )
    with pytest.raises(ValidationError):
        notification.full_clean()


def test_the_recipient_marks_a_notification_read(world):
    [row] = tell([world.manager])
    when = timezone.now() - datetime.timedelta(hours=1)
    marked = services.notification_mark_read(actor=world.manager, notification=row, now=when)
    assert marked.read_at == when
    # Again: no change, the first reading stands.
    services.notification_mark_read(actor=world.manager, notification=row)
    assert Notification.objects.get(pk=row.pk).read_at == when


@pytest.mark.parametrize("persona", ["administrator", "analyst", "other_manager", "outsider"])
def test_nobody_else_marks_it_read(world, persona):
    [row] = tell([world.manager])
    with pytest.raises(PermissionDenied, match=services.NOT_YOURS):
        services.notification_mark_read(actor=getattr(world, persona), notification=row)
    assert Notification.objects.get(pk=row.pk).read_at is None


def test_mark_all_read_marks_only_the_actors_own_unread(world):
    mine = tell([world.manager, world.other_manager])
    tell([world.manager], subject="Second")
    earlier = timezone.now() - datetime.timedelta(days=1)
    Notification.objects.filter(recipient=world.manager, subject="Second").update(read_at=earlier)
    assert services.notifications_mark_all_read(actor=world.manager) == 1
    assert not Notification.objects.filter(recipient=world.manager, read_at__isnull=True).exists()
    assert Notification.objects.get(recipient=world.manager, subject="Second").read_at == earlier
    assert Notification.objects.get(recipient=world.other_manager).read_at is None
    assert services.notifications_mark_all_read(actor=world.manager) == 0
    assert len(mine) == 2


def test_mark_all_read_needs_a_signed_in_user(world):
    tell([world.manager])
    with pytest.raises(PermissionDenied):
        services.notifications_mark_all_read(actor=world.outsider)
    assert Notification.objects.filter(read_at__isnull=True).count() == 1
