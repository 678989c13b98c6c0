"""Writes to the organisation: every change goes through one of these functions."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError

from clusters.models import (
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
from sharedsvc.services import model_create, model_delete, model_update

CLUSTER_SERVICE_LOCKED = (
    "This cluster has members, so its service cannot change; open a new cluster instead."
)


# Departments -------------------------------------------------------------------------


def department_create(*, actor: Any, **data: Any) -> Department:
    return model_create(Department, actor=actor, data=data)


def department_update(*, actor: Any, department: Department, **data: Any) -> Department:
    return model_update(department, actor=actor, data=data)


def department_delete(*, actor: Any, department: Department) -> None:
    model_delete(department, actor=actor)


# Providers ---------------------------------------------------------------------------


def provider_create(*, actor: Any, **data: Any) -> Provider:
    return model_create(Provider, actor=actor, data=data)


def provider_update(*, actor: Any, provider: Provider, **data: Any) -> Provider:
    return model_update(provider, actor=actor, data=data)


def provider_delete(*, actor: Any, provider: Provider) -> None:
    model_delete(provider, actor=actor)


# Services and standards --------------------------------------------------------------


def service_create(*, actor: Any, **data: Any) -> Service:
    return model_create(Service, actor=actor, data=data)


def service_update(*, actor: Any, service: Service, **data: Any) -> Service:
    return model_update(service, actor=actor, data=data)


def service_delete(*, actor: Any, service: Service) -> None:
    model_delete(service, actor=actor)


def standard_create(*, actor: Any, **data: Any) -> Standard:
    return model_create(Standard, actor=actor, data=data)


def standard_update(*, actor: Any, standard: Standard, **data: Any) -> Standard:
    return model_update(standard, actor=actor, data=data)


def standard_delete(*, actor: Any, standard: Standard) -> None:
    model_delete(standard, actor=actor)


# Clusters ----------------------------------------------------------------------------


def default_notice_days(service: Service) -> int:
    """A pilot service is easier to leave: 30 days' notice instead of 90."""
    return PILOT_NOTICE_DAYS if service.lifecycle == Lifecycle.PILOT else DEFAULT_NOTICE_DAYS


def cluster_create(*, actor: Any, notice_days: int | None = None, **data: Any) -> Cluster:
    if notice_days is None and data.get("service") is not None:
        notice_days = default_notice_days(data["service"])
    if notice_days is not None:
        data["notice_days"] = notice_days
    return model_create(Cluster, actor=actor, data=data)


def cluster_update(*, actor: Any, cluster: Cluster, **data: Any) -> Cluster:
    service = data.get("service")
    if service is not None and service.pk != cluster.service_id and cluster.memberships.exists():
        raise ValidationError({"service": CLUSTER_SERVICE_LOCKED})
    return model_update(cluster, actor=actor, data=data)


def cluster_delete(*, actor: Any, cluster: Cluster) -> None:
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
    if "cluster" in data:
        data["service_id"] = data["cluster"].service_id
    return model_update(membership, actor=actor, data=data)


def membership_delete(*, actor: Any, membership: Membership) -> None:
    model_delete(membership, actor=actor)
