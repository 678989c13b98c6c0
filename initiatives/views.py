"""Pages of programmes: the list, and a programme with each target department's answer
and progress. Every read goes through `Programme.objects.visible_to`; each page runs a
constant number of queries whatever the number of programmes or departments."""

from __future__ import annotations

from collections import Counter
from typing import Any

from django.contrib.auth.decorators import login_required
from django.db.models import Count, Prefetch
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from governance.models import CaseStatus
from initiatives.models import Commitment, Programme, ProgrammeDecision, Progress


@login_required
@require_GET
def programme_list(request: HttpRequest) -> HttpResponse:
    user: Any = request.user
    programmes = (
        Programme.objects.visible_to(user)
        .select_related("service", "sponsor")
        .annotate(targets=Count("commitments"))
    )
    return render(request, "initiatives/programme_list.html", {"programmes": programmes})


@login_required
@require_GET
def programme_detail(request: HttpRequest, code: str) -> HttpResponse:
    user: Any = request.user
    today = timezone.localdate()
    programme = (
        Programme.objects.visible_to(user)
        .select_related("service", "sponsor", "proposed_by")
        .prefetch_related(
            Prefetch(
                "commitments",
                queryset=Commitment.objects.with_joined().select_related("department"),
            ),
            Prefetch(
                "decisions",
                queryset=ProgrammeDecision.objects.select_related("case"),
            ),
        )
        .filter(code=code)
        .first()
    )
    if programme is None:
        raise Http404(f"There is no programme {code}.")
    rows = [(c, c.progress_on(today, joined=c.joined_on_time)) for c in programme.commitments.all()]
    counts = Counter(progress for _, progress in rows)
    decisions = [d.case for d in programme.decisions.all()]
    return render(
        request,
        "initiatives/programme_detail.html",
        {
            "programme": programme,
            "rows": rows,
            "counts": [(p.label, counts.get(p.value, 0)) for p in Progress],
            "open_case": next((c for c in decisions if c.status == CaseStatus.OPEN), None),
            "cases": decisions,
            "today": today,
        },
    )
