"""Filters for lists, by code for organisational references (`?department=LCS`)."""

from __future__ import annotations

import django_filters
from django.db.models import Q, QuerySet
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from clusters.models import (
    Alternate,
    Cluster,
    Department,
    Membership,
    MembershipStatus,
    Provider,
    Service,
    Standard,
)
from sharedsvc.api.filters import FilterSet

UNKNOWN_CODE = "No {model} has the code “%(value)s”."


def by_code(model, field_name: str | None = None, **kwargs) -> django_filters.ModelChoiceFilter:
    """A filter naming an organisational object by its code; an unknown code is a 400."""
    name = str(model._meta.verbose_name)
    kwargs.setdefault("help_text", f"A {name} code.")
    return django_filters.ModelChoiceFilter(
        queryset=model.objects.all(),
        to_field_name="code",
        field_name=field_name,
        error_messages={"invalid_choice": UNKNOWN_CODE.format(model=name)},
        **kwargs,
    )


class DepartmentFilter(FilterSet):
    class Meta:
        model = Department
        fields = ["is_main", "active"]


class ProviderFilter(FilterSet):
    host_department = by_code(Department)

    class Meta:
        model = Provider
        fields = ["kind", "host_department"]


class ServiceFilter(FilterSet):
    class Meta:
        model = Service
        fields = ["category", "purpose", "audience", "lifecycle"]


class StandardFilter(FilterSet):
    service = by_code(Service)

    class Meta:
        model = Standard
        fields = ["service", "kind", "direction"]


class ClusterFilter(FilterSet):
    service = by_code(Service)
    provider = by_code(Provider)
    department = by_code(
        Department,
        method="filter_department",
        help_text="Clusters the department has ever belonged to (as far as you may see).",
    )

    class Meta:
        model = Cluster
        fields = ["service", "provider"]

    @extend_schema_field(OpenApiTypes.STR)
    def filter_department(self, queryset, name, value):
        # Who belongs to which cluster is membership data: answer only from the
        # memberships this user may see, or the filter would reveal the rest.
        user = getattr(self.request, "user", None)
        visible = Membership.objects.visible_to(user).filter(department=value)
        return queryset.filter(pk__in=visible.values("cluster_id"))


def filter_membership_status(queryset: QuerySet, status: str) -> QuerySet:
    today = timezone.localdate()
    if status == MembershipStatus.JOINING:
        return queryset.filter(joined_on__gt=today)
    if status == MembershipStatus.ACTIVE:
        return queryset.filter(joined_on__lte=today, leaves_on__isnull=True)
    if status == MembershipStatus.LEAVING:
        return queryset.filter(joined_on__lte=today, leaves_on__gt=today)
    if status == MembershipStatus.LEFT:
        return queryset.filter(leaves_on__lte=today)
    return queryset


class MembershipFilter(FilterSet):
    department = by_code(Department)
    cluster = by_code(Cluster)
    service = by_code(Service)
    provider = by_code(Provider, field_name="cluster__provider")
    status = django_filters.ChoiceFilter(
        choices=MembershipStatus.choices,
        method="filter_status",
        help_text="Derived from the dates, as of today.",
    )
    joined_on = django_filters.DateFromToRangeFilter()
    leaves_on = django_filters.DateFromToRangeFilter()
    active_on = django_filters.DateFilter(
        method="filter_active_on", help_text="Members on this day."
    )

    class Meta:
        model = Membership
        fields = ["department", "cluster", "service", "provider", "status"]

    def filter_status(self, queryset, name, value):
        return filter_membership_status(queryset, value)

    def filter_active_on(self, queryset, name, value):
        return queryset.filter(joined_on__lte=value).filter(
            Q(leaves_on__isnull=True) | Q(leaves_on__gt=value)
        )


class AlternateFilter(FilterSet):
    department = by_code(Department, help_text="The seat: a main department's code.")
    user = django_filters.CharFilter(
        field_name="user__username", help_text="The alternate's username."
    )
    active_on = django_filters.DateFilter(
        method="filter_active_on", help_text="Namings whose dates cover this day."
    )
    starts_on = django_filters.DateFromToRangeFilter()
    ends_on = django_filters.DateFromToRangeFilter()

    class Meta:
        model = Alternate
        fields = ["department", "user"]

    def filter_active_on(self, queryset, name, value):
        return queryset.current_on(value)
