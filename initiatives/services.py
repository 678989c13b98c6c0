"""Programmes: propose one (and put it to the board), answer for a target department,
and tell the sponsor and the department once when a commitment's date passes."""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from clusters.models import Department, Service
from governance.models import Case, CaseKind, CaseStatus
from governance.services import case_open_of
from initiatives.models import (
    Answer,
    Commitment,
    Programme,
    ProgrammeDecision,
    ProgrammeStatus,
    Progress,
)
from notifications.models import NotificationKind
from notifications.services import notify
from sharedsvc.audit import audit_context
from sharedsvc.errors import Conflict, Forbidden
from sharedsvc.models import User
from sharedsvc.services import validated_save

MAY_NOT_PROPOSE = "Only administrators and deputy ministers propose programmes."
SPONSOR_NOT_A_DEPUTY_MINISTER = "The sponsor must be a deputy minister."
NO_TARGETS = "Name at least one target department."
INACTIVE_TARGET = "{code} is not an active department."
TARGET_IN_THE_PAST = "The target date must be after today ({today:%-d %B %Y})."
CASE_ALREADY_OPEN = "Programme {code} already has an open board case (case {case})."
NOT_OPEN_TO_THE_BOARD = "Programme {code} is {status}: only a proposed programme goes to the board."
MAY_NOT_ANSWER = "Only the managers and deputy minister of {code} answer for it."
NOT_ANSWERABLE = "Programme {code} is {status}: its commitments can no longer be changed."
UNKNOWN_ANSWER = "Choose committed or declined."
JOIN_BY_NEEDED = "Give the date your department will have joined a cluster of {service}."
LATE_NEEDS_REASON = (
    "Your date is after the programme's target date ({target:%-d %B %Y}): give the reason."
)
DECLINE_NEEDS_REASON = "Give the reason your department declines, for the board to read."


