"""Pages of the board: the cases, a case with its vote form, the decision record, and the
alternates who stand in for the seats.

Every read goes through `Case.objects.visible_to` and `Vote.objects.visible_to`; the votes
and tally are shown by `governance.view_case_votes`, the same rule the API asks. What a
case is about is its subject's to show (`Subject.summary_template` and `page_context`:
an exit request's justification, impact and evidence by `defection.view_exitrequest_whole`). Every vote
goes through `governance.services.vote_cast`, the same function the API calls.
Each page runs a constant number of queries whatever the number of cases, seats or votes.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Exists, OuterRef, Prefetch, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.text import capfirst
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from budgets.forms import attach_service_error
from clusters.models import Alternate, AlternateStatus, Department
from clusters.rules import stand_in_candidates
from clusters.services import NOT_THE_SEATS_DEPUTY_MINISTER, alternate_end, alternate_name
from governance.forms import AlternateForm, VoteForm
from governance.models import Case, CaseStatus, Choice, RecusalReason, Seat, Vote
from governance.rules import seat_department_ids
from governance.selectors import case_tally
from governance.services import CASE_CLOSED, NO_SEAT, RECUSED, vote_cast
from governance.subjects import subject_of, subject_related
from sharedsvc.errors import Conflict, Forbidden

# Messages people see, reused by the tests.
VOTE_CAST = "Your vote is recorded: {choice}."
VOTE_CHANGED = "Your vote is changed to {choice}."
CASE_DECIDED = "With your vote the case is decided: {status}."
VOTES_HIDDEN = (
    "The other seats' votes are shown once your department's seat has voted, "
    "or when the case is decided."
)
NO_RECORD_YET = (
    "There is no decision record yet: case {pk} is open and voting closes on {closes}. "
    "The record is written when the case is decided."
)
VOTING_ENDED = "closed"  # an open case past its closing time, waiting for the closing job


def time_left(closes_at: datetime.datetime, now: datetime.datetime) -> str:
    """'3 days 4 hours left', '5 hours 10 minutes left', '1 minute left'; 'Voting has
    closed' once the time has come (the case is decided by the next closing job)."""
    seconds = int((closes_at - now).total_seconds())
    if seconds <= 0:
        return "Voting has closed"
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = max(rest // 60, 1 if not (days or hours) else 0)

    def unit(n: int, word: str) -> str:
        return f"{n} {word}{'' if n == 1 else 's'}"

    if days:
        parts = [unit(days, "day")] + ([unit(hours, "hour")] if hours else [])
    elif hours:
        parts = [unit(hours, "hour")] + ([unit(minutes, "minute")] if minutes else [])
    else:
        parts = [unit(minutes, "minute")]
    return " ".join(parts) + " left"


def _when(moment: datetime.datetime) -> str:
    local = timezone.localtime(moment)
    return f"{local.day} {local:%B %Y at %H:%M}"


def _subject_related(queryset: QuerySet) -> QuerySet:
    """The cases with what their subjects' titles and summaries read (`governance.subjects`)."""
    return queryset.select_related(*subject_related())


# The cases -------------------------------------------------------------------------------


@dataclass
class CaseRow:
    case: Case
    time_left: str
    title: str


@login_required
@require_GET
def case_list(request: HttpRequest) -> HttpResponse:
    """The cases waiting for my vote first (the soonest to close on top), then the other
    open cases, then the decided ones (the latest first). One query for the cases."""
    user: Any = request.user
    now = timezone.now()
    seat_ids = seat_department_ids(user)
    cases = _subject_related(Case.objects.visible_to(user))
    if seat_ids:
        cases = cases.annotate(
            my_seat_eligible=Exists(
                Seat.objects.filter(case=OuterRef("pk"), department_id__in=seat_ids).filter(
                    recused=False
                )
            ),
            my_vote_cast=Exists(
                Vote.objects.filter(case=OuterRef("pk"), department_id__in=seat_ids)
            ),
        )
    waiting: list[CaseRow] = []
    other_open: list[CaseRow] = []
    decided: list[CaseRow] = []
    for case in cases:
        title = capfirst(subject_of(case).title(case))
        if not case.is_open:
            decided.append(CaseRow(case=case, time_left="", title=title))
            continue
        row = CaseRow(case=case, time_left=time_left(case.closes_at, now), title=title)
        votable = case.closes_at > now
        if votable and getattr(case, "my_seat_eligible", False) and not case.my_vote_cast:
            waiting.append(row)
        else:
            other_open.append(row)
    waiting.sort(key=lambda r: (r.case.closes_at, r.case.pk))
    other_open.sort(key=lambda r: (r.case.closes_at, r.case.pk))
    decided.sort(key=lambda r: (r.case.decided_at, r.case.pk), reverse=True)
    return render(
        request,
        "governance/case_list.html",
        {
            "waiting": waiting,
            "other_open": other_open,
            "decided": decided,
            "holds_a_seat": bool(seat_ids),
        },
    )


# A case ----------------------------------------------------------------------------------


def _case_get(user: Any, pk: int) -> Case:
    """The case with what its subject shows (and whether the user sees its votes and, for
    an exit case, reads the request whole), its seats (with their deputy ministers) and the
    votes the user may see: three queries."""
    queryset = _subject_related(
        Case.objects.visible_to(user)
        .with_votes_shown(user)
        .with_request_seen_whole(user)
        .with_seat_of(user)
    ).prefetch_related(
        Prefetch(
            "seats",
            queryset=Seat.objects.select_related("department__deputy_minister"),
        ),
        Prefetch(
            "votes",
            queryset=Vote.objects.visible_to(user).select_related("department", "voter", "cast_by"),
        ),
    )
    case = queryset.filter(pk=pk).first()
    if case is None:
        raise Http404("No such case.")
    return case


def _subject_context(user: Any, case: Case, *, record: bool = False) -> dict[str, Any]:
    """What the page shows of the case's subject (`Subject.page_context`), its summary
    template, and the case named in a few words."""
    subject = subject_of(case)
    return {
        **subject.page_context(case, user, record=record),
        "summary_template": subject.summary_template,
        "case_title": capfirst(subject.title(case)),
    }


@dataclass
class Position:
    """Where the signed-in user stands on a case: their seat, vote, and why they may not
    vote (None when they may)."""

    seat: Seat | None
    vote: Vote | None
    refusal: str | None
    refusal_status: int  # 403 for no seat or recused, 409 once voting has closed

    @property
    def may_vote(self) -> bool:
        return self.refusal is None

    @property
    def as_alternate(self) -> bool:
        """The user holds the seat as its alternate, not as its deputy minister."""
        return self.seat is not None and self.seat.department.deputy_minister_id != self.user_pk

    user_pk: int | None = None


def recusal_labels(seat: Seat) -> list[str]:
    return [RecusalReason(reason).label for reason in seat.recusal_reasons]


def _position(user: Any, case: Case, now: datetime.datetime) -> Position:
    """The same rules as `vote_cast`, read from the prefetched seats and votes, so the page
    can say why before anyone tries; `vote_cast` still has the last word."""
    # `user_seat_department_id` is annotated by `CaseQuerySet.with_seat_of` (`_case_get`).
    seat = next(
        (s for s in case.seats.all() if s.department_id == case.user_seat_department_id),  # type: ignore[attr-defined]
        None,
    )
    vote = None
    if seat is not None:
        vote = next((v for v in case.votes.all() if v.department_id == seat.department_id), None)
    if not case.is_open or now >= case.closes_at:
        status = VOTING_ENDED if case.is_open else case.get_status_display().lower()
        return Position(seat, vote, CASE_CLOSED.format(status=status), 409, user.pk)
    if seat is None:
        return Position(None, None, NO_SEAT, 403, user.pk)
    if seat.recused:
        reasons = ", ".join(label.lower() for label in recusal_labels(seat))
        return Position(seat, vote, RECUSED.format(reasons=reasons), 403, user.pk)
    return Position(seat, vote, None, 200, user.pk)


def _case_url(case: Case) -> str:
    return reverse("governance:case", args=[case.pk])


@login_required
@require_http_methods(["GET", "POST"])
def case_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The request, its impact and evidence, the board's seats, the vote form for the
    user's seat, and the votes once the user's seat has voted or the case is decided."""
    user: Any = request.user
    case = _case_get(user, pk)
    now = timezone.now()
    position = _position(user, case, now)
    status = 200
    form = None
    if request.method == "POST":
        if not position.may_vote:
            # A form the page did not offer: refused with the reason, nothing saved.
            return _case_page(request, case, position, None, now, status=position.refusal_status)
        form = VoteForm(request.POST)
        if form.is_valid():
            try:
                vote, created = vote_cast(
                    actor=user,
                    case=case,
                    choice=form.cleaned_data["choice"],
                    reason=form.cleaned_data["reason"],
                )
            except ValidationError as error:
                form.attach(error)
            except Forbidden as refusal:
                position.refusal, position.refusal_status = refusal.message, 403
                return _case_page(request, case, position, None, now, status=403)
            except Conflict as conflict:
                position.refusal, position.refusal_status = conflict.message, 409
                return _case_page(request, case, position, None, now, status=409)
            else:
                label = Choice(vote.choice).label.lower()
                text = (VOTE_CAST if created else VOTE_CHANGED).format(choice=label)
                decided = Case.objects.values_list("status", flat=True).get(pk=case.pk)
                if decided != CaseStatus.OPEN:
                    text += " " + CASE_DECIDED.format(status=CaseStatus(decided).label.lower())
                messages.success(request, text)
                return redirect(_case_url(case))
        status = 400
    elif position.may_vote:
        initial = (
            {"choice": position.vote.choice, "reason": position.vote.reason}
            if position.vote
            else {}
        )
        form = VoteForm(initial=initial)
    return _case_page(request, case, position, form, now, status=status)


def _case_page(
    request: HttpRequest,
    case: Case,
    position: Position,
    form: VoteForm | None,
    now: datetime.datetime,
    *,
    status: int,
) -> HttpResponse:
    user: Any = request.user
    seats = list(case.seats.all())
    votes = list(case.votes.all())
    # The votes are shown together or not at all (the same rule as the API's tally).
    votes_shown = user.has_perm("governance.view_case_votes", case)
    tally = case_tally(case)
    return render(
        request,
        "governance/case_detail.html",
        {
            "case": case,
            **_subject_context(user, case),
            "eligible": [s for s in seats if not s.recused],
            "recused": [(s, recusal_labels(s)) for s in seats if s.recused],
            "quorum": tally.quorum,
            "time_left": time_left(case.closes_at, now) if case.is_open else None,
            "position": position,
            "form": form,
            "votes_shown": votes_shown,
            "votes": votes if votes_shown else [],
            "tally": tally if votes_shown else None,
            "votes_hidden_message": VOTES_HIDDEN,
        },
        status=status,
    )


# The decision record -----------------------------------------------------------------------


@login_required
@require_GET
def case_decision(request: HttpRequest, pk: int) -> HttpResponse:
    """The record of a decided case, made to be printed: the request, each seat's vote and
    reason, the outcome, the rule that decided it, and the dates. An open case has none
    yet (404, saying so)."""
    user: Any = request.user
    case = _case_get(user, pk)
    if case.is_open:
        return render(
            request,
            "governance/case_decision_pending.html",
            {
                "case": case,
                "message": NO_RECORD_YET.format(pk=case.pk, closes=_when(case.closes_at)),
            },
            status=404,
        )
    seats = list(case.seats.all())
    votes = list(case.votes.all())
    voted = {v.department_id for v in votes}
    return render(
        request,
        "governance/case_decision.html",
        {
            "case": case,
            **_subject_context(user, case, record=True),
            "votes": votes,
            "tally": case_tally(case),
            "eligible": [s for s in seats if not s.recused],
            "recused": [(s, recusal_labels(s)) for s in seats if s.recused],
            "not_voted": [s for s in seats if not s.recused and s.department_id not in voted],
        },
    )


# Alternates on the board -------------------------------------------------------------------

ALTERNATE_NAMED = "{person} may vote for the seat of {department} from {starts} to {ends}."
ALTERNATE_ENDED = "{person} no longer stands in for the seat of {department}."
MAY_NOT_NAME = "Only a seat's deputy minister, or an administrator, names its alternate."


@dataclass
class AlternateRow:
    naming: Alternate
    status: str
    may_end: bool


def _long(day: datetime.date) -> str:
    return f"{day.day} {day:%B %Y}"


def _alternate_form(user: Any, data: Any = None) -> AlternateForm:
    """The seats the user may name an alternate for (the gate says: their own seat, or
    every seat for an administrator) and the people who may stand in for them: active
    department people of those seats who are no seat's deputy minister. Two queries."""
    seats = [
        department
        for department in Department.objects.filter(is_main=True, active=True)
        if user.has_perm("clusters.add_alternate", department)
    ]
    people = stand_in_candidates([seat.pk for seat in seats])
    return AlternateForm(data, seats=seats, people=people)


@login_required
@require_http_methods(["GET", "POST"])
def alternate_list(request: HttpRequest) -> HttpResponse:
    """Alternates on the board: the namings the user may see (their seat's, their own, or
    all for readers), each with its status and, for whoever may end it, a button; and the
    form to name one for the seats the user may name for."""
    user: Any = request.user
    today = timezone.localdate()
    form = _alternate_form(user, request.POST if request.method == "POST" else None)
    status = 200
    if request.method == "POST":
        if not form.seats:
            raise PermissionDenied(MAY_NOT_NAME)
        if form.is_valid():
            data = form.cleaned_data
            try:
                naming = alternate_name(
                    actor=user,
                    department=data["department"],
                    user=data["user"],
                    starts_on=data["starts_on"],
                    ends_on=data["ends_on"],
                    today=today,
                )
            except ValidationError as refusal:
                attach_service_error(form, refusal, "user")
            else:
                messages.success(
                    request,
                    ALTERNATE_NAMED.format(
                        person=naming.user.get_full_name() or naming.user.get_username(),
                        department=naming.department.name,
                        starts=_long(naming.starts_on),
                        ends=_long(naming.ends_on),
                    ),
                )
                return redirect("governance:alternates")
        status = 400
    namings = Alternate.objects.visible_to(user).select_related("department", "user", "named_by")
    rows = [
        AlternateRow(
            naming=naming,
            status=AlternateStatus(naming.status_on(today)).label,
            may_end=naming.status_on(today) in (AlternateStatus.CURRENT, AlternateStatus.UPCOMING)
            and user.has_perm("clusters.end_alternate", naming),
        )
        for naming in namings
    ]
    return render(
        request,
        "governance/alternates.html",
        {
            "form": form if form.seats else None,
            "rows": rows,
            "standing_in": [
                row
                for row in rows
                if row.naming.user_id == user.pk
                and row.naming.status_on(today)
                in (AlternateStatus.CURRENT, AlternateStatus.UPCOMING)
            ],
        },
        status=status,
    )


@login_required
@require_POST
def alternate_end_view(request: HttpRequest, pk: int) -> HttpResponse:
    """End a naming early: the seat is back with its deputy minister alone from today."""
    user: Any = request.user
    naming = (
        Alternate.objects.visible_to(user)
        .select_related("department", "user")
        .filter(pk=pk)
        .first()
    )
    if naming is None:
        raise Http404("No such alternate.")
    if not user.has_perm("clusters.end_alternate", naming):
        raise PermissionDenied(NOT_THE_SEATS_DEPUTY_MINISTER)
    try:
        alternate_end(actor=user, alternate=naming, today=timezone.localdate())
    except Conflict as conflict:
        messages.error(request, conflict.message)
    else:
        messages.success(
            request,
            ALTERNATE_ENDED.format(
                person=naming.user.get_full_name() or naming.user.get_username(),
                department=naming.department.name,
            ),
        )
    return redirect("governance:alternates")
