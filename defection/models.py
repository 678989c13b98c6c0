"""The right to leave: a department's request to leave its cluster."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Case, Q, Value, When
from django.utils import timezone

from clusters.models import Cluster, Department, Membership, Provider
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


class ExitRequestQuerySet(models.QuerySet):
    def visible_to(self, user) -> models.QuerySet:
        """The department's people; fellow members of the cluster it leaves (they bear the
        cost); the managers of the providers involved; deputy ministers for requests that
        went to the board; administrators and analysts."""
        if not (user and user.is_authenticated and user.is_active):
            return self.none()
        if user.reads_everything:
            return self
        conditions = Q(pk__in=[])
        if user.acts_for_department:
            clusters = Membership.objects.filter(department_id=user.department_id).values(
                "cluster_id"
            )
            conditions |= Q(department_id=user.department_id) | Q(from_cluster_id__in=clusters)
        if user.is_deputy_minister:
            conditions |= Q(needs_board=True)
        if user.is_provider_manager:
            conditions |= (
                Q(from_cluster__provider_id=user.provider_id)
                | Q(to_cluster__provider_id=user.provider_id)
                | Q(to_provider_id=user.provider_id)
            )
        return self.filter(conditions).distinct()

    def with_current_status(self, today=None) -> models.QuerySet:
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
        ]
        indexes = [models.Index(fields=["status", "leave_on"])]

    def __str__(self) -> str:
        return f"{self.department.code} leaving {self.from_cluster.code} ({self.status})"

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
