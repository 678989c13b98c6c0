"""Pages of service levels: a provider's scorecard and its returns upload, a department's
service levels, a cluster's performance and the overview of every cluster.

Reads go through `servicelevels.selectors` (SQL with a fixed number of queries) and each
model's `visible_to` gate; the one write, the upload of returns, goes through
`measurements_submit` with the signed-in user as the actor. Every chart is inline SVG drawn
on the server with the same figures as a table beside it.
"""

from __future__ import annotations

import datetime
import math
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, cast

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import dateformat, timezone
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from budgets.forms import attach_service_error
from budgets.services import in_house_estimate_record
from clusters.models import CODE_VALIDATOR, Cluster, Department, Membership, Provider, Standard
from clusters.rules import owns_department
from defection.models import OPEN_STATUSES, ExitRequest, ExitRequestQuerySet
from servicelevels import selectors
from servicelevels.forms import InHouseEstimateForm, ReturnsUploadForm, choose_range, plain
from servicelevels.models import Measurement, met_expression
from servicelevels.rules import benefits_seen_by, make_or_buy_seen_by
from servicelevels.services import measurements_submit
from sharedsvc.models import User
from sharedsvc.periods import (
    fiscal_year_of,
    format_period,
    last_complete_fiscal_year,
    next_month,
    previous_month,
)

# Messages people see, reused by the tests.
NOT_YOUR_SCORECARD = "Only this provider's managers, administrators and analysts see its scorecard."
NOT_YOUR_RETURNS = "Only this provider's managers and administrators upload its returns."
OVERVIEW_FOR_READERS = "Only administrators and analysts see the overview of every cluster."
NOT_YOUR_ESTIMATE = "Only this department's managers and administrators record its estimates."
ESTIMATE_RECORDED = "In-house estimate for {service} recorded: {cost} a year, as of {day}"
RETURNS_SAVED = "{count} returns saved from {filename}"
UPLOAD_EXPIRED = (
    "There is nothing to confirm: the preview has expired or a newer file was uploaded. "
    "Upload the file again."
)


class Request(HttpRequest):
    """A request past `login_required`."""

    user: User


CODE = re.compile(CODE_VALIDATOR.regex)
SCORECARD_MONTHS = 12
PERFORMANCE_MONTHS = 12


def _get_by_code(queryset, code: str):
    # A malformed code names nothing: 404 before it reaches the database.
    if not CODE.fullmatch(code):
        raise Http404("No such code.")
    try:
        return queryset.get(code=code)
    except queryset.model.DoesNotExist:
        raise Http404(f"No such {queryset.model._meta.verbose_name}.") from None


def _months(start: datetime.date, end: datetime.date) -> list[datetime.date]:
    months = []
    period = start
    while period < end:
        months.append(period)
        period = next_month(period)
    return months


def _rate(met: int, total: int) -> Decimal | None:
    return None if not total else (Decimal(met) * 100 / Decimal(total)).quantize(Decimal("0.1"))


def _due(period: datetime.date) -> datetime.date:
    """Returns for a month are due by the 10th of the next month."""
    return next_month(period).replace(day=selectors.RETURN_DAY)


# Charts ---------------------------------------------------------------------------------


def _nice_step(top: float) -> float:
    """A round step (1, 2, 2.5 or 5 times a power of ten) giving about four gridlines."""
    raw = top / 4
    magnitude = 10 ** math.floor(math.log10(raw))
    for factor in (1, 2, 2.5, 5, 10):
        if factor * magnitude >= raw:
            return factor * magnitude
    return 10 * magnitude  # pragma: no cover (10 always fits)


def _compact(value: float) -> str:
    """Axis labels: 0, 2.5, 500, 25k, 1.5M."""
    for size, suffix in ((1e9, "bn"), (1e6, "M"), (1e3, "k")):
        if value >= size:
            return f"{value / size:.1f}".removesuffix(".0") + suffix
    return f"{value:.2f}".rstrip("0").rstrip(".") if value % 1 else f"{value:.0f}"


