"""Filters of the board's cases and votes."""

from __future__ import annotations

import django_filters
from django import forms

from clusters.filters import by_code
from clusters.models import Cluster, Department
from governance.models import Case, CaseKind, CaseStatus, Choice, Vote
from sharedsvc.api.filters import DateTimeFromToRangeFilter, FilterSet

BIGINT_MAX = 2**63 - 1  # ids are bigints: a larger number would fail in the database


class IdFilter(django_filters.NumberFilter):
    """A whole id (a NumberFilter alone would take 1.5)."""

    field_class = forms.IntegerField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", BIGINT_MAX)
        super().__init__(*args, **kwargs)


class CaseFilter(FilterSet):
    kind = django_filters.ChoiceFilter(
        choices=CaseKind.choices, help_text="What the board is asked: exit, programme or pilot."
    )
    status = django_filters.ChoiceFilter(choices=CaseStatus.choices)
    department = by_code(
        Department,
        field_name="exit_request__department",
        help_text="The department that asks to leave.",
    )
    cluster = by_code(
        Cluster, field_name="exit_request__from_cluster", help_text="The cluster it would leave."
    )
    exit_request = IdFilter(field_name="exit_request_id", help_text="An exit request's id.")
    opened_at = DateTimeFromToRangeFilter(
        help_text="`opened_at_after` and `opened_at_before` (ISO 8601, inclusive)."
    )
    closes_at = DateTimeFromToRangeFilter(
        help_text="`closes_at_after` and `closes_at_before` (ISO 8601, inclusive)."
    )
    decided_at = DateTimeFromToRangeFilter(
        help_text="`decided_at_after` and `decided_at_before` (ISO 8601, inclusive)."
    )

    class Meta:
        model = Case
        fields = ["kind", "status", "department", "cluster", "exit_request"]


class VoteFilter(FilterSet):
    case = IdFilter(field_name="case_id", help_text="A case's id.")
    department = by_code(Department, help_text="The seat's department.")
    choice = django_filters.ChoiceFilter(choices=Choice.choices)
    cast_at = DateTimeFromToRangeFilter(
        help_text="`cast_at_after` and `cast_at_before` (ISO 8601, inclusive)."
    )

    class Meta:
        model = Vote
        fields = ["case", "department", "choice"]
