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

from django.db.models import Count, Exists, OuterRef, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.text import capfirst

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
from governance.subjects import subject_of, subject_title_related
from governance.views import time_left
from initiatives.models import Commitment, CommitmentQuerySet, Progress
from notifications.services import EMAIL_TASK
from servicelevels.selectors import (
    RETURN_DAY,
    benefits,
    persistent_breaches,
    provider_scorecard,
    self_preference,
)
from sharedsvc.models import OutboxItem, OutboxStatus, SignInEvent, SignInKind, User
from sharedsvc.periods import (
    fiscal_year_of,
    last_complete_fiscal_year,
    month_start,
    next_month,
    previous_month,
)
from sharedsvc.roles import Role
from web.templatetags.figures import money


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


def _month(period: datetime.date) -> str:
    """'November 2026': a month as people write it (the API and CSV keep 2026-11)."""
    return f"{period:%B %Y}"


def _sort_key(need: Need) -> tuple[int, datetime.datetime]:
    """Soonest first; a date counts from the start of its day; undated items last."""
    due = need.due
    if due is None:
        return (1, datetime.datetime.max.replace(tzinfo=datetime.UTC))
    if not isinstance(due, datetime.datetime):
        due = timezone.make_aware(datetime.datetime.combine(due, datetime.time.min))
    return (0, due)


# The board -------------------------------------------------------------------------------


def _case(case: Case) -> str:
    """'12: ENV asks to leave PAY-PSOA'."""
    return f"{case.pk}: {capfirst(subject_of(case).title(case))}"


def _cases_waiting_for_my_vote(user, *, today: datetime.date, now: datetime.datetime) -> list[Need]:
    """Open cases the user may read on which a seat they hold today is eligible and has
    not voted, still open for votes (2 queries: the seats held, then the cases; 1 for
    someone who holds no seat)."""
    seats = list(board_seat_departments(user, today).values_list("pk", flat=True))
    if not seats:
        return []
    waiting = Seat.objects.filter(case_id=OuterRef("pk"), department__in=seats, recused=False)
    voted = Vote.objects.filter(case_id=OuterRef("pk"), department__in=seats)
    cases = (
        Case.objects.visible_to(user)
        .filter(status=CaseStatus.OPEN, closes_at__gt=now)
        .filter(Exists(waiting))
        .exclude(Exists(voted))
        .select_related(*subject_title_related())
        .order_by("closes_at", "pk")
    )
    return [
        Need(
            kind="vote",
            title=f"Vote on case {_case(case)}",
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
                f"({money(line.charged)} of {money(line.allocated)})",
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
                f"Your cost goes from {money(member['before'])} to {money(member['after'])} "
                f"a month (at {_impact_month(impact)} costs)"
            )
    return ""


def _impact_month(impact: dict[str, Any]) -> str:
    period = impact.get("period")
    try:
        return _month(datetime.date.fromisoformat(f"{period}-01"))
    except (TypeError, ValueError):
        return "the latest"


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
        detail=f"Since {_month(row['started'])}, last in {_month(row['latest'])}",
    )


# How far ahead a department is reminded of a date it committed a programme to.
COMMITMENT_NOTICE = datetime.timedelta(days=90)


def _commitments(user, department: Department, *, today: datetime.date) -> list[Need]:
    """The department's answers to programmes that need it: a programme waiting for its
    answer, a join date it committed to within the next 90 days, or one it has missed;
    those the user may read (`Commitment.objects.visible_to`; 1 query)."""
    visible = cast(CommitmentQuerySet, Commitment.objects.visible_to(user))
    commitments = (
        visible.filter(department=department)
        .with_progress(today)
        .filter(
            Q(progress__in=[Progress.PENDING, Progress.LATE])
            | Q(progress=Progress.COMMITTED, join_by__lte=today + COMMITMENT_NOTICE)
        )
        .select_related("programme__service")
        .order_by("programme__target_on", "programme__code")
    )
    needs = []
    for commitment in commitments:
        programme = commitment.programme
        progress = commitment.progress  # type: ignore[attr-defined]
        if progress == Progress.PENDING:
            needs.append(
                Need(
                    kind="commitment",
                    title=f"Answer the {programme.name} programme: will "
                    f"{department.code} join by {_long(programme.target_on)}?",
                    url=reverse(
                        "initiatives:commitment-answer", args=[programme.code, department.code]
                    ),
                    detail=f"The programme asks {department.name} to join a cluster of "
                    f"{programme.service.name.lower()}",
                    due=programme.target_on,
                )
            )
            continue
        late = progress == Progress.LATE
        needs.append(
            Need(
                kind="commitment",
                title=f"{department.code} committed to join for the {programme.name} programme "
                f"by {_long(commitment.join_by)}{': it is late' if late else ''}",
                url=reverse("initiatives:programme", args=[programme.code]),
                detail=f"{'Was due' if late else 'Due'} on {_long(commitment.join_by)}",
                due=commitment.join_by,
            )
        )
    return needs


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
                f"{_month(last_month)} {'are late' if late else 'to submit'}",
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
            title=f"Enter the {_month(last_month)} cost pool of {cluster.code}",
            url=url,
            detail=f"{cluster.name}: the month has ended and has no cost yet",
        )
        for cluster in clusters
    ]