@dataclass
class MonthChart:
    """Figures month by month as SVG geometry: bars (a share, 0 to 100%) or a line (an
    amount). The template draws it, and the same figures as a table beside it."""

    slug: str
    title: str
    summary: str
    kind: str  # "bars" or "line"
    months: list[datetime.date]
    values: list[Decimal | None]
    width: int = 480
    height: int = 320
    left: int = 48
    right: int = 8
    top: int = 12
    bottom: int = 32
    top_value: float = 1.0
    ticks: list[dict[str, Any]] = field(default_factory=list)
    labels: list[dict[str, Any]] = field(default_factory=list)
    bars: list[dict[str, Any]] = field(default_factory=list)
    points: list[dict[str, Any]] = field(default_factory=list)
    segments: list[str] = field(default_factory=list)

    @property
    def bottom_y(self) -> int:
        return self.height - self.bottom

    @property
    def right_x(self) -> int:
        return self.width - self.right

    @property
    def tick_x(self) -> int:
        return self.left - 6

    @property
    def label_y(self) -> int:
        return self.bottom_y + 20

    @property
    def has_figures(self) -> bool:
        return any(v is not None for v in self.values)

    def y(self, value: Decimal | float) -> float:
        plot = self.bottom_y - self.top
        return round(self.bottom_y - float(value) / self.top_value * plot, 1)


def month_chart(
    *,
    slug: str,
    title: str,
    summary: str,
    kind: str,
    months: list[datetime.date],
    values: list[Decimal | None],
    top_value: float | None = None,
    label: Callable[[float], str] = _compact,
    period_label: Callable[[datetime.date], str] | None = None,
) -> MonthChart:
    """`months` are the first days of the periods drawn (months, or quarters with
    `period_label` naming them on the axis; by default the month's short name)."""
    chart = MonthChart(
        slug=slug, title=title, summary=summary, kind=kind, months=months, values=values
    )
    highest = top_value or float(max((v for v in values if v is not None), default=Decimal(1)))
    step = _nice_step(highest or 1.0)
    chart.top_value = step * math.ceil((highest or 1.0) / step)
    chart.ticks = [
        {"y": chart.y(step * i), "label": label(step * i)}
        for i in range(round(chart.top_value / step) + 1)
    ]
    slot = (chart.right_x - chart.left) / max(len(months), 1)
    every = math.ceil(len(months) / 12)  # at most 12 month labels, so they never overlap
    segment: list[str] = []
    for i, (month, value) in enumerate(zip(months, values, strict=True)):
        centre = round(chart.left + slot * (i + 0.5), 1)
        if i % every == 0:
            text = period_label(month) if period_label else f"{month:%b}"
            chart.labels.append({"x": centre, "text": text})
        if value is None:
            if segment:
                chart.segments.append(" ".join(segment))
            segment = []
            continue
        y = chart.y(value)
        if kind == "bars":
            width = slot * 0.6
            chart.bars.append(
                {
                    "x": round(centre - width / 2, 1),
                    "y": y,
                    "width": round(width, 1),
                    "height": round(chart.bottom_y - y, 1),
                }
            )
        else:
            chart.points.append({"x": centre, "y": y})
            segment.append(f"{centre:.1f},{y:.1f}")
    if segment:
        chart.segments.append(" ".join(segment))
    return chart


def _percent(value: float) -> str:
    return f"{value:.0f}%"


# Access ------------------------------------------------------------------------------------


def _provider(request: Request, code: str) -> Provider:
    return _get_by_code(Provider.objects.visible_to(request.user), code)


# The provider's scorecard -------------------------------------------------------------


@dataclass
class ScoreCell:
    expected: int = 0
    received: int = 0
    late: int = 0
    missing: int = 0
    met: int = 0
    missed: int = 0

    def add(self, row: dict[str, Any]) -> None:
        # Spelled out, not a loop of getattr and setattr: three calls for each row of a
        # scorecard of hundreds of clusters.
        self.expected += row["expected"]
        self.received += row["received"]
        self.late += row["late"]
        self.missing += row["missing"]
        self.met += row["met"]
        self.missed += row["missed"]

    @property
    def rate(self) -> Decimal | None:
        return _rate(self.met, self.met + self.missed)

    @property
    def outstanding(self) -> int:
        """Returns not in yet and not yet due."""
        return self.expected - self.received - self.missing


