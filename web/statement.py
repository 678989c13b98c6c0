"""The annual benefits statement (issue 14): for one fiscal year, the benefit by service and
cluster against baseline, the cost per unit and its trend, compliance with the standards,
the departures and their reasons, the board's decisions and the programmes' progress.

One function, `benefits_statement(user, fiscal_year, today=...)`, builds it from the apps'
selectors, as the reader may see it: every figure is decided by the gate that decides it
elsewhere (`servicelevels.rules.benefits_seen_by` for baselines and benefits,
`ExitRequest.objects.visible_to` and `Case.objects.visible_to` for rows, `sees_total_over`
for counts over departments), so the page, its CSV and the API give the same figures. It
runs a fixed number of queries whatever the number of clusters, departures, cases or
programmes (pinned by tests/web/test_statement.py).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import Count
from django.utils import timezone

from clusters.models import Cluster
from clusters.rules import WITHHELD, sees_total_over
from defection.models import ExitRequest, ExitStatus, Reason
from governance.models import Case, CaseStatus
from governance.subjects import subject_of, subject_title_related
from initiatives.models import Commitment, Programme, Progress
from servicelevels.rules import benefits_seen_by
from servicelevels.selectors import benefits, cluster_year_costs, compliance_by_cluster
from sharedsvc.periods import fiscal_year_bounds, fiscal_year_label, parse_fiscal_year

# A departure is a request whose leave date falls in the year and that takes (or took)
# effect: scheduled, or completed once its date has passed. Refused, lapsed and withdrawn
# requests leave nobody.
DEPARTED = (ExitStatus.SCHEDULED, ExitStatus.COMPLETED)
REASONS = [value for value, _ in Reason.choices]
PROGRESSES = [value for value, _ in Progress.choices]
PERCENT = Decimal("0.1")

# The statement's tables, in the order of the page: name -> title. The CSV downloads and
# the API's `table` parameter use these names.
TABLES: dict[str, str] = {
    "services": "Benefit by service",
    "clusters": "Benefit by cluster",
    "members": "Benefit by membership",
    "costs": "Cost per unit",
    "compliance": "Compliance with the standards",
    "departure-reasons": "Departures by reason",
    "departures": "Departures",
    "decisions": "Board decisions",
    "programmes": "Programme progress",
}


@dataclass(frozen=True)
class Year:
    """A fiscal year of the statement: its label, its days [start, end), the day its
    figures stand on (`as_of`: its last day, or today while it runs) and the year before."""

    label: str
    start: datetime.date
    end: datetime.date
    as_of: datetime.date
    previous: str
    complete: bool

    @property
    def last_day(self) -> datetime.date:
        return self.end - datetime.timedelta(days=1)


def statement_year(fiscal_year: str, *, today: datetime.date) -> Year:
    """The year of `fiscal_year` ('2025-26'); a malformed one is a ValidationError."""
    start_year = parse_fiscal_year(fiscal_year)
    start, end = fiscal_year_bounds(fiscal_year)
    return Year(
        label=fiscal_year,
        start=start,
        end=end,
        as_of=min(today, end - datetime.timedelta(days=1)),
        previous=fiscal_year_label(start_year - 1),
        complete=today >= end,
    )


def _change(before: Decimal | None, after: Decimal | None) -> Decimal | None:
    """The change from `before` to `after`, in per cent of `before`."""
    if before is None or after is None or not before:
        return None
    return ((after - before) * 100 / before).quantize(PERCENT)


def _costs(year: Year, previous_start: datetime.date) -> dict[int, dict[str, Any]]:
    """Per cluster: its cost per unit in the year's first and last months with a price, the
    change between them, and its average over the year (its pools over its units) against
    the year before's. One query (`cluster_year_costs`)."""
    costs = {}
    for row in cluster_year_costs(start=year.start, end=year.end, previous_start=previous_start):
        first = row["first_cost_per_unit"]
        last = row["last_cost_per_unit"]
        average = row["average_cost_per_unit"]
        previous = row["previous_average_cost_per_unit"]
        costs[row["cluster_id"]] = {
            "months": row["months"],
            "first_period": row["first_period"],
            "first_cost_per_unit": first,
            "last_period": row["last_period"],
            "last_cost_per_unit": last,
            "change_in_year": _change(first, last),
            "average_cost_per_unit": average,
            "previous_average_cost_per_unit": previous,
            "change_on_previous_year": _change(previous, average),
        }
    return costs


