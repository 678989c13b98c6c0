"""Filters of the money side: organisational references by code, months as YYYY-MM."""

from __future__ import annotations

import django_filters
from django import forms
from django.db.models import DecimalField, ExpressionWrapper, F

from budgets.models import (
    WARNING_SHARE,
    BudgetLine,
    BudgetState,
    Charge,
    ChargebackRun,
    CostPool,
    InHouseEstimate,
    RunStatus,
)
from clusters.filters import by_code
from clusters.models import Cluster, Department, Provider, Service
from sharedsvc.api.fields import FiscalYearFilter, PeriodRangeFilterSet
from sharedsvc.api.filters import FilterSet, StrictBooleanFilter


class IdFilter(django_filters.NumberFilter):
    """A whole id (a NumberFilter alone would take 1.5)."""

    field_class = forms.IntegerField


class BudgetLineFilter(FilterSet):
    department = by_code(Department)
    service = by_code(Service)
    fiscal_year = FiscalYearFilter()
    state = django_filters.ChoiceFilter(choices=BudgetState.choices, method="filter_state")

    class Meta:
        model = BudgetLine
        fields = ["department", "service", "fiscal_year", "state"]

    def filter_state(self, queryset, name, value):
        # `charged_total` is annotated by the view's queryset (with_charged()).
        warning_at = ExpressionWrapper(F("allocated") * WARNING_SHARE, output_field=DecimalField())
        if value == BudgetState.OVERSPENT:
            return queryset.filter(charged_total__gt=F("allocated"))
        if value == BudgetState.WARNING:
            return queryset.filter(charged_total__gt=warning_at, charged_total__lte=F("allocated"))
        return queryset.filter(charged_total__lte=warning_at)


class CostPoolFilter(PeriodRangeFilterSet):
    cluster = by_code(Cluster)
    provider = by_code(Provider, field_name="cluster__provider")
    service = by_code(Service, field_name="cluster__service")
    fiscal_year = FiscalYearFilter(by_period=True)

    class Meta:
        model = CostPool
        fields = ["cluster", "provider", "service"]


class ChargeFilter(PeriodRangeFilterSet):
    department = by_code(Department)
    cluster = by_code(Cluster)
    provider = by_code(Provider, field_name="cluster__provider")
    service = by_code(Service, field_name="cluster__service")
    fiscal_year = FiscalYearFilter(by_period=True)
    budget_line = IdFilter(
        field_name="budget_line_id",
        min_value=1,
        max_value=2**63 - 1,  # a bigint: larger would fail in the database, not here
        help_text="A budget line's id (only charges whose budget you see).",
        method="filter_private",
    )
    unfunded = StrictBooleanFilter(
        field_name="budget_line__isnull",
        help_text="true or false (only charges whose budget you see).",
        method="filter_private",
    )

    class Meta:
        model = Charge
        fields = ["department", "cluster", "provider", "service", "unfunded"]

    def filter_private(self, queryset, name, value):
        # Whether a charge is on a budget line is the department's private figure: a
        # filter on it keeps only the charges whose budget the reader sees, or it would
        # tell a provider which customers have no budget line.
        return queryset.private_to(self.request.user).filter(**{name: value})


class ChargebackRunFilter(PeriodRangeFilterSet):
    status = django_filters.ChoiceFilter(choices=RunStatus.choices)

    class Meta:
        model = ChargebackRun
        fields = ["status"]


class InHouseEstimateFilter(FilterSet):
    department = by_code(Department)
    service = by_code(Service)
    estimated_after = django_filters.DateFilter(
        field_name="estimated_on", lookup_expr="gte", help_text="Dated on or after (YYYY-MM-DD)."
    )
    estimated_before = django_filters.DateFilter(
        field_name="estimated_on", lookup_expr="lte", help_text="Dated on or before (YYYY-MM-DD)."
    )

    class Meta:
        model = InHouseEstimate
        fields = ["department", "service"]
