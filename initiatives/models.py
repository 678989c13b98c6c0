"""Programmes: a shared service pushed forward across named departments, approved by the
board, with each target department's answer (a commitment) and its progress. Pilots: a
`pilot` service's plan with its success criteria, and the evaluations the board decides."""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Exists, OuterRef, Q

from clusters.models import Cluster, Department, Membership, Service
from clusters.rules import board_seat_departments
from governance.models import Case
from sharedsvc.audit import tracked
from sharedsvc.rules import (
    acts_for_department,
    is_provider_manager,
    reads_everything,
    signed_in,
)

CODE_MAX_LENGTH = 20
TEXT_MAX_LENGTH = 2000
NOTHING = Q(pk__in=[])


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

    def with_progress(self, today: datetime.date) -> CommitmentQuerySet:
        """`progress` as of `today`, in the query (and `joined_on_time`, `with_joined()`):
        the rule of `Commitment.progress_on`, for filtering and counting in the database."""
        return self.with_joined().annotate(
            progress=models.Case(
                models.When(answer=Answer.DECLINED, then=models.Value(Progress.DECLINED.value)),
                models.When(answer=Answer.PENDING, then=models.Value(Progress.PENDING.value)),
                models.When(joined_on_time=True, then=models.Value(Progress.JOINED.value)),
                models.When(join_by__lt=today, then=models.Value(Progress.LATE.value)),
                default=models.Value(Progress.COMMITTED.value),
                output_field=models.CharField(),
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


# Pilots -----------------------------------------------------------------------------------


class PilotStatus(models.TextChoices):
    RUNNING = "running", "Running"
    UNDER_REVIEW = "under_review", "With the board"
    LIVE = "live", "Gone live"
    STOPPED = "stopped", "Stopped"


class PilotDecisionKind(models.TextChoices):
    GO_LIVE = "go_live", "Go live"
    EXTEND = "extend", "Extend"
    STOP = "stop", "Stop"


class PilotPlanQuerySet(models.QuerySet):
    def visible_to(self, user) -> PilotPlanQuerySet:
        """A pilot's plan (its clusters, dates and criteria) is public to every signed-in
        user, like the service catalogue; its evidence follows `evidence_visible_to`."""
        if not (user and user.is_authenticated and user.is_active):
            return self.none()
        return self

    def evidence_visible_to(self, user) -> PilotPlanQuerySet:
        """The plans whose evaluation evidence (and board cases) this user reads: the
        board's seat holders, analysts and administrators; the managers of a provider that
        runs one of its clusters; the people of a department that was ever a member of one
        (`initiatives.rules.pilot_evidence_condition`)."""
        return self.visible_to(user).filter(pilot_evidence_condition(user))


def pilot_evidence_condition(user) -> Q:
    """A `Q` on pilot plans: whose evaluation evidence and board cases this user reads.
    The board's seat holders, analysts and administrators read every pilot's; a provider's
    managers those of the pilots one of its clusters is in; a department's people those of
    the pilots whose clusters it was ever a member of. No query of its own: the seat is a
    subquery, so a page that joins it in asks nothing more."""
    if not signed_in(user):
        return NOTHING
    if reads_everything(user):
        return Q()
    if is_provider_manager(user):
        return Q(
            pk__in=PilotCluster.objects.filter(cluster__provider_id=user.provider_id).values(
                "plan_id"
            )
        )
    if not acts_for_department(user):
        return NOTHING
    member_clusters = Membership.objects.filter(department_id=user.department_id).values(
        "cluster_id"
    )
    condition = Q(
        pk__in=PilotCluster.objects.filter(cluster_id__in=member_clusters).values("plan_id")
    )
    # The seat's deputy minister or its alternate (nothing for anyone without a seat).
    return condition | Q(Exists(board_seat_departments(user)))


@tracked()
class PilotPlan(models.Model):
    """A `pilot` service's plan: its clusters, its dates and what success means."""

    service = models.OneToOneField(Service, on_delete=models.PROTECT, related_name="pilot_plan")
    clusters: models.ManyToManyField = models.ManyToManyField(
        Cluster, through="PilotCluster", related_name="pilot_plans"
    )
    starts_on = models.DateField()
    ends_on = models.DateField(help_text="The pilot's last day; it is evaluated from then.")
    min_compliance_rate = models.DecimalField(
        max_digits=4,
        decimal_places=1,
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("100"))],
        help_text="The share of returns that meet their standard, in per cent (0 to 100).",
    )
    max_cost_per_unit = models.DecimalField(
        max_digits=14,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0.01"))],
        help_text="The most a unit may cost over the pilot (the pools over the units served).",
    )
    min_members = models.PositiveIntegerField(
        validators=[MinValueValidator(1)],
        help_text="The fewest member departments on the day of the evaluation.",
    )
    min_benefit = models.DecimalField(
        max_digits=14,
        decimal_places=2,
        default=Decimal("0.00"),
        validators=[MinValueValidator(Decimal("0"))],
        help_text="The least benefit against the members' baselines over the pilot (may be 0).",
    )
    status = models.CharField(
        max_length=16, choices=PilotStatus.choices, default=PilotStatus.RUNNING
    )

    objects = PilotPlanQuerySet.as_manager()

    class Meta:
        ordering = ["service__code"]
        constraints = [
            models.CheckConstraint(
                name="pilotplan_ends_after_start",
                condition=Q(ends_on__gt=models.F("starts_on")),
                violation_error_message="The pilot must end after it starts.",
            ),
            models.CheckConstraint(
                name="pilotplan_compliance_0_100",
                condition=Q(min_compliance_rate__gte=0, min_compliance_rate__lte=100),
                violation_error_message="The compliance rate is a percentage, 0 to 100.",
            ),
            models.CheckConstraint(
                name="pilotplan_cost_positive",
                condition=Q(max_cost_per_unit__gt=0),
                violation_error_message="The maximum cost per unit must be more than 0.",
            ),
            models.CheckConstraint(
                name="pilotplan_members_positive",
                condition=Q(min_members__gte=1),
                violation_error_message="A pilot needs at least one member department.",
            ),
            models.CheckConstraint(
                name="pilotplan_benefit_not_negative",
                condition=Q(min_benefit__gte=0),
                violation_error_message="The minimum benefit may be 0, not less.",
            ),
        ]

    def __str__(self) -> str:
        return f"Pilot of {self.service.name}"


