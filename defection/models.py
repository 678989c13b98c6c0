"""The right to leave: a department's request to leave its cluster."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import BooleanField, Case, Exists, ExpressionWrapper, Q, Value, When
from django.utils import timezone

from clusters.models import Cluster, Department, Membership, Provider, current_member_condition
from clusters.rules import board_seat_departments
from sharedsvc.audit import tracked


class Destination(models.TextChoices):
    CLUSTER = "cluster", "Another cluster"
    PROVIDER = "provider", "Another provider"
    IN_HOUSE = "in_house", "In-house"


class Reason(models.TextChoices):
    COST = "cost", "Cost"
    SERVICE_QUALITY = "service_quality", "Service quality"
    STRATEGIC = "strategic", "Strategic"
    OTHER = "other", "Other"


class ExitStatus(models.TextChoices):
    SCHEDULED = "scheduled", "Scheduled"
    PENDING_BOARD = "pending_board", "Waiting for the board"
    REJECTED = "rejected", "Rejected"
    LAPSED = "lapsed", "Lapsed"
    WITHDRAWN = "withdrawn", "Withdrawn"
    COMPLETED = "completed", "Completed"


# Requests that still hold the membership: one at a time per membership.
OPEN_STATUSES = (ExitStatus.SCHEDULED, ExitStatus.PENDING_BOARD)


# Always true / never true, as conditions that compile in a WHERE and in an annotation.
EVERY_ROW = Q(pk__isnull=False)
NO_ROW = Q(pk__isnull=True)


def _signed_in(user) -> bool:
    return bool(user and user.is_authenticated and user.is_active)


def board_seat_condition(user) -> Q:
    """The user holds a board seat today: some active main department's `deputy_minister`,
    or the alternate named for that seat over today (an EXISTS, evaluated once per query,
    not per row). Board rights follow the seat, not the role alone (a replaced deputy
    minister holds none); an alternate is one of the department's people."""
    if not (_signed_in(user) and user.acts_for_department):
        return NO_ROW
    return Q(Exists(board_seat_departments(user)))


def exit_request_whole_condition(user, *, prefix: str = "", today=None) -> Q:
    """The one definition of who sees an exit request whole (justification, impact,
    evidence), as a `Q` on exit requests (`prefix` e.g. "exit_request__" from a case):
    its department; the fellow *current* members of the cluster it leaves; the provider
    that runs that cluster; the board (seat holders) once it is a case; analysts and
    administrators. The destination provider sees the request only in part."""
    if not _signed_in(user):
        return NO_ROW
    if user.reads_everything:
        return EVERY_ROW
    condition = NO_ROW
    if user.acts_for_department:
        condition |= Q(**{f"{prefix}department_id": user.department_id}) | current_member_condition(
            user, cluster_field=f"{prefix}from_cluster_id", today=today
        )
    if user.is_provider_manager:
        condition |= Q(**{f"{prefix}from_cluster__provider_id": user.provider_id})
    if user.acts_for_department:  # a seat's deputy minister or its alternate
        condition |= Q(**{f"{prefix}needs_board": True}) & board_seat_condition(user)
    return condition


def exit_request_part_condition(user, *, prefix: str = "") -> Q:
    """Who sees an exit request in part (who is coming, from where, when, with what usage,
    the status): the managers of the destination provider."""
    if not (_signed_in(user) and user.is_provider_manager):
        return NO_ROW
    return Q(**{f"{prefix}to_cluster__provider_id": user.provider_id}) | Q(
        **{f"{prefix}to_provider_id": user.provider_id}
    )


class ExitRequestQuerySet(models.QuerySet):
    def visible_to(self, user, today=None) -> ExitRequestQuerySet:
        """Who sees a request at all: those who see it whole
        (`exit_request_whole_condition`) and the destination provider (in part)."""
        if not _signed_in(user):
            return self.none()
        return self.filter(
            exit_request_whole_condition(user, today=today) | exit_request_part_condition(user)
        )

    def with_seen_whole(self, user, today=None) -> ExitRequestQuerySet:
        """`seen_whole`: may this user read the request whole? Read by the
        `defection.view_exitrequest_whole` permission, so a list asks no query per row."""
        return self.annotate(
            seen_whole=ExpressionWrapper(
                exit_request_whole_condition(user, today=today), output_field=BooleanField()
            )
        )

    def with_current_status(self, today=None) -> ExitRequestQuerySet:
        """`status_now`: a scheduled request whose date has come is completed."""
        today = today or timezone.localdate()
        return self.annotate(
            status_now=Case(
                When(
                    status=ExitStatus.SCHEDULED,
                    leave_on__lte=today,
                    then=Value(ExitStatus.COMPLETED),
                ),
                default="status",
                output_field=models.CharField(),
            )
        )


