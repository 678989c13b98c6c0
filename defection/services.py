"""The right to leave: submit, schedule, withdraw and complete exit requests."""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from clusters.models import Cluster, Department, Membership, Provider, ProviderKind
from clusters.services import membership_create, membership_delete, membership_update
from defection.board import board
from defection.models import (
    OPEN_STATUSES,
    PLAN_MAX_LENGTH,
    Destination,
    ExitRequest,
    ExitStatus,
    Reason,
)
from defection.selectors import cluster_room, exit_impact
from notifications.models import NotificationKind
from notifications.services import notify
from sharedsvc.audit import audit_context
from sharedsvc.errors import Conflict, integrity_to_validation
from sharedsvc.models import User
from sharedsvc.services import require_permission, validated_save

NOT_A_MEMBER = "{department} is not a member of {cluster} today, so it has nothing to leave."
ALREADY_LEAVING = "{department} is already leaving {cluster} on {date}."
OPEN_REQUEST_EXISTS = "{department} already has an open exit request for {cluster}."
TOO_EARLY = (
    "The earliest leave date is {earliest} ({days} days' notice from today); "
    "choose that date or a later one."
)
SAME_CLUSTER = "Choose a cluster other than the one you are leaving."
OTHER_SERVICE = "{cluster} offers {offered}, not {needed}; choose a cluster of the same service."
NO_ROOM = "{cluster} has room for {room} more units on {date}; you need {needed}."
PSOA_AS_PROVIDER = "To move to the PSOA, choose one of its clusters."
NEEDS_CLUSTER = "Choose the cluster to move to."
NEEDS_PROVIDER = "Choose the provider to move to."
NOT_FOR_IN_HOUSE = "Leave this empty for an in-house service."
CANNOT_WITHDRAW = "This request is {status}; only a scheduled or pending request can be withdrawn before its leave date."
TOO_LATE_TO_WITHDRAW = "The leave date {date} has come; the move can no longer be withdrawn."
MAY_NOT_GIVE_NOTICE = (
    "Only the department's managers, its deputy minister and administrators can give notice for it."
)
MAY_NOT_WITHDRAW = (
    "Only the department's managers, its deputy minister and administrators can withdraw "
    "its requests."
)
# The citizen-continuity plan (an exit from a service for citizens).
NEEDS_CITIZEN_IMPACT = "Say what citizens will notice when the department leaves."
NEEDS_TRANSITION_ON = "Give the date citizens move to the new service."
TRANSITION_OUT_OF_RANGE = (
    "The transition date must be from today up to the leave date ({leave}): citizens move "
    "before the department stops using the cluster."
)
NEEDS_RECORDS_AND_CASES = "Say how citizens' records and open cases move."
NEEDS_CONTACT = "Say who answers citizens' questions during the move."
PLAN_TOO_LONG = "Keep each part of the plan to 5,000 characters or fewer."
SEEN_IN_PART = (
    "The justification and the cost to those who stay are for the department, the "
    "cluster's members, its provider and the board."
)


def _format(day: datetime.date) -> str:
    return f"{day.day} {day:%B %Y}"


def earliest_leave_on(cluster: Cluster, today: datetime.date | None = None) -> datetime.date:
    """Notice runs from the day of the request."""
    return (today or timezone.localdate()) + datetime.timedelta(days=cluster.notice_days)


def current_membership(
    department: Department, cluster: Cluster, today: datetime.date
) -> Membership:
    membership = (
        Membership.objects.filter(department=department, cluster=cluster).active_on(today).first()
    )
    if membership is None:
        raise ValidationError(
            {"from_cluster": NOT_A_MEMBER.format(department=department.code, cluster=cluster.code)}
        )
    return membership


