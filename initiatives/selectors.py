"""Reads of the programme and pilot pages and of their API: the programme with its answers,
its progress month by month, and the benefit to date of the departments that joined; a
pilot's evidence so far. Each runs a fixed number of queries whatever the number of
departments, months or memberships (pinned by tests). The page and the API of a programme
or a pilot ask the same function here, so both doors give the same figures."""

from __future__ import annotations

import calendar
import datetime
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import OuterRef, Prefetch, Subquery, Sum
from django.utils import timezone

from budgets.models import Charge
from clusters.models import Membership
from initiatives.models import (
    Answer,
    Commitment,
    PilotPlan,
    PilotStatus,
    Programme,
    ProgrammeDecision,
    Progress,
)
from initiatives.pilot_evidence import EvidenceView, evidence_seen_by, pilot_evidence
from servicelevels.rules import gate_total, sees_member_row
from sharedsvc.periods import fiscal_year_bounds, fiscal_year_of, month_start, next_month

CENT = Decimal("0.01")


def programme_for_page(user: Any, code: str) -> Programme | None:
    """The programme this user may read, with its service, sponsor and proposer, its
    commitments (with their department, whether each joined in time, `joined_on_time`,
    and when it first joined a cluster of the service, `first_joined_on`) and its board
    cases: three queries."""
    first_joined = (
        Membership.objects.filter(
            department_id=OuterRef("department_id"),
            service_id=OuterRef("programme__service_id"),
        )
        .order_by("joined_on")
        .values("joined_on")[:1]
    )
    return (
        Programme.objects.visible_to(user)
        .select_related("service", "sponsor", "proposed_by")
        .prefetch_related(
            Prefetch(
                "commitments",
                queryset=Commitment.objects.with_joined()
                .annotate(first_joined_on=Subquery(first_joined))
                .select_related("department")
                .order_by("department__code"),
            ),
            Prefetch("decisions", queryset=ProgrammeDecision.objects.select_related("case")),
        )
        .filter(code=code)
        .first()
    )


def progress_of(commitments: list[Commitment], today: datetime.date) -> list[tuple[Any, str]]:
    """Each commitment with its progress on `today` (no query: needs `with_joined`)."""
    return [(c, c.progress_on(today, joined=c.joined_on_time)) for c in commitments]  # type: ignore[attr-defined]


@dataclass
class MonthProgress:
    """At the end of a month (or today, for the current month): how many target
    departments had committed, and how many had joined a cluster of the service. None for
    a month still to come."""

    month: datetime.date
    committed: int | None
    joined: int | None


def _month_end(month: datetime.date) -> datetime.date:
    return month.replace(day=calendar.monthrange(month.year, month.month)[1])


def progress_by_month(
    programme: Programme, commitments: list[Commitment], *, today: datetime.date
) -> list[MonthProgress]:
    """Month by month from the programme's proposal to its target date (or today, if
    later): per month-end, the departments that had answered committed by then
    (`answered_at`) and those whose membership of the service had started by then
    (`first_joined_on`, see `programme_for_page`). No query."""
    first = month_start(timezone.localdate(programme.proposed_at))
    last = month_start(max(programme.target_on, today))
    current = month_start(today)
    rows: list[MonthProgress] = []
    month = first
    while month <= last:
        if month > current:
            rows.append(MonthProgress(month, None, None))
        else:
            cutoff = min(_month_end(month), today)
            committed = sum(
                1
                for c in commitments
                if c.answer == Answer.COMMITTED
                and c.answered_at is not None
                and timezone.localdate(c.answered_at) <= cutoff
            )
            joined = sum(1 for c in commitments if _joined_by(c, cutoff))
            rows.append(MonthProgress(month, committed, joined))
        month = next_month(month)
    return rows


def _joined_by(commitment: Commitment, day: datetime.date) -> bool:
    first: datetime.date | None = getattr(commitment, "first_joined_on", None)
    return first is not None and first <= day


def _baseline_to_date(annual: Decimal, start: datetime.date, end: datetime.date) -> Decimal:
    """The baseline annual cost pro rata to the days of [start, end), each fiscal year's
    days over that year's length (as `servicelevels.selectors.benefits` counts them)."""
    total = Decimal("0")
    day = start
    while day < end:
        fy_start, fy_end = fiscal_year_bounds(fiscal_year_of(day))
        stop = min(end, fy_end)
        total += annual * (stop - day).days / (fy_end - fy_start).days
        day = stop
    return total


