"""Writes of notifications: tell users of a change (a row each, and its email through the
outbox), send a notification's email once, and mark notifications read."""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone

from notifications.models import SUBJECT_MAX_LENGTH, Notification
from notifications.rules import is_recipient
from sharedsvc.outbox import outbox_enqueue
from sharedsvc.services import require_permission

EMAIL_TASK = "notifications.tasks.send_notification_email"
NOT_YOURS = "Only its recipient may mark a notification read."
SIGN_IN_FIRST = "Sign in to read your notifications."


def email_key(notification: Notification) -> str:
    """The outbox key of a notification's email: one email per row, enqueued once."""
    return f"notification-email:{notification.pk}"


def notify(
    *, recipients: Iterable[Any], kind: str, subject: str, body: str, link: str
) -> list[Notification]:
    """Tell each distinct active recipient: one row each, written in the caller's
    transaction (a rolled-back change tells nobody), and one email each, To: that user
    alone, sent from the row through the outbox after commit.

    The caller decides what each recipient may read: call once per version of the text."""
    users = {user.pk: user for user in recipients if user is not None and user.is_active}
    if len(subject) > SUBJECT_MAX_LENGTH:
        subject = subject[: SUBJECT_MAX_LENGTH - 1] + "…"
    now = timezone.now()
    with transaction.atomic():
        rows = Notification.objects.bulk_create(
            [
                Notification(
                    recipient=users[pk],
                    kind=kind,
                    subject=subject,
                    body=body,
                    link=link,
                    created_at=now,
                )
                for pk in sorted(users)
            ]
        )
        for row in rows:
            if row.recipient.email:
                outbox_enqueue(
                    task=EMAIL_TASK, key=email_key(row), kwargs={"notification_id": row.pk}
                )
    return rows


def email_text(notification: Notification) -> str:
    """The email: the notification's text and where to read more."""
    site = getattr(settings, "SITE_URL", "").rstrip("/")
    return f"{notification.body}\n\nSee {site}{notification.link}"


def notification_email_send(*, notification_id: int, now: datetime.datetime | None = None) -> bool:
    """Send a notification's email once; True when it went now. Idempotent: a broker may
    deliver the task twice and the outbox may hand it over again after a failure."""
    with transaction.atomic():
        # Two workers given the same task queue here; the second finds it emailed.
        notification = (
            Notification.objects.select_for_update(of=("self",))
            .select_related("recipient")
            .filter(pk=notification_id)
            .first()
        )
        if notification is None or notification.emailed_at is not None:
            return False
        address = notification.recipient.email
        if not address or not notification.recipient.is_active:
            return False
        # Sent while the row is locked: a failure raises, the row stays unsent and the
        # task retries.
        send_mail(notification.subject, email_text(notification), None, [address])
        notification.emailed_at = now or timezone.now()
        notification.save(update_fields=["emailed_at"])
    return True


def notification_mark_read(
    *, actor: Any, notification: Notification, now: datetime.datetime | None = None
) -> Notification:
    """Mark one of the actor's own notifications read (again: no change)."""
    # The rule itself, not `has_perm`: Django grants an active superuser every permission,
    # and a notification is its recipient's alone.
    if not is_recipient(actor, notification):
        raise PermissionDenied(NOT_YOURS)
    now = now or timezone.now()
    with transaction.atomic():
        Notification.objects.filter(pk=notification.pk, read_at__isnull=True).update(read_at=now)
        notification.refresh_from_db(fields=["read_at"])
    return notification


def notifications_mark_all_read(*, actor: Any, now: datetime.datetime | None = None) -> int:
    """Mark every unread notification of the actor read; returns how many."""
    require_permission(actor, "notifications.use_inbox", None, SIGN_IN_FIRST)
    now = now or timezone.now()
    with transaction.atomic():
        return Notification.objects.visible_to(actor).unread().update(read_at=now)
