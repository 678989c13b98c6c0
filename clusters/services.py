"""Writes to the organisation: every change goes through one of these functions."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from clusters.models import (
    CLUSTER_SERVICE_LOCKED,
    DEFAULT_NOTICE_DAYS,
    PILOT_NOTICE_DAYS,
    Cluster,
    Department,
    Lifecycle,
    Membership,
    Provider,
    Service,
    Standard,
)
from sharedsvc.services import model_create, model_delete, model_update, require_permission

# Departments -------------------------------------------------------------------------


def department_create(*, actor: Any, **data: Any) -> Department:
    require_permission(actor, "clusters.add_department")
    return model_create(Department, actor=actor, data=data)


def department_update(*, actor: Any, department: Department, **data: Any) -> Department:
    require_permission(actor, "clusters.change_department", department)
    return model_update(department, actor=actor, data=data)


def department_delete(*, actor: Any, department: Department) -> None:
    require_permission(actor, "clusters.delete_department", department)
    model_delete(department, actor=actor)


# Providers ---------------------------------------------------------------------------


def provider_create(*, actor: Any, **data: Any) -> Provider:
    require_permission(actor, "clusters.add_provider")
    return model_create(Provider, actor=actor, data=data)


def provider_update(*, actor: Any, provider: Provider, **data: Any) -> Provider:
    require_permission(actor, "clusters.change_provider", provider)
    return model_update(provider, actor=actor, data=data)


def provider_delete(*, actor: Any, provider: Provider) -> None:
    require_permission(actor, "clusters.delete_provider", provider)
    model_delete(provider, actor=actor)


# Services and standards --------------------------------------------------------------


def service_create(*, actor: Any, **data: Any) -> Service:
    require_permission(actor, "clusters.add_service")
    return model_create(Service, actor=actor, data=data)


def service_update(*, actor: Any, service: Service, **data: Any) -> Service:
    require_permission(actor, "clusters.change_service", service)
    return model_update(service, actor=actor, data=data)


def service_delete(*, actor: Any, service: Service) -> None:
    require_permission(actor, "clusters.delete_service", service)
    model_delete(service, actor=actor)


def standard_create(*, actor: Any, **data: Any) -> Standard:
    require_permission(actor, "clusters.add_standard")
    return model_create(Standard, actor=actor, data=data)


def standard_update(*, actor: Any, standard: Standard, **data: Any) -> Standard:
    require_permission(actor, "clusters.change_standard", standard)
    return model_update(standard, actor=actor, data=data)


def standard_delete(*, actor: Any, standard: Standard) -> None:
    require_permission(actor, "clusters.delete_standard", standard)
    model_delete(standard, actor=actor)


# Clusters ----------------------------------------------------------------------------


def default_notice_days(service: Service) -> int:
    """A pilot service is easier to leave: 30 days' notice instead of 90."""
    return PILOT_NOTICE_DAYS if service.lifecycle == Lifecycle.PILOT else DEFAULT_NOTICE_DAYS


def cluster_create(*, actor: Any, notice_days: int | None = None, **data: Any) -> Cluster:
    require_permission(actor, "clusters.add_cluster")
    if notice_days is None and data.get("service") is not None:
        notice_days = default_notice_days(data["service"])
    if notice_days is not None:
        data["notice_days"] = notice_days
    return model_create(Cluster, actor=actor, data=data)


def cluster_update(*, actor: Any, cluster: Cluster, **data: Any) -> Cluster:
    """Change a cluster. Its service cannot change once it has members (the memberships
    would silently move to another service); the database refuses it too."""
    require_permission(actor, "clusters.change_cluster", cluster)
    with transaction.atomic():
        # Locks the cluster row so a member cannot join between the check and the change.
        stored = (
            Cluster.objects.select_for_update()
            .values_list("service_id", flat=True)
            .get(pk=cluster.pk)
        )
        service = data.get("service")
        if (
            service is not None
            and service.pk != stored
            and Membership.objects.filter(cluster_id=cluster.pk).exists()
        ):
            raise ValidationError({"service": CLUSTER_SERVICE_LOCKED})
        return model_update(cluster, actor=actor, data=data)


def cluster_delete(*, actor: Any, cluster: Cluster) -> None:
    require_permission(actor, "clusters.delete_cluster", cluster)
    model_delete(cluster, actor=actor)


# Memberships -------------------------------------------------------------------------


def membership_create(
    *,
    actor: Any,
    department: Department,
    cluster: Cluster,
    joined_on: datetime.date,
    usage_units: int,
    leaves_on: datetime.date | None = None,
    baseline_annual_cost: Decimal = Decimal("0.00"),
) -> Membership:
    """Add a department to a cluster; overlapping memberships of one service are refused."""
    require_permission(actor, "clusters.move_membership", department)
    return model_create(
        Membership,
        actor=actor,
        data={
            "department": department,
            "cluster": cluster,
            "service_id": cluster.service_id,
            "joined_on": joined_on,
            "leaves_on": leaves_on,
            "usage_units": usage_units,
            "baseline_annual_cost": baseline_annual_cost,
        },
    )


def membership_update(*, actor: Any, membership: Membership, **data: Any) -> Membership:
    require_permission(actor, "clusters.move_membership", membership.department)
    if "cluster" in data:
        data["service_id"] = data["cluster"].service_id
    return model_update(membership, actor=actor, data=data)


def membership_delete(*, actor: Any, membership: Membership) -> None:
    require_permission(actor, "clusters.move_membership", membership.department)
    model_delete(membership, actor=actor)
