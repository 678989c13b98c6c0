"""Reads of the money side for the pages: each one a constant number of queries, and every
row through the model's `visible_to(user)` gate."""

from __future__ import annotations

import datetime
from typing import cast

from django.conf import settings
from django.db.models import Exists, Max, Min, OuterRef, QuerySet
from django.http import Http404

from budgets.models import BudgetLine, BudgetLineQuerySet, Charge, ChargebackRun, CostPool
from clusters.models import Cluster, Department, Provider, Service
from clusters.selectors import _check_code, department_get
from sharedsvc.periods import fiscal_year_bounds, fiscal_year_of, fiscal_year_start_year

# Runs listed on the chargeback page (newest first); older ones are in the API.
RUNS_SHOWN = 50


# Budgets ------------------------------------------------------------------------------


def budget_department_get(*, user, code: str) -> Department:
    """The department whose budget the user may read; any other is 404, since even the
    existence of another department's budget is private (1 query)."""
    department = department_get(user=user, code=code)
    if not user.has_perm("budgets.view_budgetline", department):
        raise Http404("No such budget.")
    return department


def budget_fiscal_years(*, user, department: Department, today: datetime.date) -> list[str]:
    """Fiscal years worth choosing, newest first: the current and the next one, those with
    budget lines, and every year from the first charge to the last (2 queries)."""
    starts = {fiscal_year_start_year(today), fiscal_year_start_year(today) + 1}
    for label in (
        BudgetLine.objects.visible_to(user)
        .filter(department=department)
        .order_by()  # the model's ordering would join into DISTINCT
        .values_list("fiscal_year", flat=True)
        .distinct()
    ):
        starts.add(int(label[:4]))
    span = (
        Charge.objects.visible_to(user)
        .filter(department=department)
        .aggregate(first=Min("period"), last=Max("period"))
    )
    if span["first"]:
        starts.update(
            range(fiscal_year_start_year(span["first"]), fiscal_year_start_year(span["last"]) + 1)
        )
    return [fiscal_year_of(datetime.date(year, _start_month(), 1)) for year in sorted(starts)][::-1]


def _start_month() -> int:
    return settings.FISCAL_YEAR_START_MONTH


def budget_lines(*, user, department: Department, fiscal_year: str) -> QuerySet[BudgetLine]:
    """The department's lines of one fiscal year with what has been charged (1 query)."""
    lines = cast(BudgetLineQuerySet, BudgetLine.objects.visible_to(user))
    return (
        lines.filter(department=department, fiscal_year=fiscal_year)
        .with_charged()
        .select_related("service")
        .order_by("service__name")
    )


def budget_line_get(*, user, department: Department, pk: int) -> BudgetLine:
    """One line of the department, with what has been charged (1 query)."""
    lines = cast(BudgetLineQuerySet, BudgetLine.objects.visible_to(user))
    try:
        return (
            lines.filter(department=department)
            .with_charged()
            .select_related("service", "department")
            .get(pk=pk)
        )
    except BudgetLine.DoesNotExist:
        raise Http404("No such budget line.") from None


def department_charges(*, user, department: Department, fiscal_year: str) -> QuerySet[Charge]:
    """The department's charges of one fiscal year, month by month (1 query)."""
    start, end = fiscal_year_bounds(fiscal_year)
    return (
        Charge.objects.visible_to(user)
        .filter(department=department, period__gte=start, period__lt=end)
        .select_related("cluster__service", "budget_line")
        .order_by("period", "cluster__name")
    )


def services(*, user) -> list[Service]:
    """The services a line may be for (1 query)."""
    return list(Service.objects.visible_to(user).order_by("name"))


# Cost pools ---------------------------------------------------------------------------


def provider_get(*, user, code: str) -> Provider:
    _check_code(code)
    try:
        return Provider.objects.visible_to(user).get(code=code)
    except Provider.DoesNotExist:
        raise Http404("No such provider.") from None


def provider_clusters(*, user, provider: Provider) -> QuerySet[Cluster]:
    """The provider's clusters with their service (1 query)."""
    return (
        Cluster.objects.visible_to(user)
        .filter(provider=provider)
        .select_related("service")
        .order_by("name")
    )


def provider_cost_pools(*, user, provider: Provider, fiscal_year: str) -> QuerySet[CostPool]:
    """The provider's pools of one fiscal year, newest month first, each marked whether its
    month has been charged (1 query)."""
    start, end = fiscal_year_bounds(fiscal_year)
    charged = Charge.objects.filter(cluster_id=OuterRef("cluster_id"), period=OuterRef("period"))
    return (
        CostPool.objects.visible_to(user)
        .filter(cluster__provider=provider, period__gte=start, period__lt=end)
        .annotate(is_charged=Exists(charged))
        .select_related("cluster", "entered_by")
        .order_by("-period", "cluster__name")
    )


def pool_fiscal_years(*, user, provider: Provider, today: datetime.date) -> list[str]:
    """Fiscal years from the provider's first pool to the current one, newest first (1 query)."""
    first = (
        CostPool.objects.visible_to(user)
        .filter(cluster__provider=provider)
        .aggregate(first=Min("period"))["first"]
    )
    current = fiscal_year_start_year(today)
    earliest = fiscal_year_start_year(first) if first else current
    return [
        fiscal_year_of(datetime.date(year, _start_month(), 1))
        for year in range(current, min(earliest, current) - 1, -1)
    ]


# Chargeback runs ----------------------------------------------------------------------


def chargeback_runs(*, user) -> list[ChargebackRun]:
    """The latest runs with who asked for them (1 query)."""
    return list(
        ChargebackRun.objects.visible_to(user)
        .select_related("requested_by")
        .order_by("-requested_at", "-id")[:RUNS_SHOWN]
    )


def chargeback_run_get(*, user, pk: int) -> ChargebackRun:
    try:
        return ChargebackRun.objects.visible_to(user).select_related("requested_by").get(pk=pk)
    except ChargebackRun.DoesNotExist:
        raise Http404("No such chargeback run.") from None
