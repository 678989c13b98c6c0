"""Pages of the board: the cases, a case with its vote form, and the decision record.

Every read goes through `Case.objects.visible_to` and `Vote.objects.visible_to`; the votes
and tally are shown by `governance.view_case_votes` and the request's justification, impact
and evidence by `defection.view_exitrequest_whole`, the same rules the API asks. Every vote
goes through `governance.services.vote_cast`, the same function the API calls.
Each page runs a constant number of queries whatever the number of cases, seats or votes.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Exists, OuterRef, Prefetch, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from defection.models import Reason
from defection.services import SEEN_IN_PART
from governance.forms import VoteForm
from governance.models import Case, CaseStatus, Choice, RecusalReason, Seat, Vote
from governance.rules import seat_department_ids
from governance.selectors import case_tally
from governance.services import CASE_CLOSED, NO_SEAT, RECUSED, vote_cast
from servicelevels.selectors import persistent_breaches
from sharedsvc.errors import Conflict, Forbidden
from sharedsvc.periods import parse_period

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


def _request_related(queryset: QuerySet) -> QuerySet:
    return queryset.select_related(
        "exit_request__department",
        "exit_request__requested_by",
        "exit_request__from_cluster__service",
        "exit_request__from_cluster__provider",
        "exit_request__to_cluster__provider",
        "exit_request__to_provider",
    )


# The cases -------------------------------------------------------------------------------


@dataclass
class CaseRow:
    case: Case
    time_left: str


@login_required
@require_GET
def case_list(request: HttpRequest) -> HttpResponse:
    """The cases waiting for my vote first (the soonest to close on top), then the other
    open cases, then the decided ones (the latest first). One query for the cases."""
    user: Any = request.user
    now = timezone.now()
    seat_ids = seat_department_ids(user)
    cases = _request_related(Case.objects.visible_to(user))
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
    decided: list[Case] = []
    for case in cases:
        if not case.is_open:
            decided.append(case)
            continue
        row = CaseRow(case=case, time_left=time_left(case.closes_at, now))
        votable = case.closes_at > now
        if votable and getattr(case, "my_seat_eligible", False) and not case.my_vote_cast:
            waiting.append(row)
        else:
            other_open.append(row)
    waiting.sort(key=lambda r: (r.case.closes_at, r.case.pk))
    other_open.sort(key=lambda r: (r.case.closes_at, r.case.pk))
    decided.sort(key=lambda c: (c.decided_at, c.pk), reverse=True)
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
    """The case with its request (and whether the user sees its votes and reads the request
    whole), its seats (with their deputy ministers) and the votes the user may see: three
    queries."""
    queryset = _request_related(
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
    case.exit_request.seen_whole = case.request_seen_whole  # for the request's gate
    return case


@dataclass
class ImpactRow:
    department: str
    usage_units: int | None
    before: Decimal | None
    after: Decimal | None

    @property
    def change(self) -> Decimal | None:
        if self.before is None or self.after is None:
            return None
        return self.after - self.before


def _decimal(value: Any) -> Decimal | None:
    return None if value in (None, "") else Decimal(str(value))


def _percent(ratio: Any) -> str | None:
    number = _decimal(ratio)
    return None if number is None else f"{number * 100:.0f}%"


def _unit_cost(value: Any) -> str | None:
    """A cost per unit to four places, without trailing zeros past the cents."""
    number = _decimal(value)
    if number is None:
        return None
    text = f"{number:,.4f}".rstrip("0")
    whole, _, fraction = text.partition(".")
    return f"{whole}.{fraction.ljust(2, '0')}"


def exit_impact_view(impact: dict[str, Any] | None) -> dict[str, Any]:
    """The impact kept with the request, as the page shows it."""
    impact = impact or {}
    rows = [
        ImpactRow(
            department=member["department"],
            usage_units=member.get("usage_units"),
            before=_decimal(member.get("before")),
            after=_decimal(member.get("after")),
        )
        for member in impact.get("members", [])
    ]
    return {
        "known": bool(impact.get("period")),
        "period": parse_period(impact["period"]) if impact.get("period") else None,
        "pool": _decimal(impact.get("pool")),
        "pool_after": _decimal(impact.get("pool_after")),
        "fixed_share": _percent(impact.get("fixed_cost_ratio")),
        "unit_cost_before": _unit_cost(impact.get("unit_cost_before")),
        "unit_cost_after": _unit_cost(impact.get("unit_cost_after")),
        "rows": rows,
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
            **_exit_context(user, case, with_evidence=True),
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


def _exit_context(user: Any, case: Case, *, with_evidence: bool = False) -> dict[str, Any]:
    """What a case's pages show of an exit case's request: whole or in part, as
    `defection.view_exitrequest_whole` says, with its impact and, on the case page, the
    breaches behind a departure for service quality. Nothing for other kinds of case."""
    exit_request = case.exit_request
    if exit_request is None:
        return {}
    seen_whole = user.has_perm("defection.view_exitrequest_whole", exit_request)
    shows_evidence = with_evidence and seen_whole and exit_request.reason == Reason.SERVICE_QUALITY
    return {
        "exit_request": exit_request,
        "exit_request_url": f"/exit-requests/{exit_request.pk}/",
        "seen_whole": seen_whole,
        "seen_in_part_message": SEEN_IN_PART,
        "impact": exit_impact_view(exit_request.impact if seen_whole else None),
        "shows_evidence": shows_evidence,
        "breaches": (
            persistent_breaches(
                cluster_id=exit_request.from_cluster_id, department_id=exit_request.department_id
            )
            if shows_evidence
            else []
        ),
    }


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
            **_exit_context(user, case),
            "votes": votes,
            "tally": case_tally(case),
            "eligible": [s for s in seats if not s.recused],
            "recused": [(s, recusal_labels(s)) for s in seats if s.recused],
            "not_voted": [s for s in seats if not s.recused and s.department_id not in voted],
        },
    )
