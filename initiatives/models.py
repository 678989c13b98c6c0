"""Programmes: a shared service pushed forward across named departments, approved by the
board, with each target department's answer (a commitment) and its progress."""

from __future__ import annotations

import datetime

from django.conf import settings
from django.db import models
from django.db.models import Exists, OuterRef, Q

from clusters.models import Department, Membership, Service
from governance.models import Case
from sharedsvc.audit import tracked

CODE_MAX_LENGTH = 20
TEXT_MAX_LENGTH = 2000


class ProgrammeStatus(models.TextChoices):
    PROPOSED = "proposed", "Proposed"
    ACTIVE = "active", "Active"
    REJECTED = "rejected", "Rejected"
    CLOSED = "closed", "Closed"


class Answer(models.TextChoices):
    PENDING = "pending", "Pending"
    COMMITTED = "committed", "Committed"
    DECLINED = "declined", "Declined"


class Progress(models.TextChoices):
    """A target department's progress, derived on the day (`Commitment.progress_on`)."""

    PENDING = "pending", "Pending"
    COMMITTED = "committed", "Committed"
    JOINED = "joined", "Joined"
    LATE = "late", "Late"
    DECLINED = "declined", "Declined"


class ProgrammeQuerySet(models.QuerySet):
    def visible_to(self, user) -> ProgrammeQuerySet:
        """Every signed-in, active user reads every programme and its answers: pushing a
        shared service forward is done in the open."""
        if not (user and user.is_authenticated and user.is_active):
            return self.none()
        return self


@tracked()
class Programme(models.Model):
    code = models.SlugField(max_length=CODE_MAX_LENGTH, unique=True)
    name = models.CharField(max_length=200)
    service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="programmes")
    sponsor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="sponsored_programmes",
        help_text="The deputy minister who sponsors it.",
    )
    goal = models.TextField(max_length=TEXT_MAX_LENGTH, help_text="The goal, in words.")
    target_on = models.DateField(
        help_text="The date by which each target department should have joined a cluster."
    )
    status = models.CharField(
        max_length=16, choices=ProgrammeStatus.choices, default=ProgrammeStatus.PROPOSED
    )
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="proposed_programmes"
    )
    proposed_at = models.DateTimeField()

    objects = ProgrammeQuerySet.as_manager()

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code}: {self.name}"


class CommitmentQuerySet(models.QuerySet):
    def visible_to(self, user) -> CommitmentQuerySet:
        """Anyone who reads the programme reads its answers."""
        return self.filter(programme__in=Programme.objects.visible_to(user))

    def with_joined(self) -> CommitmentQuerySet:
        """`joined_on_time`: the department has a membership of a cluster of the
        programme's service that started on or before its date (`join_by`)."""
        return self.annotate(
            joined_on_time=Exists(
                Membership.objects.filter(
                    department_id=OuterRef("department_id"),
                    cluster__service_id=OuterRef("programme__service_id"),
                    joined_on__lte=OuterRef("join_by"),
                )
            )
        )


@tracked()
class Commitment(models.Model):
    """A target department's answer to a programme."""

    programme = models.ForeignKey(Programme, on_delete=models.CASCADE, related_name="commitments")
    department = models.ForeignKey(Department, on_delete=models.PROTECT, related_name="commitments")
    answer = models.CharField(max_length=16, choices=Answer.choices, default=Answer.PENDING)
    join_by = models.DateField(
        null=True, blank=True, help_text="The date it will have joined (committed only)."
    )
    reason = models.TextField(
        blank=True,
        max_length=TEXT_MAX_LENGTH,
        help_text="Why it declines, or why it will join after the programme's target date.",
    )
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="commitments_answered",
    )
    answered_at = models.DateTimeField(null=True, blank=True)
    late_notified_on = models.DateField(
        null=True, blank=True, help_text="When the sponsor and department were told it is late."
    )

    objects = CommitmentQuerySet.as_manager()

    class Meta:
        ordering = ["programme__code", "department__code"]
        constraints = [
            models.UniqueConstraint(
                fields=["programme", "department"], name="commitment_one_per_department"
            ),
            models.CheckConstraint(
                name="commitment_join_by_iff_committed",
                condition=(Q(answer=Answer.COMMITTED) & Q(join_by__isnull=False))
                | (~Q(answer=Answer.COMMITTED) & Q(join_by__isnull=True)),
                violation_error_message="A commitment has a date to join; no other answer has one.",
            ),
            models.CheckConstraint(
                name="commitment_declined_needs_reason",
                condition=~Q(answer=Answer.DECLINED) | ~Q(reason=""),
                violation_error_message="A department that declines gives a reason.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.department.code} on {self.programme.code}: {self.answer}"

    def progress_on(self, today: datetime.date, *, joined: bool) -> str:
        """Pending, committed, joined (a membership of the service on or before its date),
        late (committed, its date passed, not joined) or declined. `joined` is the
        `joined_on_time` annotation (`CommitmentQuerySet.with_joined`)."""
        if self.answer == Answer.DECLINED:
            return Progress.DECLINED
        if self.answer == Answer.PENDING:
            return Progress.PENDING
        if joined:
            return Progress.JOINED
        assert self.join_by is not None  # commitment_join_by_iff_committed
        return Progress.LATE if today > self.join_by else Progress.COMMITTED


@tracked()
class ProgrammeDecision(models.Model):
    """The board case that decides whether a programme becomes active."""

    case = models.OneToOneField(Case, on_delete=models.PROTECT, related_name="programme_decision")
    programme = models.ForeignKey(Programme, on_delete=models.PROTECT, related_name="decisions")

    class Meta:
        ordering = ["-case__opened_at"]

    def __str__(self) -> str:
        return f"Case {self.case_id} on {self.programme.code}"
