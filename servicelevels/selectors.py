"""Reports computed in SQL: a fixed number of queries whatever the data (pinned by tests).

Every function returns plain rows (dicts) with organisational references as codes.
"""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

from django.db import connection
from django.utils import timezone

from sharedsvc.periods import (
    fiscal_year_bounds,
    last_complete_fiscal_year,
    month_start,
    next_month,
    previous_month,
)

# A measurement is met when it reaches its standard's target in the standard's direction.
MET_SQL = (
    "((s.direction = 'higher_is_better' AND m.value >= s.target)"
    " OR (s.direction = 'lower_is_better' AND m.value <= s.target))"
)
RETURN_DAY = 10  # returns are due by the 10th of the next month
SELF_PREFERENCE_GAP = Decimal("10")  # percentage points
WINDOW_MONTHS = 6


def _rows(sql: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        names = [col.name for col in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def last_complete_month(today: datetime.date | None = None) -> datetime.date:
    return previous_month(today or timezone.localdate())


def window(
    as_of: datetime.date | None = None, months: int = WINDOW_MONTHS
) -> tuple[datetime.date, datetime.date]:
    """[first month, month after the last) of the `months` complete months up to as_of."""
    end = month_start(as_of or timezone.localdate())
    start = end
    for _ in range(months):
        start = previous_month(start)
    return start, end


def _rate(met: int, total: int) -> Decimal | None:
    return None if not total else (Decimal(met) * 100 / Decimal(total)).quantize(Decimal("0.1"))


# Persistent breaches ----------------------------------------------------------------

BREACHES_SQL = f"""
WITH misses AS (
    SELECT m.standard_id, m.cluster_id, m.department_id, m.period,
           (EXTRACT(YEAR FROM m.period) * 12 + EXTRACT(MONTH FROM m.period))::int AS month_no
    FROM servicelevels_measurement m
    JOIN clusters_standard s ON s.id = m.standard_id
    WHERE NOT {MET_SQL}
      AND (%(cluster)s::bigint IS NULL OR m.cluster_id = %(cluster)s)
      AND (%(department)s::bigint IS NULL OR m.department_id = %(department)s)
      AND (%(provider)s::bigint IS NULL OR m.cluster_id IN
           (SELECT id FROM clusters_cluster WHERE provider_id = %(provider)s))
), runs AS (
    SELECT misses.*,
           month_no - ROW_NUMBER() OVER (
               PARTITION BY standard_id, cluster_id, department_id ORDER BY period) AS run
    FROM misses
), breaches AS (
    SELECT standard_id, cluster_id, department_id,
           MIN(period) AS started, MAX(period) AS latest, COUNT(*) AS months
    FROM runs
    GROUP BY standard_id, cluster_id, department_id, run
    HAVING COUNT(*) >= 3
)
SELECT b.*, s.name AS standard, c.code AS cluster, d.code AS department, p.code AS provider,
       NOT EXISTS (
           SELECT 1 FROM servicelevels_measurement later
           WHERE later.standard_id = b.standard_id AND later.cluster_id = b.cluster_id
             AND later.department_id = b.department_id AND later.period > b.latest
       ) AS ongoing
FROM breaches b
JOIN clusters_standard s ON s.id = b.standard_id
JOIN clusters_cluster c ON c.id = b.cluster_id
JOIN clusters_provider p ON p.id = c.provider_id
JOIN clusters_department d ON d.id = b.department_id
ORDER BY b.latest DESC, c.code, d.code, s.name
"""


def persistent_breaches(
    *,
    cluster_id: int | None = None,
    department_id: int | None = None,
    provider_id: int | None = None,
) -> list[dict[str, Any]]:
    """Runs of three or more consecutive months in which a standard was missed for a
    department (a month without a return breaks the run). One query."""
    return _rows(
        BREACHES_SQL, {"cluster": cluster_id, "department": department_id, "provider": provider_id}
    )


# Compliance and the provider's scorecard ---------------------------------------------

SCORECARD_SQL = f"""
WITH months AS (
    SELECT generate_series(%(start)s::date, %(end)s::date - interval '1 month', interval '1 month')::date AS period
), expected AS (
    SELECT c.id AS cluster_id, c.code AS cluster, mo.period, st.id AS standard_id, ms.department_id
    FROM clusters_cluster c
    JOIN months mo ON TRUE
    JOIN clusters_standard st ON st.service_id = c.service_id
    JOIN clusters_membership ms ON ms.cluster_id = c.id
         AND ms.joined_on < (mo.period + interval '1 month')::date
         AND (ms.leaves_on IS NULL OR ms.leaves_on > mo.period)
    WHERE c.provider_id = %(provider)s
    GROUP BY c.id, c.code, mo.period, st.id, ms.department_id
)
SELECT e.cluster, e.period,
       COUNT(*) AS expected,
       COUNT(m.id) AS received,
       COUNT(m.id) FILTER (WHERE (m.submitted_at AT TIME ZONE %(tz)s)::date
                           > (e.period + interval '1 month')::date + %(due_day)s - 1) AS late,
       COUNT(*) FILTER (WHERE m.id IS NULL
                        AND (e.period + interval '1 month')::date + %(due_day)s - 1 < %(today)s) AS missing,
       COUNT(m.id) FILTER (WHERE {MET_SQL}) AS met,
       COUNT(m.id) FILTER (WHERE NOT {MET_SQL}) AS missed
FROM expected e
JOIN clusters_standard s ON s.id = e.standard_id
LEFT JOIN servicelevels_measurement m
       ON m.standard_id = e.standard_id AND m.cluster_id = e.cluster_id
      AND m.department_id = e.department_id AND m.period = e.period
GROUP BY e.cluster, e.period
ORDER BY e.cluster, e.period
"""


def provider_scorecard(
    *,
    provider_id: int,
    start: datetime.date,
    end: datetime.date,
    today: datetime.date | None = None,
) -> list[dict[str, Any]]:
    """Per cluster and month in [start, end): returns expected (standards x members active
    that month), received, late (after the 10th of the next month), missing (none and past
    due), met and missed, and the compliance rate. One query."""
    rows = _rows(
        SCORECARD_SQL,
        {
            "provider": provider_id,
            "start": start,
            "end": end,
            "today": today or timezone.localdate(),
            "tz": timezone.get_current_timezone_name(),
            "due_day": RETURN_DAY,
        },
    )
    for row in rows:
        row["compliance_rate"] = _rate(row["met"], row["met"] + row["missed"])
    return rows


COMPLIANCE_SQL = f"""
SELECT c.id AS cluster_id, c.code AS cluster, m.department_id, d.code AS department,
       COUNT(*) FILTER (WHERE {MET_SQL}) AS met, COUNT(*) AS total
FROM servicelevels_measurement m
JOIN clusters_standard s ON s.id = m.standard_id
JOIN clusters_cluster c ON c.id = m.cluster_id
JOIN clusters_department d ON d.id = m.department_id
WHERE m.period >= %(start)s AND m.period < %(end)s
GROUP BY c.id, c.code, m.department_id, d.code
"""


def compliance_by_member(*, start: datetime.date, end: datetime.date) -> list[dict[str, Any]]:
    """Met and total returns per cluster and customer department in [start, end). One query."""
    return _rows(COMPLIANCE_SQL, {"start": start, "end": end})


COMPLIANCE_BY_MONTH_SQL = f"""
SELECT m.period, COUNT(*) FILTER (WHERE {MET_SQL}) AS met, COUNT(*) AS total
FROM servicelevels_measurement m
JOIN clusters_standard s ON s.id = m.standard_id
WHERE m.cluster_id = %(cluster)s AND m.period >= %(start)s AND m.period < %(end)s
GROUP BY m.period
ORDER BY m.period
"""


def compliance_by_month(
    *, cluster_id: int, start: datetime.date, end: datetime.date
) -> list[dict[str, Any]]:
    """A cluster's returns met and received per month in [start, end), over every member:
    its compliance, which is public like its prices. One query."""
    return _rows(COMPLIANCE_BY_MONTH_SQL, {"cluster": cluster_id, "start": start, "end": end})


def compliance_by_cluster(*, start: datetime.date, end: datetime.date) -> dict[int, Decimal | None]:
    totals: dict[int, list[int]] = {}
    for row in compliance_by_member(start=start, end=end):
        met_total = totals.setdefault(row["cluster_id"], [0, 0])
        met_total[0] += row["met"]
        met_total[1] += row["total"]
    return {cluster: _rate(met, total) for cluster, (met, total) in totals.items()}


# Self-preference ----------------------------------------------------------------------

SELF_PREFERENCE_SQL = f"""
SELECT c.id AS cluster_id, c.code AS cluster, p.code AS provider, hd.code AS host_department,
       COUNT(*) FILTER (WHERE m.department_id = p.host_department_id AND {MET_SQL}) AS host_met,
       COUNT(*) FILTER (WHERE m.department_id = p.host_department_id) AS host_total,
       COUNT(*) FILTER (WHERE m.department_id <> p.host_department_id AND {MET_SQL}) AS others_met,
       COUNT(*) FILTER (WHERE m.department_id <> p.host_department_id) AS others_total
FROM clusters_cluster c
JOIN clusters_provider p ON p.id = c.provider_id
JOIN clusters_department hd ON hd.id = p.host_department_id
LEFT JOIN servicelevels_measurement m
       ON m.cluster_id = c.id AND m.period >= %(start)s AND m.period < %(end)s
LEFT JOIN clusters_standard s ON s.id = m.standard_id
WHERE EXISTS (
    SELECT 1 FROM clusters_membership ms
    WHERE ms.cluster_id = c.id AND ms.department_id = p.host_department_id
      AND ms.joined_on < %(end)s AND (ms.leaves_on IS NULL OR ms.leaves_on > %(start)s)
)
  AND (%(provider)s::bigint IS NULL OR p.id = %(provider)s)
  AND (%(service)s::bigint IS NULL OR c.service_id = %(service)s)
GROUP BY c.id, c.code, p.code, hd.code
ORDER BY c.code
"""


def self_preference(
    *,
    as_of: datetime.date | None = None,
    provider_id: int | None = None,
    service_id: int | None = None,
) -> list[dict[str, Any]]:
    """Clusters whose provider's host department is a member: the host's compliance rate
    over the last 6 complete months against the other members'; a gap of more than 10
    percentage points in the host's favour is flagged. One query."""
    start, end = window(as_of)
    rows = []
    for row in _rows(
        SELF_PREFERENCE_SQL,
        {"start": start, "end": end, "provider": provider_id, "service": service_id},
    ):
        host = _rate(row["host_met"], row["host_total"])
        others = _rate(row["others_met"], row["others_total"])
        gap = None if host is None or others is None else host - others
        rows.append(
            {
                "cluster": row["cluster"],
                "provider": row["provider"],
                "host_department": row["host_department"],
                "host_rate": host,
                "others_rate": others,
                "gap": gap,
                "flagged": gap is not None and gap > SELF_PREFERENCE_GAP,
                "from_period": start,
                "to_period": previous_month(end),
            }
        )
    return rows


# Benefits -----------------------------------------------------------------------------

BENEFITS_SQL = """
WITH fy AS (SELECT %(start)s::date AS start, %(end)s::date AS finish),
members AS (
    SELECT ms.id, ms.department_id, ms.cluster_id, ms.baseline_annual_cost,
           GREATEST(0, LEAST(COALESCE(ms.leaves_on, fy.finish), fy.finish)
                       - GREATEST(ms.joined_on, fy.start)) AS days
    FROM clusters_membership ms, fy
    WHERE ms.joined_on < fy.finish AND (ms.leaves_on IS NULL OR ms.leaves_on > fy.start)
      AND (%(service)s::bigint IS NULL OR ms.service_id = %(service)s)
), charged AS (
    SELECT ch.department_id, ch.cluster_id, SUM(ch.amount) AS charged
    FROM budgets_charge ch, fy
    WHERE ch.period >= fy.start AND ch.period < fy.finish
    GROUP BY ch.department_id, ch.cluster_id
), per_member AS (
    SELECT m.department_id, m.cluster_id,
           SUM(m.baseline_annual_cost * m.days / (fy.finish - fy.start)) AS baseline
    FROM members m, fy
    GROUP BY m.department_id, m.cluster_id
)
SELECT pm.department_id, d.code AS department, c.code AS cluster, sv.code AS service,
       p.code AS provider, ROUND(pm.baseline, 2) AS baseline, COALESCE(ch.charged, 0) AS charged,
       ROUND(pm.baseline, 2) - COALESCE(ch.charged, 0) AS benefit
FROM per_member pm
JOIN clusters_department d ON d.id = pm.department_id
JOIN clusters_cluster c ON c.id = pm.cluster_id
JOIN clusters_service sv ON sv.id = c.service_id
JOIN clusters_provider p ON p.id = c.provider_id
LEFT JOIN charged ch ON ch.department_id = pm.department_id AND ch.cluster_id = pm.cluster_id
WHERE (%(provider)s::bigint IS NULL OR c.provider_id = %(provider)s)
  AND (%(department)s::bigint IS NULL OR pm.department_id = %(department)s)
ORDER BY c.code, d.code
"""


def benefits(
    *,
    fiscal_year: str,
    service_id: int | None = None,
    provider_id: int | None = None,
    department_id: int | None = None,
    today: datetime.date | None = None,
) -> dict[str, Any]:
    """Per membership (department and cluster) in a fiscal year: the baseline pro rata to
    days of membership, what was charged, and the benefit; summed per cluster and per
    service, each total with the ids of the departments that contribute to it
    (`departments`; `flag_departments` for the flag's year). A cluster whose benefit over
    the last fiscal year complete on `today` is negative is flagged. Two queries (one when
    that is the year asked for). Unscoped: doors ask
    `servicelevels.rules` which rows and totals a reader sees."""
    start, end = fiscal_year_bounds(fiscal_year)
    params = {
        "start": start,
        "end": end,
        "service": service_id,
        "provider": provider_id,
        "department": department_id,
    }
    members = _rows(BENEFITS_SQL, params)
    last_complete = last_complete_fiscal_year(today or timezone.localdate())
    if last_complete == fiscal_year:
        flag_rows = members
    else:
        lc_start, lc_end = fiscal_year_bounds(last_complete)
        flag_rows = _rows(BENEFITS_SQL, {**params, "start": lc_start, "end": lc_end})
    negative: dict[str, Decimal] = {}
    flag_departments: dict[str, set[int]] = {}
    for row in flag_rows:
        negative[row["cluster"]] = negative.get(row["cluster"], Decimal("0")) + row["benefit"]
        flag_departments.setdefault(row["cluster"], set()).add(row["department_id"])
    clusters: dict[str, dict[str, Any]] = {}
    services: dict[str, dict[str, Any]] = {}
    for row in members:
        for key, bucket in ((row["cluster"], clusters), (row["service"], services)):
            total = bucket.setdefault(
                key,
                {
                    "baseline": Decimal("0"),
                    "charged": Decimal("0"),
                    "benefit": Decimal("0"),
                    "departments": set(),
                },
            )
            total["baseline"] += row["baseline"]
            total["charged"] += row["charged"]
            total["benefit"] += row["benefit"]
            total["departments"].add(row["department_id"])
        clusters[row["cluster"]].update(service=row["service"], provider=row["provider"])
    for code, total in clusters.items():
        total["cluster"] = code
        total["flagged"] = negative.get(code, Decimal("0")) < 0
        total["flag_departments"] = flag_departments.get(code, set())
    for totals in (clusters, services):
        for total in totals.values():
            total["contributors"] = len(total["departments"])
    return {
        "fiscal_year": fiscal_year,
        "last_complete_fiscal_year": last_complete,
        "members": members,
        "clusters": sorted(clusters.values(), key=lambda r: r["cluster"]),
        "services": [{"service": code, **total} for code, total in sorted(services.items())],
    }


# Cluster costs and alternatives -------------------------------------------------------

CLUSTER_COSTS_SQL = """
SELECT c.id AS cluster_id, c.code AS cluster, sv.code AS service, p.code AS provider, cp.period,
       cp.amount AS pool,
       (SELECT COALESCE(SUM(ms.usage_units), 0) FROM clusters_membership ms
         WHERE ms.cluster_id = c.id AND ms.joined_on < (cp.period + interval '1 month')::date
           AND (ms.leaves_on IS NULL OR ms.leaves_on > cp.period)) AS units
FROM budgets_costpool cp
JOIN clusters_cluster c ON c.id = cp.cluster_id
JOIN clusters_service sv ON sv.id = c.service_id
JOIN clusters_provider p ON p.id = c.provider_id
WHERE (%(start)s::date IS NULL OR cp.period >= %(start)s)
  AND (%(end)s::date IS NULL OR cp.period < %(end)s)
  AND (%(service)s::bigint IS NULL OR c.service_id = %(service)s)
  AND (%(provider)s::bigint IS NULL OR c.provider_id = %(provider)s)
  AND (%(cluster)s::bigint IS NULL OR c.id = %(cluster)s)
  AND (%(latest)s = FALSE OR cp.period = (SELECT MAX(period) FROM budgets_costpool WHERE cluster_id = c.id))
ORDER BY c.code, cp.period
"""


def cluster_costs(
    *,
    start: datetime.date | None = None,
    end: datetime.date | None = None,
    service_id: int | None = None,
    provider_id: int | None = None,
    cluster_id: int | None = None,
    latest_only: bool = False,
) -> list[dict[str, Any]]:
    """Per cluster and month: the pool, the usage units of members active that month and
    the cost per unit. One query."""
    rows = _rows(
        CLUSTER_COSTS_SQL,
        {
            "start": start,
            "end": end,
            "service": service_id,
            "provider": provider_id,
            "cluster": cluster_id,
            "latest": latest_only,
        },
    )
    for row in rows:
        row["cost_per_unit"] = (
            (row["pool"] / row["units"]).quantize(Decimal("0.0001")) if row["units"] else None
        )
    return rows


ALTERNATIVES_SQL = """
SELECT ms.id AS membership_id, d.code AS department, mine.code AS cluster, sv.code AS service,
       ms.usage_units, other.id AS alternative_id, other.code AS alternative, p.code AS provider,
       p.kind AS provider_kind, other.capacity,
       other.capacity - COALESCE((SELECT SUM(o.usage_units) FROM clusters_membership o
                                   WHERE o.cluster_id = other.id AND o.joined_on <= %(today)s
                                     AND (o.leaves_on IS NULL OR o.leaves_on > %(today)s)), 0) AS room
FROM clusters_membership ms
JOIN clusters_department d ON d.id = ms.department_id
JOIN clusters_cluster mine ON mine.id = ms.cluster_id
JOIN clusters_service sv ON sv.id = mine.service_id
JOIN clusters_cluster other ON other.service_id = mine.service_id AND other.id <> mine.id
JOIN clusters_provider p ON p.id = other.provider_id
WHERE ms.joined_on <= %(today)s AND (ms.leaves_on IS NULL OR ms.leaves_on > %(today)s)
  AND (%(department)s::bigint IS NULL OR ms.department_id = %(department)s)
  AND (%(service)s::bigint IS NULL OR mine.service_id = %(service)s)
  AND (%(provider)s::bigint IS NULL OR other.provider_id = %(provider)s)
ORDER BY d.code, mine.code, other.code
"""


def alternatives(
    *,
    department_id: int | None = None,
    service_id: int | None = None,
    provider_id: int | None = None,
    today: datetime.date | None = None,
) -> list[dict[str, Any]]:
    """For each current membership: the other clusters of its service with room for its
    usage, with their current cost per unit and 6-month compliance rate. Three queries."""
    today = today or timezone.localdate()
    candidates = _rows(
        ALTERNATIVES_SQL,
        {
            "today": today,
            "department": department_id,
            "service": service_id,
            "provider": provider_id,
        },
    )
    costs = {row["cluster_id"]: row["cost_per_unit"] for row in cluster_costs(latest_only=True)}
    start, end = window(today)
    rates = compliance_by_cluster(start=start, end=end)
    rows = []
    for row in candidates:
        if row["capacity"] is not None and row["room"] < row["usage_units"]:
            continue
        rows.append(
            {
                "membership_id": row["membership_id"],
                "department": row["department"],
                "cluster": row["cluster"],
                "service": row["service"],
                "usage_units": row["usage_units"],
                "alternative": row["alternative"],
                "provider": row["provider"],
                "psoa": row["provider_kind"] == "psoa",
                "room": row["room"] if row["capacity"] is not None else None,
                "cost_per_unit": costs.get(row["alternative_id"]),
                "compliance_rate": rates.get(row["alternative_id"]),
            }
        )
    return rows


def viable_alternative_counts(
    *, department_id: int, today: datetime.date | None = None
) -> dict[str, int]:
    """How many alternatives each of a department's current memberships has, by cluster code."""
    counts: dict[str, int] = {}
    for row in alternatives(department_id=department_id, today=today):
        counts[row["cluster"]] = counts.get(row["cluster"], 0) + 1
    return counts


__all__ = [
    "alternatives",
    "benefits",
    "cluster_costs",
    "compliance_by_cluster",
    "compliance_by_member",
    "compliance_by_month",
    "last_complete_month",
    "next_month",
    "persistent_breaches",
    "provider_scorecard",
    "self_preference",
    "viable_alternative_counts",
    "window",
]
