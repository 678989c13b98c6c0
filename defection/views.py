"""Pages of the right to leave: give notice in two steps (choose, then check and confirm),
read a request and its impact, withdraw it, and list the requests one may see.

Every read goes through `ExitRequest.objects.visible_to` / `Membership.objects.visible_to`
(a membership or request one may not see is 404); giving and withdrawing notice is for
the department's managers, its deputy minister and administrators (403 for anyone else
who may see it); every write goes through `defection.services` with the signed-in user as
the actor. The answers wait in the session between the steps and are checked again, by
the form and then by `exit_request_submit`, when they are confirmed.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, cast

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone

from clusters.models import Department, Membership, MembershipStatus, Provider, ProviderKind
from defection import services
from defection.forms import DateInputField, LeaveForm, attach_submit_error, long_date
from defection.models import OPEN_STATUSES, ExitRequest, ExitRequestQuerySet, ExitStatus, Reason
from defection.selectors import destination_clusters, exit_impact
from sharedsvc.errors import Conflict
from sharedsvc.models import User
from sharedsvc.periods import parse_period

# Messages people see, reused by the tests.
NOT_YOUR_DEPARTMENT = (
    "Only the department's managers, its deputy minister and administrators can give notice for it."
)
CANNOT_WITHDRAW_FOR = (
    "Only the department's managers, its deputy minister and administrators can withdraw "
    "its requests."
)
NOTHING_TO_CONFIRM = (
    "There is nothing to confirm: your answers have expired. Answer the questions again."
)
SUBMITTED_SCHEDULED = "Notice given: {department} leaves {cluster} on {date}"
SUBMITTED_TO_BOARD = "Request sent to the board: {department} asks to leave {cluster} on {date}"
WITHDRAWN = "Request withdrawn: {department} stays in {cluster}"

REQUESTS_PER_PAGE = 50


def _decimal(value: str | None) -> Decimal | None:
    return None if value is None else Decimal(value)


def impact_view(impact: dict[str, Any] | None) -> dict[str, Any]:
    """The stored `impact` (strings, department codes) as the pages show it: numbers, the
    month as a date, department names and each member's change (1 query: the names)."""
    if not impact or not impact.get("period"):
        return {"period": None, "members": []}
    codes = [member["department"] for member in impact.get("members", [])]
    names = dict(Department.objects.filter(code__in=codes).values_list("code", "name"))
    members = []
    for member in impact.get("members", []):
        before, after = _decimal(member.get("before")), _decimal(member.get("after"))
        members.append(
            {
                "department": member["department"],
                "name": names.get(member["department"], member["department"]),
                "usage_units": member.get("usage_units"),
                "before": before,
                "after": after,
                "change": after - before if before is not None and after is not None else None,
            }
        )
    return {
        "period": parse_period(impact["period"]),
        "pool": _decimal(impact.get("pool")),
        "pool_after": _decimal(impact.get("pool_after")),
        "fixed_cost_ratio": impact.get("fixed_cost_ratio"),
        "units_before": impact.get("units_before"),
        "units_after": impact.get("units_after"),
        "unit_cost_before": _decimal(impact.get("unit_cost_before")),
        "unit_cost_after": _decimal(impact.get("unit_cost_after")),
        "members": members,
    }


# Giving notice ------------------------------------------------------------------------


def _membership_to_leave(request: HttpRequest, pk: int) -> Membership:
    """The membership, if the user may see it (404) and give notice for its department (403)."""
    membership = get_object_or_404(
        Membership.objects.visible_to(request.user).select_related(
            "department", "cluster__service", "cluster__provider"
        ),
        pk=pk,
    )
    if not request.user.has_perm("defection.add_exitrequest", membership.department):
        raise PermissionDenied(NOT_YOUR_DEPARTMENT)
    return membership


def _cannot_leave(request: HttpRequest, membership: Membership) -> HttpResponse | None:
    """A page saying why this membership cannot be left now (409), or None if it can."""
    today = timezone.localdate()
    department, cluster = membership.department, membership.cluster
    open_request = (
        ExitRequest.objects.filter(membership=membership, status__in=OPEN_STATUSES)
        .only("pk")
        .first()
    )
    if open_request is not None:
        message = services.OPEN_REQUEST_EXISTS.format(
            department=department.code, cluster=cluster.code
        )
    elif membership.leaves_on is not None and membership.leaves_on > today:
        message = services.ALREADY_LEAVING.format(
            department=department.code, cluster=cluster.code, date=long_date(membership.leaves_on)
        )
    elif membership.status_on(today) != MembershipStatus.ACTIVE:
        message = services.NOT_A_MEMBER.format(department=department.code, cluster=cluster.code)
    else:
        return None
    return render(
        request,
        "defection/cannot_leave.html",
        {"membership": membership, "message": message, "open_request": open_request},
        status=409,
    )


