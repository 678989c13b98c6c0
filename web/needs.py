"""What needs the signed-in user now (issue 16): the items of their home page, each a link
to act on it.

Every item is found through the app's one gate: the models' `visible_to(user)`
querysets and the rules asked through `user.has_perm(...)`. Nothing here asks the user's
role: a department's items are found from the user's department and a provider's from
the user's provider (set only for the roles that act for one, which the database
checks), and then the gate says what of it this user may see. Time is an input; each
item is a fixed number of queries whatever the data.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, cast

from django.db.models import Exists, OuterRef, Q
from django.urls import reverse
from django.utils import timezone

from budgets.models import (
    BudgetLine,
    BudgetLineQuerySet,
    BudgetState,
    ChargebackRun,
    CostPool,
    RunStatus,
)
from clusters.models import Cluster, Department, Membership, Provider, current_member_condition
from clusters.rules import board_seat_departments
from defection.models import ExitRequest, ExitStatus
from governance.models import Case, CaseStatus, Seat, Vote
from governance.subjects import subject_of, subject_related
from governance.views import time_left
from servicelevels.selectors import RETURN_DAY, persistent_breaches, provider_scorecard
from sharedsvc.periods import (
    fiscal_year_of,
    format_period,
    month_start,
    next_month,
    previous_month,
)


@dataclass(frozen=True)
class Need:
    """One thing that needs the user, with where to act on it."""

    kind: str
    title: str
    url: str
    detail: str = ""
    due: datetime.datetime | datetime.date | None = None


def _long(day: datetime.date) -> str:
    return f"{day.day} {day:%B %Y}"


def _sort_key(need: Need) -> tuple[int, datetime.datetime]:
    """Soonest first; a date counts from the start of its day; undated items last."""
    due = need.due
    if due is None:
        return (1, datetime.datetime.max.replace(tzinfo=datetime.UTC))
    if not isinstance(due, datetime.datetime):
        due = timezone.make_aware(datetime.datetime.combine(due, datetime.time.min))
    return (0, due)


# The board -------------------------------------------------------------------------------


def _cases_waiting_for_my_vote(user, *, today: datetime.date, now: datetime.datetime) -> list[Need]:
    """Open cases the user may read on which a seat they hold today is eligible and has
    not voted, still open for votes (1 query; the seats held are a subquery)."""
    seats = board_seat_departments(user, today)
    waiting = Seat.objects.filter(case_id=OuterRef("pk"), department__in=seats, recused=False)
    voted = Vote.objects.filter(case_id=OuterRef("pk"), department__in=seats)
    cases = (
        Case.objects.visible_to(user)
        .filter(status=CaseStatus.OPEN, closes_at__gt=now)
        .filter(Exists(waiting))
        .exclude(Exists(voted))
        .select_related(*subject_related())
        .order_by("closes_at", "pk")
    )
    return [
        Need(
            kind="vote",
            title=f"Vote on case {case.pk}: {subject_of(case).title(case)}",
            url=reverse("governance:case", args=[case.pk]),
            detail=time_left(case.closes_at, now),
            due=case.closes_at,
        )
        for case in cases
    ]


# A department's -------------------------------------------------------------------------


def _budget_lines(user, department: Department, *, today: datetime.date) -> list[Need]:
    """The department's lines of this fiscal year past 90% spent, those the user sees
    (`BudgetLine.objects.visible_to`: the department's private figures; 1 query)."""
    fiscal_year = fiscal_year_of(today)
    visible = cast(BudgetLineQuerySet, BudgetLine.objects.visible_to(user))
    lines = (
        visible.filter(department=department, fiscal_year=fiscal_year)
        .with_charged()
        .select_related("service")
        .order_by("service__name")
    )
    needs = []
    for line in lines:
        state = line.state
        if state == BudgetState.OK:
            continue
        share = (
            (line.charged * 100 / line.allocated).quantize(Decimal("1")) if line.allocated else None
        )
        spent = f"{share}% of" if share is not None else "Charged against"
        words = "overspent" if state == BudgetState.OVERSPENT else "past 90% spent"
        needs.append(
            Need(
                kind="budget_line",
                title=f"The {fiscal_year} {line.service.name.lower()} budget line is {words}",
                url=reverse("budgets:budget-line-change", args=[department.code, line.pk]),
                detail=f"{spent} the {fiscal_year} {line.service.name.lower()} line spent "
                f"({line.charged} of {line.allocated})",
            )
        )
    return needs


def _exit_requests(user, department: Department, *, today: datetime.date) -> list[Need]:
    """The department's own notices to leave that are still open (waiting for the board,
    or scheduled for a day to come), those the user may see (1 query)."""
    requests = (
        ExitRequest.objects.visible_to(user, today=today)
        .filter(department=department)
        .filter(
            Q(status=ExitStatus.PENDING_BOARD) | Q(status=ExitStatus.SCHEDULED, leave_on__gt=today)
        )
        .select_related("from_cluster")
        .order_by("leave_on", "pk")
    )
    return [
        Need(
            kind="exit_request",
            title=f"Your notice to leave {request.from_cluster.code}: "
            f"{request.get_status_display().lower()}",
            url=reverse("defection:exit-request", args=[request.pk]),
            detail=f"Leaving on {_long(request.leave_on)}",
            due=request.leave_on,
        )
        for request in requests
    ]


def _impact_on(request: ExitRequest, department_code: str) -> str:
    """What the departure costs this department a month, from the impact kept with the
    request ('' when it does not say)."""
    impact: dict[str, Any] = request.impact or {}
    for member in impact.get("members") or []:
        if member.get("department") == department_code and member.get("before") is not None:
            if member.get("after") is None:
                return ""
            return (
                f"Your cost goes from {member['before']} to {member['after']} a month "
                f"(at {impact.get('period', 'the latest')} costs)"
            )
    return ""


def _departures(
    user, department: Department | None, provider: Provider | None, *, today: datetime.date
) -> list[Need]:
    """Other departments' pending notices to leave the clusters the user's department is
    a current member of, or that the user's provider runs, those the user may see; what
    the departure costs the department for those who see the request whole (1 query)."""
    ours = current_member_condition(user, cluster_field="from_cluster_id", today=today)
    if provider is not None:
        ours |= Q(from_cluster__provider=provider)
    requests = (
        ExitRequest.objects.visible_to(user, today=today)
        .with_seen_whole(user, today=today)
        .filter(ours)
        .filter(
            Q(status=ExitStatus.PENDING_BOARD) | Q(status=ExitStatus.SCHEDULED, leave_on__gt=today)
        )
        .select_related("department", "from_cluster")
        .order_by("leave_on", "pk")
    )
    if department is not None:
        requests = requests.exclude(department=department)
    needs = []
    for request in requests:
        status = request.get_status_display().lower()
        detail = f"{status.capitalize()}; leaving on {_long(request.leave_on)}"
        if department is not None and request.seen_whole:  # type: ignore[attr-defined]
            impact = _impact_on(request, department.code)
            detail = f"{detail}. {impact}" if impact else detail
        needs.append(
            Need(
                kind="departure",
                title=f"{request.department.code} gives notice to leave {request.from_cluster.code}",
                url=reverse("defection:exit-request", args=[request.pk]),
                detail=detail,
                due=request.leave_on,
            )
        )
    return needs


def _breaches(
    user, department: Department | None, provider: Provider | None, *, today: datetime.date
) -> list[Need]:
    """Ongoing persistent breaches (a standard missed three months running, up to last
    month) of the department's services, for those who see its service levels, and of the
    provider's clusters, for those who see its scorecard (1 query each)."""
    since = previous_month(month_start(today))
    needs = []
    if department is not None and user.has_perm(
        "servicelevels.view_department_service_levels", department
    ):
        url = reverse("servicelevels:department-service-levels", args=[department.code])
        for row in persistent_breaches(department_id=department.pk, since=since):
            if row["ongoing"]:
                needs.append(_breach(row, url, ours=True))
    if provider is not None and user.has_perm("servicelevels.view_scorecard", provider):
        url = reverse("servicelevels:scorecard", args=[provider.code])
        for row in persistent_breaches(provider_id=provider.pk, since=since):
            if row["ongoing"]:
                needs.append(_breach(row, url, ours=False))
    return needs


def _breach(row: dict[str, Any], url: str, *, ours: bool) -> Need:
    whom = "" if ours else f" for {row['department']}"
    return Need(
        kind="breach",
        title=f"{row['cluster']} misses \u201c{row['standard']}\u201d{whom}, "
        f"{row['months']} months running",
        url=url,
        detail=f"Since {format_period(row['started'])}, last in {format_period(row['latest'])}",
    )


# A provider's ---------------------------------------------------------------------------


def _returns_due(user, provider: Provider, *, today: datetime.date) -> list[Need]:
    """Last month's service-level returns not yet in for the provider's clusters, due on
    the 10th of this month, for those who submit its returns (1 query)."""
    if not user.has_perm("servicelevels.submit_returns", provider):
        return []
    this_month = month_start(today)
    last_month = previous_month(this_month)
    due = this_month.replace(day=RETURN_DAY)
    url = reverse("servicelevels:returns-upload", args=[provider.code])
    needs = []
    rows = provider_scorecard(
        provider_id=provider.pk, start=last_month, end=this_month, today=today
    )
    for row in rows:
        outstanding = row["expected"] - row["received"]
        if outstanding <= 0:
            continue
        late = today > due
        needs.append(
            Need(
                kind="returns_due",
                title=f"{row['cluster']}: {outstanding} of {row['expected']} returns for "
                f"{format_period(last_month)} {'are late' if late else 'to submit'}",
                url=url,
                detail=f"{'Were due' if late else 'Due'} on {_long(due)}",
                due=due,
            )
        )
    return needs


def _cost_pools_missing(user, provider: Provider, *, today: datetime.date) -> list[Need]:
    """The provider's clusters that had members in the month just ended and have no cost
    pool for it, for those who enter its pools (1 query)."""
    if not user.has_perm("budgets.enter_provider_pools", provider):
        return []
    last_month = previous_month(month_start(today))
    members = Membership.objects.filter(
        cluster_id=OuterRef("pk"), joined_on__lt=next_month(last_month)
    ).filter(Q(leaves_on__isnull=True) | Q(leaves_on__gt=last_month))
    pool = CostPool.objects.filter(cluster_id=OuterRef("pk"), period=last_month)
    clusters = (
        Cluster.objects.visible_to(user)
        .filter(provider=provider)
        .filter(Exists(members))
        .exclude(Exists(pool))
        .order_by("code")
    )
    url = reverse("budgets:cost-pools", args=[provider.code])
    return [
        Need(
            kind="cost_pool",
            title=f"Enter the {format_period(last_month)} cost pool of {cluster.code}",
            url=url,
            detail=f"{cluster.name}: the month has ended and has no cost yet",
        )
        for cluster in clusters
    ]


# Administrators' ------------------------------------------------------------------------


def _chargeback(user, *, today: datetime.date) -> list[Need]:
    """The month just ended, not yet charged, for those who may run the chargeback
    (1 query)."""
    if not user.has_perm("budgets.add_chargebackrun"):
        return []
    last_month = previous_month(month_start(today))
    runs = ChargebackRun.objects.visible_to(user).filter(period=last_month)
    statuses = set(runs.values_list("status", flat=True))
    if RunStatus.DONE in statuses:
        return []
    if statuses & {RunStatus.QUEUED, RunStatus.RUNNING}:
        detail = "A run is under way"
    elif RunStatus.FAILED in statuses:
        detail = "The last run failed"
    else:
        detail = "Not run yet"
    return [
        Need(
            kind="chargeback",
            title=f"Charge {format_period(last_month)} to the members",
            url=reverse("budgets:chargeback"),
            detail=detail,
        )
    ]


# All of them ----------------------------------------------------------------------------


def needs_of(
    user, *, today: datetime.date | None = None, now: datetime.datetime | None = None
) -> list[Need]:
    """Everything that needs this user now, soonest first (undated items last, in the
    order found). Nobody is told of anything the gate does not let them see."""
    if not (user and user.is_authenticated and user.is_active):
        return []
    now = now or timezone.now()
    today = today or timezone.localdate(now)
    # The department and provider the user acts for, through the gate (none for those
    # who act for neither: no query).
    department = (
        Department.objects.visible_to(user).filter(pk=user.department_id).first()
        if user.department_id
        else None
    )
    provider = (
        Provider.objects.visible_to(user).filter(pk=user.provider_id).first()
        if user.provider_id
        else None
    )
    needs = _cases_waiting_for_my_vote(user, today=today, now=now)
    if department is not None:
        needs += _budget_lines(user, department, today=today)
        needs += _exit_requests(user, department, today=today)
    if provider is not None:
        needs += _returns_due(user, provider, today=today)
        needs += _cost_pools_missing(user, provider, today=today)
    if department is not None or provider is not None:
        needs += _departures(user, department, provider, today=today)
        needs += _breaches(user, department, provider, today=today)
    needs += _chargeback(user, today=today)
    return sorted(needs, key=_sort_key)
