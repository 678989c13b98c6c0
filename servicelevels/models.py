"""Service-level returns: a provider's measurement per standard, cluster, customer and month."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Case, F, Q, Value, When

from clusters.models import Cluster, Department, Direction, Standard, current_member_condition
from sharedsvc.audit import tracked


def met_expression(prefix: str = "") -> Case:
    """`met` from the standard's target and direction, as SQL (so reports can count it)."""
    value, target, direction = (
        f"{prefix}value",
        f"{prefix}standard__target",
        f"{prefix}standard__direction",
    )
    return Case(
        When(
            Q(**{direction: Direction.HIGHER_IS_BETTER}) & Q(**{f"{value}__gte": F(target)}),
            then=Value(True),
        ),
        When(
            Q(**{direction: Direction.LOWER_IS_BETTER}) & Q(**{f"{value}__lte": F(target)}),
            then=Value(True),
        ),
        default=Value(False),
        output_field=models.BooleanField(),
    )


class MeasurementQuerySet(models.QuerySet):
    def visible_to(self, user) -> models.QuerySet:
        """Providers see their clusters' returns; departments the returns about them and those
        of the clusters they are a current member of (former and future members are
        outsiders); administrators and analysts all."""
        if not (user and user.is_authenticated and user.is_active):
            return self.none()
        if user.reads_everything:
            return self
        if user.is_provider_manager:
            return self.filter(cluster__provider_id=user.provider_id)
        if user.acts_for_department:
            return self.filter(Q(department_id=user.department_id) | current_member_condition(user))
        return self.none()

    def with_met(self) -> models.QuerySet:
        return self.annotate(met_flag=met_expression())


@tracked()
class Measurement(models.Model):
    """What a provider measured against one standard for one customer in one month."""

    standard = models.ForeignKey(Standard, on_delete=models.PROTECT, related_name="measurements")
    cluster = models.ForeignKey(Cluster, on_delete=models.PROTECT, related_name="measurements")
    department = models.ForeignKey(
        Department, on_delete=models.PROTECT, related_name="measurements"
    )
    period = models.DateField(help_text="The month, stored as its first day.")
    value = models.DecimalField(max_digits=14, decimal_places=4)
    submitted_at = models.DateTimeField()
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    objects = MeasurementQuerySet.as_manager()

    class Meta:
        ordering = ["-period", "cluster__code", "department__code", "standard__name"]
        constraints = [
            models.UniqueConstraint(
                fields=["standard", "cluster", "department", "period"],
                name="measurement_one_return_per_month",
                violation_error_message=(
                    "A return for this standard, cluster, department and month already exists."
                ),
            ),
            models.CheckConstraint(
                name="measurement_period_is_first_of_month",
                condition=Q(period__day=1),
                violation_error_message="A period is a whole month.",
            ),
        ]
        indexes = [
            models.Index(fields=["cluster", "period"]),
            models.Index(fields=["department", "period"]),
            # Compliance over every cluster for a span of months (the benefits statement,
            # the overview) reads a year of returns, not the whole table: an index-only
            # scan on the months, with what the rate needs.
            models.Index(
                fields=["period"],
                include=["cluster", "standard", "value"],
                name="measurement_period_covering",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.standard} {self.cluster.code}/{self.department.code} {self.period:%Y-%m}: {self.value}"

    @property
    def met(self) -> bool:
        annotated = self.__dict__.get("met_flag")
        if annotated is not None:
            return annotated
        return self.standard.is_met(self.value)


@tracked()
class BreachNotice(models.Model):
    """A persistent breach that the provider's managers have been told of (once per breach)."""

    standard = models.ForeignKey(Standard, on_delete=models.PROTECT, related_name="+")
    cluster = models.ForeignKey(Cluster, on_delete=models.PROTECT, related_name="+")
    department = models.ForeignKey(Department, on_delete=models.PROTECT, related_name="+")
    started = models.DateField(help_text="First month of the run of misses.")
    notified_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["standard", "cluster", "department", "started"],
                name="breachnotice_once_per_breach",
            ),
        ]

    def __str__(self) -> str:
        return f"Breach notice {self.standard_id}/{self.cluster_id}/{self.department_id} from {self.started}"
