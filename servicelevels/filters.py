"""Filters of service levels: the measurements list (django-filter) and the reports' queries.

Organisational references by code, months as YYYY-MM, fiscal years as YYYY-YY; a value
that cannot be read is a 400 with a message, an empty one means "not filtered".
"""

from __future__ import annotations

import datetime
from typing import Any

import django_filters
from django import forms
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from clusters.filters import UNKNOWN_CODE, by_code
from clusters.models import Cluster, Department, Provider, Service
from servicelevels.models import Measurement
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
