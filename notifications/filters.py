"""Filters of a user's notifications in the API."""

from __future__ import annotations

import django_filters

from notifications.models import Notification, NotificationKind
from sharedsvc.api.filters import DateTimeFromToRangeFilter, FilterSet, StrictBooleanFilter


class NotificationFilter(FilterSet):
    kind = django_filters.ChoiceFilter(choices=NotificationKind.choices)
    read = StrictBooleanFilter(
        method="filter_read", help_text="`true`: only those read; `false`: only the unread."
    )
    created_at = DateTimeFromToRangeFilter(
        help_text="`created_at_after` and `created_at_before` (ISO 8601, inclusive)."
    )

    class Meta:
        model = Notification
        fields = ["kind", "read"]

    def filter_read(self, queryset, name, value):
        if value is None:
            return queryset
        return queryset.filter(read_at__isnull=not value)