# The grid's cells are written here, not by template tags: a scorecard at scale has
# thousands (300 clusters x 12 months), and a dozen tags each took longer to render than
# the page's queries. The markup is the template's, inline elements one space apart; every
# figure is an int, and the due day is escaped once a month, so nothing else needs escaping.
NO_MEMBERS = (
    '<td class="govuk-table__cell"><span class="govuk-hint govuk-!-margin-0">No members</span></td>'
)


def _score_cell_html(score: ScoreCell | None, due: str) -> str:
    """A cell of the grid: met of received, then its tags; `due` (escaped) the due day."""
    if score is None:
        return NO_MEMBERS
    parts = []
    if score.met or score.missed:
        parts.append(
            f'<span class="app-nowrap">{score.met} of {score.met + score.missed} met</span><br>'
        )
    if score.missed:
        parts.append(f'<strong class="govuk-tag govuk-tag--red">{score.missed} missed</strong>')
    elif score.met:
        parts.append('<strong class="govuk-tag govuk-tag--green">All met</strong>')
    if score.late:
        parts.append(f'<strong class="govuk-tag govuk-tag--orange">{score.late} late</strong>')
    if score.missing:
        parts.append(
            f'<strong class="govuk-tag govuk-tag--purple">{score.missing} missing</strong>'
        )
    if score.outstanding:
        parts.append(f'<span class="govuk-body-s">{score.outstanding} due by {due}</span>')
    return '<td class="govuk-table__cell">' + "\n".join(parts) + "</td>"


def _grid_row_html(scores: list[ScoreCell | None], period: datetime.date) -> SafeString:
    """A month's cells, one for each cluster, as one string for the template."""
    due = escape(dateformat.format(_due(period), "j M"))
    return mark_safe("".join(_score_cell_html(score, due) for score in scores))  # noqa: S308


@login_required
@require_safe
def scorecard(request: Request, code: str) -> HttpResponse:
    """The provider's clusters month by month: returns met and missed, late and missing,
    the compliance rate; a chart of the monthly rate; its persistent breaches."""
    user = request.user
    provider = _provider(request, code)
    if not user.has_perm("servicelevels.view_scorecard", provider):
        raise PermissionDenied(NOT_YOUR_SCORECARD)
    today = timezone.localdate()
    form, start, end, valid = choose_range(request.GET, today=today, months=SCORECARD_MONTHS)
    months = _months(start, end)
    clusters = list(
        Cluster.objects.visible_to(user)
        .filter(provider=provider)
        .select_related("service")
        .order_by("code")
    )
    cells: dict[tuple[str, datetime.date], ScoreCell] = {}
    by_cluster = {c.code: ScoreCell() for c in clusters}
    by_month = {m: ScoreCell() for m in months}
    total = ScoreCell()
    for row in selectors.provider_scorecard(
        provider_id=provider.pk, start=start, end=end, today=today
    ):
        cell = cells.setdefault((row["cluster"], row["period"]), ScoreCell())
        for bucket in (cell, by_cluster.setdefault(row["cluster"], ScoreCell()), total):
            bucket.add(row)
        by_month[row["period"]].add(row)
    grid = []
    for month in months:
        scores = [cells.get((c.code, month)) for c in clusters]
        grid.append(
            {
                "period": month,
                "due": _due(month),
                "cells": [
                    {"cluster": c, "score": score}
                    for c, score in zip(clusters, scores, strict=True)
                ],
                "html": _grid_row_html(scores, month),
            }
        )
    breaches = selectors.persistent_breaches(provider_id=provider.pk, since=start)
    rates = [by_month[m].rate for m in months]
    chart = month_chart(
        slug="compliance-chart",
        title=f"Returns meeting their standard, {provider.name}, by month",
        summary=_rate_summary(months, rates, total.rate),
        kind="bars",
        months=months,
        values=rates,
        top_value=100.0,
        label=_percent,
    )
    return render(
        request,
        "servicelevels/scorecard.html",
        {
            "provider": provider,
            "form": form,
            "start": start,
            "last": previous_month(end),
            "clusters": clusters,
            "grid": grid,
            "by_cluster": [{"cluster": c, "score": by_cluster[c.code]} for c in clusters],
            "by_month": [{"period": m, "score": by_month[m]} for m in months],
            "total": total,
            "chart": chart,
            "breaches": breaches,
            "may_upload": user.has_perm("servicelevels.submit_returns", provider),
        },
        status=200 if valid else 400,
    )