# Analysts' -------------------------------------------------------------------------------


def _flags(user, *, today: datetime.date) -> list[Need]:
    """What the overview flags, for those who read it: a provider favouring its host
    department (1 query), a cluster that cost its members more than they paid before
    over the last complete fiscal year (1 query), and last month's returns still missing
    after the 10th of the providers whose scorecards the user reads (2 queries)."""
    if not user.has_perm("servicelevels.view_overview"):
        return []
    needs = []
    overview = reverse("servicelevels:overview")
    for row in self_preference(as_of=today):
        if row["flagged"]:
            needs.append(
                Need(
                    kind="flag",
                    title=f"{row['cluster']} may favour its host department "
                    f"{row['host_department']}",
                    url=f"{overview}?sort=-self_preference",
                    detail=f"{row['host_department']} met {_percent(row['host_rate'])} of "
                    f"its standards, the other members {_percent(row['others_rate'])}, "
                    f"{_month(row['from_period'])} to "
                    f"{_month(row['to_period'])}",
                )
            )
    fiscal_year = last_complete_fiscal_year(today)
    for row in benefits(fiscal_year=fiscal_year, today=today)["clusters"]:
        if row["flagged"]:
            needs.append(
                Need(
                    kind="flag",
                    title=f"{row['cluster']} cost its members more than before, {fiscal_year}",
                    url=f"{overview}?sort=benefit",
                    detail=f"A benefit of {row['benefit']} against what its members "
                    "paid before they joined",
                )
            )
    needs += _late_returns(user, today=today)
    return needs


def _percent(rate: Decimal | None) -> str:
    return "no" if rate is None else f"{rate:.1f}%"


def _late_returns(user, *, today: datetime.date) -> list[Need]:
    this_month = month_start(today)
    due = this_month.replace(day=RETURN_DAY)
    # Asked on every day, not only after the 10th, so the page's queries do not depend on
    # the date; nothing is missing before the due day (the scorecard's `missing`).
    providers = {
        provider.pk: provider
        for provider in Provider.objects.visible_to(user).order_by("code")
        if user.has_perm("servicelevels.view_scorecard", provider)
    }
    if not providers:
        return []
    last_month = previous_month(this_month)
    rows = provider_scorecard(provider_id=None, start=last_month, end=this_month, today=today)
    needs = []
    for row in rows:
        provider = providers.get(row["provider_id"])
        if provider is None or row["missing"] <= 0:
            continue
        needs.append(
            Need(
                kind="flag",
                title=f"{row['cluster']}: {row['missing']} of {row['expected']} returns for "
                f"{_month(last_month)} are late",
                url=reverse("servicelevels:scorecard", args=[provider.code]),
                detail=f"{provider.name}'s returns were due on {_long(due)}",
                due=due,
            )
        )
    return needs


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
            title=f"Charge {_month(last_month)} to the members",
            url=reverse("budgets:chargeback"),
            detail=detail,
        )
    ]


def chargeback_done(user, *, today: datetime.date) -> list[Need]:
    """The month just ended once it is charged, for those who may run the chargeback: the
    run that did it (1 query)."""
    if not user.has_perm("budgets.add_chargebackrun"):
        return []
    last_month = previous_month(month_start(today))
    run = (
        ChargebackRun.objects.visible_to(user)
        .filter(period=last_month, status=RunStatus.DONE)
        .order_by("-finished_at", "-pk")
        .first()
    )
    if run is None:
        return []
    finished = run.finished_at
    return [
        Need(
            kind="charged",
            title=f"{_month(last_month)} is charged to the members",
            url=reverse("budgets:chargeback-run", args=[run.pk]),
            detail=f"Run {run.pk} finished on {_long(timezone.localdate(finished))}"
            if finished
            else f"Run {run.pk}",
            due=finished,
        )
    ]