@tracked()
class PilotCluster(models.Model):
    plan = models.ForeignKey(PilotPlan, on_delete=models.CASCADE, related_name="plan_clusters")
    cluster = models.ForeignKey(Cluster, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["cluster__code"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "cluster"], name="pilotcluster_once"),
        ]

    def __str__(self) -> str:
        return f"{self.cluster.code} in the pilot of {self.plan.service.code}"


@tracked()
class PilotEvaluation(models.Model):
    """The evidence compiled against a pilot's criteria, and the board case that decides
    on it: the decision proposed takes effect when the board approves."""

    case = models.OneToOneField(Case, on_delete=models.PROTECT, related_name="pilot_evaluation")
    plan = models.ForeignKey(PilotPlan, on_delete=models.PROTECT, related_name="evaluations")
    decision = models.CharField(max_length=16, choices=PilotDecisionKind.choices)
    new_ends_on = models.DateField(null=True, blank=True, help_text="Extend: the new end date.")
    wind_down_on = models.DateField(
        null=True, blank=True, help_text="Stop: the day every membership of the pilot ends."
    )
    as_of = models.DateField(help_text="The day the evidence was compiled.")
    evidence = models.JSONField(help_text="Each criterion: target, measured, met, months.")
    all_met = models.BooleanField()
    evaluated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="The administrator who asked; empty when the end date brought it.",
    )

    class Meta:
        ordering = ["-case__opened_at"]
        constraints = [
            models.CheckConstraint(
                name="pilotevaluation_new_ends_on_iff_extend",
                condition=(Q(decision=PilotDecisionKind.EXTEND) & Q(new_ends_on__isnull=False))
                | (~Q(decision=PilotDecisionKind.EXTEND) & Q(new_ends_on__isnull=True)),
                violation_error_message="An extension has a new end date; no other decision has.",
            ),
            models.CheckConstraint(
                name="pilotevaluation_wind_down_on_iff_stop",
                condition=(Q(decision=PilotDecisionKind.STOP) & Q(wind_down_on__isnull=False))
                | (~Q(decision=PilotDecisionKind.STOP) & Q(wind_down_on__isnull=True)),
                violation_error_message="A stop has a wind-down date; no other decision has.",
            ),
        ]

    def __str__(self) -> str:
        return f"Case {self.case_id}: {self.get_decision_display()} for {self.plan}"
