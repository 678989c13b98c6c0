"""The organisation: departments, providers, the service catalogue, clusters and memberships."""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.conf import settings
from django.contrib.postgres.constraints import ExclusionConstraint
from django.contrib.postgres.fields import DateRangeField, RangeOperators
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import F, Func, Q, Value
from django.utils import timezone

from sharedsvc.audit import tracked
from sharedsvc.roles import Role

CODE_VALIDATOR = RegexValidator(
    r"^[A-Z0-9][A-Z0-9_-]*$",
    "Use capital letters, digits, '-' and '_' only (for example LCS or HR-1).",
)


def code_field() -> models.CharField:
    return models.CharField(max_length=32, unique=True, validators=[CODE_VALIDATOR])


DEPUTY_MINISTER_OF_ANOTHER = (
    "The deputy minister must be a user with the deputy minister role in this department."
)
CLUSTER_SERVICE_LOCKED = (
    "This cluster has members, so its service cannot change; open a new cluster instead."
)


class VisibleToAll(models.QuerySet):
    """Reference data: every signed-in, active user may read it."""

    def visible_to(self, user) -> models.QuerySet:
        if not (user and user.is_authenticated and user.is_active):
            return self.none()
        return self


@tracked()
class Department(models.Model):
    """A ministry or agency that buys shared services and holds its own budget."""

    code = code_field()
    name = models.CharField(max_length=200)
    is_main = models.BooleanField(default=False, help_text="Has a seat on the board.")
    deputy_minister = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="deputy_minister_of",
    )
    active = models.BooleanField(default=True)

    objects = VisibleToAll.as_manager()

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"

    def clean(self) -> None:
        # Board rights follow this field, so it takes only a deputy minister of this very
        # department (any other user would gain a seat, or another department's).
        dm = self.deputy_minister
        if dm is not None and not (
            dm.role == Role.DEPUTY_MINISTER and self.pk is not None and dm.department_id == self.pk
        ):
            raise ValidationError({"deputy_minister": DEPUTY_MINISTER_OF_ANOTHER})


class ProviderKind(models.TextChoices):
    PSOA = "psoa", "Public Service Operations Agency"
    DEPARTMENT = "department", "Department"
    EXTERNAL = "external", "External"