# A job waiting this long for the workers is stuck: the dispatcher hands work over every
# minute, and a try that fails waits at most an hour (sharedsvc.outbox).
STUCK_AFTER = datetime.timedelta(minutes=15)


def _background_work(user, *, now: datetime.datetime) -> list[Need]:
    """Background jobs failed or stuck, and notification emails not sent, for those who
    read the outbox in the admin (1 query)."""
    if not user.has_perm("sharedsvc.use_admin"):
        return []
    waiting = Q(status=OutboxStatus.FAILED) | Q(
        status=OutboxStatus.PENDING, created_at__lt=now - STUCK_AFTER
    )
    counts = OutboxItem.objects.filter(waiting).aggregate(
        jobs=Count("pk", filter=~Q(task=EMAIL_TASK)),
        jobs_failed=Count("pk", filter=~Q(task=EMAIL_TASK) & Q(status=OutboxStatus.FAILED)),
        emails=Count("pk", filter=Q(task=EMAIL_TASK)),
        emails_failed=Count("pk", filter=Q(task=EMAIL_TASK) & Q(status=OutboxStatus.FAILED)),
    )
    outbox = reverse("admin:sharedsvc_outboxitem_changelist")
    minutes = int(STUCK_AFTER.total_seconds() // 60)
    needs = []
    for key, what, task_filter in (
        ("jobs", "background job", ""),
        ("emails", "notification email", f"&task={EMAIL_TASK}"),
    ):
        count, failed = counts[key], counts[f"{key}_failed"]
        if not count:
            continue
        status = "failed" if failed else "pending"
        needs.append(
            Need(
                kind="background",
                title=f"{count} {what}{'' if count == 1 else 's'} "
                f"{'not done' if key == 'jobs' else 'not delivered'}",
                url=f"{outbox}?status__exact={status}{task_filter}",
                detail=f"{failed} failed after their last try, {count - failed} waiting "
                f"for over {minutes} minutes",
            )
        )
    return needs


def _users_without_a_role(user) -> list[Need]:
    """People who signed in and wait for a role, for those who give roles (1 query)."""
    if not user.has_perm("sharedsvc.manage_users"):
        return []
    count = User.objects.filter(is_active=True, role=Role.UNASSIGNED).count()
    if not count:
        return []
    return [
        Need(
            kind="user",
            title=f"{count} {'person waits' if count == 1 else 'people wait'} for a role",
            url=f"{reverse('admin:sharedsvc_user_changelist')}"
            f"?role__exact={Role.UNASSIGNED}&is_active__exact=1",
            detail="They signed in and can use nothing until you give them one",
        )
    ]


# What happened: not to act on, so not counted --------------------------------------------


def previous_sign_in(user, signed_in_at: datetime.datetime | None) -> datetime.datetime | None:
    """When the user signed in before this session (None for a first sign-in; 1 query,
    on the sign-in log's username index)."""
    events = SignInEvent.objects.filter(username=user.get_username(), kind=SignInKind.SIGNED_IN)
    if signed_in_at is not None:
        events = events.filter(at__lt=signed_in_at)
    return events.order_by("-at").values_list("at", flat=True).first()


def decisions_since(user, *, since: datetime.datetime) -> list[Need]:
    """The board's decisions since `since`, newest first, those the user may read
    (1 query)."""
    cases = (
        Case.objects.visible_to(user)
        .exclude(status=CaseStatus.OPEN)
        .filter(decided_at__gte=since)
        .select_related(*subject_title_related())
        .order_by("-decided_at", "-pk")
    )
    return [
        Need(
            kind="decided",
            title=f"Case {_case(case)}",
            url=reverse("governance:case", args=[case.pk]),
            detail=f"{case.get_status_display()} on {_long(timezone.localdate(case.decided_at))}",
            due=case.decided_at,
        )
        for case in cases
    ]


def decisions_from(
    *, previous: datetime.datetime | None, today: datetime.date
) -> datetime.datetime:
    """Since when a home page tells of decisions: the user's previous sign-in, or the
    start of this month if that is earlier (a daily reader still sees the month's)."""
    month = timezone.make_aware(datetime.datetime.combine(month_start(today), datetime.time.min))
    return min(previous, month) if previous is not None else month


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
        needs += _commitments(user, department, today=today)
    if provider is not None:
        needs += _returns_due(user, provider, today=today)
        needs += _cost_pools_missing(user, provider, today=today)
    if department is not None or provider is not None:
        needs += _departures(user, department, provider, today=today)
        needs += _breaches(user, department, provider, today=today)
    needs += _flags(user, today=today)
    needs += _chargeback(user, today=today)
    needs += _background_work(user, now=now)
    needs += _users_without_a_role(user)
    return sorted(needs, key=_sort_key)


# The home page and the header ------------------------------------------------------------

# The home page's sections, in the order it shows them: (kind, heading).
SECTIONS = [
    ("vote", "Cases waiting for your vote"),
    ("returns_due", "Service-level returns"),
    ("cost_pool", "Cost pools"),
    ("budget_line", "Budget lines"),
    ("commitment", "Programme commitments"),
    ("exit_request", "Your notices to leave"),
    ("departure", "Departures from your clusters"),
    ("breach", "Persistent breaches"),
    ("flag", "Flags to look into"),
    ("chargeback", "The chargeback"),
    ("background", "Background work"),
    ("user", "People without a role"),
]


@dataclass(frozen=True)
class Section:
    kind: str
    heading: str
    needs: list[Need]


@dataclass(frozen=True)
class Home:
    """What the home page tells the user: what needs them, by section, and what happened
    since `since` (the board's decisions, the chargeback done), which needs nothing."""

    needs: list[Need]
    sections: list[Section]
    since: datetime.datetime
    happened: list[Need]

    @property
    def since_label(self) -> str:
        """'1 December 2026', or '5 December 2026 at 2:03pm' for a time in the day."""
        since = timezone.localtime(self.since)
        day = _long(since.date())
        if since.time() == datetime.time.min:
            return day
        hour = since.hour % 12 or 12
        return f"{day} at {hour}:{since:%M}{'am' if since.hour < 12 else 'pm'}"


def home_of(
    user,
    *,
    signed_in_at: datetime.datetime | None,
    today: datetime.date | None = None,
    now: datetime.datetime | None = None,
) -> Home:
    """The home page of `user`, who signed in at `signed_in_at` (what happened is told
    since the sign-in before that one, and at least since the month began)."""
    now = now or timezone.now()
    today = today or timezone.localdate(now)
    needs = needs_of(user, today=today, now=now)
    sections = [
        Section(kind, heading, [n for n in needs if n.kind == kind]) for kind, heading in SECTIONS
    ]
    since = decisions_from(previous=previous_sign_in(user, signed_in_at), today=today)
    happened = chargeback_done(user, today=today) + decisions_since(user, since=since)
    return Home(
        needs=needs,
        sections=[section for section in sections if section.needs],
        since=since,
        happened=happened,
    )


# The header's count is kept in the session for a minute (a page does not ask every
# question of the home page again); the home page always counts afresh, and a change the
# user makes (any POST) forgets it, so acting on an item takes it off the count at once.
COUNT_KEY = "needs_count"
COUNT_FRESH_FOR = datetime.timedelta(minutes=1)


def needs_count(request, *, now: datetime.datetime | None = None) -> int:
    """How many things need the signed-in user: the session's count while it is fresh,
    else counted now (`needs_of`) and kept."""
    now = now or timezone.now()
    kept = _fresh(request.session.get(COUNT_KEY), now)
    if kept is not None:
        return kept
    count = len(needs_of(request.user, now=now))
    needs_count_keep(request, count, now=now)
    return count


def needs_count_keep(request, count: int, *, now: datetime.datetime) -> None:
    """Keep the count the home page made; unless the session holds the same one, fresh
    (no session write for a page that changes nothing)."""
    if _fresh(request.session.get(COUNT_KEY), now) == count:
        return
    request.session[COUNT_KEY] = {"count": count, "at": now.isoformat()}


def _fresh(kept: Any, now: datetime.datetime) -> int | None:
    """The kept count while under a minute old, else None."""
    if not isinstance(kept, dict):
        return None
    try:
        at = datetime.datetime.fromisoformat(kept["at"])
        count = int(kept["count"])
    except (KeyError, TypeError, ValueError):
        return None
    return count if datetime.timedelta(0) <= now - at < COUNT_FRESH_FOR else None


def needs_count_forget(request) -> None:
    request.session.pop(COUNT_KEY, None)