def _session_key(membership: Membership) -> str:
    return f"defection.leave.{membership.pk}"


def _leave_form(request: HttpRequest, membership: Membership, data: Any = None) -> LeaveForm:
    today = timezone.localdate()
    earliest = services.earliest_leave_on(membership.cluster, today)
    providers = list(
        Provider.objects.visible_to(request.user).exclude(kind=ProviderKind.PSOA).order_by("name")
    )
    return LeaveForm(
        data,
        membership=membership,
        options=destination_clusters(user=request.user, membership=membership, on=earliest),
        providers=providers,
        earliest=earliest,
    )


def _render_choose(
    request: HttpRequest, membership: Membership, form: LeaveForm, status: int = 200
) -> HttpResponse:
    return render(
        request,
        "defection/leave_choose.html",
        {
            "membership": membership,
            "form": form,
            "earliest": form.earliest,
            "charging_unit": membership.cluster.service.charging_unit,
        },
        status=status,
    )


@login_required
def leave(request: HttpRequest, pk: int) -> HttpResponse:
    """Step 1: where to, why and when. Valid answers are kept in the session for step 2."""
    membership = _membership_to_leave(request, pk)
    refused = _cannot_leave(request, membership)
    if refused is not None:
        return refused
    key = _session_key(membership)
    if request.method == "POST":
        form = _leave_form(request, membership, request.POST)
        if form.is_valid():
            request.session[key] = {
                name: request.POST.get(name, "") for name in _answer_names(form)
            }
            return redirect("defection:leave-check", pk=membership.pk)
        return _render_choose(request, membership, form, status=400)
    # Back from the check page ("Change"): the answers given so far.
    return _render_choose(
        request, membership, _leave_form(request, membership, request.session.get(key))
    )


def _answer_names(form: LeaveForm) -> list[str]:
    """The POST names of the answers: a date's are its day, month and year boxes."""
    names: list[str] = []
    for name, field in form.fields.items():
        if isinstance(field, DateInputField):
            names += [f"{name}_{part}" for part in ("day", "month", "year")]  # DateInputWidget
        else:
            names.append(name)
    return names


@login_required
def leave_check(request: HttpRequest, pk: int) -> HttpResponse:
    """Step 2: check the answers, the dates and what the departure costs those who stay;
    confirming (POST) submits the request through `exit_request_submit`."""
    membership = _membership_to_leave(request, pk)
    refused = _cannot_leave(request, membership)
    if refused is not None:
        return refused
    key = _session_key(membership)
    answers = request.session.get(key)
    if not answers:
        if request.method == "POST":
            messages.error(request, NOTHING_TO_CONFIRM)
        return redirect("defection:leave", pk=membership.pk)
    form = _leave_form(request, membership, answers)
    if not form.is_valid():
        # Something changed since step 1 (a day passed, the cluster filled up).
        return _render_choose(request, membership, form, status=400)
    if request.method == "POST":
        try:
            exit_request = services.exit_request_submit(
                actor=request.user,
                department=membership.department,
                from_cluster=membership.cluster,
                **form.submission(),
            )
        except ValidationError as error:
            attach_submit_error(form, error)
            return _render_choose(request, membership, form, status=400)
        del request.session[key]
        template = (
            SUBMITTED_SCHEDULED
            if exit_request.status == ExitStatus.SCHEDULED
            else SUBMITTED_TO_BOARD
        )
        messages.success(
            request,
            template.format(
                department=membership.department.name,
                cluster=membership.cluster.name,
                date=long_date(exit_request.leave_on),
            ),
        )
        return redirect("defection:exit-request", pk=exit_request.pk)
    submission = form.submission()
    option = form.chosen_option
    return render(
        request,
        "defection/leave_check.html",
        {
            "membership": membership,
            "form": form,
            "submission": submission,
            "option": option,
            "needs_board": not (option is not None and option.is_psoa),
            "earliest": form.earliest,
            "leave_on": form.leave_on,
            "reason_label": Reason(submission["reason"]).label,
            "impact": impact_view(
                exit_impact(cluster=membership.cluster, department_id=membership.department_id)
            ),
            "charging_unit": membership.cluster.service.charging_unit,
            "change_url": reverse("defection:leave", args=[membership.pk]),
        },
    )


