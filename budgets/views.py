"""Pages of the money side: a department's budget, a provider's cost pools and the
chargeback.

Every read goes through `budgets.selectors` (each model's `visible_to` gate) and every
write through `budgets.services` with the signed-in user as the actor. Another
department's budget is 404 (its existence is private); pages a role may know exist but
not use are 403.
"""

from __future__ import annotations

import datetime
import math
import secrets
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_POST
from django_htmx.middleware import HtmxDetails

from budgets import selectors, services
from budgets.forms import (
    BudgetLineAddForm,
    BudgetLineChangeForm,
    ChargebackRunForm,
    CostPoolForm,
    CostPoolUploadForm,
    FiscalYearForm,
    attach_service_error,
)
from budgets.models import ZERO, BudgetLine, Charge, RunStatus
from clusters.models import Department
from clusters.rules import owns_department
from sharedsvc.errors import Conflict
from sharedsvc.models import User
from sharedsvc.periods import (
    fiscal_year_bounds,
    fiscal_year_of,
    format_period,
    next_month,
    previous_month,
)

# Messages people see, reused by the tests.
READ_ONLY_BUDGET = "You can read this budget but not change it."
NOT_YOUR_POOLS = "Only this provider's managers, administrators and analysts see its cost pools."
READ_ONLY_POOLS = "You can read these cost pools but not enter them."
RUNS_FOR_ADMINISTRATORS = "Only administrators start chargeback runs; analysts may follow them."
LINE_ADDED = "Budget line added: {service}, {fiscal_year}, allocation {allocated}"
LINE_CHANGED = "Allocation of {service} in {fiscal_year} changed to {allocated}"
POOL_ADDED = "Cost pool saved: {cluster}, {period}, {amount}"
POOLS_IMPORTED = "{count} cost pools saved from {filename}"
UPLOAD_EXPIRED = (
    "There is nothing to confirm: the preview has expired or a newer file was uploaded. "
    "Upload the file again."
)
RUN_QUEUED = "Chargeback of {period} started"

IN_PROGRESS = (RunStatus.QUEUED, RunStatus.RUNNING)


class Request(HttpRequest):
    """A request past `login_required` and django-htmx's middleware."""

    user: User
    htmx: HtmxDetails


def money_text(amount: Decimal) -> str:
    return f"{amount:,.2f}"


def _choose_year(request: Request, years: list[str], default: str) -> tuple[FiscalYearForm, str]:
    """The fiscal year asked for in `?year=`, or the default; a bad one is a form error."""
    if "year" in request.GET:
        form = FiscalYearForm(request.GET, years=years)
        if form.is_valid():
            return form, form.cleaned_data["year"]
        return form, default
    return FiscalYearForm(initial={"year": default}, years=years), default


# The chart of spending against allocation ----------------------------------------------


@dataclass
class ChartMonth:
    period: datetime.date
    charged: Decimal | None  # None: no charges yet (after the last month charged)
    cumulative: Decimal | None


@dataclass
class SpendingChart:
    """Cumulative charges month by month against the year's allocation, as SVG geometry
    (drawn on the server; the template draws it and the same figures as a table)."""

    fiscal_year: str
    months: list[ChartMonth]
    allocated: Decimal
    # Drawn about as wide as it is shown (half the page), so its text reads at 14px.
    width: int = 480
    height: int = 320
    left: int = 48
    right: int = 8
    top: int = 12
    bottom: int = 32
    top_value: float = 1.0
    ticks: list[dict[str, Any]] = field(default_factory=list)
    bars: list[dict[str, Any]] = field(default_factory=list)
    points: list[dict[str, Any]] = field(default_factory=list)

    @property
    def plot_width(self) -> int:
        return self.width - self.left - self.right

    @property
    def plot_height(self) -> int:
        return self.height - self.top - self.bottom

    @property
    def bottom_y(self) -> int:
        return self.top + self.plot_height

    @property
    def right_x(self) -> int:
        return self.left + self.plot_width

    @property
    def charged(self) -> Decimal:
        shown = [m.cumulative for m in self.months if m.cumulative is not None]
        return shown[-1] if shown else ZERO

    @property
    def last_month(self) -> ChartMonth | None:
        shown = [m for m in self.months if m.cumulative is not None]
        return shown[-1] if shown else None

    @property
    def share(self) -> int | None:
        """Charged so far as a whole percentage of the allocation."""
        if not self.allocated:
            return None
        return int((self.charged * 100 / self.allocated).to_integral_value())

    @property
    def allocation_y(self) -> float:
        return self.y(self.allocated)

    @property
    def line_points(self) -> str:
        return " ".join(f"{p['x']:.1f},{p['y']:.1f}" for p in self.points)

    def y(self, value: Decimal | float) -> float:
        return round(self.bottom_y - float(value) / self.top_value * self.plot_height, 1)