def _check_destination(
    *,
    membership: Membership,
    destination: str,
    to_cluster: Cluster | None,
    to_provider: Provider | None,
    leave_on: datetime.date,
) -> None:
    errors: dict[str, str] = {}
    cluster = membership.cluster
    if destination == Destination.CLUSTER:
        if to_provider is not None:
            errors["to_provider"] = "Leave this empty when moving to a cluster."
        if to_cluster is None:
            errors["to_cluster"] = NEEDS_CLUSTER
        elif to_cluster.pk == cluster.pk:
            errors["to_cluster"] = SAME_CLUSTER
        elif to_cluster.service_id != cluster.service_id:
            errors["to_cluster"] = OTHER_SERVICE.format(
                cluster=to_cluster.code,
                offered=to_cluster.service.name,
                needed=cluster.service.name,
            )
        else:
            room = cluster_room(to_cluster, leave_on)
            if room is not None and room < membership.usage_units:
                errors["to_cluster"] = NO_ROOM.format(
                    cluster=to_cluster.code,
                    room=max(room, 0),
                    date=_format(leave_on),
                    needed=membership.usage_units,
                )
    elif destination == Destination.PROVIDER:
        if to_cluster is not None:
            errors["to_cluster"] = "Leave this empty when moving to a provider."
        if to_provider is None:
            errors["to_provider"] = NEEDS_PROVIDER
        elif to_provider.kind == ProviderKind.PSOA:
            errors["to_provider"] = PSOA_AS_PROVIDER
    else:
        if to_cluster is not None:
            errors["to_cluster"] = NOT_FOR_IN_HOUSE
        if to_provider is not None:
            errors["to_provider"] = NOT_FOR_IN_HOUSE
    if errors:
        raise ValidationError(errors)


def exit_request_submit(
    *,
    actor: Any,
    department: Department,
    from_cluster: Cluster,
    destination: str,
    reason: str,
    justification: str,
    to_cluster: Cluster | None = None,
    to_provider: Provider | None = None,
    requested_leave_on: datetime.date | None = None,
    citizen_impact: str = "",
    transition_on: datetime.date | None = None,
    records_and_cases: str = "",
    contact: str = "",
    today: datetime.date | None = None,
) -> ExitRequest:
    """Give notice `today` (the notice period runs from it). A move to a PSOA cluster is
    scheduled at once (nobody can block it); any other destination goes to the board.

    Leaving a service for citizens (`Service.serves_citizens`) needs a citizen-continuity
    plan, all four parts of it; a move to a PSOA cluster is still scheduled, and every
    deputy minister on the board is told, with the plan. For other services the plan's
    parts are not asked for and not kept."""
    require_permission(actor, "defection.add_exitrequest", department, MAY_NOT_GIVE_NOTICE)
    today = today or timezone.localdate()
    if destination not in Destination.values:
        raise ValidationError({"destination": "Choose a cluster, a provider or in-house."})
    if reason not in Reason.values:
        raise ValidationError({"reason": "Choose cost, service quality, strategic or other."})
    with transaction.atomic(), audit_context(actor=actor):
        membership = current_membership(department, from_cluster, today)
        # Two submissions for one membership at once: the second waits here, then sees
        # the first's open request (the partial unique index is the last word).
        membership = (
            Membership.objects.select_for_update()
            .select_related("cluster__service")
            .get(pk=membership.pk)
        )
        if ExitRequest.objects.filter(membership=membership, status__in=OPEN_STATUSES).exists():
            raise ValidationError(
                {
                    "from_cluster": OPEN_REQUEST_EXISTS.format(
                        department=department.code, cluster=from_cluster.code
                    )
                }
            )
        if membership.leaves_on is not None:
            raise ValidationError(
                {
                    "from_cluster": ALREADY_LEAVING.format(
                        department=department.code,
                        cluster=from_cluster.code,
                        date=_format(membership.leaves_on),
                    )
                }
            )
        earliest = earliest_leave_on(from_cluster, today)
        if requested_leave_on is not None and requested_leave_on < earliest:
            raise ValidationError(
                {
                    "requested_leave_on": TOO_EARLY.format(
                        earliest=_format(earliest), days=from_cluster.notice_days
                    )
                }
            )
        leave_on = requested_leave_on or earliest
        serves_citizens = membership.cluster.service.serves_citizens
        plan = _citizen_plan(
            serves_citizens,
            citizen_impact=citizen_impact,
            transition_on=transition_on,
            records_and_cases=records_and_cases,
            contact=contact,
            today=today,
            leave_on=leave_on,
        )
        _check_destination(
            membership=membership,
            destination=destination,
            to_cluster=to_cluster,
            to_provider=to_provider,
            leave_on=leave_on,
        )
        # `_check_destination` refused a move without a cluster.
        right_to_leave = (
            destination == Destination.CLUSTER and to_cluster.provider.kind == ProviderKind.PSOA  # type: ignore[union-attr]
        )
        request = ExitRequest(
            department=department,
            membership=membership,
            from_cluster=from_cluster,
            destination=destination,
            to_cluster=to_cluster,
            to_provider=to_provider,
            reason=reason,
            justification=justification,
            requested_leave_on=requested_leave_on,
            leave_on=leave_on,
            status=ExitStatus.SCHEDULED if right_to_leave else ExitStatus.PENDING_BOARD,
            needs_board=not right_to_leave,
            impact=exit_impact(cluster=from_cluster, department_id=department.pk),
            requested_by=actor if getattr(actor, "pk", None) else None,
            requested_on=today,
            **plan,
        )
        try:
            with transaction.atomic():
                validated_save(request, actor=actor)
        except IntegrityError as exc:  # pragma: no cover - the lock above makes this rare
            raise integrity_to_validation(ExitRequest, exc) from exc
        if right_to_leave:
            _schedule(request, actor=actor)
            if serves_citizens:
                _tell_the_board(request)
        else:
            board().open_case(exit_request=request, actor=actor)
        _tell_cluster(
            request,
            kind=NotificationKind.EXIT_NOTICE,
            subject=f"{department.code} gives notice to leave {from_cluster.code}",
            today=today,
        )
    return request


