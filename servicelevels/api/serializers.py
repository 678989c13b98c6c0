from __future__ import annotations

import datetime
from typing import Any

from django.utils import timezone
from rest_framework import serializers

from clusters.api.serializers import code_of
from clusters.models import Cluster, Department, Standard
from servicelevels.models import Measurement
from servicelevels.selectors import RETURN_DAY
from sharedsvc.api.fields import PeriodField
from sharedsvc.api.rows import RowSerializer
from sharedsvc.models import User
from sharedsvc.periods import next_month

VALUE: dict[str, Any] = {"max_digits": 14, "decimal_places": 4}
MONEY: dict[str, Any] = {"max_digits": 18, "decimal_places": 2}  # sums over many memberships
RATE: dict[str, Any] = {"max_digits": 4, "decimal_places": 1}  # a percentage, 0.0 to 100.0
UNKNOWN_STANDARD = "No standard has the id “{pk_value}”."
STANDARD_BY_ID = "Give a standard's id as a whole number."


def due_date(period: datetime.date) -> datetime.date:
    """A month's returns are due by the 10th of the next month."""
    return next_month(period) + datetime.timedelta(days=RETURN_DAY - 1)


def is_late(measurement: Measurement) -> bool:
    return timezone.localtime(measurement.submitted_at).date() > due_date(measurement.period)


class MeasurementSerializer(serializers.ModelSerializer):
    """One return, as the analysts read it."""

    standard: serializers.PrimaryKeyRelatedField[Standard] = serializers.PrimaryKeyRelatedField(
        read_only=True, help_text="The standard's id."
    )
    standard_name = serializers.CharField(source="standard.name", read_only=True)
    cluster: serializers.SlugRelatedField[Cluster] = serializers.SlugRelatedField(
        slug_field="code", read_only=True
    )
    department: serializers.SlugRelatedField[Department] = serializers.SlugRelatedField(
        slug_field="code", read_only=True
    )
    period = PeriodField(read_only=True)
    value = serializers.DecimalField(read_only=True, **VALUE)
    met = serializers.BooleanField(
        read_only=True, help_text="Whether the value reaches the standard's target."
    )
    submitted_by: serializers.SlugRelatedField[User] = serializers.SlugRelatedField(
        slug_field="username",
        read_only=True,
        allow_null=True,
        help_text="Username; null when submitted by the system or the account is gone.",
    )
    late = serializers.SerializerMethodField(
        help_text="Submitted after the 10th of the month after its period."
    )

    class Meta:
        model = Measurement
        fields = [
            "id",
            "standard",
            "standard_name",
            "cluster",
            "department",
            "period",
            "value",
            "met",
            "submitted_at",
            "submitted_by",
            "late",
        ]
        read_only_fields = fields

    def get_late(self, measurement: Measurement) -> bool:
        return is_late(measurement)


class MeasurementInputSerializer(serializers.Serializer):
    """One return to submit: the provider's measurement of one standard for one customer
    department of one cluster in one month that has ended."""

    standard = serializers.PrimaryKeyRelatedField(
        queryset=Standard.objects.all(),
        help_text="A standard's id; it must be a standard of the cluster's service.",
        error_messages={"does_not_exist": UNKNOWN_STANDARD, "incorrect_type": STANDARD_BY_ID},
    )
    cluster = code_of(Cluster, help_text="A cluster code; one of your provider's clusters.")
    department = code_of(
        Department, help_text="A department code; a member of the cluster in that month."
    )
    period = PeriodField(help_text="The month measured, YYYY-MM; it must have ended.")
    value = serializers.DecimalField(**VALUE)


class MeasurementUpdateSerializer(serializers.Serializer):
    """A correction: only the value changes (the submission time stays, so lateness stays)."""

    value = serializers.DecimalField(**VALUE)


# Report rows ---------------------------------------------------------------------------


class ClusterCostRowSerializer(RowSerializer):
    cluster = serializers.CharField()
    service = serializers.CharField()
    provider = serializers.CharField()
    period = PeriodField()
    pool = serializers.DecimalField(help_text="The cluster's cost pool that month.", **MONEY)
    units = serializers.IntegerField(help_text="Usage units of the members active that month.")
    cost_per_unit = serializers.DecimalField(
        max_digits=18,
        decimal_places=4,
        allow_null=True,
        help_text="pool / units; null when no member was active.",
    )