def programme_propose(
    *,
    actor: Any,
    code: str,
    name: str,
    service: Service,
    sponsor: User,
    goal: str,
    target_on: datetime.date,
    departments: Iterable[Department],
    now: datetime.datetime | None = None,
) -> Programme:
    """Propose a programme, with a pending commitment for each target department, and put
    it to the board (a case of kind programme). It is active only once the board approves."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    if actor is None or not actor.has_perm("initiatives.add_programme"):
        raise Forbidden(MAY_NOT_PROPOSE)
    targets = sorted(set(departments), key=lambda d: d.code)
    errors: dict[str, str] = {}
    if not sponsor.has_perm("initiatives.sponsor_programme"):
        errors["sponsor"] = SPONSOR_NOT_A_DEPUTY_MINISTER
    if not targets:
        errors["departments"] = NO_TARGETS
    elif inactive := [d.code for d in targets if not d.active]:
        errors["departments"] = INACTIVE_TARGET.format(code=", ".join(inactive))
    if target_on <= today:
        errors["target_on"] = TARGET_IN_THE_PAST.format(today=today)
    if errors:
        raise ValidationError(errors)
    with transaction.atomic(), audit_context(actor=actor):
        programme = validated_save(
            Programme(
                code=code,
                name=name,
                service=service,
                sponsor=sponsor,
                goal=goal,
                target_on=target_on,
                proposed_by=actor,
                proposed_at=now,
            ),
            actor=actor,
        )
        Commitment.objects.bulk_create(
            [Commitment(programme=programme, department=d) for d in targets]
        )
        programme_to_board(actor=actor, programme=programme, now=now)
    return programme


def programme_to_board(
    *, actor: Any, programme: Programme, now: datetime.datetime | None = None
) -> Case:
    """Open the board case on a proposed programme; one open case at a time."""
    with transaction.atomic(), audit_context(actor=actor):
        programme = Programme.objects.select_for_update().get(pk=programme.pk)
        if programme.status != ProgrammeStatus.PROPOSED:
            raise Conflict(
                NOT_OPEN_TO_THE_BOARD.format(
                    code=programme.code, status=programme.get_status_display().lower()
                )
            )
        open_case = Case.objects.filter(
            programme_decision__programme=programme, status=CaseStatus.OPEN
        ).first()
        if open_case is not None:
            raise Conflict(CASE_ALREADY_OPEN.format(code=programme.code, case=open_case.pk))
        return case_open_of(
            actor=actor,
            case=Case(kind=CaseKind.PROGRAMME),
            now=now,
            link=lambda case: ProgrammeDecision.objects.create(case=case, programme=programme),
        )


def commitment_answer(
    *,
    actor: Any,
    commitment: Commitment,
    answer: str,
    join_by: datetime.date | None = None,
    reason: str = "",
    now: datetime.datetime | None = None,
) -> Commitment:
    """A target department answers: committed (with the date it will have joined, after
    the target only with a reason) or declined (with a reason)."""
    now = now or timezone.now()
    reason = (reason or "").strip()
    with transaction.atomic(), audit_context(actor=actor):
        commitment = (
            Commitment.objects.select_for_update()
            .select_related("programme__service", "department")
            .get(pk=commitment.pk)
        )
        programme = commitment.programme
        if actor is not None and not actor.has_perm("initiatives.answer_commitment", commitment):
            raise Forbidden(MAY_NOT_ANSWER.format(code=commitment.department.code))
        if programme.status not in (ProgrammeStatus.PROPOSED, ProgrammeStatus.ACTIVE):
            raise Conflict(
                NOT_ANSWERABLE.format(
                    code=programme.code, status=programme.get_status_display().lower()
                )
            )
        if answer == Answer.COMMITTED:
            if join_by is None:
                raise ValidationError(
                    {"join_by": JOIN_BY_NEEDED.format(service=programme.service.name)}
                )
            if join_by > programme.target_on and not reason:
                raise ValidationError(
                    {"reason": LATE_NEEDS_REASON.format(target=programme.target_on)}
                )
        elif answer == Answer.DECLINED:
            if not reason:
                raise ValidationError({"reason": DECLINE_NEEDS_REASON})
            join_by = None
        else:
            raise ValidationError({"answer": UNKNOWN_ANSWER})
        commitment.answer = answer
        commitment.join_by = join_by
        commitment.reason = reason
        commitment.answered_by = actor
        commitment.answered_at = now
        commitment.late_notified_on = None
        return validated_save(commitment, actor=actor)


def commitments_notify_late(*, as_of: datetime.date, actor: Any = None) -> int:
    """Tell the sponsor and the department's people, once, of each commitment of an
    active programme whose date has passed without the department joining. Idempotent."""
    sent = 0
    late = (
        Commitment.objects.with_joined()
        .filter(
            programme__status=ProgrammeStatus.ACTIVE,
            answer=Answer.COMMITTED,
            join_by__lt=as_of,
            late_notified_on__isnull=True,
        )
        .select_related("programme__sponsor", "programme__service", "department")
        .order_by("pk")
    )
    for commitment in late:
        if commitment.progress_on(as_of, joined=commitment.joined_on_time) != Progress.LATE:
            continue
        with transaction.atomic(), audit_context(actor=actor):
            locked = (
                Commitment.objects.select_for_update()
                .filter(pk=commitment.pk, late_notified_on__isnull=True)
                .first()
            )
            if locked is None:
                continue  # another job told them
            locked.late_notified_on = as_of
            locked.save(update_fields=["late_notified_on"])
            programme = commitment.programme
            people = User.objects.filter(is_active=True, department=commitment.department)
            notify(
                recipients=[programme.sponsor, *people],
                kind=NotificationKind.PROGRAMME_LATE,
                subject=(
                    f"Late: {commitment.department.code} has not joined {programme.service.name} "
                    f"(programme {programme.code})"
                ),
                body=(
                    f"{commitment.department.name} committed to join a cluster of "
                    f"{programme.service.name} by {commitment.join_by:%-d %B %Y} under programme "
                    f"{programme.code} ({programme.name}), and has not joined.\n"
                ),
                link=reverse("initiatives:programme", args=[programme.code]),
            )
            sent += 1
    return sent
