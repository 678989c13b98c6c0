"""Pages of the board: the cases, a case with its vote form, and the decision record.

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
from django.core.exceptions import ValidationError
from django.db.models import Exists, OuterRef, Prefetch, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.text import capfirst
from django.views.decorators.http import require_GET, require_http_methods

from governance.forms import VoteForm
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
            queryset=Vote.objects.visible_to(user).select_related("department", "voter"),
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
        return Position(seat, vote, CASE_CLOSED.format(status=status), 409)
    if seat is None:
        return Position(None, None, NO_SEAT, 403)
    if seat.recused:
        reasons = ", ".join(label.lower() for label in recusal_labels(seat))
        return Position(seat, vote, RECUSED.format(reasons=reasons), 403)
    return Position(seat, vote, None, 200)


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
