"""Pages of programmes: the list, a programme with each target department's answer and
progress (the late flagged, a chart of joined against committed, the benefit to date of
those that joined), proposing one, and a target department's answer.

Every read goes through `Programme.objects.visible_to`; proposing asks
`initiatives.add_programme` and answering `initiatives.answer_commitment`, and both go
through the services the API calls (`programme_propose`, `commitment_answer`), whose
messages land on the form. Each page runs a constant number of queries whatever the
number of programmes, departments or months.
"""

from __future__ import annotations

from collections import Counter
from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from defection.forms import long_date
from governance.models import CaseStatus
from initiatives import selectors
from initiatives.forms import PROPOSE_FIELDS, AnswerForm, ProgrammeForm, attach
from initiatives.models import Answer, Commitment, Programme, ProgrammeStatus, Progress
from initiatives.services import MAY_NOT_PROPOSE, programme_propose
from initiatives.services import commitment_answer as commitment_answer_service
from servicelevels.views import month_chart
from sharedsvc.errors import Conflict, Forbidden
from sharedsvc.models import User

# Messages people see, reused by the tests.
MAY_NOT_ANSWER = "You cannot answer for {department}."
PROPOSED = "Programme {code} is proposed and goes to the board: case {case}."
ANSWERED_COMMITTED = "{department}'s answer is recorded: it commits to join by {date}."
ANSWERED_DECLINED = "{department}'s answer is recorded: it declines."
LATE_WARNING = (
    "Late: {departments} committed to join by a date that has passed and have not joined."
)
LATE_WARNING_ONE = (
    "Late: {departments} committed to join by a date that has passed and has not joined."
)
NOT_ANSWERABLE = "Programme {code} is {status}: its answers can no longer be changed."

ANSWERABLE = (ProgrammeStatus.PROPOSED, ProgrammeStatus.ACTIVE)


@login_required
@require_GET
def programme_list(request: HttpRequest) -> HttpResponse:
    user: Any = request.user
    programmes = (
        Programme.objects.visible_to(user)
        .select_related("service", "sponsor")
        .annotate(targets=Count("commitments"))
    )
    return render(
        request,
        "initiatives/programme_list.html",
        {"programmes": programmes, "may_propose": user.has_perm("initiatives.add_programme")},
    )


def _figure(count: int | None) -> Decimal | None:
    return None if count is None else Decimal(count)


def _count_label(value: float) -> str:
    return f"{value:g}"


def _count_summary(rows: list[selectors.MonthProgress], targets: int) -> str:
    shown = [row for row in rows if row.committed is not None]
    if not shown:
        return "No month of the programme has ended yet."
    last = shown[-1]
    return (
        f"By {last.month:%B %Y}, {last.committed} of {targets} target "
        f"department{'' if targets == 1 else 's'} had committed and {last.joined} had joined."
    )


@login_required
@require_GET
def programme_detail(request: HttpRequest, code: str) -> HttpResponse:
    """The programme, each target department's answer and progress today, the late ones
    flagged, joined against committed month by month, and the benefit to date of those
    that joined, as far as the reader may see each department's figures."""
    user: Any = request.user
    today = timezone.localdate()
    programme = selectors.programme_for_page(user, code)
    if programme is None:
        raise Http404(f"There is no programme {code}.")
    commitments = list(programme.commitments.all())
    rows = selectors.progress_of(commitments, today)
    counts = Counter(progress for _, progress in rows)
    decisions = [d.case for d in programme.decisions.all()]
    answerable = programme.status in ANSWERABLE
    answers = [
        (
            commitment,
            progress,
            answerable and user.has_perm("initiatives.answer_commitment", commitment),
        )
        for commitment, progress in rows
    ]
    late = [c.department for c, progress in rows if progress == Progress.LATE]
    months = selectors.progress_by_month(programme, commitments, today=today)
    targets = len(commitments)
    summary = _count_summary(months, targets)
    # Two series on the same axes: committed as bars, joined as a line, both drawn by
    # `servicelevels.views.month_chart` on one scale (every target department).
    committed_chart = month_chart(
        slug="progress-chart",
        title=f"Departments committed and joined, {programme.name}, by month",
        summary=summary,
        kind="bars",
        months=[row.month for row in months],
        values=[_figure(row.committed) for row in months],
        top_value=float(max(targets, 1)),
        label=_count_label,
    )
    joined_chart = month_chart(
        slug="progress-chart-joined",
        title=committed_chart.title,
        summary=summary,
        kind="line",
        months=committed_chart.months,
        values=[_figure(row.joined) for row in months],
        top_value=committed_chart.top_value,
        label=_count_label,
    )
    # Departments are counted whole: no gridline at half a department.
    committed_chart.ticks = [t for t in committed_chart.ticks if "." not in t["label"]]
    benefits = selectors.programme_benefit(user, programme, today=today)
    late_names = ", ".join(d.name for d in late)
    return render(
        request,
        "initiatives/programme_detail.html",
        {
            "programme": programme,
            "rows": answers,
            "any_answerable": any(may for _, _, may in answers),
            "answerable": [c for c, _, may in answers if may],
            "counts": [(p.label, counts.get(p.value, 0)) for p in Progress],
            "late": late,
            "late_warning": (LATE_WARNING_ONE if len(late) == 1 else LATE_WARNING).format(
                departments=late_names
            )
            if late
            else "",
            "months": months,
            "chart": committed_chart,
            "joined_chart": joined_chart,
            "benefits": benefits,
            "open_case": next((c for c in decisions if c.status == CaseStatus.OPEN), None),
            "cases": decisions,
            "today": today,
        },
    )


