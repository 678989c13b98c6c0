"""Filters of programmes and their commitments, and of pilot plans and their evaluations:
organisational references by code, the sponsor by username, dates as ranges, a
commitment's progress as it reads today."""

from __future__ import annotations

import django_filters
from django.utils import timezone

from clusters.filters import by_code
from clusters.models import Cluster, Department, Service
from initiatives.models import (
    Answer,
    Commitment,
    CommitmentQuerySet,
    PilotDecisionKind,
    PilotEvaluation,
    PilotPlan,
    PilotStatus,
    Programme,
    ProgrammeStatus,
    Progress,
)
from sharedsvc.api.filters import FilterSet


class ProgrammeFilter(FilterSet):
    service = by_code(Service, help_text="The service the programme pushes forward.")
    sponsor = django_filters.CharFilter(
        field_name="sponsor__username", help_text="The sponsor's username."
    )
    status = django_filters.ChoiceFilter(
        choices=ProgrammeStatus.choices,
        help_text="proposed (before the board), active (approved), rejected or closed.",
    )
    target_on = django_filters.DateFromToRangeFilter(
        help_text="`target_on_after` and `target_on_before` (YYYY-MM-DD, inclusive)."
    )
    department = by_code(
        Department,
        field_name="commitments__department",
        help_text="Programmes that name this department as a target.",
    )

    class Meta:
        model = Programme
        fields = ["service", "sponsor", "status", "department"]


class CommitmentFilter(FilterSet):
    department = by_code(Department, help_text="The target department.")
    answer = django_filters.ChoiceFilter(
        choices=Answer.choices, help_text="The department's answer: pending, committed, declined."
    )
    # Filtered in the query by the rule of `Commitment.progress_on` (`with_progress`), on
    # the same day as the rows show it.
    progress = django_filters.ChoiceFilter(
        choices=Progress.choices,
        method="filter_progress",
        help_text="Derived as of today: pending, committed, joined, late or declined.",
    )

    class Meta:
        model = Commitment
        fields = ["department", "answer", "progress"]

    def filter_progress(
        self, queryset: CommitmentQuerySet, name: str, value: str
    ) -> CommitmentQuerySet:
        return queryset.with_progress(timezone.localdate()).filter(progress=value)


class PilotPlanFilter(FilterSet):
    status = django_filters.ChoiceFilter(
        choices=PilotStatus.choices,
        help_text="running, under_review (with the board), live or stopped.",
    )
    cluster = by_code(
        Cluster, field_name="clusters", help_text="Pilots that this cluster is part of."
    )
    ends_on = django_filters.DateFromToRangeFilter(
        help_text="`ends_on_after` and `ends_on_before` (YYYY-MM-DD, inclusive)."
    )

    class Meta:
        model = PilotPlan
        fields = ["status", "cluster"]


class PilotEvaluationFilter(FilterSet):
    decision = django_filters.ChoiceFilter(
        choices=PilotDecisionKind.choices,
        help_text="The decision put to the board: go_live, extend or stop.",
    )
    as_of = django_filters.DateFromToRangeFilter(
        help_text="`as_of_after` and `as_of_before` (YYYY-MM-DD, inclusive): when the "
        "evidence was compiled."
    )

    class Meta:
        model = PilotEvaluation
        fields = ["decision"]