def _nice_step(top: float) -> float:
    """A round step (1, 2, 2.5 or 5 times a power of ten) giving about four gridlines."""
    raw = top / 4
    magnitude = 10 ** math.floor(math.log10(raw))
    for factor in (1, 2, 2.5, 5, 10):
        if factor * magnitude >= raw:
            return factor * magnitude
    return 10 * magnitude  # pragma: no cover (10 always fits)


def compact_money(value: float) -> str:
    """Axis labels: 0, 500, 25k, 1.5M."""
    for size, suffix in ((1e9, "bn"), (1e6, "M"), (1e3, "k")):
        if value >= size:
            text = f"{value / size:.1f}".removesuffix(".0")
            return f"{text}{suffix}"
    return f"{value:.0f}"


def spending_chart(*, fiscal_year: str, charges: list[Charge], allocated: Decimal) -> SpendingChart:
    start, end = fiscal_year_bounds(fiscal_year)
    by_month: dict[datetime.date, Decimal] = {}
    for charge in charges:
        by_month[charge.period] = by_month.get(charge.period, ZERO) + charge.amount
    # Months after the last one charged show no figure: most likely their chargeback has
    # not run yet, and a zero would read as "nothing spent".
    last_charged = max(by_month, default=None)
    months: list[ChartMonth] = []
    running = ZERO
    period = start
    while period < end:
        if last_charged is not None and period <= last_charged:
            charged = by_month.get(period, ZERO)
            running += charged
            months.append(ChartMonth(period=period, charged=charged, cumulative=running))
        else:
            months.append(ChartMonth(period=period, charged=None, cumulative=None))
        period = next_month(period)

    chart = SpendingChart(fiscal_year=fiscal_year, months=months, allocated=allocated)
    highest = float(max(allocated, running, Decimal("1")))
    step = _nice_step(highest)
    chart.top_value = step * math.ceil(highest / step)
    chart.ticks = [
        {"y": chart.y(step * i), "label": compact_money(step * i)}
        for i in range(round(chart.top_value / step) + 1)
    ]
    slot = chart.plot_width / len(months)
    bar_width = slot * 0.6
    for i, month in enumerate(months):
        centre = round(chart.left + slot * (i + 0.5), 1)
        bar: dict[str, Any] = {"label_x": centre, "label": f"{month.period:%b}"}
        if month.charged is not None:
            top = chart.y(month.charged)
            bar.update(
                x=round(centre - bar_width / 2, 1),
                y=top,
                width=round(bar_width, 1),
                height=round(chart.bottom_y - top, 1),
            )
            chart.points.append({"x": centre, "y": chart.y(month.cumulative or ZERO)})
        chart.bars.append(bar)
    return chart


# A department's budget ------------------------------------------------------------------


def _budget_url(department: Department, fiscal_year: str) -> str:
    return f"{reverse('budgets:department-budget', args=[department.code])}?year={fiscal_year}"