def _rate_summary(
    months: list[datetime.date], rates: list[Decimal | None], overall: Decimal | None
) -> str:
    shown = [(m, r) for m, r in zip(months, rates, strict=True) if r is not None]
    if not shown:
        return f"No returns from {months[0]:%B %Y} to {months[-1]:%B %Y}."
    lowest = min(shown, key=lambda mr: mr[1])
    overall_text = "no" if overall is None else f"{plain(overall)}%"
    return (
        f"From {months[0]:%B %Y} to {months[-1]:%B %Y}, {overall_text} of returns met their "
        f"standard; the lowest month was {lowest[0]:%B %Y} at {plain(lowest[1])}%."
    )


# The upload of returns --------------------------------------------------------------------


def _returns_provider(request: Request, code: str) -> Provider:
    provider = _provider(request, code)
    if not request.user.has_perm("servicelevels.submit_returns", provider):
        raise PermissionDenied(NOT_YOUR_RETURNS)
    return provider


def _upload_key(provider: Provider) -> str:
    return f"servicelevels.returns_upload.{provider.code}"


def _render_upload(
    request: Request, provider: Provider, form: ReturnsUploadForm, status: int = 200
) -> HttpResponse:
    # The standards of the provider's services, named on the page for the `standard` column.
    clusters = list(
        Cluster.objects.visible_to(request.user)
        .filter(provider=provider)
        .select_related("service")
        .order_by("code")
    )
    standards: dict[int, list[Standard]] = {}
    for standard in Standard.objects.visible_to(request.user).filter(
        service_id__in={c.service_id for c in clusters}
    ):
        standard.target_display = plain(standard.target)
        standards.setdefault(standard.service_id, []).append(standard)
    return render(
        request,
        "servicelevels/returns_upload.html",
        {
            "provider": provider,
            "form": form,
            "problems": form.problems if form.is_bound else [],
            "clusters": [
                {"cluster": c, "standards": standards.get(c.service_id, [])} for c in clusters
            ],
            "example_period": format_period(previous_month(timezone.localdate())),
        },
        status=status,
    )


@login_required
def returns_upload(request: Request, code: str) -> HttpResponse:
    """A CSV file of returns: every row is checked and either listed with what is wrong
    with it or shown in a preview; nothing is saved until the preview is confirmed."""
    user = request.user
    provider = _returns_provider(request, code)
    today = timezone.localdate()
    if request.method != "POST":
        return _render_upload(
            request, provider, ReturnsUploadForm(user=user, provider=provider, today=today)
        )
    form = ReturnsUploadForm(request.POST, request.FILES, user=user, provider=provider, today=today)
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
        "servicelevels/returns_preview.html",
        {
            "provider": provider,
            "rows": form.rows,
            "met": sum(1 for row in form.rows if row.met),
            "token": token,
            "filename": filename,
        },
    )


@login_required
@require_POST
def returns_upload_confirm(request: Request, code: str) -> HttpResponse:
    """Save every row of the confirmed preview through `measurements_submit`: all or none."""
    user = request.user
    provider = _returns_provider(request, code)
    key = _upload_key(provider)
    pending = request.session.get(key)
    if not pending or not secrets.compare_digest(
        str(pending.get("token", "")), request.POST.get("token", "")
    ):
        messages.error(request, UPLOAD_EXPIRED)
        return redirect("servicelevels:returns-upload", code=provider.code)
    today = timezone.localdate()
    form = ReturnsUploadForm(
        {}, {}, user=user, provider=provider, today=today, stored=pending["rows"]
    )
    if form.is_valid():
        try:
            saved = measurements_submit(actor=user, rows=[row.as_data() for row in form.rows])
        except ValidationError as error:
            # The service names rows by their place in the list: name them by the file's.
            numbers = [row.number for row in form.rows]
            for place, problems in error.message_dict.items():
                index = int(place.removeprefix("row ")) - 1 if place.startswith("row ") else None
                number = numbers[index] if index is not None and index < len(numbers) else None
                for problem in problems:
                    form.add_error(
                        "file", f"Row {number}: {problem}" if number is not None else problem
                    )
        else:
            del request.session[key]
            messages.success(
                request, RETURNS_SAVED.format(count=len(saved), filename=pending["filename"])
            )
            return redirect(_scorecard_url(provider, [row.period for row in form.rows], today))
    del request.session[key]
    return _render_upload(request, provider, form, status=400)