# Proposing a programme ------------------------------------------------------------------


def _sponsors() -> list[User]:
    """Whom the rules let sponsor a programme (`initiatives.sponsor_programme`), among the
    departments' people: one query."""
    candidates = User.objects.filter(is_active=True, department__isnull=False)
    return [u for u in candidates if u.has_perm("initiatives.sponsor_programme")]


@login_required
@require_http_methods(["GET", "POST"])
def programme_new(request: HttpRequest) -> HttpResponse:
    """Propose a programme; it goes to the board at once (a case of kind programme)."""
    user: Any = request.user
    if not user.has_perm("initiatives.add_programme"):
        raise PermissionDenied(MAY_NOT_PROPOSE)
    sponsors = _sponsors()
    status = 200
    if request.method == "POST":
        form = ProgrammeForm(request.POST, sponsors=sponsors)
        if form.is_valid():
            data = form.cleaned_data
            try:
                programme = programme_propose(
                    actor=user,
                    code=data["code"],
                    name=data["name"],
                    service=data["service"],
                    sponsor=data["sponsor"],
                    goal=data["goal"],
                    target_on=data["target_on"],
                    departments=list(data["departments"]),
                )
            except ValidationError as error:
                attach(form, error, PROPOSE_FIELDS)
            except Forbidden as refusal:
                form.add_error(None, refusal.message)
                status = 403
            except Conflict as conflict:
                form.add_error(None, conflict.message)
                status = 409
            else:
                case = programme.decisions.get().case
                messages.success(request, PROPOSED.format(code=programme.code, case=case.pk))
                return redirect(reverse("initiatives:programme", args=[programme.code]))
        status = status if status != 200 else 400
    else:
        initial = {"sponsor": user.pk} if any(s.pk == user.pk for s in sponsors) else {}
        form = ProgrammeForm(sponsors=sponsors, initial=initial)
    return render(request, "initiatives/programme_form.html", {"form": form}, status=status)


# A target department's answer -------------------------------------------------------------


def _commitment(user: Any, code: str, department: str) -> Commitment:
    commitment = (
        Commitment.objects.visible_to(user)
        .select_related("programme__service", "department")
        .filter(programme__code=code, department__code=department)
        .first()
    )
    if commitment is None:
        raise Http404(f"Programme {code} does not name {department}.")
    return commitment


@login_required
@require_http_methods(["GET", "POST"])
def commitment_answer(request: HttpRequest, code: str, department: str) -> HttpResponse:
    """Answer for a target department: it commits (with its date) or declines (with why)."""
    user: Any = request.user
    commitment = _commitment(user, code, department)
    if not user.has_perm("initiatives.answer_commitment", commitment):
        raise PermissionDenied(MAY_NOT_ANSWER.format(department=commitment.department.name))
    programme = commitment.programme
    refusal = None
    if programme.status not in ANSWERABLE:
        refusal = NOT_ANSWERABLE.format(
            code=programme.code, status=programme.get_status_display().lower()
        )
    status = 200
    form = AnswerForm(request.POST if request.method == "POST" else None, commitment=commitment)
    if request.method == "POST":
        status = 400
        if refusal is not None:
            status = 409
        elif form.is_valid():
            try:
                saved = commitment_answer_service(
                    actor=user, commitment=commitment, **form.answer_args()
                )
            except ValidationError as error:
                form.attach(error)
            except Forbidden as forbidden:
                form.add_error(None, forbidden.message)
                status = 403
            except Conflict as conflict:
                form.add_error(None, conflict.message)
                status = 409
            else:
                name = commitment.department.name
                text = (
                    ANSWERED_COMMITTED.format(department=name, date=long_date(saved.join_by))
                    if saved.answer == Answer.COMMITTED and saved.join_by
                    else ANSWERED_DECLINED.format(department=name)
                )
                messages.success(request, text)
                return redirect(reverse("initiatives:programme", args=[programme.code]))
    elif refusal is not None:
        status = 409
    return render(
        request,
        "initiatives/commitment_form.html",
        {
            "form": form,
            "commitment": commitment,
            "programme": programme,
            "refusal": refusal,
        },
        status=status,
    )