def _citizen_plan(
    serves_citizens: bool,
    *,
    citizen_impact: str,
    transition_on: datetime.date | None,
    records_and_cases: str,
    contact: str,
    today: datetime.date,
    leave_on: datetime.date,
) -> dict[str, Any]:
    """The plan's fields to keep: all four parts for a service for citizens (each one
    missing refused with what to give), none for another service."""
    if not serves_citizens:
        return {}
    texts = {
        "citizen_impact": (citizen_impact or "").strip(),
        "records_and_cases": (records_and_cases or "").strip(),
        "contact": (contact or "").strip(),
    }
    errors: dict[str, str] = {}
    for name, missing in (
        ("citizen_impact", NEEDS_CITIZEN_IMPACT),
        ("records_and_cases", NEEDS_RECORDS_AND_CASES),
        ("contact", NEEDS_CONTACT),
    ):
        if not texts[name]:
            errors[name] = missing
        elif len(texts[name]) > PLAN_MAX_LENGTH:
            errors[name] = PLAN_TOO_LONG
    if transition_on is None:
        errors["transition_on"] = NEEDS_TRANSITION_ON
    elif not today <= transition_on <= leave_on:
        errors["transition_on"] = TRANSITION_OUT_OF_RANGE.format(leave=_format(leave_on))
    if errors:
        raise ValidationError(errors)
    return {**texts, "transition_on": transition_on}


def _tell_the_board(request: ExitRequest) -> None:
    """A department leaves a service for citizens by right (to a PSOA cluster): no vote,
    but every deputy minister on the board is told, with the plan."""
    seats = Department.objects.filter(active=True, is_main=True, deputy_minister__isnull=False)
    recipients = User.objects.filter(
        is_active=True, pk__in=seats.values("deputy_minister_id")
    ).order_by("pk")
    notify_readers(
        request,
        recipients,
        kind=NotificationKind.CITIZEN_EXIT,
        subject=(
            f"For the board: {request.department.code} moves its citizens' "
            f"{request.from_cluster.service.name} to {request.to_cluster.code}"  # type: ignore[union-attr]
        ),
        body=describe,
    )