def _scorecard_url(provider: Provider, periods: list[datetime.date], today: datetime.date) -> str:
    """The scorecard, over the default months or, when the file went further back, from
    its first month (at most 36 months)."""
    url = reverse("servicelevels:scorecard", args=[provider.code])
    first = min(periods)
    start = today.replace(day=1)
    for _ in range(SCORECARD_MONTHS):
        start = previous_month(start)
    if first >= start:
        return url
    last = previous_month(today.replace(day=1))
    floor = last
    for _ in range(35):
        floor = previous_month(floor)
    return f"{url}?start={format_period(max(first, floor))}&end={format_period(last)}"


# A department's service levels --------------------------------------------------------------


@login_required
@require_safe
def department_service_levels(request: Request, code: str) -> HttpResponse:
    """Per cluster and standard, the last 6 complete months met or missed and the
    compliance rate, and the department's persistent breaches. Only the department's
    people, administrators and analysts: for anyone else it does not exist (404)."""
    user = request.user
    department: Department = _get_by_code(Department.objects.visible_to(user), code)
    if not user.has_perm("servicelevels.view_department_service_levels", department):
        raise Http404("No such department.")
    today = timezone.localdate()
    start, end = selectors.window(today)
    months = _months(start, end)
    memberships = list(
        Membership.objects.visible_to(user)
        .filter(department=department, joined_on__lt=end)
        .exclude(leaves_on__lte=start)
        .select_related("cluster__service", "cluster__provider")
        .order_by("cluster__service__name", "cluster__code", "joined_on")
    )
    standards: dict[int, list[Standard]] = {}
    for standard in (
        Standard.objects.visible_to(user)
        .filter(service_id__in={m.cluster.service_id for m in memberships})
        .order_by("name")
    ):
        standard.target_display = plain(standard.target)
        standards.setdefault(standard.service_id, []).append(standard)
    returns = {
        (standard_id, cluster_id, period): (value, met)
        for standard_id, cluster_id, period, value, met in Measurement.objects.visible_to(user)
        .filter(department=department, period__gte=start, period__lt=end)
        .annotate(met_flag=met_expression())
        .values_list("standard_id", "cluster_id", "period", "value", "met_flag")
    }
    breaches = selectors.persistent_breaches(department_id=department.pk)
    ongoing = {(b["cluster"], b["standard"]) for b in breaches if b["ongoing"]}

    groups: dict[int, dict[str, Any]] = {}
    for membership in memberships:
        cluster = membership.cluster
        group = groups.setdefault(
            cluster.pk, {"cluster": cluster, "spans": [], "rows": [], "met": 0, "total": 0}
        )
        group["spans"].append(membership)
    for group in groups.values():
        cluster = group["cluster"]
        for standard in standards.get(cluster.service_id, []):
            row: dict[str, Any] = {
                "standard": standard,
                "cells": [],
                "met": 0,
                "total": 0,
                "breach": (cluster.code, standard.name) in ongoing,
            }
            for month in months:
                member = any(
                    m.joined_on < next_month(month) and (m.leaves_on is None or m.leaves_on > month)
                    for m in group["spans"]
                )
                found = returns.get((standard.pk, cluster.pk, month))
                if found is not None:
                    value, met = found
                    row["total"] += 1
                    row["met"] += int(met)
                    state = "met" if met else "missed"
                elif not member:
                    state, value = "not_member", None
                elif _due(month) < today:
                    state, value = "no_return", None
                else:
                    state, value = "not_due", None
                row["cells"].append(
                    {
                        "period": month,
                        "state": state,
                        "value": None if value is None else plain(value),
                    }
                )
            row["rate"] = _rate(row["met"], row["total"])
            group["met"] += row["met"]
            group["total"] += row["total"]
            group["rows"].append(row)
        group["rate"] = _rate(group["met"], group["total"])
    return render(
        request,
        "servicelevels/department_service_levels.html",
        {
            "department": department,
            "is_own": owns_department(user, department),
            "months": months,
            "groups": list(groups.values()),
            "breaches": breaches,
            "ongoing_count": sum(1 for b in breaches if b["ongoing"]),
        },
    )