@login_required
def department_budget(request: Request, code: str) -> HttpResponse:
    """The department's lines of a fiscal year, its charges month by month and a chart of
    spending against allocation; the form to add a line for those who may."""
    user = request.user
    department = selectors.budget_department_get(user=user, code=code)
    may_write = user.has_perm("budgets.add_budgetline", department)
    if request.method == "POST" and not may_write:
        raise PermissionDenied(READ_ONLY_BUDGET)
    today = timezone.localdate()
    years = selectors.budget_fiscal_years(user=user, department=department, today=today)
    year_form, fiscal_year = _choose_year(request, years, fiscal_year_of(today))
    status = 200 if year_form.is_valid() or not year_form.is_bound else 400

    form = None
    if may_write:
        service_list = selectors.services(user=user)
        if request.method == "POST":
            form = BudgetLineAddForm(request.POST, services=service_list)
            if form.is_valid():
                try:
                    line = services.budget_line_create(
                        actor=user, department=department, **form.cleaned_data
                    )
                except ValidationError as error:
                    attach_service_error(form, error, "service")
                else:
                    messages.success(
                        request,
                        LINE_ADDED.format(
                            service=line.service.name,
                            fiscal_year=line.fiscal_year,
                            allocated=money_text(line.allocated),
                        ),
                    )
                    return redirect(_budget_url(department, line.fiscal_year))
            status = 400
        else:
            form = BudgetLineAddForm(services=service_list, initial={"fiscal_year": fiscal_year})

    lines = list(selectors.budget_lines(user=user, department=department, fiscal_year=fiscal_year))
    charges = list(
        selectors.department_charges(user=user, department=department, fiscal_year=fiscal_year)
    )
    allocated = sum((line.allocated for line in lines), ZERO)
    charged_on_lines = sum((line.charged for line in lines), ZERO)
    unfunded = sum((c.amount for c in charges if c.unfunded), ZERO)
    return render(
        request,
        "budgets/department_budget.html",
        {
            "department": department,
            "is_own": owns_department(user, department),
            "fiscal_year": fiscal_year,
            "year_form": year_form,
            "lines": lines,
            "totals": {
                "allocated": allocated,
                "charged": charged_on_lines,
                "remaining": allocated - charged_on_lines,
            },
            "charges": charges,
            "unfunded": unfunded,
            "chart": spending_chart(fiscal_year=fiscal_year, charges=charges, allocated=allocated),
            "form": form,
            "may_write": may_write,
        },
        status=status,
    )


@login_required
def budget_line_change(request: Request, code: str, pk: int) -> HttpResponse:
    """Change a line's allocation (its department, year and service identify it)."""
    user = request.user
    department = selectors.budget_department_get(user=user, code=code)
    line: BudgetLine = selectors.budget_line_get(user=user, department=department, pk=pk)
    if not user.has_perm("budgets.change_budgetline", department):
        raise PermissionDenied(READ_ONLY_BUDGET)
    form = BudgetLineChangeForm(request.POST or None, initial={"allocated": line.allocated})
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                services.budget_line_update(
                    actor=user, budget_line=line, allocated=form.cleaned_data["allocated"]
                )
            except ValidationError as error:
                attach_service_error(form, error, "allocated")
            else:
                messages.success(
                    request,
                    LINE_CHANGED.format(
                        service=line.service.name,
                        fiscal_year=line.fiscal_year,
                        allocated=money_text(form.cleaned_data["allocated"]),
                    ),
                )
                return redirect(_budget_url(department, line.fiscal_year))
        status = 400
    return render(
        request,
        "budgets/budget_line_change.html",
        {"department": department, "line": line, "form": form},
        status=status,
    )


# A provider's cost pools ------------------------------------------------------------------


def _pools_provider(request: Request, code: str, *, write: bool):
    provider = selectors.provider_get(user=request.user, code=code)
    if not request.user.has_perm("budgets.read_provider_pools", provider):
        raise PermissionDenied(NOT_YOUR_POOLS)
    if write and not request.user.has_perm("budgets.enter_provider_pools", provider):
        raise PermissionDenied(READ_ONLY_POOLS)
    return provider


def _pools_url(provider, fiscal_year: str) -> str:
    return f"{reverse('budgets:cost-pools', args=[provider.code])}?year={fiscal_year}"