def _schedule(request: ExitRequest, *, actor: Any) -> None:
    """End the membership on the leave date and, for a move, start the new one that day."""
    membership_update(actor=actor, membership=request.membership, leaves_on=request.leave_on)
    if request.destination == Destination.CLUSTER:
        request.new_membership = membership_create(
            actor=actor,
            department=request.department,
            cluster=request.to_cluster,  # type: ignore[arg-type]
            joined_on=request.leave_on,
            usage_units=request.membership.usage_units,
            baseline_annual_cost=request.membership.baseline_annual_cost,
        )
    request.status = ExitStatus.SCHEDULED
    validated_save(request, actor=actor)


def exit_request_approve(
    *, actor: Any, exit_request: ExitRequest, decided_on: datetime.date
) -> ExitRequest:
    """The board approved: schedule the exit on its date, or the day after the decision
    if that date has passed."""
    with transaction.atomic(), audit_context(actor=actor):
        request = ExitRequest.objects.select_for_update().get(pk=exit_request.pk)
        if request.status != ExitStatus.PENDING_BOARD:
            raise Conflict(
                f"This request is {request.get_status_display().lower()}, not waiting for the board."
            )
        if request.leave_on <= decided_on:
            request.leave_on = decided_on + datetime.timedelta(days=1)
        _schedule(request, actor=actor)
        _tell_cluster(
            request,
            kind=NotificationKind.EXIT_APPROVED,
            subject=f"The board approved {request.department.code}'s exit from {request.from_cluster.code}",
            today=decided_on,
        )
    return request


def exit_request_close(*, actor: Any, exit_request: ExitRequest, status: str) -> ExitRequest:
    """The board rejected the request, or its case lapsed: the department stays."""
    if status not in (ExitStatus.REJECTED, ExitStatus.LAPSED):
        raise ValueError(status)
    with transaction.atomic(), audit_context(actor=actor):
        request = ExitRequest.objects.select_for_update().get(pk=exit_request.pk)
        if request.status != ExitStatus.PENDING_BOARD:
            raise Conflict(
                f"This request is {request.get_status_display().lower()}, not waiting for the board."
            )
        request.status = status
        validated_save(request, actor=actor)
    return request


def exit_request_withdraw(
    *, actor: Any, exit_request: ExitRequest, today: datetime.date | None = None
) -> ExitRequest:
    """The department changes its mind before the leave date: undo everything."""
    require_permission(
        actor, "defection.withdraw_exitrequest", exit_request.department, MAY_NOT_WITHDRAW
    )
    today = today or timezone.localdate()
    with transaction.atomic(), audit_context(actor=actor):
        request = ExitRequest.objects.select_for_update().get(pk=exit_request.pk)
        if request.status not in OPEN_STATUSES:
            raise Conflict(CANNOT_WITHDRAW.format(status=request.get_status_display().lower()))
        if request.leave_on <= today:
            raise Conflict(TOO_LATE_TO_WITHDRAW.format(date=_format(request.leave_on)))
        if request.status == ExitStatus.SCHEDULED:
            new = request.new_membership
            request.new_membership = None
            request.status = ExitStatus.WITHDRAWN
            validated_save(request, actor=actor)
            if new is not None:
                membership_delete(actor=actor, membership=new)
            membership_update(actor=actor, membership=request.membership, leaves_on=None)
        else:
            request.status = ExitStatus.WITHDRAWN
            validated_save(request, actor=actor)
            board().withdraw_case(exit_request=request, actor=actor)
        _tell_cluster(
            request,
            kind=NotificationKind.EXIT_WITHDRAWN,
            subject=f"{request.department.code} withdraws its notice to leave {request.from_cluster.code}",
            today=today,
        )
    return request


def exit_requests_complete(*, actor: Any = None, today: datetime.date | None = None) -> int:
    """Daily: scheduled requests whose leave date has come are completed."""
    today = today or timezone.localdate()
    with transaction.atomic(), audit_context(actor=actor):
        return ExitRequest.objects.filter(status=ExitStatus.SCHEDULED, leave_on__lte=today).update(
            status=ExitStatus.COMPLETED, updated_at=timezone.now()
        )