@tracked()
class Provider(models.Model):
    """Who runs a cluster's service: the PSOA, a providing department or an outside firm."""

    code = code_field()
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=16, choices=ProviderKind.choices)
    host_department = models.ForeignKey(
        Department,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="hosted_providers",
    )

    objects = VisibleToAll.as_manager()

    class Meta:
        ordering = ["code"]
        constraints = [
            models.UniqueConstraint(
                fields=["kind"],
                condition=Q(kind=ProviderKind.PSOA),
                name="provider_one_psoa",
                violation_error_message="There is already a PSOA provider; there can be only one.",
            ),
            models.CheckConstraint(
                name="provider_department_needs_host",
                condition=~Q(kind=ProviderKind.DEPARTMENT) | Q(host_department__isnull=False),
                violation_error_message="A provider of kind 'department' needs a host department.",
            ),
            models.CheckConstraint(
                name="provider_external_has_no_host",
                condition=~Q(kind=ProviderKind.EXTERNAL) | Q(host_department__isnull=True),
                violation_error_message="An external provider has no host department.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"

    @property
    def is_psoa(self) -> bool:
        return self.kind == ProviderKind.PSOA


class Category(models.TextChoices):
    HR = "hr", "HR"
    PAYROLL = "payroll", "Payroll"
    FINANCE = "finance", "Finance"
    IT = "it", "IT"
    PROCUREMENT = "procurement", "Procurement"
    FACILITIES = "facilities", "Facilities"
    PORTAL = "portal", "Portal"
    CONTACT_CENTRE = "contact_centre", "Contact centre"
    OTHER = "other", "Other"


class Purpose(models.TextChoices):
    EFFICIENCY = "efficiency", "Efficiency"
    CUSTOMER = "customer", "Customer-facing"


class Audience(models.TextChoices):
    INTERNAL = "internal", "Internal"
    EXTERNAL = "external", "External"


class Lifecycle(models.TextChoices):
    PILOT = "pilot", "Pilot"
    LIVE = "live", "Live"
    RETIRED = "retired", "Retired"


@tracked()
class Service(models.Model):
    """A back-office service in the catalogue (payroll, HR, ...)."""

    code = code_field()
    name = models.CharField(max_length=200)
    category = models.CharField(max_length=32, choices=Category.choices)
    purpose = models.CharField(max_length=16, choices=Purpose.choices, default=Purpose.EFFICIENCY)
    audience = models.CharField(max_length=16, choices=Audience.choices, default=Audience.INTERNAL)
    lifecycle = models.CharField(max_length=16, choices=Lifecycle.choices, default=Lifecycle.LIVE)
    charging_unit = models.CharField(max_length=64, help_text='For example "employee".')

    objects = VisibleToAll.as_manager()

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"

    @property
    def serves_citizens(self) -> bool:
        """Customer-facing or used by the public: leaving it moves citizens too, so an exit
        needs a citizen-continuity plan and its clusters give more notice."""
        return self.purpose == Purpose.CUSTOMER or self.audience == Audience.EXTERNAL


class StandardKind(models.TextChoices):
    OPERATIONAL = "operational", "Operational"
    TECHNICAL = "technical", "Technical"


class Direction(models.TextChoices):
    HIGHER_IS_BETTER = "higher_is_better", "Higher is better"
    LOWER_IS_BETTER = "lower_is_better", "Lower is better"


@tracked()
class Standard(models.Model):
    """A defined operational or technical standard of a service, with its target."""

    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="standards")
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=16, choices=StandardKind.choices)
    unit = models.CharField(max_length=32)
    target = models.DecimalField(max_digits=14, decimal_places=4)
    direction = models.CharField(max_length=16, choices=Direction.choices)

    objects = VisibleToAll.as_manager()

    class Meta:
        ordering = ["service__code", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["service", "name"],
                name="standard_unique_name_per_service",
                violation_error_message="This service already has a standard with this name.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.service.code}: {self.name}"

    def is_met(self, value: Decimal) -> bool:
        if self.direction == Direction.HIGHER_IS_BETTER:
            return value >= self.target
        return value <= self.target


LEAVES_AFTER_JOINING = "The leaving date must be after the joining date."
DEFAULT_NOTICE_DAYS = 90
PILOT_NOTICE_DAYS = 30
CITIZEN_NOTICE_DAYS = 180


@tracked()
class Cluster(models.Model):
    """Departments that buy one service from one provider."""

    code = code_field()
    name = models.CharField(max_length=200)
    service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="clusters")
    provider = models.ForeignKey(Provider, on_delete=models.PROTECT, related_name="clusters")
    notice_days = models.PositiveIntegerField(
        default=DEFAULT_NOTICE_DAYS,
        validators=[MaxValueValidator(3650)],
        help_text=(
            "Days of notice a member gives before leaving (by default 90; 30 for a pilot "
            "service, 180 for a live service for citizens)."
        ),
    )
    capacity = models.PositiveIntegerField(
        null=True, blank=True, help_text="Usage units the cluster can serve; empty for unlimited."
    )
    fixed_cost_ratio = models.DecimalField(
        max_digits=3,
        decimal_places=2,
        default=Decimal("1.00"),
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("1"))],
        help_text="Share of the cost pool that does not shrink when a member leaves (0 to 1).",
    )

    objects = VisibleToAll.as_manager()

    class Meta:
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(
                name="cluster_fixed_cost_ratio_0_1",
                condition=Q(fixed_cost_ratio__gte=0, fixed_cost_ratio__lte=1),
                violation_error_message="The fixed cost ratio must be between 0 and 1.",
            ),
            models.CheckConstraint(
                name="cluster_notice_days_max",
                condition=Q(notice_days__lte=3650),
                violation_error_message="The notice period must be at most 3650 days.",
            ),
            models.CheckConstraint(
                name="cluster_capacity_positive",
                condition=Q(capacity__isnull=True) | Q(capacity__gt=0),
                violation_error_message="Capacity must be more than 0, or empty for unlimited.",
            ),
            # Lets memberships refer to (cluster, service) so their copy of the service
            # can never disagree with the cluster's.
            models.UniqueConstraint(fields=["id", "service"], name="cluster_id_service"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"


def current_member_condition(user, *, cluster_field: str = "cluster_id", today=None) -> Q:
    """A `Q` on rows that have a cluster (named by `cluster_field`): the user's department
    is a current member of that cluster today (`joined_on <= today < leaves_on`). The one
    definition of "fellow member" for every queryset; former and future members are
    outsiders."""
    if not (user and user.is_authenticated and user.is_active and user.acts_for_department):
        return Q(pk__in=[])
    today = today or timezone.localdate()
    clusters = (
        Membership.objects.active_on(today)
        .filter(department_id=user.department_id)
        .values("cluster_id")
    )
    return Q(**{f"{cluster_field}__in": clusters})


def department_private_condition(user, *, department_field: str = "department_id") -> Q:
    """A `Q` on rows that belong to a department: the user sees that department's private
    figures (budget lines, baseline, benefit, whether a charge is funded). The queryset
    form of `clusters.view_department_private`: the department itself, analysts and
    administrators."""
    if not (user and user.is_authenticated and user.is_active):
        return Q(pk__in=[])
    if user.reads_everything:
        return Q()
    if user.acts_for_department:
        return Q(**{department_field: user.department_id})
    return Q(pk__in=[])


class MembershipQuerySet(models.QuerySet):
    def visible_to(self, user, today: datetime.date | None = None) -> models.QuerySet:
        """Who sees a membership (its usage): administrators and analysts all; department
        roles their own department's, and the current memberships of the clusters their
        department is a current member of; provider managers their provider's clusters'.
        The baseline is a private figure: see `clusters.view_department_private`."""
        if not (user and user.is_authenticated and user.is_active):
            return self.none()
        if user.reads_everything:
            return self
        if user.acts_for_department:
            today = today or timezone.localdate()
            fellows = current_member_condition(user, today=today) & Q(
                pk__in=Membership.objects.active_on(today).values("pk")
            )
            return self.filter(Q(department_id=user.department_id) | fellows)
        if user.is_provider_manager:
            return self.filter(cluster__provider_id=user.provider_id)
        return self.none()

    def active_on(self, day: datetime.date) -> models.QuerySet:
        return self.filter(joined_on__lte=day).filter(
            Q(leaves_on__isnull=True) | Q(leaves_on__gt=day)
        )

    def current_or_future(self, day: datetime.date) -> models.QuerySet:
        return self.filter(Q(leaves_on__isnull=True) | Q(leaves_on__gt=day))


class DateRange(Func):
    function = "daterange"
    output_field = DateRangeField()


class MembershipStatus(models.TextChoices):
    JOINING = "joining", "Joining"
    ACTIVE = "active", "Active"
    LEAVING = "leaving", "Leaving"
    LEFT = "left", "Left"


@tracked()
class Membership(models.Model):
    """A department's membership of a cluster over [joined_on, leaves_on)."""

    department = models.ForeignKey(Department, on_delete=models.PROTECT, related_name="memberships")
    cluster = models.ForeignKey(Cluster, on_delete=models.PROTECT, related_name="memberships")
    # A copy of cluster.service, kept in step by a composite foreign key (see migration),
    # so that the exclusion constraint can forbid overlapping memberships per service.
    service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="+", editable=False)
    joined_on = models.DateField()
    leaves_on = models.DateField(null=True, blank=True, help_text="Empty while open-ended.")
    usage_units = models.PositiveIntegerField(help_text="For example, the headcount served.")
    baseline_annual_cost = models.DecimalField(
        max_digits=14,
        decimal_places=2,
        default=Decimal("0.00"),
        help_text="What the department spent on this service a year before sharing.",
    )

    objects = MembershipQuerySet.as_manager()

    class Meta:
        ordering = ["cluster__code", "department__code", "joined_on"]
        constraints = [
            models.CheckConstraint(
                name="membership_leaves_after_joining",
                condition=Q(leaves_on__isnull=True) | Q(leaves_on__gt=F("joined_on")),
                violation_error_message="The leaving date must be after the joining date.",
            ),
            models.CheckConstraint(
                name="membership_usage_positive",
                condition=Q(usage_units__gt=0),
                violation_error_message="Usage must be at least 1 unit.",
            ),
            models.CheckConstraint(
                name="membership_baseline_not_negative",
                condition=Q(baseline_annual_cost__gte=0),
                violation_error_message="The baseline annual cost cannot be negative.",
            ),
            ExclusionConstraint(
                name="membership_no_overlap_per_service",
                expressions=[
                    (F("department"), RangeOperators.EQUAL),
                    (F("service"), RangeOperators.EQUAL),
                    (
                        DateRange(F("joined_on"), F("leaves_on"), Value("[)")),
                        RangeOperators.OVERLAPS,
                    ),
                ],
                violation_error_message=(
                    "This department is already in a cluster of this service for some of "
                    "these dates."
                ),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.department.code} in {self.cluster.code} from {self.joined_on}"

    def save(self, *args, **kwargs) -> None:
        # The copy of the service always follows the cluster (the database checks it too).
        if self.cluster_id is not None:
            self.service_id = Cluster.objects.values_list("service_id", flat=True).get(
                pk=self.cluster_id
            )
        super().save(*args, **kwargs)

    def clean(self) -> None:
        # Checked before the overlap constraint, which cannot build a reversed date range.
        if (
            self.leaves_on is not None
            and self.joined_on is not None
            and self.leaves_on <= self.joined_on
        ):
            raise ValidationError({"leaves_on": LEAVES_AFTER_JOINING})

    def status_on(self, day: datetime.date) -> str:
        if self.joined_on > day:
            return MembershipStatus.JOINING
        if self.leaves_on is None:
            return MembershipStatus.ACTIVE
        if self.leaves_on > day:
            return MembershipStatus.LEAVING
        return MembershipStatus.LEFT

    @property
    def status(self) -> str:
        return self.status_on(timezone.localdate())

    @staticmethod
    def status_sql(day: datetime.date | None = None) -> models.Case:
        """`status_on(day)` (today by default) in SQL, for lists read from the database."""
        day = day or timezone.localdate()
        return models.Case(
            models.When(joined_on__gt=day, then=Value(MembershipStatus.JOINING.value)),
            models.When(leaves_on__isnull=True, then=Value(MembershipStatus.ACTIVE.value)),
            models.When(leaves_on__gt=day, then=Value(MembershipStatus.LEAVING.value)),
            default=Value(MembershipStatus.LEFT.value),
            output_field=models.TextField(),
        )


# Alternates on the board --------------------------------------------------------------

ALTERNATE_ENDS_BEFORE_START = "The end date must be on or after the start date."
ALTERNATE_SEAT_TAKEN = (
    "This seat already has an alternate for some of these dates: end that one first, or "
    "choose dates after it."
)
ALTERNATE_HOLDS_ANOTHER = (
    "This person is already an alternate on the board for some of these dates: nobody "
    "holds two seats."
)


class NextDay(Func):
    """`date + 1` in SQL: the exclusive upper bound of an inclusive date range."""

    template = "(%(expressions)s + 1)"
    output_field = models.DateField()


class AlternateQuerySet(models.QuerySet):
    def visible_to(self, user) -> models.QuerySet:
        """Who sees who stands in for a seat: administrators and analysts all; a deputy
        minister their own seat's alternates; an alternate their own namings."""
        if not (user and user.is_authenticated and user.is_active):
            return self.none()
        if user.reads_everything:
            return self
        condition = Q(user_id=user.pk)
        if user.is_deputy_minister:
            condition |= Q(department__deputy_minister_id=user.pk)
        return self.filter(condition)

    def current_on(self, day: datetime.date) -> models.QuerySet:
        """Namings whose (inclusive) range covers `day`."""
        return self.filter(starts_on__lte=day, ends_on__gte=day)


class AlternateStatus(models.TextChoices):
    UPCOMING = "upcoming", "Upcoming"
    CURRENT = "current", "Current"
    PAST = "past", "Ended"
    WITHDRAWN = "withdrawn", "Withdrawn before it started"


@tracked()
class Alternate(models.Model):
    """A person of a main department who may vote for its board seat from `starts_on` to
    `ends_on` (both inclusive), named by its deputy minister."""

    department = models.ForeignKey(
        Department, on_delete=models.PROTECT, related_name="alternates", help_text="The seat."
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="alternate_seats"
    )
    starts_on = models.DateField()
    ends_on = models.DateField(
        help_text="The last day (inclusive). Ending a naming early moves it to yesterday; one "
        "ended before it started ends the day before its start (it holds no day)."
    )
    named_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    named_at = models.DateTimeField()
    ended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    ended_at = models.DateTimeField(null=True, blank=True, help_text="When it was ended early.")

    objects = AlternateQuerySet.as_manager()

    class Meta:
        ordering = ["department__code", "-starts_on", "-id"]
        constraints = [
            # `ends_on` one day before `starts_on` is an empty range: a naming withdrawn
            # before it began (kept, never deleted).
            models.CheckConstraint(
                name="alternate_ends_after_start",
                condition=Q(ends_on__gte=F("starts_on") - datetime.timedelta(days=1)),
                violation_error_message=ALTERNATE_ENDS_BEFORE_START,
            ),
            ExclusionConstraint(
                name="alternate_one_per_seat",
                expressions=[
                    (F("department"), RangeOperators.EQUAL),
                    (
                        DateRange(F("starts_on"), NextDay(F("ends_on")), Value("[)")),
                        RangeOperators.OVERLAPS,
                    ),
                ],
                violation_error_message=ALTERNATE_SEAT_TAKEN,
            ),
            ExclusionConstraint(
                name="alternate_one_seat_per_person",
                expressions=[
                    (F("user"), RangeOperators.EQUAL),
                    (
                        DateRange(F("starts_on"), NextDay(F("ends_on")), Value("[)")),
                        RangeOperators.OVERLAPS,
                    ),
                ],
                violation_error_message=ALTERNATE_HOLDS_ANOTHER,
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} for {self.department.code} from {self.starts_on} to {self.ends_on}"

    def clean(self) -> None:
        # Checked before the exclusion constraints, which cannot build a reversed range.
        if (
            self.starts_on is not None
            and self.ends_on is not None
            and self.ends_on < self.starts_on - datetime.timedelta(days=1)
        ):
            raise ValidationError({"ends_on": ALTERNATE_ENDS_BEFORE_START})

    def status_on(self, day: datetime.date) -> str:
        if self.ends_on < self.starts_on:
            return AlternateStatus.WITHDRAWN
        if self.starts_on > day:
            return AlternateStatus.UPCOMING
        if self.ends_on >= day:
            return AlternateStatus.CURRENT
        return AlternateStatus.PAST

    def is_current_on(self, day: datetime.date) -> bool:
        return self.starts_on <= day <= self.ends_on
