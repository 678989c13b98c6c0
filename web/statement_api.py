"""The annual benefits statement in the API: `reports/benefits-statement/`.

`?fiscal_year=2025-26` (default: the last complete fiscal year) gives every table of the
statement as JSON, each as the reader may see it (`web.statement`); `?format=csv&table=NAME`
gives one table as CSV (`table` names one of `web.statement.TABLES`, and is required with
CSV). The statement page's CSV downloads use the serializers here, so both doors give the
same columns and figures.
"""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.urls import path
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response

from servicelevels.api.serializers import (
    RATE,
    WITHHELD_HELP,
    BenefitClusterSerializer,
    BenefitRowSerializer,
    BenefitServiceSerializer,
)
from servicelevels.api.views import ReportSchema
from sharedsvc.api.fields import FiscalYearFormField, PeriodField
from sharedsvc.api.renderers import CSVRenderer
from sharedsvc.api.views import CSVUnpaginatedMixin
from sharedsvc.models import User
from sharedsvc.periods import last_complete_fiscal_year
from web.statement import REASONS, TABLES, benefits_statement

COST: dict[str, Any] = {"max_digits": 18, "decimal_places": 4}
CHANGE: dict[str, Any] = {"max_digits": 12, "decimal_places": 1}
TABLE_FOR_CSV = "Name the table the CSV should hold: ?table=" + ", ".join(TABLES) + "."
UNKNOWN_TABLE = "No such table: choose one of " + ", ".join(TABLES) + "."


class CostRowSerializer(serializers.Serializer):
    """A cluster's cost per unit in the year (cluster prices are public)."""

    cluster = serializers.CharField()
    cluster_name = serializers.CharField()
    service = serializers.CharField()
    charging_unit = serializers.CharField()
    provider = serializers.CharField()
    months = serializers.IntegerField(help_text="Months of the year with a cost pool.")
    first_period = PeriodField(allow_null=True, help_text="The year's first month with a price.")
    first_cost_per_unit = serializers.DecimalField(allow_null=True, **COST)
    last_period = PeriodField(allow_null=True, help_text="The year's last month with a price.")
    last_cost_per_unit = serializers.DecimalField(allow_null=True, **COST)
    change_in_year = serializers.DecimalField(
        allow_null=True, help_text="Last month against first, in per cent.", **CHANGE
    )
    average_cost_per_unit = serializers.DecimalField(
        allow_null=True, help_text="The year's pools over its units.", **COST
    )
    previous_average_cost_per_unit = serializers.DecimalField(
        allow_null=True, help_text="The same over the year before.", **COST
    )
    change_on_previous_year = serializers.DecimalField(
        allow_null=True, help_text="The average against the year before's, in per cent.", **CHANGE
    )


class ComplianceRowSerializer(serializers.Serializer):
    """A cluster's share of returns that met their standard (public, like its prices)."""

    cluster = serializers.CharField()
    cluster_name = serializers.CharField()
    service = serializers.CharField()
    provider = serializers.CharField()
    compliance_rate = serializers.DecimalField(allow_null=True, help_text="Per cent.", **RATE)
    previous_compliance_rate = serializers.DecimalField(
        allow_null=True, help_text="The year before, per cent.", **RATE
    )
    change = serializers.DecimalField(
        allow_null=True, help_text="Percentage points on the year before.", **CHANGE
    )


class DepartureReasonsSerializer(serializers.Serializer):
    """Departures from a cluster in the year (`cluster` null: from every cluster), counted
    by reason; the counts are withheld from a reader who does not see each request counted
    unless at least three departments make them."""

    cluster = serializers.CharField(allow_null=True, help_text="Null for every cluster.")
    cluster_name = serializers.CharField()
    departures = serializers.IntegerField()
    contributors = serializers.IntegerField(help_text="Departments that left.")
    cost = serializers.IntegerField(allow_null=True, help_text="Null when withheld.")
    service_quality = serializers.IntegerField(allow_null=True, help_text="Null when withheld.")
    strategic = serializers.IntegerField(allow_null=True, help_text="Null when withheld.")
    other = serializers.IntegerField(allow_null=True, help_text="Null when withheld.")
    withheld = serializers.CharField(allow_null=True, help_text=WITHHELD_HELP)


assert set(REASONS) <= set(DepartureReasonsSerializer().fields)


class DepartureSerializer(serializers.Serializer):
    """An exit request that takes effect in the year, as you may see it: its reason only
    where you see it whole."""

    id = serializers.IntegerField()
    department = serializers.CharField()
    from_cluster = serializers.CharField()
    destination = serializers.CharField(help_text="cluster, provider or in_house.")
    to = serializers.CharField(allow_null=True, help_text="The cluster or provider, by code.")
    leave_on = serializers.DateField()
    status = serializers.CharField(help_text="scheduled or completed.")
    reason = serializers.CharField(allow_null=True, help_text="Null when you see it in part.")


class DecisionSerializer(serializers.Serializer):
    """A board case decided in the year that you may read."""

    case = serializers.IntegerField()
    kind = serializers.CharField(help_text="exit, programme or pilot.")
    title = serializers.CharField()
    outcome = serializers.CharField(help_text="approved, rejected, lapsed or withdrawn.")
    decided_on = serializers.DateField()


