"""Filters of service levels: the measurements list (django-filter) and the reports' queries.

Organisational references by code, months as YYYY-MM, fiscal years as YYYY-YY; a value
that cannot be read is a 400 with a message, an empty one means "not filtered".
"""

from __future__ import annotations

import datetime
from typing import Any

import django_filters
from django import forms
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from clusters.filters import UNKNOWN_CODE, by_code
from clusters.models import Cluster, Department, Provider, Service
from servicelevels.models import Measurement
from servicelevels.selectors import (
    QUARTER_RE,
    QUARTERS_SHOWN,
    add_months,
    default_quarters,
    parse_quarter,
)
from sharedsvc.api.fields import (
    PERIOD_PATTERN,
    FiscalYearFilter,
    FiscalYearFormField,
    PeriodFilter,
    PeriodFormField,
)
from sharedsvc.api.filters import FilterSet, StrictBooleanField, StrictBooleanFilter
from sharedsvc.periods import fiscal_year_bounds, next_month

FISCAL_YEAR_PATTERN = r"^\d{4}-\d{2}$"
MONTH_SCHEMA = {"type": "string", "pattern": PERIOD_PATTERN, "example": "2026-04"}
FISCAL_YEAR_SCHEMA = {"type": "string", "pattern": FISCAL_YEAR_PATTERN, "example": "2026-27"}
QUARTER_SCHEMA = {"type": "string", "pattern": QUARTER_RE.pattern, "example": "2026-27-Q1"}
MAX_QUARTERS = 40
QUARTERS_REVERSED = "The first quarter must not come after the last (today's when not given)."
TOO_MANY_QUARTERS = f"Ask for at most {MAX_QUARTERS} quarters at once."


@extend_schema_field(MONTH_SCHEMA)
class MonthFilter(PeriodFilter):
    """A month filter whose schema says YYYY-MM (not a date)."""


@extend_schema_field(FISCAL_YEAR_SCHEMA)
class FiscalYearMonthsFilter(FiscalYearFilter):
    """The months of a fiscal year (its schema says YYYY-YY)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, by_period=True, **kwargs)


class IdFilter(django_filters.NumberFilter):
    """A whole id (a NumberFilter alone would take 1.5)."""

    field_class = forms.IntegerField


class MeasurementFilter(FilterSet):
    provider = by_code(Provider, field_name="cluster__provider")
    cluster = by_code(Cluster)
    department = by_code(Department)
    service = by_code(Service, field_name="cluster__service")
    standard = IdFilter(
        field_name="standard_id",
        min_value=1,
        max_value=2**63 - 1,  # a bigint: larger would fail in the database, not here
        help_text="A standard's id.",
    )
    period = MonthFilter(help_text="A month, YYYY-MM.")
    period_after = MonthFilter(
        field_name="period", lookup_expr="gte", help_text="From this month (YYYY-MM), inclusive."
    )
    period_before = MonthFilter(
        field_name="period", lookup_expr="lte", help_text="Up to this month (YYYY-MM), inclusive."
    )
    fiscal_year = FiscalYearMonthsFilter()
    met = StrictBooleanFilter(
        method="filter_met", help_text="true: returns that met their standard; false: missed."
    )

    class Meta:
        model = Measurement
        fields = ["provider", "cluster", "department", "service", "standard"]

    @extend_schema_field(OpenApiTypes.BOOL)
    def filter_met(self, queryset, name, value):
        # `met_flag` is annotated by the view's queryset (with_met()).
        return queryset.filter(met_flag=value)


# The reports' queries ------------------------------------------------------------------


def code_field(model, help_text: str = "", **kwargs: Any) -> forms.ModelChoiceField:
    """A query parameter naming an organisational object by code; unknown is a 400."""
    name = str(model._meta.verbose_name)
    return forms.ModelChoiceField(
        queryset=model.objects.all(),
        to_field_name="code",
        required=False,
        help_text=help_text or f"A {name} code.",
        error_messages={"invalid_choice": UNKNOWN_CODE.format(model=name)},
        **kwargs,
    )


def month_field(help_text: str) -> PeriodFormField:
    return PeriodFormField(required=False, help_text=help_text)


class ReportQuery(forms.Form):
    """Base of a report's query: the form validates, the view reads `cleaned_data`."""