def _departures(user, year: Year, clusters: dict[int, dict[str, Any]]) -> dict[str, Any]:
    """The departures of the year: the rows this user may see (the reason only on those
    seen whole), and per cluster the count by reason over every departure, shown where the
    user sees each request counted whole or where at least three departments make it
    (`sees_total_over`), withheld otherwise. Two queries."""
    in_year = ExitRequest.objects.filter(
        leave_on__gte=year.start, leave_on__lt=year.end, status__in=DEPARTED
    )
    rows = []
    seen_whole: set[int] = set()
    for request in (
        in_year.visible_to(user)
        .with_seen_whole(user)
        .select_related("department", "from_cluster", "to_cluster", "to_provider")
        .order_by("leave_on", "from_cluster__code", "department__code", "pk")
    ):
        whole = user.has_perm("defection.view_exitrequest_whole", request)
        if whole:
            seen_whole.add(request.pk)
        destination = request.to_cluster or request.to_provider
        rows.append(
            {
                "id": request.pk,
                "department": request.department.code,
                "department_name": request.department.name,
                "from_cluster": request.from_cluster.code,
                "destination": request.destination,
                "destination_label": request.get_destination_display(),
                "to": destination.code if destination is not None else None,
                "leave_on": request.leave_on,
                "status": request.current_status,
                "status_label": ExitStatus(request.current_status).label,
                "reason": request.reason if whole else None,
                "reason_label": request.get_reason_display() if whole else None,
            }
        )
    counted: dict[int, list[dict[str, Any]]] = {}
    for row in in_year.values("pk", "from_cluster_id", "department_id", "reason"):
        counted.setdefault(row["from_cluster_id"], []).append(row)
    groups = [
        (clusters.get(cluster_id), requests)
        for cluster_id, requests in sorted(
            counted.items(),
            key=lambda item: clusters[item[0]]["code"] if item[0] in clusters else "",
        )
    ]
    everyone = [request for requests in counted.values() for request in requests]
    reasons = [_reason_counts(user, cluster, requests, seen_whole) for cluster, requests in groups]
    if everyone:
        reasons.append(_reason_counts(user, None, everyone, seen_whole))
    return {"rows": rows, "reasons": reasons}


def _reason_counts(
    user, cluster: dict[str, Any] | None, requests: list[dict[str, Any]], seen_whole: set[int]
) -> dict[str, Any]:
    departments = {request["department_id"] for request in requests}
    shown = {request["pk"] for request in requests} <= seen_whole or sees_total_over(
        user, departments
    )
    counts: dict[str, int | None] = dict.fromkeys(REASONS, 0)
    for request in requests:
        counts[request["reason"]] = (counts[request["reason"]] or 0) + 1
    row: dict[str, Any] = {
        "cluster": cluster["code"] if cluster is not None else None,
        "cluster_name": cluster["name"] if cluster is not None else "Every cluster",
        "departures": len(requests),
        "contributors": len(departments),
        **counts,
        "withheld": None,
    }
    if not shown:
        row.update(dict.fromkeys(REASONS), withheld=WITHHELD)
    return row


def _decisions(user, year: Year) -> list[dict[str, Any]]:
    """The cases this user may read that the board decided in the year, named by their
    subjects (fetched with the cases: one query; only what the titles read, since a join of
    every subject's every path costs more to plan than to run)."""
    zone = timezone.get_current_timezone()
    start = datetime.datetime.combine(year.start, datetime.time.min, tzinfo=zone)
    end = datetime.datetime.combine(year.end, datetime.time.min, tzinfo=zone)
    cases = (
        Case.objects.visible_to(user)
        .filter(decided_at__gte=start, decided_at__lt=end)
        .exclude(status=CaseStatus.OPEN)
        .select_related(*subject_title_related())
        .order_by("decided_at", "pk")
    )
    rows = [
        {
            "case": case.pk,
            "kind": case.kind,
            "kind_label": case.get_kind_display(),
            "title": subject_of(case).title(case),
            "outcome": case.status,
            "outcome_label": case.get_status_display(),
            "decided_on": timezone.localdate(case.decided_at),
        }
        for case in cases
    ]
    return rows


