"""The deputy-minister board: open cases, cast votes, decide, remind."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from clusters.models import Alternate, Department
from clusters.rules import alternates_holding
from defection.models import ExitRequest
from governance.models import (
    REASON_MAX_LENGTH,
    Case,
    CaseKind,
    CaseStatus,
    Choice,
    RecusalReason,
    Seat,
    Vote,
)
from governance.rules import seat_department_ids
from governance.selectors import case_tally, describe_decision
from governance.subjects import subject_of
from notifications.models import NotificationKind
from sharedsvc.audit import audit_context
from sharedsvc.errors import Conflict, Forbidden
from sharedsvc.services import validated_save

CASE_CLOSED = "This case is {status}; votes closed at its decision."
NO_SEAT = "You do not hold a seat on this case: only the deputy ministers of the board's main departments vote."
RECUSED = "Your department's seat is recused on this case ({reasons}), so it does not vote."
REJECT_NEEDS_REASON = "Give a reason for rejecting the request."
REASON_TOO_LONG = f"Keep the reason to {REASON_MAX_LENGTH} characters or fewer."
UNKNOWN_CHOICE = "Choose approve, reject or abstain."
REMINDER_BEFORE = datetime.timedelta(hours=48)


def case_duration() -> datetime.timedelta:
    return datetime.timedelta(days=getattr(settings, "BOARD_CASE_DAYS", 14))


def case_open(
    *, actor: Any, exit_request: ExitRequest, now: datetime.datetime | None = None
) -> Case:
    """Open the board case of a `pending_board` request; the seats are fixed now."""
    return case_open_of(
        actor=actor,
        case=Case(kind=CaseKind.EXIT, exit_request=exit_request),
        now=now,
    )


def case_open_of(
    *,
    actor: Any,
    case: Case,
    now: datetime.datetime | None = None,
    link: Callable[[Case], Any] | None = None,
) -> Case:
    """Open `case` (unsaved, its kind set): the seats are fixed now, the parties' seats
    recused as its subject says, and the eligible seats told. `link(case)` ties a subject
    held by another app (a programme, a pilot) to the saved case first, in the same
    transaction, so the subject can name it."""
    now = now or timezone.now()
    subject = subject_of(case)
    with transaction.atomic(), audit_context(actor=actor):
        case.opened_at = now
        case.closes_at = now + case_duration()
        case = validated_save(case, actor=actor)
        if link is not None:
            link(case)
        parties = subject.parties(case)
        board = Department.objects.filter(active=True, is_main=True, deputy_minister__isnull=False)
        Seat.objects.bulk_create(
            [
                Seat(
                    case=case,
                    department=department,
                    recused=department.pk in parties,
                    recusal_reasons=parties.get(department.pk, []),
                )
                for department in board
            ]
        )
        seats = Seat.objects.filter(case=case, recused=False).select_related(
            "department__deputy_minister"
        )
        subject.notify(
            case,
            # Each seat was just given to a department with a deputy minister; its
            # alternate, while named, is told too.
            [dm for seat in seats if (dm := seat.department.deputy_minister) is not None]
            + [
                naming.user
                for naming in _alternates_of(
                    [seat.department_id for seat in seats], timezone.localdate(now)
                ).values()
            ],
            subject=f"Board case opened: {subject.title(case)}",
            kind=NotificationKind.CASE_OPENED,
            link=reverse("governance:case", args=[case.pk]),
            footer=f"\nVoting closes {timezone.localtime(case.closes_at):%d %B %Y %H:%M}.",
        )
    return case


def case_withdraw(*, actor: Any, exit_request: ExitRequest) -> Case | None:
    """The request was withdrawn: so is its open case."""
    with transaction.atomic(), audit_context(actor=actor):
        case = Case.objects.select_for_update().filter(exit_request=exit_request).first()
        if case is None or case.status != CaseStatus.OPEN:
            return case
        case.status = CaseStatus.WITHDRAWN
        case.decided_at = timezone.now()
        case.decision_rule = "Withdrawn: the department withdrew its request."
        return validated_save(case, actor=actor)


def vote_cast(*, actor: Any, case: Case, choice: str, reason: str = "") -> tuple[Vote, bool]:
    """Cast or change the vote of the actor's seat. Returns (vote, created)."""
    reason = (reason or "").strip()
    if choice not in Choice.values:
        raise ValidationError({"choice": UNKNOWN_CHOICE})
    if choice == Choice.REJECT and not reason:
        raise ValidationError({"reason": REJECT_NEEDS_REASON})
    if len(reason) > REASON_MAX_LENGTH:
        raise ValidationError({"reason": REASON_TOO_LONG})
    with transaction.atomic(), audit_context(actor=actor):
        # Votes on one case queue here, so a decision is reached, and acted on, once.
        case = Case.objects.select_for_update().get(pk=case.pk)
        # The clock is read once the lock is held, so the votes' times run in the order
        # they were counted: a vote that queued behind the deciding one is refused, and
        # none stored before the decision carries a later time than it.
        now = timezone.now()
        if case.status != CaseStatus.OPEN or now >= case.closes_at:
            raise Conflict(
                CASE_CLOSED.format(
                    status="closed" if case.is_open else case.get_status_display().lower()
                )
            )
        seat, alternate = _seat_of(actor, case, timezone.localdate(now))
        # The seat's one vote: whoever of its deputy minister and its alternate votes
        # later changes it (the case's lock above queues them).
        vote = Vote.objects.filter(case=case, seat=seat).first()
        created = vote is None
        if vote is None:
            vote = Vote(case=case, seat=seat, department_id=seat.department_id)
        vote.voter = seat.department.deputy_minister or actor
        vote.cast_by = actor
        vote.alternate = alternate
        vote.choice = choice
        vote.reason = reason
        vote.cast_at = now
        validated_save(vote, actor=actor)
        tally = case_tally(case)
        if tally.settled:
            _decide(case, tally=tally, actor=actor, now=now)
    return vote, created


