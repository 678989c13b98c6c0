"""Reads of the organisation for the pages: each one a constant number of queries,
and every row through the model's `visible_to(user)` gate."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import cast

from django.db.models import Prefetch, QuerySet
from django.http import Http404

from clusters.models import (
    CODE_VALIDATOR,
    Cluster,
    Department,
    Membership,
    Service,
    Standard,
)


def _check_code(code: str) -> None:
    # A malformed code (a NUL byte, spaces, lower case) names nothing: answer 404 before
    # it reaches the database, which would refuse a NUL byte with an error.
    # RegexValidator compiles its pattern on creation; the stubs type it as str or Pattern.
    if not cast(re.Pattern[str], CODE_VALIDATOR.regex).fullmatch(code):
        raise Http404("No such code.")


def department_list(*, user) -> QuerySet[Department]:
    # 1 query: the departments.
    return Department.objects.visible_to(user).order_by("name")


def department_get(*, user, code: str) -> Department:
    _check_code(code)
    try:
        return Department.objects.visible_to(user).select_related("deputy_minister").get(code=code)
    except Department.DoesNotExist:
        raise Http404("No such department.") from None


def sees_all_memberships_of_department(*, user, department: Department) -> bool:
    """Whether `visible_to` shows this user every membership of the department (as
    opposed to only those of clusters the user's department or provider is in): those who
    see the department's private figures."""
    return user.has_perm("clusters.view_department_private", department)


def cluster_get(*, user, code: str) -> Cluster:
    _check_code(code)
    try:
        return (
            Cluster.objects.visible_to(user)
            .select_related("service", "provider__host_department")
            .get(code=code)
        )
    except Cluster.DoesNotExist:
        raise Http404("No such cluster.") from None


def cluster_members(*, user, cluster: Cluster) -> QuerySet[Membership]:
    """The cluster's memberships this user may see, with their department (1 query)."""
    return (
        Membership.objects.visible_to(user)
        .filter(cluster=cluster)
        .select_related("department")
        .order_by("department__name", "-joined_on")
    )


@dataclass(frozen=True)
class ServiceGroup:
    service: Service
    clusters: list[Cluster]


def services_with_clusters(*, user, service_code: str | None = None) -> list[ServiceGroup]:
    """The catalogue of clusters grouped by service (2 queries: services, clusters)."""
    services = Service.objects.visible_to(user).prefetch_related(
        Prefetch(
            "clusters",
            queryset=Cluster.objects.visible_to(user).select_related("provider").order_by("name"),
        )
    )
    if service_code:
        services = services.filter(code=service_code)
    return [
        ServiceGroup(service=s, clusters=list(s.clusters.all())) for s in services.order_by("name")
    ]


def service_choices(*, user) -> list[tuple[str, str]]:
    """(code, name) of every service the user may see, for a filter (1 query)."""
    return list(Service.objects.visible_to(user).order_by("name").values_list("code", "name"))


def service_catalogue(*, user) -> QuerySet[Service]:
    """Services with their standards and the clusters offering them (3 queries)."""
    return (
        Service.objects.visible_to(user)
        .prefetch_related(
            Prefetch(
                "standards",
                queryset=Standard.objects.visible_to(user).order_by("kind", "name"),
            ),
            Prefetch(
                "clusters",
                queryset=Cluster.objects.visible_to(user)
                .select_related("provider")
                .order_by("name"),
            ),
        )
        .order_by("name")
    )


def provider_clusters(*, user) -> QuerySet[Cluster]:
    """The clusters of a provider manager's own provider (1 query)."""
    if user.provider_id is None:
        return Cluster.objects.none()
    return (
        Cluster.objects.visible_to(user)
        .filter(provider_id=user.provider_id)
        .select_related("service")
        .order_by("name")
    )