def _programmes(user, year: Year) -> list[dict[str, Any]]:
    """The programmes proposed by the year's end, each with its target departments counted
    by progress on `year.as_of` (`Commitment.objects.with_progress`). Two queries."""
    proposed_by = datetime.datetime.combine(
        year.end, datetime.time.min, tzinfo=timezone.get_current_timezone()
    )
    programmes = list(
        Programme.objects.visible_to(user)
        .filter(proposed_at__lt=proposed_by)
        .select_related("service")
        .order_by("code")
    )
    counts: dict[int, dict[str, int]] = {}
    for row in (
        Commitment.objects.visible_to(user)
        .filter(programme__in=[programme.pk for programme in programmes])
        .with_progress(year.as_of)
        .order_by()
        .values("programme_id", "progress")
        .annotate(departments=Count("pk"))
    ):
        counts.setdefault(row["programme_id"], {})[row["progress"]] = row["departments"]
    rows = []
    for programme in programmes:
        by_progress = {
            progress: counts.get(programme.pk, {}).get(progress, 0) for progress in PROGRESSES
        }
        rows.append(
            {
                "programme": programme.code,
                "name": programme.name,
                "service": programme.service.code,
                "status": programme.status,
                "status_label": programme.get_status_display(),
                "target_on": programme.target_on,
                **by_progress,
                "departments": sum(by_progress.values()),
            }
        )
    return rows


def benefits_statement(
    user, fiscal_year: str, *, today: datetime.date | None = None
) -> dict[str, Any]:
    """The statement of `fiscal_year` as `user` may see it: a dict of the year and its
    tables (`TABLES`), each a list of plain rows. A malformed year is a ValidationError.
    Twelve queries at most, whatever the data: benefits (two, one when the year is the
    last complete one), cost pools (one), compliance (two), clusters (one), departures
    (two), decisions (one), programmes (two), and the gate's own (a department person's
    board seat, once)."""
    today = today or timezone.localdate()
    year = statement_year(fiscal_year, today=today)
    previous_start, _ = fiscal_year_bounds(year.previous)
    report = benefits_seen_by(user, benefits(fiscal_year=year.label, today=today))
    # Plain rows, not models: hundreds of clusters at scale, and only these columns read.
    clusters = {
        cluster["pk"]: cluster
        for cluster in Cluster.objects.visible_to(user)
        .order_by("code")
        .values("pk", "code", "name", "service__code", "service__charging_unit", "provider__code")
    }
    costs = _costs(year, previous_start)
    rates = compliance_by_cluster(start=year.start, end=year.end)
    previous_rates = compliance_by_cluster(start=previous_start, end=year.start)
    cost_rows = []
    compliance_rows = []
    for cluster_id, cluster in clusters.items():
        named = {
            "cluster": cluster["code"],
            "cluster_name": cluster["name"],
            "service": cluster["service__code"],
            "charging_unit": cluster["service__charging_unit"],
            "provider": cluster["provider__code"],
        }
        if cluster_id in costs:
            cost_rows.append({**named, **costs[cluster_id]})
        if cluster_id in rates or cluster_id in previous_rates:
            rate = rates.get(cluster_id)
            previous = previous_rates.get(cluster_id)
            compliance_rows.append(
                {
                    **named,
                    "compliance_rate": rate,
                    "previous_compliance_rate": previous,
                    "change": None if rate is None or previous is None else rate - previous,
                }
            )
    departures = _departures(user, year, clusters)
    return {
        "fiscal_year": year.label,
        "year": year,
        # The year whose negative benefit flags a cluster (the last complete one).
        "flag_year": report["last_complete_fiscal_year"],
        "tables": {
            "services": report["services"],
            "clusters": report["clusters"],
            "members": report["members"],
            "costs": cost_rows,
            "compliance": compliance_rows,
            "departure-reasons": departures["reasons"],
            "departures": departures["rows"],
            "decisions": _decisions(user, year),
            "programmes": _programmes(user, year),
        },
    }