def joined_benefits(
    user: Any, programme: Programme, department_ids: list[int], *, today: datetime.date
) -> dict[str, Any]:
    """The benefit to date of the departments that joined (`department_ids`): per
    department, its baselines of the programme's service pro rata to its days of
    membership up to today, what it was charged for the service, and the difference; and
    the total. As `servicelevels.rules` says: a department's row is shown to whom may see
    its private figures, the total withheld where it would reveal other departments'.
    Two queries (none without departments)."""
    if not department_ids:
        return {"rows": [], "total": None}
    memberships = Membership.objects.filter(
        department_id__in=department_ids, service_id=programme.service_id, joined_on__lt=today
    ).values(
        "department_id",
        "department__code",
        "department__name",
        "joined_on",
        "leaves_on",
        "baseline_annual_cost",
    )
    charged = dict(
        Charge.objects.filter(
            department_id__in=department_ids,
            cluster__service_id=programme.service_id,
            period__lte=today,
        )
        .values("department_id")
        .annotate(total=Sum("amount"))
        .values_list("department_id", "total")
    )
    per_department: dict[int, dict[str, Any]] = {}
    for m in memberships:
        end = min(m["leaves_on"] or today, today)
        row = per_department.setdefault(
            m["department_id"],
            {
                "department_id": m["department_id"],
                "department": m["department__code"],
                "name": m["department__name"],
                "baseline": Decimal("0"),
            },
        )
        row["baseline"] += _baseline_to_date(m["baseline_annual_cost"], m["joined_on"], end)
    rows = []
    for department_id, row in sorted(per_department.items(), key=lambda i: i[1]["department"]):
        row["baseline"] = row["baseline"].quantize(CENT)
        row["charged"] = charged.get(department_id) or Decimal("0.00")
        row["benefit"] = row["baseline"] - row["charged"]
        rows.append(row)
    contributors = {row["department_id"] for row in rows}
    total = gate_total(
        user,
        {
            "baseline": sum((r["baseline"] for r in rows), Decimal("0.00")),
            "charged": sum((r["charged"] for r in rows), Decimal("0.00")),
            "benefit": sum((r["benefit"] for r in rows), Decimal("0.00")),
            "flagged": None,
            "contributors": len(contributors),
        },
        contributors,
        contributors,
    )
    return {
        "rows": [r for r in rows if sees_member_row(user, r["department_id"])],
        "total": total if rows else None,
    }


def joined_department_ids(rows: list[tuple[Any, str]]) -> list[int]:
    return [c.department_id for c, progress in rows if progress == Progress.JOINED]


def programme_benefit(user: Any, programme: Programme, *, today: datetime.date) -> dict[str, Any]:
    """The benefit to date of the programme's departments that joined (progress `joined`
    on `today`), as `joined_benefits` gives it to this user: the rows it may see and the
    total, withheld as `servicelevels.rules.gate_total` says. The one computation of the
    programme's page and of `/api/v1/programmes/{code}/benefit/`. Needs the commitments
    prefetched through `Commitment.objects.with_joined()`: two queries (none when no
    department joined)."""
    rows = progress_of(list(programme.commitments.all()), today)
    return joined_benefits(user, programme, joined_department_ids(rows), today=today)


# Pilots -----------------------------------------------------------------------------------

ONGOING = (PilotStatus.RUNNING, PilotStatus.UNDER_REVIEW)


def pilot_is_ongoing(plan: PilotPlan) -> bool:
    """Running or with the board: its evidence so far is compiled on the day. Once decided
    (live or stopped), its board cases keep the evidence it was decided on."""
    return plan.status in ONGOING


def pilot_evidence_so_far(
    user: Any, plan: PilotPlan, *, today: datetime.date
) -> EvidenceView | None:
    """A pilot's evidence compiled on `today`, as this user may see it (`evidence_seen_by`:
    the benefit and the months' baselines, charges and benefit withheld where they would
    reveal another department's figures); None once the pilot is decided. The one
    computation of the pilot's page ("Evidence so far") and of
    `/api/v1/pilot-plans/{service}/evidence/`. For a reader of the pilot's evidence: each
    door asks `initiatives.view_pilot_evidence` first (the page leaves the section out, the
    API answers 404). Five queries (the clusters, returns, pools, charges, memberships)."""
    if not pilot_is_ongoing(plan):
        return None
    return evidence_seen_by(user, pilot_evidence(plan, as_of=today))