# A cluster's performance ------------------------------------------------------------------


def _benefit_of(
    user: User, fiscal_year: str, cluster: Cluster, today: datetime.date
) -> dict[str, Any]:
    """The cluster's benefit total of a fiscal year as the benefits report gives it to this
    user: whole, or its baseline and benefit withheld (with the reason) when fewer than
    three departments contribute and the user does not read every department's figures."""
    report = benefits_seen_by(
        user,
        selectors.benefits(
            fiscal_year=fiscal_year,
            provider_id=cluster.provider_id,
            service_id=cluster.service_id,
            today=today,
        ),
    )
    found = next((c for c in report["clusters"] if c["cluster"] == cluster.code), None)
    return {"fiscal_year": fiscal_year, "figures": found}


@login_required
@require_safe
def cluster_performance(request: Request, code: str) -> HttpResponse:
    """Cost per unit and compliance month by month (charts and their tables), and the
    benefit against the members' baselines this fiscal year and the last complete one.

    Cluster prices (cost per unit, compliance) are public to every signed-in user; the
    benefit is a total over the members' baselines, withheld where it would reveal another
    department's figures (`servicelevels.rules.benefits_seen_by`, as in the API)."""
    user = request.user
    cluster: Cluster = _get_by_code(
        Cluster.objects.visible_to(user).select_related("service", "provider"), code
    )
    today = timezone.localdate()
    form, start, end, valid = choose_range(request.GET, today=today, months=PERFORMANCE_MONTHS)
    months = _months(start, end)

    costs = {
        row["period"]: row
        for row in selectors.cluster_costs(cluster_id=cluster.pk, start=start, end=end)
    }
    compliance = {
        row["period"]: row
        for row in selectors.compliance_by_month(cluster_id=cluster.pk, start=start, end=end)
    }
    rows: list[dict[str, Any]] = []
    for month in months:
        cost = costs.get(month)
        returns = compliance.get(month)
        rows.append(
            {
                "period": month,
                "pool": cost["pool"] if cost else None,
                "units": cost["units"] if cost else None,
                "cost_per_unit": cost["cost_per_unit"] if cost else None,
                "met": returns["met"] if returns else 0,
                "total": returns["total"] if returns else 0,
                "rate": _rate(returns["met"], returns["total"]) if returns else None,
            }
        )
    unit = cluster.service.charging_unit
    cost_values = [r["cost_per_unit"] for r in rows]
    cost_chart = month_chart(
        slug="cost-chart",
        title=f"Cost per {unit}, {cluster.name}, by month",
        summary=_cost_summary(months, cost_values, unit),
        kind="line",
        months=months,
        values=cost_values,
    )
    rate_values = [r["rate"] for r in rows]
    met = sum(r["met"] for r in rows)
    total = sum(r["total"] for r in rows)
    compliance_chart = month_chart(
        slug="compliance-chart",
        title=f"Returns meeting their standard, {cluster.name}, by month",
        summary=_rate_summary(months, rate_values, _rate(met, total)),
        kind="bars",
        months=months,
        values=rate_values,
        top_value=100.0,
        label=_percent,
    )
    current = fiscal_year_of(today)
    last_complete = last_complete_fiscal_year(today)
    return render(
        request,
        "servicelevels/cluster_performance.html",
        {
            "cluster": cluster,
            "form": form,
            "start": start,
            "last": previous_month(end),
            "rows": rows,
            "unit": unit,
            "cost_chart": cost_chart,
            "compliance_chart": compliance_chart,
            "overall_rate": _rate(met, total),
            "benefits": [
                _benefit_of(user, current, cluster, today),
                _benefit_of(user, last_complete, cluster, today),
            ],
            "last_complete": last_complete,
        },
        status=200 if valid else 400,
    )


def _cost_summary(months: list[datetime.date], values: list[Decimal | None], unit: str) -> str:
    shown = [(m, v) for m, v in zip(months, values, strict=True) if v is not None]
    if not shown:
        return f"No cost pools from {months[0]:%B %Y} to {months[-1]:%B %Y}."
    (first_month, first), (last_month, last) = shown[0], shown[-1]
    if len(shown) == 1:
        return f"In {first_month:%B %Y} the cost per {unit} was {first:,.2f}."
    return (
        f"The cost per {unit} went from {first:,.2f} in {first_month:%B %Y} to {last:,.2f} "
        f"in {last_month:%B %Y}."
    )