def _seat_of(actor: Any, case: Case, today: datetime.date) -> tuple[Seat, Alternate | None]:
    """The actor's seat on the case, and the naming they hold it by (None for its deputy
    minister): they must hold a board seat today (`governance.add_vote`), as its deputy
    minister or its alternate, and that seat must be eligible on the case. A recused seat
    is recused for its alternate too: it is the seat that does not vote."""
    if actor is None or not actor.has_perm("governance.add_vote"):
        raise Forbidden(NO_SEAT)
    seat = (
        Seat.objects.filter(case=case, department_id__in=seat_department_ids(actor, today))
        .select_related("department__deputy_minister")
        .first()
    )
    if seat is None:
        raise Forbidden(NO_SEAT)
    if seat.recused:
        labels = ", ".join(RecusalReason(r).label.lower() for r in seat.recusal_reasons)
        raise Forbidden(RECUSED.format(reasons=labels))
    alternate = None
    if seat.department.deputy_minister_id != actor.pk:
        alternate = _alternates_of([seat.department_id], today).get(seat.department_id)
    return seat, alternate


def _alternates_of(department_ids: list[int], today: datetime.date) -> dict[int, Alternate]:
    """Department id -> the naming of who stands in for its seat on `today`, with the
    person (one query; at most one per seat, as the database keeps it)."""
    rows = alternates_holding(department_ids, today).select_related("user")
    return {row.department_id: row for row in rows}


def _decide(case: Case, *, tally, actor: Any, now: datetime.datetime) -> None:
    """Close the case by its tally, then let its subject act on the decision and tell
    the parties (`governance.subjects`)."""
    if not tally.has_quorum:
        status = CaseStatus.LAPSED
    else:
        status = CaseStatus.APPROVED if tally.approved else CaseStatus.REJECTED
    case.status = status
    case.decided_at = now
    case.decision_rule = describe_decision(status, tally)
    validated_save(case, actor=actor)
    subject = subject_of(case)
    subject.decided(case, actor=actor, now=now)
    subject.notify(
        case,
        subject.recipients_of_decision(case),
        subject=f"Board decision on case {case.pk}: {case.get_status_display().lower()}",
        kind=NotificationKind.CASE_DECIDED,
        link=reverse("governance:case", args=[case.pk]),
        footer=f"\n{case.decision_rule}",
    )


def case_close_due(*, actor: Any = None, as_of: datetime.datetime | None = None) -> list[Case]:
    """Decide every open case whose closing time has come: by its votes with quorum,
    otherwise it lapses. Idempotent."""
    as_of = as_of or timezone.now()
    decided = []
    for pk in Case.objects.filter(status=CaseStatus.OPEN, closes_at__lte=as_of).values_list(
        "pk", flat=True
    ):
        with transaction.atomic(), audit_context(actor=actor):
            case = Case.objects.select_for_update().get(pk=pk)
            if case.status != CaseStatus.OPEN:
                continue  # a vote closed it meanwhile
            _decide(case, tally=case_tally(case), actor=actor, now=as_of)
            decided.append(case)
    return decided


def case_send_reminders(*, actor: Any = None, as_of: datetime.datetime | None = None) -> int:
    """Remind each undecided eligible seat once, within 48 hours of closing: its deputy
    minister and, while named on that day, its alternate. Idempotent."""
    as_of = as_of or timezone.now()
    sent = 0
    seats = list(
        Seat.objects.filter(
            case__status=CaseStatus.OPEN,
            case__closes_at__gt=as_of,
            case__closes_at__lte=as_of + REMINDER_BEFORE,
            recused=False,
            reminded_at__isnull=True,
            vote__isnull=True,
        )
        .select_related(
            "case__exit_request__department",
            "case__exit_request__from_cluster",
            "department__deputy_minister",
        )
        .order_by("pk")
    )
    alternates = _alternates_of([seat.department_id for seat in seats], timezone.localdate(as_of))
    for seat in seats:
        with transaction.atomic(), audit_context(actor=actor):
            # Lock the seat so two reminder jobs cannot both send.
            locked = (
                Seat.objects.select_for_update()
                .filter(pk=seat.pk, reminded_at__isnull=True)
                .first()
            )
            if locked is None:
                continue
            locked.reminded_at = as_of
            locked.save(update_fields=["reminded_at"])
            recipients = [seat.department.deputy_minister]
            if (naming := alternates.get(seat.department_id)) is not None:
                recipients.append(naming.user)
            if people := [person for person in recipients if person is not None]:
                subject_of(seat.case).notify(
                    seat.case,
                    people,
                    subject=f"Reminder: your vote on case {seat.case_id} closes soon",
                    kind=NotificationKind.CASE_REMINDER,
                    link=reverse("governance:case", args=[seat.case_id]),
                    footer=f"\nVoting closes {timezone.localtime(seat.case.closes_at):%d %B %Y %H:%M}.",
                )
            sent += 1
    return sent


class GovernanceBoard:
    """The board as `defection.board` knows it: registered by `GovernanceConfig.ready`."""

    def open_case(self, *, exit_request: ExitRequest, actor: Any) -> None:
        case_open(actor=actor, exit_request=exit_request)

    def withdraw_case(self, *, exit_request: ExitRequest, actor: Any) -> None:
        case_withdraw(actor=actor, exit_request=exit_request)


BOARD = GovernanceBoard()