@login_required
def cost_pools(request: Request, code: str) -> HttpResponse:
    """The provider's clusters' pools of a fiscal year, month by month; forms to enter one
    pool or upload a CSV file of many, for those who may."""
    user = request.user
    provider = _pools_provider(request, code, write=request.method == "POST")
    may_enter = user.has_perm("budgets.enter_provider_pools", provider)
    today = timezone.localdate()
    years = selectors.pool_fiscal_years(user=user, provider=provider, today=today)
    year_form, fiscal_year = _choose_year(request, years, fiscal_year_of(today))
    status = 200 if year_form.is_valid() or not year_form.is_bound else 400
    clusters = list(selectors.provider_clusters(user=user, provider=provider))

    form = upload_form = None
    if may_enter:
        if request.method == "POST":
            form = CostPoolForm(request.POST, clusters=clusters)
            if form.is_valid():
                cluster = form.cleaned_data["cluster"]
                if not user.has_perm("budgets.add_costpool", cluster):
                    raise PermissionDenied(READ_ONLY_POOLS)
                try:
                    pool = services.cost_pool_create(actor=user, **form.cleaned_data)
                except (ValidationError, Conflict) as error:
                    attach_service_error(form, error, "period")
                else:
                    messages.success(
                        request,
                        POOL_ADDED.format(
                            cluster=cluster.name,
                            period=format_period(pool.period),
                            amount=money_text(pool.amount),
                        ),
                    )
                    return redirect(_pools_url(provider, fiscal_year_of(pool.period)))
            status = 400
        else:
            form = CostPoolForm(
                clusters=clusters, initial={"period": format_period(previous_month(today))}
            )
        upload_form = CostPoolUploadForm(user=user, provider=provider, today=today)

    pools = list(
        selectors.provider_cost_pools(user=user, provider=provider, fiscal_year=fiscal_year)
    )
    # Each pool with its cluster's link, made once a cluster (a year has hundreds of pools
    # and a few dozen clusters; `{% url %}` on each row took a fifth of the page's time).
    links: dict[str, str] = {}
    rows = []
    for pool in pools:
        code = pool.cluster.code
        if code not in links:
            links[code] = reverse("clusters:cluster", args=[code])
        rows.append((pool, links[code]))
    return render(
        request,
        "budgets/cost_pools.html",
        {
            "provider": provider,
            "clusters": clusters,
            "fiscal_year": fiscal_year,
            "year_form": year_form,
            "pools": pools,
            "pool_rows": rows,
            "total": sum((pool.amount for pool in pools), ZERO),
            "form": form,
            "upload_form": upload_form,
            "may_enter": may_enter,
        },
        status=status,
    )


def _upload_key(provider) -> str:
    return f"budgets.cost_pool_upload.{provider.code}"


def _render_upload(request, provider, form, status=200) -> HttpResponse:
    return render(
        request,
        "budgets/cost_pool_upload.html",
        {"provider": provider, "form": form, "problems": form.problems if form.is_bound else []},
        status=status,
    )


@login_required
def cost_pool_upload(request: Request, code: str) -> HttpResponse:
    """A CSV file of many pools: every row is checked and either listed with what is
    wrong with it or shown in a preview; nothing is saved until the preview is confirmed."""
    user = request.user
    provider = _pools_provider(request, code, write=True)
    today = timezone.localdate()
    if request.method != "POST":
        return _render_upload(
            request, provider, CostPoolUploadForm(user=user, provider=provider, today=today)
        )
    form = CostPoolUploadForm(
        request.POST, request.FILES, user=user, provider=provider, today=today
    )
    if not form.is_valid():
        return _render_upload(request, provider, form, status=400)
    # The checked rows wait in the session (never in the page, where they could be
    # changed) until they are confirmed, and are checked again then.
    token = secrets.token_urlsafe(16)
    filename = form.cleaned_data["file"].name
    request.session[_upload_key(provider)] = {
        "token": token,
        "filename": filename,
        "rows": [row.as_stored() for row in form.rows],
    }
    return render(
        request,
        "budgets/cost_pool_preview.html",
        {
            "provider": provider,
            "rows": form.rows,
            "total": sum((row.amount for row in form.rows), ZERO),
            "token": token,
            "filename": filename,
        },
    )