class ServiceLevelRowSerializer(RowSerializer):
    cluster = serializers.CharField()
    provider = serializers.CharField()
    service = serializers.CharField()
    department = serializers.CharField(help_text="The customer department.")
    standard = serializers.IntegerField(help_text="The standard's id.")
    standard_name = serializers.CharField()
    met = serializers.IntegerField(help_text="Returns that met the standard.")
    total = serializers.IntegerField(help_text="Returns received.")
    compliance_rate = serializers.DecimalField(
        allow_null=True, help_text="met / total, in percent.", **RATE
    )
    persistent_breach = serializers.BooleanField(
        help_text="Missed three or more months running, in a run that reaches into the range."
    )
    breach_started = PeriodField(
        allow_null=True, help_text="First month of the latest such run (YYYY-MM)."
    )
    breach_latest = PeriodField(allow_null=True, help_text="Last month of that run (YYYY-MM).")
    breach_months = serializers.IntegerField(allow_null=True, help_text="Months in that run.")
    breach_ongoing = serializers.BooleanField(
        allow_null=True, help_text="No return for a later month yet (the run has not ended)."
    )


class SelfPreferenceRowSerializer(RowSerializer):
    cluster = serializers.CharField()
    provider = serializers.CharField()
    host_department = serializers.CharField(
        help_text="The provider's host department, a member of the cluster."
    )
    host_rate = serializers.DecimalField(
        allow_null=True, help_text="The host's compliance rate over the window, %.", **RATE
    )
    others_rate = serializers.DecimalField(
        allow_null=True, help_text="The other members' compliance rate, %.", **RATE
    )
    gap = serializers.DecimalField(
        max_digits=5,
        decimal_places=1,
        allow_null=True,
        help_text="host_rate - others_rate, in percentage points.",
    )
    flagged = serializers.BooleanField(help_text="gap above 10 points in the host's favour.")
    from_period = PeriodField(help_text="First month of the six-month window.")
    to_period = PeriodField(help_text="Last month of the window.")


WITHHELD_HELP = (
    "Null when the figures are shown; otherwise why they are withheld (fewer than three "
    "departments contribute to a total over other departments' baselines and benefits)."
)


class BenefitRowSerializer(RowSerializer):
    """One department's membership: its baseline and benefit are its private figures, so a
    row is only for the department, analysts and administrators."""

    department = serializers.CharField()
    cluster = serializers.CharField()
    service = serializers.CharField()
    provider = serializers.CharField()
    baseline = serializers.DecimalField(
        help_text="The baseline annual cost pro rata to the days of membership in the year.",
        **MONEY,
    )
    charged = serializers.DecimalField(help_text="Charged in the fiscal year.", **MONEY)
    benefit = serializers.DecimalField(help_text="baseline - charged.", **MONEY)
    cluster_flagged = serializers.BooleanField(
        allow_null=True,
        help_text=(
            "The cluster's benefit over the last complete fiscal year is negative; null when "
            "that total is withheld from you."
        ),
    )


class BenefitClusterSerializer(RowSerializer):
    cluster = serializers.CharField()
    service = serializers.CharField()
    provider = serializers.CharField()
    contributors = serializers.IntegerField(help_text="Departments whose figures make the total.")
    baseline = serializers.DecimalField(allow_null=True, help_text="Null when withheld.", **MONEY)
    charged = serializers.DecimalField(**MONEY)
    benefit = serializers.DecimalField(allow_null=True, help_text="Null when withheld.", **MONEY)
    flagged = serializers.BooleanField(
        allow_null=True,
        help_text="The benefit over the last complete fiscal year is negative; null when withheld.",
    )
    withheld = serializers.CharField(allow_null=True, help_text=WITHHELD_HELP)


class BenefitServiceSerializer(RowSerializer):
    service = serializers.CharField()
    contributors = serializers.IntegerField(help_text="Departments whose figures make the total.")
    baseline = serializers.DecimalField(allow_null=True, help_text="Null when withheld.", **MONEY)
    charged = serializers.DecimalField(**MONEY)
    benefit = serializers.DecimalField(allow_null=True, help_text="Null when withheld.", **MONEY)
    withheld = serializers.CharField(allow_null=True, help_text=WITHHELD_HELP)


class BenefitsReportSerializer(serializers.Serializer):
    """The benefits report: a page of the membership rows you may see (your own department's,
    or every one for analysts and administrators), with totals per cluster and service over
    every member; a total is withheld from a department unless at least three departments
    contribute to it or it is the department's own."""

    count = serializers.IntegerField()
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = BenefitRowSerializer(many=True)
    fiscal_year = serializers.CharField(help_text="The fiscal year reported, YYYY-YY.")
    last_complete_fiscal_year = serializers.CharField(
        help_text="The year the `flagged` columns look at."
    )
    clusters = BenefitClusterSerializer(many=True, help_text="Totals per cluster (every page).")
    services = BenefitServiceSerializer(many=True, help_text="Totals per service (every page).")