# Reading and withdrawing requests -----------------------------------------------------


def _exit_request_get(request: HttpRequest, pk: int) -> ExitRequest:
    return get_object_or_404(
        cast(ExitRequestQuerySet, ExitRequest.objects.visible_to(request.user))
        .with_current_status()
        .with_seen_whole(request.user)
        .select_related(
            "department",
            "membership",
            "from_cluster__service",
            "from_cluster__provider",
            "to_cluster__provider",
            "to_provider",
            "requested_by",
            "board_case",
        ),
        pk=pk,
    )


def _withdraw_refusal(exit_request: ExitRequest) -> str | None:
    """Why the request can no longer be withdrawn (the service's words), or None."""
    if exit_request.status not in OPEN_STATUSES:
        return services.CANNOT_WITHDRAW.format(status=exit_request.get_status_display().lower())
    if exit_request.leave_on <= timezone.localdate():
        return services.TOO_LATE_TO_WITHDRAW.format(date=long_date(exit_request.leave_on))
    return None


def _board_case(exit_request: ExitRequest):
    try:
        return exit_request.board_case
    except ExitRequest.board_case.RelatedObjectDoesNotExist:  # type: ignore[attr-defined]
        return None


@login_required
def exit_request_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """A request: its status, dates, destination, reasons and impact; Withdraw while allowed."""
    exit_request = _exit_request_get(request, pk)
    may_withdraw = (
        request.user.has_perm("defection.withdraw_exitrequest", exit_request.department)
        and _withdraw_refusal(exit_request) is None
    )
    # The destination provider reads the request in part: no justification, no impact.
    seen_whole = request.user.has_perm("defection.view_exitrequest_whole", exit_request)
    return render(
        request,
        "defection/exit_request_detail.html",
        {
            "exit_request": exit_request,
            "seen_whole": seen_whole,
            "seen_in_part_message": services.SEEN_IN_PART,
            "impact": impact_view(exit_request.impact if seen_whole else None),
            "case": _board_case(exit_request),
            "may_withdraw": may_withdraw,
            "charging_unit": exit_request.from_cluster.service.charging_unit,
        },
    )


@login_required
def exit_request_withdraw(request: HttpRequest, pk: int) -> HttpResponse:
    """Ask to confirm (GET), then withdraw (POST): the department stays, any move is undone
    and any board case is withdrawn."""
    exit_request = _exit_request_get(request, pk)
    if not request.user.has_perm("defection.withdraw_exitrequest", exit_request.department):
        raise PermissionDenied(CANNOT_WITHDRAW_FOR)
    problem = _withdraw_refusal(exit_request)
    if request.method == "POST" and problem is None:
        try:
            services.exit_request_withdraw(actor=request.user, exit_request=exit_request)
        except Conflict as conflict:  # changed since the page was read
            problem = conflict.message
        else:
            messages.success(
                request,
                WITHDRAWN.format(
                    department=exit_request.department.name,
                    cluster=exit_request.from_cluster.name,
                ),
            )
            return redirect("defection:exit-request", pk=exit_request.pk)
    return render(
        request,
        "defection/exit_request_withdraw.html",
        {"exit_request": exit_request, "problem": problem, "case": _board_case(exit_request)},
        status=409 if problem else 200,
    )


@login_required
def exit_request_list(request: HttpRequest) -> HttpResponse:
    """Every request the user may see, newest first, 50 a page (2 queries: count, page)."""
    requests = (
        cast(ExitRequestQuerySet, ExitRequest.objects.visible_to(request.user))
        .with_current_status()
        .select_related("department", "from_cluster", "to_cluster", "to_provider")
        .order_by("-requested_on", "-id")
    )
    page = Paginator(requests, REQUESTS_PER_PAGE).get_page(request.GET.get("page"))
    user = cast(User, request.user)  # signed in: login_required
    # Whoever may give notice for their own department is told where to do it.
    own_department = (
        user.department
        if user.department_id and user.has_perm("defection.add_exitrequest", user.department)
        else None
    )
    return render(
        request,
        "defection/exit_request_list.html",
        {
            "page": page,
            "exit_requests": page.object_list,
            "own_department": own_department,
            # A provider's manager is told what the list holds for them.
            "own_provider": user.provider if user.provider_id else None,
        },
    )
