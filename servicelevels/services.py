"""Writes of service levels: providers' returns, and telling them of persistent breaches."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from clusters.models import Cluster, Department, Membership, Standard
from notifications.models import NotificationKind
from notifications.services import notify
from servicelevels.models import BreachNotice, Measurement
from servicelevels.selectors import persistent_breaches
from sharedsvc.audit import audit_context
from sharedsvc.models import User
from sharedsvc.periods import format_period, month_start, next_month
from sharedsvc.roles import Role
from sharedsvc.services import require_permission, validated_save

OTHER_SERVICE = "{standard} is a standard of {service}, not of {cluster}'s service."
NOT_A_MEMBER = "{department} was not a member of {cluster} in {period}."
NOT_ENDED = "{period} has not ended yet; returns are for months that are over."
NOT_YOUR_CLUSTER = "You may only submit and correct returns for your own provider's clusters."


def _check(
    *,
    standard: Standard,
    cluster: Cluster,
    department: Department,
    period: datetime.date,
    today: datetime.date,
) -> None:
    errors: dict[str, str] = {}
    if standard.service_id != cluster.service_id:
        errors["standard"] = OTHER_SERVICE.format(
            standard=standard.name, service=standard.service.name, cluster=cluster.code
        )
    if next_month(period) > today:
        errors["period"] = NOT_ENDED.format(period=format_period(period))
    elif (
        not Membership.objects.filter(
            cluster=cluster, department=department, joined_on__lt=next_month(period)
        )
        .exclude(leaves_on__lte=period)
        .exists()
    ):
        errors["department"] = NOT_A_MEMBER.format(
            department=department.code, cluster=cluster.code, period=format_period(period)
        )
    if errors:
        raise ValidationError(errors)


def measurement_submit(
    *,
    actor: Any,
    standard: Standard,
    cluster: Cluster,
    department: Department,
    period: datetime.date,
    value: Decimal,
    now: datetime.datetime | None = None,
) -> Measurement:
    """One return, submitted `now`: that time decides whether it was on time (by the 10th),
    and only a month that has ended by then may be reported."""
    require_permission(actor, "servicelevels.add_measurement", cluster, NOT_YOUR_CLUSTER)
    now = now or timezone.now()
    period = month_start(period)
    _check(
        standard=standard,
        cluster=cluster,
        department=department,
        period=period,
        today=timezone.localdate(now),
    )
    return validated_save(
        Measurement(
            standard=standard,
            cluster=cluster,
            department=department,
            period=period,
            value=value,
            submitted_at=now,
            submitted_by=actor if getattr(actor, "pk", None) else None,
        ),
        actor=actor,
    )


def measurements_submit(
    *, actor: Any, rows: list[dict[str, Any]], now: datetime.datetime | None = None
) -> list[Measurement]:
    """Many returns at once (a list in the API, a CSV in the browser): all or none.

    A bad row raises a ValidationError whose messages name the row (1-based)."""
    now = now or timezone.now()
    saved = []
    with transaction.atomic():
        for number, row in enumerate(rows, start=1):
            try:
                saved.append(measurement_submit(actor=actor, now=now, **row))
            except ValidationError as exc:
                raise ValidationError({f"row {number}": exc.messages}) from exc
        _notify_new_breaches(actor=actor)
    return saved


def measurement_update(
    *, actor: Any, measurement: Measurement, value: Decimal | None = None
) -> Measurement:
    """A correction keeps the original submission time (lateness is not laundered)."""
    require_permission(
        actor, "servicelevels.change_measurement", measurement.cluster, NOT_YOUR_CLUSTER
    )
    if value is None:
        return measurement
    measurement.value = value
    saved = validated_save(measurement, actor=actor)
    _notify_new_breaches(actor=actor)
    return saved


def _notify_new_breaches(*, actor: Any) -> int:
    """Notify the provider's managers of each persistent breach once (the emails go after
    commit), with a link to the provider's scorecard, which lists its breaches."""
    told = 0
    with audit_context(actor=actor):
        for breach in persistent_breaches():
            _, created = BreachNotice.objects.get_or_create(
                standard_id=breach["standard_id"],
                cluster_id=breach["cluster_id"],
                department_id=breach["department_id"],
                started=breach["started"],
            )
            if not created:
                continue
            told += 1
            managers = User.objects.filter(
                is_active=True,
                role=Role.PROVIDER_MANAGER,
                provider__clusters__pk=breach["cluster_id"],
            )
            notify(
                recipients=managers,
                kind=NotificationKind.BREACH,
                link=reverse("servicelevels:scorecard", args=[breach["provider"]]),
                subject=f"Persistent breach: {breach['standard']} for {breach['department']} in {breach['cluster']}",
                body=(
                    f"{breach['standard']} has been missed for {breach['department']} in {breach['cluster']} "
                    f"for {breach['months']} months running, from {breach['started']:%Y-%m} to {breach['latest']:%Y-%m}."
                ),
            )
    return told


def breaches_notify(*, actor: Any = None) -> int:
    """The same check as after each return, for a beat job."""
    with transaction.atomic():
        return _notify_new_breaches(actor=actor)