class ProgrammeProgressSerializer(serializers.Serializer):
    """A programme proposed by the year's end: its target departments by progress on the
    year's last day (today, while the year runs)."""

    programme = serializers.CharField()
    name = serializers.CharField()
    service = serializers.CharField()
    status = serializers.CharField()
    target_on = serializers.DateField()
    pending = serializers.IntegerField()
    committed = serializers.IntegerField()
    joined = serializers.IntegerField()
    late = serializers.IntegerField()
    declined = serializers.IntegerField()
    departments = serializers.IntegerField()


SERIALIZERS: dict[str, type[serializers.Serializer]] = {
    "services": BenefitServiceSerializer,
    "clusters": BenefitClusterSerializer,
    "members": BenefitRowSerializer,
    "costs": CostRowSerializer,
    "compliance": ComplianceRowSerializer,
    "departure-reasons": DepartureReasonsSerializer,
    "departures": DepartureSerializer,
    "decisions": DecisionSerializer,
    "programmes": ProgrammeProgressSerializer,
}
assert set(SERIALIZERS) == set(TABLES)


def json_key(table: str) -> str:
    return table.replace("-", "_")


class StatementSerializer(serializers.Serializer):
    """The annual benefits statement: every table, as you may see it. Baselines and
    benefits of a department are its own (`members`: your department's, every one for
    analysts and administrators); a total over other departments' figures is withheld
    (null, `withheld` saying why) unless at least three departments contribute."""

    fiscal_year = serializers.CharField(help_text="YYYY-YY.")
    as_of = serializers.DateField(help_text="The year's last day, or today while it runs.")
    complete = serializers.BooleanField(help_text="The year has ended.")
    services = BenefitServiceSerializer(many=True, help_text=TABLES["services"])
    clusters = BenefitClusterSerializer(many=True, help_text=TABLES["clusters"])
    members = BenefitRowSerializer(many=True, help_text=TABLES["members"])
    costs = CostRowSerializer(many=True, help_text=TABLES["costs"])
    compliance = ComplianceRowSerializer(many=True, help_text=TABLES["compliance"])
    departure_reasons = DepartureReasonsSerializer(many=True, help_text=TABLES["departure-reasons"])
    departures = DepartureSerializer(many=True, help_text=TABLES["departures"])
    decisions = DecisionSerializer(many=True, help_text=TABLES["decisions"])
    programmes = ProgrammeProgressSerializer(many=True, help_text=TABLES["programmes"])


def table_data(statement: dict[str, Any], table: str) -> list[dict[str, Any]]:
    """One table of the statement, serialized (for the API's and the page's CSV)."""
    return cast(
        list[dict[str, Any]], SERIALIZERS[table](statement["tables"][table], many=True).data
    )


def statement_data(statement: dict[str, Any]) -> dict[str, Any]:
    year = statement["year"]
    return StatementSerializer(
        {
            "fiscal_year": year.label,
            "as_of": year.as_of,
            "complete": year.complete,
            **{json_key(name): rows for name, rows in statement["tables"].items()},
        }
    ).data


def csv_bytes(rows: list[dict[str, Any]]) -> bytes:
    """A table as CSV, as every list of the API is (`?format=csv`)."""
    return CSVRenderer().render(rows)


class StatementQuery(forms.Form):
    fiscal_year = FiscalYearFormField(required=False)
    table = forms.ChoiceField(
        required=False,
        choices=[(name, name) for name in TABLES],
        error_messages={"invalid_choice": UNKNOWN_TABLE},
    )


class BenefitsStatementReport(CSVUnpaginatedMixin, GenericAPIView):
    """The annual benefits statement of a fiscal year (default: the last complete one):
    the benefit by service and cluster against baseline, cost per unit and its trend,
    compliance with the standards, departures and their reasons, the board's decisions and
    the programmes' progress, as you may see them. `?format=csv&table=NAME` gives one table
    as CSV."""

    filter_backends: list = []
    pagination_class = None
    serializer_class = StatementSerializer
    schema = ReportSchema()

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "fiscal_year",
                type={"type": "string", "pattern": r"^\d{4}-\d{2}$", "example": "2025-26"},
                description="A fiscal year, YYYY-YY; by default the last complete one.",
            ),
            OpenApiParameter(
                "table",
                type={"type": "string", "enum": list(TABLES)},
                description="The table a CSV holds (required with format=csv); JSON has every table.",
            ),
        ],
        responses=StatementSerializer,
    )
    def get(self, request, *args, **kwargs):
        query = StatementQuery(data=request.query_params)
        if not query.is_valid():
            raise ValidationError(
                {field: [str(m) for m in messages] for field, messages in query.errors.items()}
            )
        table = query.cleaned_data["table"]
        csv = getattr(request.accepted_renderer, "format", None) == "csv"
        if csv and not table:
            raise ValidationError({"table": [TABLE_FOR_CSV]})
        today = timezone.localdate()
        statement = benefits_statement(
            cast(User, request.user),
            query.cleaned_data["fiscal_year"] or last_complete_fiscal_year(today),
            today=today,
        )
        if csv:
            return Response(table_data(statement, table))
        return Response(statement_data(statement))


# Under /api/v1/reports/benefits-statement/ (web/api_urls.py), beside the other reports.
urlpatterns = [
    path("", BenefitsStatementReport.as_view(), name="report-benefits-statement"),
]