@login_required
@require_POST
def cost_pool_upload_confirm(request: Request, code: str) -> HttpResponse:
    """Save every row of the confirmed preview through `cost_pools_import`: all or none."""
    user = request.user
    provider = _pools_provider(request, code, write=True)
    key = _upload_key(provider)
    pending = request.session.get(key)
    if not pending or not secrets.compare_digest(
        str(pending.get("token", "")), request.POST.get("token", "")
    ):
        messages.error(request, UPLOAD_EXPIRED)
        return redirect("budgets:cost-pool-upload", code=provider.code)
    today = timezone.localdate()
    form = CostPoolUploadForm(
        {}, {}, user=user, provider=provider, today=today, stored=pending["rows"]
    )
    if form.is_valid():
        try:
            pools = services.cost_pools_import(
                actor=user, rows=[row.as_data() for row in form.rows]
            )
        except (ValidationError, Conflict) as error:
            attach_service_error(form, error, "file")
        else:
            del request.session[key]
            messages.success(
                request, POOLS_IMPORTED.format(count=len(pools), filename=pending["filename"])
            )
            latest = max(pool.period for pool in pools)
            return redirect(_pools_url(provider, fiscal_year_of(latest)))
    del request.session[key]
    return _render_upload(request, provider, form, status=400)


# The chargeback -------------------------------------------------------------------------


def _require_run_reader(request: Request) -> None:
    if not request.user.has_perm("budgets.view_chargebackrun"):
        raise PermissionDenied(RUNS_FOR_ADMINISTRATORS)


def _fragment(request: Request, template: str, context: dict[str, Any]) -> HttpResponse:
    response = render(request, template, context)
    # The same address answers the page and its fragment: caches must tell them apart.
    patch_vary_headers(response, ("HX-Request",))
    return response


@login_required
def chargeback(request: Request) -> HttpResponse:
    """Start a chargeback of a month; the runs, newest first, polled while any is running."""
    user = request.user
    _require_run_reader(request)
    may_run = user.has_perm("budgets.add_chargebackrun")
    if request.method == "POST" and not may_run:
        raise PermissionDenied(RUNS_FOR_ADMINISTRATORS)
    runs = None
    form = None
    status = 200
    if may_run:
        if request.method == "POST":
            form = ChargebackRunForm(request.POST)
            if form.is_valid():
                period = form.cleaned_data["period"]
                try:
                    run = services.chargeback_request(actor=user, period=period)
                except ValidationError as error:
                    attach_service_error(form, error, "period")
                else:
                    messages.success(request, RUN_QUEUED.format(period=format_period(period)))
                    return redirect("budgets:chargeback-run", pk=run.pk)
            status = 400
        else:
            today = timezone.localdate()
            form = ChargebackRunForm(initial={"period": format_period(previous_month(today))})
    runs = selectors.chargeback_runs(user=user)
    context = {
        "runs": runs,
        "in_progress": any(run.status in IN_PROGRESS for run in runs),
        "form": form,
        "runs_shown": selectors.RUNS_SHOWN,
    }
    if request.htmx and request.method == "GET":
        return _fragment(request, "budgets/_chargeback_runs.html", context)
    response = render(request, "budgets/chargeback.html", context, status=status)
    patch_vary_headers(response, ("HX-Request",))
    return response


@login_required
def chargeback_run(request: Request, pk: int) -> HttpResponse:
    """One run: its status and totals, polled until it is done or failed."""
    _require_run_reader(request)
    run = selectors.chargeback_run_get(user=request.user, pk=pk)
    context = {"run": run, "in_progress": run.status in IN_PROGRESS}
    if request.htmx:
        return _fragment(request, "budgets/_run_status.html", context)
    response = render(request, "budgets/chargeback_run.html", context)
    patch_vary_headers(response, ("HX-Request",))
    return response