def _tell_cluster(
    request: ExitRequest, *, kind: str, subject: str, today: datetime.date | None = None
) -> None:
    """The cluster's members on `today` (but the leaver) and the provider's managers are
    notified (the emails go after commit)."""
    fellows = (
        Membership.objects.active_on(today or timezone.localdate())
        .filter(cluster=request.from_cluster)
        .exclude(department=request.department)
    )
    recipients = User.objects.filter(is_active=True).filter(
        department_id__in=fellows.values("department_id")
    ) | User.objects.filter(is_active=True, provider_id=request.from_cluster.provider_id)
    notify_readers(request, recipients, kind=kind, subject=subject, body=describe)


def notify_readers(
    request: ExitRequest,
    recipients: Iterable[User],
    *,
    subject: str,
    body: Any,
    footer: str = "",
    kind: str = NotificationKind.EXIT_NOTICE,
    link: str | None = None,
) -> None:
    """Notify each recipient (a row each, and its email) of what they may read of the
    request: `body(request, whole=...)` whole for those with
    `defection.view_exitrequest_whole`, in part for the others (the destination provider).
    The gate is asked per recipient, so a notification never shows more than the page.
    `link` is the page it is about (the request's page unless given)."""
    plain = ExitRequest.objects.get(pk=request.pk)  # no reader's annotation on it
    link = link or reverse("defection:exit-request", args=[request.pk])
    whole: list[User] = []
    part: list[User] = []
    for user in recipients:
        if user.has_perm("defection.view_exitrequest_whole", plain):
            whole.append(user)
        else:
            part.append(user)
    if whole:
        notify(
            recipients=whole,
            kind=kind,
            subject=subject,
            body=body(request, whole=True) + footer,
            link=link,
        )
    if part:
        notify(
            recipients=part,
            kind=kind,
            subject=subject,
            body=body(request, whole=False) + footer,
            link=link,
        )


def describe(request: ExitRequest, *, whole: bool = True) -> str:
    """The request in words: in part (who, from which cluster, where to, when, with what
    usage, the status) and, for those who see it whole, the reason, justification and the
    cost to those who stay."""
    lines = [
        f"{request.department.name} ({request.department.code}) — exit request for {request.from_cluster.name}.",
        f"Status: {request.get_status_display()}. Leave date: {_format(request.leave_on)}.",
        f"Destination: {request.get_destination_display()}"
        + (f" ({request.to_cluster.code})" if request.to_cluster else "")
        + (f" ({request.to_provider.code})" if request.to_provider else "")
        + ".",
        f"Usage: {request.membership.usage_units} "
        f"({request.from_cluster.service.charging_unit}s served).",
    ]
    if request.has_citizen_plan:
        # Citizens' continuity is for everyone who reads the request, the destination too:
        # it will answer those citizens.
        lines += [
            "Citizen-continuity plan:",
            f"  What citizens will notice: {request.citizen_impact}",
            f"  Transition date: {_format(request.transition_on)}",  # type: ignore[arg-type]
            f"  Records and open cases: {request.records_and_cases}",
            f"  Who answers citizens' questions: {request.contact}",
        ]
    if not whole:
        lines.append(SEEN_IN_PART)
        return "\n".join(lines)
    impact = request.impact or {}
    lines.append(f"Reason: {request.get_reason_display()}.")
    lines.append(f"Justification: {request.justification}")
    if impact.get("period"):
        lines.append(
            f"Cost per unit, from the {impact['period']} pool: {impact['unit_cost_before']} before, "
            f"{impact['unit_cost_after'] or 'n/a'} after."
        )
        for member in impact.get("members", []):
            lines.append(
                f"  {member['department']}: {member['before']} before, {member['after'] or 'n/a'} after"
            )
    else:
        lines.append("There is no cost pool yet, so the cost to those who stay is not known.")
    return "\n".join(lines)
