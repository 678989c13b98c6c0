"""FilterSet pieces shared by every app's API: strict about what they accept.

An empty value (`?active=`) means "not filtered", as django-filter has it; any other value
a filter cannot read is a 400 with a message, never silently ignored.
"""

from __future__ import annotations

import datetime

import django_filters
from django import forms
from django.core.exceptions import ValidationError
from django.db import models
from django_filters.fields import IsoDateTimeField, RangeField
from django_filters.rest_framework import DjangoFilterBackend
from django_filters.widgets import DateRangeWidget

BOOLEAN_INVALID = "Give true or false."
DATETIME_OUT_OF_RANGE = "Give a date and time between the years 1 and 9999."
TRUE_WORDS = frozenset({"true", "1"})
FALSE_WORDS = frozenset({"false", "0"})


class StrictBooleanField(forms.Field):
    """`true`/`false` (or 1/0); empty is no filter; anything else is an error, not ignored."""

    def to_python(self, value):
        if value in (None, ""):
            return None
        word = str(value).strip().lower()
        if word in TRUE_WORDS:
            return True
        if word in FALSE_WORDS:
            return False
        raise ValidationError(BOOLEAN_INVALID, code="invalid")


class StrictBooleanFilter(django_filters.BooleanFilter):
    field_class = StrictBooleanField


class UTCIsoDateTimeField(IsoDateTimeField):
    """An ISO 8601 date-time, handed to the database in UTC.

    Python accepts offsets up to ±23:59 but PostgreSQL only up to ±15:59, so an offset
    like +18:53 would otherwise reach the database and fail there (a 500).
    """

    def to_python(self, value):
        result = super().to_python(value)
        if result is None:
            return None
        try:
            return result.astimezone(datetime.UTC)
        except OverflowError:
            raise ValidationError(DATETIME_OUT_OF_RANGE, code="invalid") from None


class UTCIsoDateTimeRangeField(RangeField):
    widget = DateRangeWidget

    def __init__(self, *args, **kwargs):
        super().__init__((UTCIsoDateTimeField(), UTCIsoDateTimeField()), *args, **kwargs)


class DateTimeFromToRangeFilter(django_filters.IsoDateTimeFromToRangeFilter):
    """`?at_after=...&at_before=...` with ISO 8601 date-times."""

    field_class = UTCIsoDateTimeRangeField


class FilterSet(django_filters.FilterSet):
    """Base FilterSet of the API: booleans read strictly."""

    FILTER_DEFAULTS = {
        **django_filters.FilterSet.FILTER_DEFAULTS,
        models.BooleanField: {"filter_class": StrictBooleanFilter},
        models.NullBooleanField: {"filter_class": StrictBooleanFilter},
    }


# Query parameters that are read by the pagination and the renderers, never by a filter.
NOT_FILTERS = frozenset({"page", "page_size", "format"})


class FilterBackend(DjangoFilterBackend):
    """django-filter's backend, without building a FilterSet for a request that filters nothing.

    A FilterSet given none of its parameters returns the queryset unchanged (every filter,
    method filters included, passes an empty value through), yet building it and its form
    was an eighth of a list request's time (bench/api_lists.py). A request with any other
    parameter, known to the FilterSet or not, goes the whole way, errors included.
    """

    def filter_queryset(self, request, queryset, view):
        if NOT_FILTERS.issuperset(request.query_params.keys()):
            return queryset
        return super().filter_queryset(request, queryset, view)
