"""The money side: customer-held budget lines, providers' cost pools, and the chargeback."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q, Sum
from django.db.models.functions import Coalesce

from clusters.models import (
    Cluster,
    Department,
    Service,
    current_member_condition,
    department_private_condition,
)
from sharedsvc.audit import tracked
from sharedsvc.periods import validate_fiscal_year

ZERO = Decimal("0.00")
WARNING_SHARE = Decimal("0.90")


def money(**kwargs) -> models.DecimalField:
    return models.DecimalField(max_digits=14, decimal_places=2, **kwargs)


class BudgetState(models.TextChoices):
    OK = "ok", "OK"
    WARNING = "warning", "Warning"
    OVERSPENT = "overspent", "Overspent"


def budget_state(allocated: Decimal, charged: Decimal) -> str:
    """Past 90% of the allocation is a warning, past 100% overspent."""
    if charged > allocated:
        return BudgetState.OVERSPENT
    if charged > allocated * WARNING_SHARE:
        return BudgetState.WARNING
    return BudgetState.OK


class BudgetLineQuerySet(models.QuerySet):
    def visible_to(self, user) -> models.QuerySet:
        """Budgets stay with the customer: its own people, administrators and analysts.
        No provider sees a budget line."""
        return self.filter(department_private_condition(user))

    def with_charged(self) -> models.QuerySet:
        charged = Charge.objects.filter(budget_line=models.OuterRef("pk")).values("budget_line")
        charged = charged.annotate(total=Sum("amount")).values("total")
        return self.annotate(
            charged_total=Coalesce(models.Subquery(charged), ZERO, output_field=money())
        )


@tracked()
class BudgetLine(models.Model):
    """What a department allocates to one service in one fiscal year (customer-held)."""

    department = models.ForeignKey(
        Department, on_delete=models.PROTECT, related_name="budget_lines"
    )
    fiscal_year = models.CharField(
        max_length=7, validators=[validate_fiscal_year], help_text="For example 2026-27."
    )
    service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="budget_lines")
    allocated = money()

    objects = BudgetLineQuerySet.as_manager()

    class Meta:
        ordering = ["department__code", "-fiscal_year", "service__code"]
        constraints = [
            models.UniqueConstraint(
                fields=["department", "fiscal_year", "service"],
                name="budgetline_one_per_department_year_service",
                violation_error_message="This department already has a budget line for this service and fiscal year.",
            ),
            models.CheckConstraint(
                name="budgetline_allocated_not_negative",
                condition=Q(allocated__gte=0),
                violation_error_message="The allocation cannot be negative.",
            ),
            models.CheckConstraint(
                name="budgetline_fiscal_year_format",
                condition=Q(fiscal_year__regex=r"^\d{4}-\d{2}$"),
                violation_error_message="Enter a fiscal year as YYYY-YY, for example 2026-27.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.department.code} {self.service.code} {self.fiscal_year}"

    @property
    def charged(self) -> Decimal:
        total = getattr(self, "charged_total", None)
        if total is None:
            total = self.charges.aggregate(t=Sum("amount"))["t"] or ZERO
        return total

    @property
    def remaining(self) -> Decimal:
        return self.allocated - self.charged

    @property
    def state(self) -> str:
        return budget_state(self.allocated, self.charged)


class CostPoolQuerySet(models.QuerySet):
    def visible_to(self, user) -> models.QuerySet:
        """Administrators and analysts: all; provider managers: their provider's clusters;
        department roles: the clusters their department is a current member of (former and
        future members are outsiders)."""
        if not (user and user.is_authenticated and user.is_active):
            return self.none()
        if user.reads_everything:
            return self
        if user.is_provider_manager:
            return self.filter(cluster__provider_id=user.provider_id)
        if user.acts_for_department:
            return self.filter(current_member_condition(user))
        return self.none()


@tracked()
class CostPool(models.Model):
    """What a provider's cluster cost in one month, to be charged to its members."""

    cluster = models.ForeignKey(Cluster, on_delete=models.PROTECT, related_name="cost_pools")
    period = models.DateField(help_text="The month, stored as its first day.")
    amount = money()
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    entered_at = models.DateTimeField(auto_now=True)

    objects = CostPoolQuerySet.as_manager()

    class Meta:
        ordering = ["cluster__code", "-period"]
        constraints = [
            models.UniqueConstraint(
                fields=["cluster", "period"],
                name="costpool_one_per_cluster_month",
                violation_error_message="This cluster already has a cost pool for this month.",
            ),
            models.CheckConstraint(
                name="costpool_amount_not_negative",
                condition=Q(amount__gte=0),
                violation_error_message="A cost pool cannot be negative.",
            ),
            models.CheckConstraint(
                name="costpool_period_is_first_of_month",
                condition=Q(period__day=1),
                violation_error_message="A period is a whole month.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.cluster.code} {self.period:%Y-%m}"


class ChargeQuerySet(models.QuerySet):
    def visible_to(self, user) -> models.QuerySet:
        """A department's charges in a cluster: the department, the fellow current members
        (they share one pool by usage), the provider running the cluster, administrators
        and analysts. Whether a charge is on a budget line is the department's private
        figure (`clusters.view_department_private`, asked per field)."""
        if not (user and user.is_authenticated and user.is_active):
            return self.none()
        if user.reads_everything:
            return self
        if user.acts_for_department:
            return self.filter(Q(department_id=user.department_id) | current_member_condition(user))
        if user.is_provider_manager:
            return self.filter(cluster__provider_id=user.provider_id)
        return self.none()

    def private_to(self, user) -> models.QuerySet:
        """The charges whose department's private figures (is it on a budget line?) this
        user sees: the queryset form of `clusters.view_department_private`."""
        return self.filter(department_private_condition(user))


class RunStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


class ChargebackRunQuerySet(models.QuerySet):
    def visible_to(self, user) -> models.QuerySet:
        if not (user and user.is_authenticated and user.is_active):
            return self.none()
        return self if user.reads_everything else self.none()


@tracked()
class ChargebackRun(models.Model):
    """One request to charge a month: who asked, when, and what it produced."""

    period = models.DateField()
    status = models.CharField(max_length=16, choices=RunStatus.choices, default=RunStatus.QUEUED)
    charges = models.PositiveIntegerField(default=0, help_text="Charges this run created.")
    total = money(default=ZERO, help_text="Sum of the charges this run created.")
    unallocated = money(default=ZERO, help_text="Pools of the month with no member to charge.")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    requested_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True, help_text="Why the run failed.")
    recoveries = models.PositiveIntegerField(
        default=0, help_text="Times the run was found stuck and queued again."
    )
    recovered_at = models.DateTimeField(null=True, blank=True)
    recovery_reason = models.TextField(blank=True, help_text="Why the run was last queued again.")

    objects = ChargebackRunQuerySet.as_manager()

    class Meta:
        ordering = ["-requested_at", "-id"]
        constraints = [
            models.CheckConstraint(
                name="chargebackrun_period_is_first_of_month",
                condition=Q(period__day=1),
                violation_error_message="A period is a whole month.",
            ),
        ]

    def __str__(self) -> str:
        return f"Chargeback {self.period:%Y-%m} ({self.status})"

    @property
    def task_key(self) -> str:
        """The outbox key of the run's current hand-over to the workers: one per try, so a
        run queued again is sent again (and each try at most once)."""
        if self.recoveries == 0:
            return f"chargeback-run:{self.pk}"
        return f"chargeback-run:{self.pk}:recovery-{self.recoveries}"


@tracked()
class Charge(models.Model):
    """A member's share of a cluster's cost pool for one month, on its own budget line."""

    cluster = models.ForeignKey(Cluster, on_delete=models.PROTECT, related_name="charges")
    department = models.ForeignKey(Department, on_delete=models.PROTECT, related_name="charges")
    period = models.DateField()
    amount = money()
    budget_line = models.ForeignKey(
        BudgetLine, on_delete=models.PROTECT, null=True, blank=True, related_name="charges"
    )
    cost_pool = models.ForeignKey(CostPool, on_delete=models.PROTECT, related_name="charges")
    run = models.ForeignKey(ChargebackRun, on_delete=models.PROTECT, related_name="created_charges")
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ChargeQuerySet.as_manager()

    class Meta:
        ordering = ["-period", "cluster__code", "department__code"]
        constraints = [
            models.UniqueConstraint(
                fields=["cluster", "department", "period"],
                name="charge_once_per_cluster_department_month",
                violation_error_message="This month has already been charged to this department for this cluster.",
            ),
            models.CheckConstraint(
                name="charge_amount_not_negative",
                condition=Q(amount__gte=0),
                violation_error_message="A charge cannot be negative.",
            ),
        ]
        indexes = [models.Index(fields=["department", "period"]), models.Index(fields=["period"])]

    def __str__(self) -> str:
        return f"{self.department.code} {self.cluster.code} {self.period:%Y-%m}: {self.amount}"

    @property
    def unfunded(self) -> bool:
        """No budget line for that fiscal year and service: recorded, never dropped."""
        return self.budget_line_id is None


class InHouseEstimateQuerySet(models.QuerySet):
    def visible_to(self, user) -> models.QuerySet:
        """What a department would spend to make a service itself is its private figure:
        its own people, analysts and administrators (`clusters.view_department_private`)."""
        return self.filter(department_private_condition(user))


@tracked()
class InHouseEstimate(models.Model):
    """A department's dated estimate of what a service would cost it a year made in-house."""

    department = models.ForeignKey(
        Department, on_delete=models.PROTECT, related_name="in_house_estimates"
    )
    service = models.ForeignKey(
        Service, on_delete=models.PROTECT, related_name="in_house_estimates"
    )
    annual_cost = money(help_text="What making the service would cost the department a year.")
    estimated_on = models.DateField(help_text="The day the estimate was made.")
    note = models.TextField(max_length=2_000, help_text="How the estimate was made.")
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    entered_at = models.DateTimeField(auto_now_add=True)

    objects = InHouseEstimateQuerySet.as_manager()

    class Meta:
        ordering = ["department__code", "service__code", "-estimated_on", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["department", "service", "estimated_on"],
                name="inhouseestimate_one_per_department_service_day",
                violation_error_message=(
                    "This department already has an in-house estimate for this service on "
                    "that date."
                ),
            ),
            models.CheckConstraint(
                name="inhouseestimate_annual_cost_not_negative",
                condition=Q(annual_cost__gte=0),
                violation_error_message="An in-house estimate cannot be negative.",
            ),
            models.CheckConstraint(
                name="inhouseestimate_note_not_blank",
                condition=~Q(note=""),
                violation_error_message="Say how the estimate was made.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.department.code} {self.service.code} in-house {self.estimated_on}"