class PeriodRangeQuery(ReportQuery):
    """A range of months: `period`, `period_after`, `period_before` and `fiscal_year`
    together narrow it (all of them at once give their intersection)."""

    period = month_field("A month, YYYY-MM.")
    period_after = month_field("From this month (YYYY-MM), inclusive.")
    period_before = month_field("Up to this month (YYYY-MM), inclusive.")
    fiscal_year = FiscalYearFormField(
        required=False, help_text="The months of a fiscal year, YYYY-YY (e.g. 2026-27)."
    )

    def month_range(self) -> tuple[datetime.date | None, datetime.date | None]:
        """[start, end) as first days of months; None where open."""
        data = self.cleaned_data
        starts: list[datetime.date] = []
        ends: list[datetime.date] = []
        if data.get("period"):
            starts.append(data["period"])
            ends.append(next_month(data["period"]))
        if data.get("period_after"):
            starts.append(data["period_after"])
        if data.get("period_before"):
            ends.append(next_month(data["period_before"]))
        if data.get("fiscal_year"):
            first, after = fiscal_year_bounds(data["fiscal_year"])
            starts.append(first)
            ends.append(after)
        return (max(starts) if starts else None, min(ends) if ends else None)


class ClusterCostsQuery(PeriodRangeQuery):
    service = code_field(Service)
    provider = code_field(Provider)
    cluster = code_field(Cluster)


class ServiceLevelsQuery(PeriodRangeQuery):
    provider = code_field(Provider)
    service = code_field(Service)
    department = code_field(Department, help_text="A customer department's code.")
    cluster = code_field(Cluster)
    persistent_breach = StrictBooleanField(
        required=False,
        help_text="true: only rows with a persistent breach in the range; false: only without.",
    )


class SelfPreferenceQuery(ReportQuery):
    provider = code_field(Provider)
    service = code_field(Service)
    as_of = month_field(
        "The last month of the six-month window, YYYY-MM (default: the last complete month)."
    )


class BenefitsQuery(ReportQuery):
    fiscal_year = FiscalYearFormField(
        required=False,
        help_text="A fiscal year, YYYY-YY (default: the last complete fiscal year).",
    )
    service = code_field(Service)
    provider = code_field(Provider)
    department = code_field(Department)


class AlternativesQuery(ReportQuery):
    department = code_field(
        Department,
        help_text=(
            "The department whose memberships' alternatives to list. Department roles: "
            "their own (the default); analysts and administrators: any, or every "
            "department when left out."
        ),
    )
    service = code_field(Service, help_text="Only memberships of this service.")
    provider = code_field(Provider, help_text="Only alternatives run by this provider.")


class QuarterFormField(forms.CharField):
    """A fiscal quarter, YYYY-YY-Qn (2026-27-Q1: April to June 2026), as its first day."""

    def to_python(self, value):
        value = super().to_python(value)
        if value in self.empty_values:
            return None
        return parse_quarter(value)


class MakeOrBuyQuery(ReportQuery):
    department = code_field(Department, help_text="Only this department's figures.")
    service = code_field(Service, help_text="Only this service's figures.")
    quarter_after = QuarterFormField(
        required=False,
        help_text=(
            "The series from this quarter (YYYY-YY-Qn), inclusive (default: seven quarters "
            "before the last)."
        ),
    )
    quarter_before = QuarterFormField(
        required=False,
        help_text="The series up to this quarter (YYYY-YY-Qn), inclusive (default: today's).",
    )

    def __init__(self, *args: Any, today: datetime.date | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.today = today or timezone.localdate()

    def quarter_range(self) -> tuple[datetime.date, datetime.date]:
        """[first day of the first quarter, first day after the last) of the series."""
        return self.cleaned_data["starts"], self.cleaned_data["ends"]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = default_quarters(self.today)
        first, last = data.get("quarter_after"), data.get("quarter_before")
        if last is not None:
            end = add_months(last, 3)
            if first is None:
                start = add_months(end, -3 * QUARTERS_SHOWN)
        if first is not None:
            start = first
        if start >= end:
            self.add_error("quarter_before", QUARTERS_REVERSED)
        elif (end.year - start.year) * 12 + end.month - start.month > 3 * MAX_QUARTERS:
            self.add_error("quarter_after", TOO_MANY_QUARTERS)
        data["starts"], data["ends"] = start, end
        return data
