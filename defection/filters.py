"""Filters of exit requests: organisational references by code, status as it reads today."""

from __future__ import annotations

import django_filters

from clusters.filters import by_code
from clusters.models import Cluster, Department, Provider
from defection.models import Destination, ExitRequest, ExitStatus, Reason
from sharedsvc.api.filters import FilterSet


class ExitRequestFilter(FilterSet):
    department = by_code(Department, help_text="The department that gives notice.")
    cluster = by_code(
        Cluster, field_name="from_cluster", help_text="The cluster it leaves (as from_cluster)."
    )
    from_cluster = by_code(Cluster, help_text="The cluster it leaves.")
    to_cluster = by_code(Cluster, help_text="The cluster it moves to.")
    to_provider = by_code(Provider, help_text="The provider it moves to.")
    # `status_now` is annotated by the view's queryset (with_current_status()): a scheduled
    # request whose leave date has come is found as completed.
    status = django_filters.ChoiceFilter(
        field_name="status_now",
        choices=ExitStatus.choices,
        help_text="The status as of today (a scheduled request whose date has come is completed).",
    )
    destination = django_filters.ChoiceFilter(choices=Destination.choices)
    reason = django_filters.ChoiceFilter(choices=Reason.choices)
    leave_on = django_filters.DateFromToRangeFilter(
        help_text="`leave_on_after` and `leave_on_before` (YYYY-MM-DD, inclusive)."
    )
    requested_on = django_filters.DateFromToRangeFilter(
        help_text="`requested_on_after` and `requested_on_before` (YYYY-MM-DD, inclusive)."
    )

    class Meta:
        model = ExitRequest
        fields = [
            "department",
            "cluster",
            "from_cluster",
            "to_cluster",
            "to_provider",
            "status",
            "destination",
            "reason",
            "needs_board",
        ]
