"""Fields for the calendar of the money side: months as `YYYY-MM`."""

from __future__ import annotations

import datetime

import django_filters
from django import forms
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Func, TextField, Value
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from sharedsvc.api.filters import FilterSet
from sharedsvc.periods import (
    PERIOD_INVALID,
    fiscal_year_bounds,
    format_period,
    parse_period,
    validate_fiscal_year,
)

PERIOD_PATTERN = r"^\d{4}-(0[1-9]|1[0-2])$"


@extend_schema_field({"type": "string", "pattern": PERIOD_PATTERN, "example": "2026-04"})
class PeriodField(serializers.Field):
    """A month, `YYYY-MM` on the wire and the month's first day in the database."""

    default_error_messages = {"invalid": PERIOD_INVALID}

    def to_internal_value(self, data) -> datetime.date:
        if not isinstance(data, str) or not data.isascii():
            # isascii: `\d` would take full-width and other scripts' digits too.
            self.fail("invalid")
        try:
            return parse_period(data)
        except DjangoValidationError:
            self.fail("invalid")

    def to_representation(self, value: datetime.date) -> str:
        return format_period(value)

    def as_sql_text(self, expression):
        """`to_representation` in SQL, for a CSV written by the database (`csv_sql`)."""
        return Func(expression, Value("YYYY-MM"), function="to_char", output_field=TextField())


class PeriodFormField(forms.CharField):
    def to_python(self, value):
        value = super().to_python(value)
        if value in self.empty_values:
            return None
        if not value.isascii():
            raise DjangoValidationError(PERIOD_INVALID, code="invalid_period")
        return parse_period(value)


@extend_schema_field({"type": "string", "pattern": PERIOD_PATTERN, "example": "2026-04"})
class PeriodFilter(django_filters.Filter):
    """`?period=2026-04`, and with `lookup_expr="gte"`/`"lte"` the ends of a range."""

    field_class = PeriodFormField


class PeriodRangeFilterSet(FilterSet):
    """`period`, `period_after` and `period_before` (inclusive), all as YYYY-MM."""

    period = PeriodFilter(help_text="A month, YYYY-MM.")
    period_after = PeriodFilter(
        field_name="period", lookup_expr="gte", help_text="From this month (YYYY-MM), inclusive."
    )
    period_before = PeriodFilter(
        field_name="period", lookup_expr="lte", help_text="Up to this month (YYYY-MM), inclusive."
    )


class FiscalYearFormField(forms.CharField):
    default_validators = [validate_fiscal_year]


@extend_schema_field({"type": "string", "pattern": r"^\d{4}-\d{2}$", "example": "2026-27"})
class FiscalYearFilter(django_filters.Filter):
    """`?fiscal_year=2026-27`: on a line, its year; on a dated record, the months inside it."""

    field_class = FiscalYearFormField

    def __init__(self, *args, by_period: bool = False, **kwargs):
        self.by_period = by_period
        kwargs.setdefault("help_text", "A fiscal year, YYYY-YY (e.g. 2026-27).")
        super().__init__(*args, **kwargs)

    def filter(self, qs, value):
        if value in (None, ""):
            return qs
        if self.by_period:
            start, end = fiscal_year_bounds(value)
            return qs.filter(period__gte=start, period__lt=end)
        return qs.filter(fiscal_year=value)
