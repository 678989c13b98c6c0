"""A user's notifications: one row per recipient, written with the change it tells of."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

SUBJECT_MAX_LENGTH = 300
LINK_MAX_LENGTH = 500


class NotificationKind(models.TextChoices):
    """What happened: one kind for each place in the apps that tells people something."""

    EXIT_NOTICE = "exit_notice", "Notice to leave a cluster"
    EXIT_APPROVED = "exit_approved", "Exit approved by the board"
    EXIT_WITHDRAWN = "exit_withdrawn", "Notice to leave withdrawn"
    CASE_OPENED = "case_opened", "Board case opened"
    CASE_REMINDER = "case_reminder", "Reminder to vote"
    CASE_DECIDED = "case_decided", "Board decision"
    BREACH = "breach", "Persistent breach of a standard"
    PROGRAMME_LATE = "programme_late", "A programme's commitment is late"
    PILOT_WIND_DOWN = "pilot_wind_down", "A pilot is stopped and its clusters wind down"
    CITIZEN_EXIT = "citizen_exit", "A department moves a service for citizens"


class NotificationQuerySet(models.QuerySet):
    def visible_to(self, user) -> NotificationQuerySet:
        """A user's own notifications and nobody else's: administrators and analysts
        included (a notification says what its recipient may read, so it is theirs)."""
        if not (user and user.is_authenticated and user.is_active):
            return self.none()
        return self.filter(recipient=user)

    def unread(self) -> NotificationQuerySet:
        return self.filter(read_at__isnull=True)


class Notification(models.Model):
    """Something that happened, told to one user, with a link to it in the site."""

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    kind = models.CharField(max_length=32, choices=NotificationKind.choices)
    subject = models.CharField(max_length=SUBJECT_MAX_LENGTH)
    body = models.TextField(help_text="The text of the email: what the recipient may read.")
    link = models.CharField(
        max_length=LINK_MAX_LENGTH, help_text="A path in the site, e.g. /exit-requests/12/."
    )
    created_at = models.DateTimeField(default=timezone.now)
    read_at = models.DateTimeField(null=True, blank=True)
    emailed_at = models.DateTimeField(
        null=True, blank=True, help_text="When its email went out; empty until then."
    )

    objects = NotificationQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            # The inbox, newest first, and the header's unread count.
            models.Index(fields=["recipient", "-created_at", "-id"], name="notification_inbox"),
            models.Index(
                fields=["recipient"], condition=Q(read_at__isnull=True), name="notification_unread"
            ),
        ]
        constraints = [
            # A path in this site, never an address elsewhere (no "//host" either).
            models.CheckConstraint(
                name="notification_link_is_a_path",
                condition=Q(link__startswith="/") & ~Q(link__startswith="//"),
                violation_error_message="A notification links to a page of this site.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.subject} (to {self.recipient_id})"

    @property
    def is_read(self) -> bool:
        return self.read_at is not None