PLAN_MAX_LENGTH = 5_000


@tracked()
class ExitRequest(models.Model):
    """A department gives notice to leave a cluster (a defection)."""

    department = models.ForeignKey(
        Department, on_delete=models.PROTECT, related_name="exit_requests"
    )
    membership = models.ForeignKey(
        Membership, on_delete=models.PROTECT, related_name="exit_requests"
    )
    from_cluster = models.ForeignKey(
        Cluster, on_delete=models.PROTECT, related_name="exit_requests"
    )
    destination = models.CharField(max_length=16, choices=Destination.choices)
    to_cluster = models.ForeignKey(
        Cluster, on_delete=models.PROTECT, null=True, blank=True, related_name="incoming_requests"
    )
    to_provider = models.ForeignKey(
        Provider, on_delete=models.PROTECT, null=True, blank=True, related_name="incoming_requests"
    )
    reason = models.CharField(max_length=16, choices=Reason.choices)
    justification = models.TextField(max_length=10_000)
    requested_leave_on = models.DateField(null=True, blank=True)
    leave_on = models.DateField(help_text="The day the membership ends (and any new one begins).")
    status = models.CharField(max_length=16, choices=ExitStatus.choices)
    needs_board = models.BooleanField(
        help_text="The destination is not a PSOA cluster, so the board decides."
    )
    impact = models.JSONField(
        null=True, blank=True, help_text="Cost to those who stay, at submission."
    )
    # The citizen-continuity plan: required when the service serves citizens
    # (`Service.serves_citizens`), empty otherwise.
    citizen_impact = models.TextField(
        blank=True, max_length=PLAN_MAX_LENGTH, help_text="What citizens will notice."
    )
    transition_on = models.DateField(
        null=True, blank=True, help_text="The day citizens move to the new service."
    )
    records_and_cases = models.TextField(
        blank=True,
        max_length=PLAN_MAX_LENGTH,
        help_text="How citizens' records and open cases move.",
    )
    contact = models.TextField(
        blank=True,
        max_length=PLAN_MAX_LENGTH,
        help_text="Who answers citizens' questions during the move.",
    )
    new_membership = models.OneToOneField(
        Membership, on_delete=models.SET_NULL, null=True, blank=True, related_name="arrived_by"
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    requested_on = models.DateField(help_text="The day notice was given.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ExitRequestQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["membership"],
                condition=Q(status__in=OPEN_STATUSES),
                name="exitrequest_one_open_per_membership",
                violation_error_message="This membership already has an open exit request.",
            ),
            models.CheckConstraint(
                name="exitrequest_destination_fields",
                condition=(
                    Q(
                        destination=Destination.CLUSTER,
                        to_cluster__isnull=False,
                        to_provider__isnull=True,
                    )
                    | Q(
                        destination=Destination.PROVIDER,
                        to_cluster__isnull=True,
                        to_provider__isnull=False,
                    )
                    | Q(
                        destination=Destination.IN_HOUSE,
                        to_cluster__isnull=True,
                        to_provider__isnull=True,
                    )
                ),
                violation_error_message=(
                    "Name a cluster for a move to a cluster, a provider for a move to a provider, "
                    "and neither for in-house."
                ),
            ),
            models.CheckConstraint(
                name="exitrequest_not_to_its_own_cluster",
                condition=~Q(to_cluster=models.F("from_cluster")),
                violation_error_message="A department cannot move to the cluster it is leaving.",
            ),
            models.CheckConstraint(
                name="exitrequest_citizen_plan_whole",
                condition=(
                    Q(
                        citizen_impact="",
                        transition_on__isnull=True,
                        records_and_cases="",
                        contact="",
                    )
                    | (
                        ~Q(citizen_impact="")
                        & Q(transition_on__isnull=False)
                        & ~Q(records_and_cases="")
                        & ~Q(contact="")
                    )
                ),
                violation_error_message="A citizen-continuity plan has all four parts or none.",
            ),
        ]
        indexes = [models.Index(fields=["status", "leave_on"])]

    def __str__(self) -> str:
        return f"{self.department.code} leaving {self.from_cluster.code} ({self.status})"

    @property
    def has_citizen_plan(self) -> bool:
        return bool(self.citizen_impact)

    @property
    def current_status(self) -> str:
        annotated = self.__dict__.get("status_now")
        if annotated:
            return annotated
        if self.status == ExitStatus.SCHEDULED and self.leave_on <= timezone.localdate():
            return ExitStatus.COMPLETED
        return self.status

    @property
    def is_open(self) -> bool:
        return self.current_status in OPEN_STATUSES
