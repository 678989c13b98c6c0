"""Pages of pilots: the list, planning one, and a pilot with its criteria, its evidence so
far (for those who read it) and the evaluation that puts a decision to the board. Every
read goes through `PilotPlan.objects.visible_to` and the rules; each page runs a constant
number of queries."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Prefetch
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from budgets.forms import attach_service_error
from defection.forms import long_date
from initiatives.models import PilotCluster, PilotEvaluation, PilotPlan, PilotStatus
from initiatives.pilot_forms import EvaluateForm, PilotPlanForm
from initiatives.pilot_subject import decision_words
from initiatives.pilots import MAY_NOT_EVALUATE, MAY_NOT_PLAN, pilot_evaluate, pilot_plan_create
from initiatives.selectors import pilot_evidence_so_far
from sharedsvc.errors import Conflict, Forbidden

PLANNED = "The pilot of {service} is planned: it is evaluated from {ends}."
EVALUATED = "The evidence is compiled and the board has case {case}: {decision}."


def _plans(user: Any):
    return (
        PilotPlan.objects.visible_to(user)
        .select_related("service")
        .prefetch_related(
            Prefetch(
                "plan_clusters",
                queryset=PilotCluster.objects.select_related("cluster__provider"),
            )
        )
    )


@login_required
@require_GET
def pilot_list(request: HttpRequest) -> HttpResponse:
    user: Any = request.user
    return render(
        request,
        "initiatives/pilot_list.html",
        {"plans": _plans(user), "may_plan": user.has_perm("initiatives.add_pilotplan")},
    )


@login_required
@require_http_methods(["GET", "POST"])
def pilot_new(request: HttpRequest) -> HttpResponse:
    user: Any = request.user
    if not user.has_perm("initiatives.add_pilotplan"):
        raise PermissionDenied(MAY_NOT_PLAN)
    form = PilotPlanForm(request.POST if request.method == "POST" else None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                plan = pilot_plan_create(actor=user, **data)
            except (ValidationError, Forbidden) as refusal:
                if isinstance(refusal, Forbidden):
                    raise PermissionDenied(refusal.message) from refusal
                attach_service_error(form, refusal, "service")
            else:
                messages.success(
                    request, PLANNED.format(service=plan.service.name, ends=long_date(plan.ends_on))
                )
                return redirect("pilots:pilot", plan.service.code)
        status = 400
    return render(request, "initiatives/pilot_new.html", {"form": form}, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def pilot_detail(request: HttpRequest, code: str) -> HttpResponse:
    user: Any = request.user
    today = timezone.localdate()
    plan = (
        _plans(user)
        .prefetch_related(
            Prefetch("evaluations", queryset=PilotEvaluation.objects.select_related("case"))
        )
        .filter(service__code=code)
        .first()
    )
    if plan is None:
        raise Http404(f"There is no pilot of a service {code}.")
    may_evaluate = user.has_perm("initiatives.evaluate_pilot", plan)
    form = None
    status = 200
    if request.method == "POST":
        if not may_evaluate:
            raise PermissionDenied(MAY_NOT_EVALUATE)
        form = EvaluateForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                evaluation = pilot_evaluate(
                    actor=user,
                    plan=plan,
                    decision=data["decision"],
                    new_ends_on=data["new_ends_on"],
                    wind_down_on=data["wind_down_on"],
                )
            except (ValidationError, Conflict) as refusal:
                attach_service_error(form, refusal, "decision")
            else:
                messages.success(
                    request,
                    EVALUATED.format(case=evaluation.case_id, decision=decision_words(evaluation)),
                )
                return redirect(reverse("governance:case", args=[evaluation.case_id]))
        status = 400
    elif may_evaluate and plan.status == PilotStatus.RUNNING:
        form = EvaluateForm()
    sees_evidence = user.has_perm("initiatives.view_pilot_evidence", plan)
    # While it runs or is with the board; once decided, its cases keep the evidence it had.
    # The same function gives the API's `pilot-plans/{service}/evidence/`.
    evidence = pilot_evidence_so_far(user, plan, today=today) if sees_evidence else None
    return render(
        request,
        "initiatives/pilot_detail.html",
        {
            "plan": plan,
            "today": today,
            # The board's cases on the pilot are read with its evidence, by the same people.
            "evaluations": list(plan.evaluations.all()) if sees_evidence else [],
            "evidence": evidence,
            "suggested": "go live" if evidence and evidence.all_met else "stop",
            "form": form if plan.status == PilotStatus.RUNNING or status == 400 else None,
        },
        status=status,
    )