class AlternativeRowSerializer(RowSerializer):
    department = serializers.CharField()
    cluster = serializers.CharField(help_text="The department's current cluster.")
    service = serializers.CharField()
    usage_units = serializers.IntegerField(help_text="The department's usage in that cluster.")
    alternative = serializers.CharField(help_text="Another cluster of the same service.")
    provider = serializers.CharField(help_text="The alternative's provider.")
    psoa = serializers.BooleanField(
        help_text="Run by the PSOA: moving there cannot be blocked by the board."
    )
    room = serializers.IntegerField(
        allow_null=True, help_text="Free capacity in usage units; null when unlimited."
    )
    cost_per_unit = serializers.DecimalField(
        max_digits=18,
        decimal_places=4,
        allow_null=True,
        help_text="From the alternative's latest cost pool; null without one.",
    )
    compliance_rate = serializers.DecimalField(
        allow_null=True, help_text="The alternative's compliance over 6 months, %.", **RATE
    )


class BestAlternativeSerializer(serializers.Serializer):
    cluster = serializers.CharField(
        help_text="The cheapest other cluster of the service with room."
    )
    provider = serializers.CharField()
    period = PeriodField(help_text="The month of its latest cost pool, YYYY-MM.")
    cost_per_unit = serializers.DecimalField(
        max_digits=18, decimal_places=4, help_text="From its latest cost pool."
    )
    annual_cost = serializers.DecimalField(
        help_text="cost_per_unit x the department's usage x 12, to the cent.", **MONEY
    )


class MakeOrBuyRowSerializer(serializers.Serializer):
    """One department and service (its current membership): what making the service would
    cost the department, what buying it costs now, and the best alternative. A
    department's own figures: rows are for the department, analysts and administrators."""

    department = serializers.CharField()
    service = serializers.CharField()
    cluster = serializers.CharField(help_text="The department's current cluster.")
    provider = serializers.CharField()
    usage_units = serializers.IntegerField()
    make_cost = serializers.DecimalField(
        help_text="The newest in-house estimate dated on or before today, else the baseline.",
        **MONEY,
    )
    make_basis = serializers.ChoiceField(
        choices=[("baseline", "baseline"), ("estimate", "estimate")],
        help_text="`estimate`: an in-house estimate; `baseline`: the membership's baseline.",
    )
    estimated_on = serializers.DateField(
        allow_null=True, help_text="The estimate's date; null for the baseline."
    )
    buy_cost = serializers.DecimalField(
        help_text="The department's charges for the service over buy_from..buy_to.", **MONEY
    )
    buy_from = PeriodField(help_text="The first of the 12 complete months, YYYY-MM.")
    buy_to = PeriodField(help_text="The last of them, YYYY-MM.")
    months_charged = serializers.IntegerField(help_text="Months of those 12 with charges.")
    best_alternative = BestAlternativeSerializer(
        allow_null=True, help_text="Null when no other cluster has room and a cost pool."
    )
    difference = serializers.DecimalField(
        help_text="make_cost - buy_cost: above 0, buying costs less.", **MONEY
    )
    cheaper = serializers.ChoiceField(
        choices=[("make", "make"), ("buy", "buy"), ("equal", "equal")],
        help_text="Which of make_cost and buy_cost is lower.",
    )


class MakeOrBuyQuarterSerializer(RowSerializer):
    quarter = serializers.CharField(help_text="A fiscal quarter, YYYY-YY-Qn.")
    starts_on = serializers.DateField()
    as_of = serializers.DateField(help_text="The day counted: the quarter's last, or today.")
    contributors = serializers.IntegerField(help_text="Departments whose usage makes the figures.")
    units_bought = serializers.IntegerField(
        allow_null=True, help_text="Usage units bought from clusters that day; null when withheld."
    )
    units_made = serializers.IntegerField(
        allow_null=True,
        help_text=(
            "Usage units of departments that had left for in-house and not come back; null "
            "when withheld."
        ),
    )
    share_bought = serializers.DecimalField(
        allow_null=True, help_text="units_bought over both, %; null when withheld.", **RATE
    )
    exits_in_house = serializers.IntegerField(
        allow_null=True, help_text="Exits to in-house that took effect in the quarter."
    )
    withheld = serializers.CharField(allow_null=True, help_text=WITHHELD_HELP)


class MakeOrBuyReportSerializer(serializers.Serializer):
    """Make or buy: a page of the rows you may see (your own department's, or every one for
    analysts and administrators), and the creep back to making per quarter (every page),
    withheld from a department where fewer than three departments make a quarter's figures."""

    count = serializers.IntegerField()
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = MakeOrBuyRowSerializer(many=True)
    quarters = MakeOrBuyQuarterSerializer(many=True)