# The overview ------------------------------------------------------------------------------

# ?sort= keys, the column headers' labels, and whether a column holds text.
OVERVIEW_COLUMNS = [
    ("cluster", "Cluster"),
    ("provider", "Provider"),
    ("cost", "Cost per unit"),
    ("compliance", "Compliance, 6 months"),
    ("benefit", "Benefit"),
    ("self_preference", "Self-preference"),
    ("departures", "Pending departures"),
]
OVERVIEW_SORT_KEYS: dict[str, Callable[[dict[str, Any]], Any]] = {
    "cluster": lambda r: r["cluster"].name.casefold(),
    "provider": lambda r: r["cluster"].provider.name.casefold(),
    "cost": lambda r: r["cost_per_unit"],
    "compliance": lambda r: r["compliance"],
    "benefit": lambda r: r["benefit"],
    "self_preference": lambda r: r["self_preference"],
    "departures": lambda r: r["departures"],
}


def _sorted(rows: list[dict[str, Any]], key: str, descending: bool) -> list[dict[str, Any]]:
    """Rows by a column, with the cluster's name breaking ties; rows without a figure go
    last whichever the direction."""
    get = OVERVIEW_SORT_KEYS[key]
    by_name = sorted(rows, key=OVERVIEW_SORT_KEYS["cluster"])
    present = [r for r in by_name if get(r) is not None]
    absent = [r for r in by_name if get(r) is None]
    return sorted(present, key=get, reverse=descending) + absent


@login_required
@require_safe
def overview(request: Request) -> HttpResponse:
    """Every cluster with its latest cost per unit, 6-month compliance, benefit over the
    last complete fiscal year, self-preference flag and pending departures; sortable by
    each column (`?sort=benefit`, `?sort=-benefit`)."""
    user = request.user
    if not user.has_perm("servicelevels.view_overview"):
        raise PermissionDenied(OVERVIEW_FOR_READERS)
    today = timezone.localdate()
    sort = request.GET.get("sort", "cluster")
    key, descending = sort.removeprefix("-"), sort.startswith("-")
    if key not in OVERVIEW_SORT_KEYS:
        key, descending = "cluster", False

    clusters = list(
        Cluster.objects.visible_to(user).select_related("service", "provider").order_by("code")
    )
    costs = {row["cluster_id"]: row for row in selectors.cluster_costs(latest_only=True)}
    start, end = selectors.window(today)
    rates = selectors.compliance_by_cluster(start=start, end=end)
    fiscal_year = last_complete_fiscal_year(today)
    benefit = {
        row["cluster"]: row
        for row in selectors.benefits(fiscal_year=fiscal_year, today=today)["clusters"]
    }
    preference = {row["cluster"]: row for row in selectors.self_preference(as_of=today)}
    departures = dict(
        cast(ExitRequestQuerySet, ExitRequest.objects.visible_to(user))
        .with_current_status(today)
        .filter(status_now__in=OPEN_STATUSES)
        .order_by()
        .values("from_cluster_id")
        .annotate(count=Count("pk"))
        .values_list("from_cluster_id", "count")
    )
    quarters_start, quarters_end = selectors.default_quarters(today)
    quarters = make_or_buy_seen_by(
        user,
        [],
        selectors.make_or_buy_quarters(start=quarters_start, end=quarters_end, today=today),
    )["quarters"]
    rows = []
    for cluster in clusters:
        cost = costs.get(cluster.pk)
        gain = benefit.get(cluster.code)
        pref = preference.get(cluster.code)
        rows.append(
            {
                "cluster": cluster,
                "cost_per_unit": cost["cost_per_unit"] if cost else None,
                "cost_period": cost["period"] if cost else None,
                "compliance": rates.get(cluster.pk),
                "benefit": gain["benefit"] if gain else None,
                "benefit_flagged": bool(gain and gain["flagged"]),
                "preference": pref,
                # Sorts flagged first when descending; clusters whose host is no member last.
                "self_preference": pref["gap"] if pref else None,
                "departures": departures.get(cluster.pk, 0),
            }
        )
    columns = []
    labels = {**dict(OVERVIEW_COLUMNS), "benefit": f"Benefit, {fiscal_year}"}
    for name, label in labels.items():
        current = name == key
        next_sort = f"-{name}" if current and not descending else name
        columns.append(
            {
                "key": name,
                "label": label,
                "numeric": name in ("cost", "compliance", "benefit", "departures"),
                "href": f"?sort={next_sort}",
                "aria_sort": ("descending" if descending else "ascending") if current else None,
            }
        )
    return render(
        request,
        "servicelevels/overview.html",
        {
            "rows": _sorted(rows, key, descending),
            "columns": columns,
            "sort_label": dict(OVERVIEW_COLUMNS)[key],
            "descending": descending,
            "window_start": start,
            "window_last": previous_month(end),
            "fiscal_year": fiscal_year,
            "quarters": quarters,
            "make_or_buy_chart": _make_or_buy_chart(quarters),
        },
    )


