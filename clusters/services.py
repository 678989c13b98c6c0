"""Writes to the organisation: every change goes through one of these functions."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from clusters.models import (
    ALTERNATE_ENDS_BEFORE_START,
    CITIZEN_NOTICE_DAYS,
    CLUSTER_SERVICE_LOCKED,
    DEFAULT_NOTICE_DAYS,
    PILOT_NOTICE_DAYS,
    Alternate,
    AlternateStatus,
    Cluster,
    Department,
    Lifecycle,
    Membership,
    Provider,
    Service,
    Standard,
)
from clusters.rules import may_stand_in
from sharedsvc.errors import Conflict
from sharedsvc.models import User
from sharedsvc.services import (
    model_create,
    model_delete,
    model_update,
    require_permission,
    validated_save,
)

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
    """90 days' notice; a pilot is easier to leave (30), and a live service for citizens
    harder (180): defecting from a citizen portal moves the public too. A pilot of a
    citizen-facing service is still a pilot: 30."""
    if service.lifecycle == Lifecycle.PILOT:
        return PILOT_NOTICE_DAYS
    return CITIZEN_NOTICE_DAYS if service.serves_citizens else DEFAULT_NOTICE_DAYS


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


# Alternates on the board ------------------------------------------------------------

NOT_THE_SEATS_DEPUTY_MINISTER = (
    "Only the deputy minister of this seat, or an administrator, may name or end its alternate."
)
NOT_A_SEAT = "{department} has no seat on the board: only active main departments have one."
ALTERNATE_OF_ANOTHER_DEPARTMENT = (
    "Choose someone of {department}: an alternate stands in for their own department's seat."
)
ALTERNATE_NOT_ACTIVE = "This person's account is not active, so they cannot stand in."
ALTERNATE_NOT_OF_A_DEPARTMENT = (
    "Choose a manager of the department: only a department's people may stand in for its seat."
)
ALTERNATE_IS_DEPUTY_MINISTER = (
    "A deputy minister holds a seat already: nobody holds two seats. Choose someone else."
)
ALTERNATE_STARTS_IN_THE_PAST = "The start date must be today or later."
ALTERNATE_NEEDS_DATES = "Enter the {what}."
ALTERNATE_ALREADY_OVER = "This naming has already ended."


def alternate_name(
    *,
    actor: Any,
    department: Department,
    user: User,
    starts_on: datetime.date | None,
    ends_on: datetime.date | None,
    today: datetime.date | None = None,
) -> Alternate:
    """Name `user`, a person of `department`, to stand in for its board seat from
    `starts_on` to `ends_on` (both inclusive). Only the seat's deputy minister or an
    administrator may. One alternate per seat at a time and nobody in two seats (the
    database has the last word on both); a deputy minister cannot be an alternate."""
    require_permission(actor, "clusters.add_alternate", department, NOT_THE_SEATS_DEPUTY_MINISTER)
    today = today or timezone.localdate()
    if not (department.is_main and department.active):
        raise ValidationError({"department": NOT_A_SEAT.format(department=department.name)})
    if starts_on is None:
        raise ValidationError({"starts_on": ALTERNATE_NEEDS_DATES.format(what="start date")})
    if ends_on is None:
        raise ValidationError({"ends_on": ALTERNATE_NEEDS_DATES.format(what="end date")})
    if starts_on < today:
        raise ValidationError({"starts_on": ALTERNATE_STARTS_IN_THE_PAST})
    if ends_on < starts_on:
        raise ValidationError({"ends_on": ALTERNATE_ENDS_BEFORE_START})
    if not user.is_active:
        raise ValidationError({"user": ALTERNATE_NOT_ACTIVE})
    if not may_stand_in(user):
        raise ValidationError({"user": ALTERNATE_NOT_OF_A_DEPARTMENT})
    if user.department_id != department.pk:
        raise ValidationError(
            {"user": ALTERNATE_OF_ANOTHER_DEPARTMENT.format(department=department.name)}
        )
    if Department.objects.filter(deputy_minister_id=user.pk).exists():
        raise ValidationError({"user": ALTERNATE_IS_DEPUTY_MINISTER})
    with transaction.atomic():
        # Two namings for one seat at once: the exclusion constraints make the second fail
        # cleanly (validated_save turns it into the same message).
        return validated_save(
            Alternate(
                department=department,
                user=user,
                starts_on=starts_on,
                ends_on=ends_on,
                named_by=actor,
                named_at=timezone.now(),
            ),
            actor=actor,
        )


def alternate_end(
    *, actor: Any, alternate: Alternate, today: datetime.date | None = None
) -> Alternate:
    """End a naming early: the seat is back with its deputy minister alone from today
    (`ends_on` becomes yesterday; a naming not yet begun ends the day before its start and
    holds no day). Never deleted: the votes cast under it keep it."""
    require_permission(actor, "clusters.end_alternate", alternate, NOT_THE_SEATS_DEPUTY_MINISTER)
    today = today or timezone.localdate()
    with transaction.atomic():
        alternate = Alternate.objects.select_for_update().get(pk=alternate.pk)
        if alternate.status_on(today) in (AlternateStatus.PAST, AlternateStatus.WITHDRAWN):
            raise Conflict(ALTERNATE_ALREADY_OVER)
        alternate.ends_on = max(today, alternate.starts_on) - datetime.timedelta(days=1)
        alternate.ended_by = actor
        alternate.ended_at = timezone.now()
        return validated_save(alternate, actor=actor)