def _quarter_name(start: datetime.date) -> str:
    """'Q1 26' for the quarter starting on 1 April 2026: short, for a chart's axis."""
    label = selectors.quarter_label(start)
    return f"{label[-2:]} {label[2:4]}"


def _make_or_buy_chart(quarters: list[dict[str, Any]]) -> MonthChart:
    values = [q["share_bought"] for q in quarters]
    shown = [(q, v) for q, v in zip(quarters, values, strict=True) if v is not None]
    if not shown:
        summary = "No usage to share out in these quarters."
    else:
        (first, first_share), (last, last_share) = shown[0], shown[-1]
        exits = sum(q["exits_in_house"] or 0 for q in quarters)
        summary = (
            f"The share of usage bought from shared clusters went from {first_share:.1f}% in "
            f"{first['quarter']} to {last_share:.1f}% in {last['quarter']}; {exits} exit"
            f"{'s' if exits != 1 else ''} to in-house took effect over these quarters."
        )
    return month_chart(
        slug="make-or-buy-chart",
        title="Share of usage bought from shared clusters, by quarter",
        summary=summary,
        kind="bars",
        months=[q["starts_on"] for q in quarters],
        values=values,
        top_value=100.0,
        label=_percent,
        period_label=_quarter_name,
    )


# Make or buy: a department's newer in-house estimate --------------------------------------


def department_services(
    user: User, department: Department, today: datetime.date
) -> list[tuple[str, str]]:
    """(code, name) of the services a department is in a cluster of today, as far as this
    user sees its memberships (1 query)."""
    return list(
        Membership.objects.visible_to(user)
        .filter(department=department, joined_on__lte=today)
        .exclude(leaves_on__lte=today)
        .order_by("cluster__service__name")
        .values_list("cluster__service__code", "cluster__service__name")
        .distinct()
    )


@login_required
@require_http_methods(["GET", "POST"])
def in_house_estimate_new(request: Request, code: str) -> HttpResponse:
    """Record a newer in-house estimate of one of the department's services (the form is
    also on the department's page, which posts here): its managers, its deputy minister
    and administrators. A refusal comes back on this page with the form's errors."""
    user = request.user
    department: Department = _get_by_code(Department.objects.visible_to(user), code)
    if not user.has_perm("budgets.add_inhouseestimate", department):
        raise PermissionDenied(NOT_YOUR_ESTIMATE)
    today = timezone.localdate()
    form = InHouseEstimateForm(
        request.POST if request.method == "POST" else None,
        services=department_services(user, department, today),
    )
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                estimate = in_house_estimate_record(actor=user, department=department, **data)
            except ValidationError as refusal:
                attach_service_error(form, refusal, "annual_cost")
            else:
                messages.success(
                    request,
                    ESTIMATE_RECORDED.format(
                        service=estimate.service.name,
                        cost=f"{estimate.annual_cost:,.2f}",
                        day=f"{estimate.estimated_on:%-d %B %Y}",
                    ),
                )
                return redirect(
                    reverse("clusters:department", args=[department.code]) + "#make-or-buy"
                )
        status = 400
    return render(
        request,
        "servicelevels/in_house_estimate_new.html",
        {"department": department, "form": form},
        status=status,
    )
