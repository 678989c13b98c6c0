"""Reports computed in SQL: a fixed number of queries whatever the data (pinned by tests).

Every function returns plain rows (dicts) with organisational references as codes.
"""

from __future__ import annotations

import datetime
import re
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import EmptyResultSet, ValidationError
from django.db import connection
from django.db.models import QuerySet
from django.utils import timezone

from sharedsvc.periods import (
    fiscal_year_bounds,
    fiscal_year_of,
    last_complete_fiscal_year,
    month_start,
    next_month,
    parse_fiscal_year,
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
CPU = Decimal("0.0001")  # a cost per unit, to 4 places


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
WITH RECURSIVE misses AS (
    SELECT m.standard_id, m.cluster_id, m.department_id, m.period,
           (EXTRACT(YEAR FROM m.period) * 12 + EXTRACT(MONTH FROM m.period))::int AS month_no
    FROM servicelevels_measurement m
    JOIN clusters_standard s ON s.id = m.standard_id
    WHERE NOT {MET_SQL}
      AND (%(since)s::date IS NULL OR m.period >= %(since)s)
      AND (%(cluster)s::bigint IS NULL OR m.cluster_id = %(cluster)s)
      AND (%(department)s::bigint IS NULL OR m.department_id = %(department)s)
      -- An array, not IN (subquery): the planner then reads the provider's clusters' months
      -- through the (cluster, period) index instead of scanning every return.
      AND (%(provider)s::bigint IS NULL OR m.cluster_id = ANY(ARRAY(
           SELECT id FROM clusters_cluster WHERE provider_id = %(provider)s)))
), runs AS (
    SELECT misses.*,
           month_no - ROW_NUMBER() OVER (
               PARTITION BY standard_id, cluster_id, department_id ORDER BY period) AS run
    FROM misses
), spans AS (
    SELECT standard_id, cluster_id, department_id,
           MIN(period) AS started, MAX(period) AS latest, COUNT(*) AS months
    FROM runs
    GROUP BY standard_id, cluster_id, department_id, run
), back AS (
    -- A run that begins on `since` may have begun before it: walk back a month at a time
    -- (one lookup in the returns' unique index each) while the month before was missed.
    SELECT standard_id, cluster_id, department_id, latest, started AS reached, 0 AS extra
    FROM spans
    WHERE started = %(since)s::date
    UNION ALL
    SELECT b.standard_id, b.cluster_id, b.department_id, b.latest, m.period, b.extra + 1
    FROM back b
    JOIN servicelevels_measurement m
      ON m.standard_id = b.standard_id AND m.cluster_id = b.cluster_id
     AND m.department_id = b.department_id AND m.period = (b.reached - interval '1 month')::date
    JOIN clusters_standard s ON s.id = m.standard_id
    WHERE NOT {MET_SQL}
), before AS (
    SELECT standard_id, cluster_id, department_id, latest,
           MIN(reached) AS started, MAX(extra) AS extra
    FROM back
    GROUP BY standard_id, cluster_id, department_id, latest
), breaches AS (
    SELECT sp.standard_id, sp.cluster_id, sp.department_id,
           COALESCE(bf.started, sp.started) AS started, sp.latest,
           sp.months + COALESCE(bf.extra, 0) AS months
    FROM spans sp
    LEFT JOIN before bf
      ON bf.standard_id = sp.standard_id AND bf.cluster_id = sp.cluster_id
     AND bf.department_id = sp.department_id AND bf.latest = sp.latest
    WHERE sp.months + COALESCE(bf.extra, 0) >= 3
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
    since: datetime.date | None = None,
) -> list[dict[str, Any]]:
    """Runs of three or more consecutive months in which a standard was missed for a
    department (a month without a return breaks the run). With `since` (a month's first
    day), only the runs whose latest month is `since` or later, whole (a run begun before
    `since` keeps its start and length); the returns before `since` are read only to
    follow such a run back. One query."""
    return _rows(
        BREACHES_SQL,
        {
            "cluster": cluster_id,
            "department": department_id,
            "provider": provider_id,
            "since": month_start(since) if since is not None else None,
        },
    )


# Compliance and the provider's scorecard ---------------------------------------------

# The grid counts per cluster and month; it does not join each expected return to its
# row. Expected returns are the standards of the cluster's service times the departments
# that were members that month; received ones are the month's returns of a member (of
# the provider's clusters, one read of the window's returns, hashed against the
# memberships). A join per expected return costs an index probe each: tens of thousands
# at scale. The months come as an array, so the planner knows how many there are.
SCORECARD_SQL = f"""
WITH months AS (
    SELECT unnest(%(months)s::date[]) AS period
), members AS (
    SELECT c.id AS cluster_id, c.code AS cluster, c.provider_id, c.service_id, mo.period,
           ms.department_id
    FROM clusters_cluster c
    JOIN months mo ON TRUE
    JOIN clusters_membership ms ON ms.cluster_id = c.id
         AND ms.joined_on < (mo.period + interval '1 month')::date
         AND (ms.leaves_on IS NULL OR ms.leaves_on > mo.period)
    WHERE (%(provider)s::bigint IS NULL OR c.provider_id = %(provider)s)
    GROUP BY c.id, c.code, c.provider_id, c.service_id, mo.period, ms.department_id
), expected AS (
    SELECT mb.cluster_id, mb.cluster, mb.provider_id, mb.period, COUNT(*) * st.standards AS expected
    FROM members mb
    JOIN (SELECT service_id, COUNT(*) AS standards FROM clusters_standard GROUP BY service_id) st
      ON st.service_id = mb.service_id
    GROUP BY mb.cluster_id, mb.cluster, mb.provider_id, mb.period, st.standards
), received AS (
    SELECT m.cluster_id, m.period,
           COUNT(*) AS received,
           COUNT(*) FILTER (WHERE (m.submitted_at AT TIME ZONE %(tz)s)::date
                            > (m.period + interval '1 month')::date + %(due_day)s - 1) AS late,
           COUNT(*) FILTER (WHERE {MET_SQL}) AS met,
           COUNT(*) FILTER (WHERE NOT {MET_SQL}) AS missed
    FROM servicelevels_measurement m
    JOIN clusters_cluster c ON c.id = m.cluster_id
    JOIN clusters_standard s ON s.id = m.standard_id AND s.service_id = c.service_id
    WHERE (%(provider)s::bigint IS NULL OR c.provider_id = %(provider)s)
      AND m.period >= %(start)s AND m.period < %(end)s
      AND EXISTS (
          SELECT 1 FROM clusters_membership ms
          WHERE ms.cluster_id = m.cluster_id AND ms.department_id = m.department_id
            AND ms.joined_on < (m.period + interval '1 month')::date
            AND (ms.leaves_on IS NULL OR ms.leaves_on > m.period)
      )
    GROUP BY m.cluster_id, m.period
)
SELECT e.cluster, e.provider_id, e.period,
       e.expected,
       COALESCE(r.received, 0) AS received,
       COALESCE(r.late, 0) AS late,
       CASE WHEN (e.period + interval '1 month')::date + %(due_day)s - 1 < %(today)s
            THEN e.expected - COALESCE(r.received, 0) ELSE 0 END AS missing,
       COALESCE(r.met, 0) AS met,
       COALESCE(r.missed, 0) AS missed
FROM expected e
LEFT JOIN received r ON r.cluster_id = e.cluster_id AND r.period = e.period
ORDER BY e.cluster, e.period
"""


def _whole_months(start: datetime.date, end: datetime.date) -> list[datetime.date]:
    """The months from `start` (a first day) whose whole month ends by `end`."""
    months = []
    while next_month(start) <= end:
        months.append(start)
        start = next_month(start)
    return months


def provider_scorecard(
    *,
    provider_id: int | None,
    start: datetime.date,
    end: datetime.date,
    today: datetime.date | None = None,
) -> list[dict[str, Any]]:
    """Per cluster and month in [start, end) (`start` a first day) of the provider (of
    every provider with `provider_id=None`, each row with its `provider_id`): returns expected
    (standards x members active that month), received, late (after the 10th of the next
    month), missing (none and past due), met and missed, and the compliance rate. One
    query."""
    rows = _rows(
        SCORECARD_SQL,
        {
            "provider": provider_id,
            "months": _whole_months(start, end),
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


COMPLIANCE_BY_CLUSTER_SQL = f"""
SELECT m.cluster_id, COUNT(*) FILTER (WHERE {MET_SQL}) AS met, COUNT(*) AS total
FROM servicelevels_measurement m
JOIN clusters_standard s ON s.id = m.standard_id
WHERE m.period >= %(start)s AND m.period < %(end)s
GROUP BY m.cluster_id
"""


def compliance_by_cluster(*, start: datetime.date, end: datetime.date) -> dict[int, Decimal | None]:
    """The compliance rate per cluster in [start, end), over every member (the sums of
    `compliance_by_member`, grouped by cluster alone: a few hundred groups, not a group
    per member to sum in Python). One query."""
    return {
        row["cluster_id"]: _rate(row["met"], row["total"])
        for row in _rows(COMPLIANCE_BY_CLUSTER_SQL, {"start": start, "end": end})
    }


# The service-levels report --------------------------------------------------------

# Grouped by the ids alone, the codes and names joined to the groups after: grouping by
# them too sorts every return with five more columns (at 1.1M returns, 1.6 s against 0.6 s).
RETURNS_BY_STANDARD_SQL = """
SELECT g.cluster_id, g.department_id, g.standard_id, g.met, g.total,
       c.code AS cluster_code, p.code AS provider_code, sv.code AS service_code,
       d.code AS department_code, s.name AS standard_name
FROM ({grouped}) g
JOIN clusters_cluster c ON c.id = g.cluster_id
JOIN clusters_provider p ON p.id = c.provider_id
JOIN clusters_service sv ON sv.id = c.service_id
JOIN clusters_department d ON d.id = g.department_id
JOIN clusters_standard s ON s.id = g.standard_id
ORDER BY c.code, d.code, s.name, g.standard_id
"""


def returns_by_standard(grouped: QuerySet) -> list[dict[str, Any]]:
    """The groups of `grouped` (returns, already gated and filtered, as values of
    `cluster_id`, `department_id` and `standard_id` with `met` and `total`) with the codes
    of their cluster, provider, service and department and their standard's name, in
    order of cluster, department and standard. One query."""
    sql, params = grouped.order_by().query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(RETURNS_BY_STANDARD_SQL.format(grouped=sql), params)
        names = [col.name for col in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


# Self-preference ----------------------------------------------------------------------

# Its parameters are positional (start, end, end, start, provider, provider, service,
# service), so that the gate's queryset of clusters (`clusters`) can be read in the same
# statement, its own parameters after them.
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
       ON m.cluster_id = c.id AND m.period >= %s AND m.period < %s
LEFT JOIN clusters_standard s ON s.id = m.standard_id
-- The clusters a provider's host is a member of in the window, found from the providers
-- with a host (a handful), not by a test per cluster: the planner cannot see how few
-- clusters pass that test, and would read every return of the window to join them.
WHERE c.id IN (
    SELECT ms.cluster_id
    FROM clusters_provider hp
    JOIN clusters_membership ms ON ms.department_id = hp.host_department_id
    JOIN clusters_cluster hc ON hc.id = ms.cluster_id AND hc.provider_id = hp.id
    WHERE ms.joined_on < %s AND (ms.leaves_on IS NULL OR ms.leaves_on > %s)
)
  AND (%s::bigint IS NULL OR p.id = %s)
  AND (%s::bigint IS NULL OR c.service_id = %s)
  {{visible}}
GROUP BY c.id, c.code, p.code, hd.code
ORDER BY c.code
"""


def self_preference(
    *,
    as_of: datetime.date | None = None,
    provider_id: int | None = None,
    service_id: int | None = None,
    clusters: QuerySet | None = None,
) -> list[dict[str, Any]]:
    """Clusters whose provider's host department is a member: the host's compliance rate
    over the last 6 complete months against the other members'; a gap of more than 10
    percentage points in the host's favour is flagged. With `clusters` (a queryset of
    clusters, such as the gate's), only those; its rows are read in the same query. One
    query."""
    start, end = window(as_of)
    params: list[Any] = [start, end, end, start, provider_id, provider_id, service_id, service_id]
    visible = ""
    if clusters is not None:
        try:
            subquery, subquery_params = clusters.order_by().values("pk").query.sql_with_params()
        except EmptyResultSet:  # the gate lets nothing through: no query to ask
            return []
        visible = f"AND c.id IN ({subquery})"
        params.extend(subquery_params)
    with connection.cursor() as cursor:
        cursor.execute(SELF_PREFERENCE_SQL.format(visible=visible), params)
        names = [col.name for col in cursor.description]
        found = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    rows = []
    for row in found:
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
        row["cost_per_unit"] = (row["pool"] / row["units"]).quantize(CPU) if row["units"] else None
    return rows


# Per cluster with a pool in [start, end): its months, the first and last of them whose
# members had usage (that month's period, pool and units), and the pools and units of
# [start, end) and of [previous_start, start). A month's units are those of CLUSTER_COSTS_SQL
# (its members active in the month), summed by a join rather than a subquery per pool: one
# row a cluster, not one a cluster and month (at scale 500 rows, not 13,000). A member
# joined by a pool's month (a period is a month's first day) if it joined in or before it:
# its joining month is worked out once a membership, not once a pair of pool and member.
YEAR_COSTS_SQL = """
WITH members AS MATERIALIZED (
    SELECT cluster_id, usage_units, date_trunc('month', joined_on)::date AS joining_month,
           leaves_on
    FROM clusters_membership
), priced AS (
    SELECT cp.cluster_id, cp.period, cp.amount AS pool, COALESCE(SUM(ms.usage_units), 0) AS units
    FROM budgets_costpool cp
    LEFT JOIN members ms
      ON ms.cluster_id = cp.cluster_id AND ms.joining_month <= cp.period
     AND (ms.leaves_on IS NULL OR ms.leaves_on > cp.period)
    WHERE cp.period >= %(previous_start)s AND cp.period < %(end)s
    GROUP BY cp.id
), months AS (
    SELECT *, period >= %(start)s AS current, period >= %(start)s AND units > 0 AS priced
    FROM priced
)
SELECT cluster_id,
       COUNT(*) FILTER (WHERE current) AS months,
       (ARRAY_AGG(period ORDER BY period) FILTER (WHERE priced))[1] AS first_period,
       (ARRAY_AGG(pool ORDER BY period) FILTER (WHERE priced))[1] AS first_pool,
       (ARRAY_AGG(units ORDER BY period) FILTER (WHERE priced))[1] AS first_units,
       (ARRAY_AGG(period ORDER BY period DESC) FILTER (WHERE priced))[1] AS last_period,
       (ARRAY_AGG(pool ORDER BY period DESC) FILTER (WHERE priced))[1] AS last_pool,
       (ARRAY_AGG(units ORDER BY period DESC) FILTER (WHERE priced))[1] AS last_units,
       SUM(pool) FILTER (WHERE current) AS pools,
       SUM(units) FILTER (WHERE current) AS units,
       SUM(pool) FILTER (WHERE NOT current) AS previous_pools,
       SUM(units) FILTER (WHERE NOT current) AS previous_units
FROM months
GROUP BY cluster_id
HAVING COUNT(*) FILTER (WHERE current) > 0
"""


def _per_unit(pool: Decimal | None, units: int | None) -> Decimal | None:
    """Pools over units, to 4 places, as `cluster_costs` gives a month's cost per unit."""
    return (pool / units).quantize(CPU) if units and pool is not None else None


def cluster_year_costs(
    *, start: datetime.date, end: datetime.date, previous_start: datetime.date
) -> list[dict[str, Any]]:
    """Per cluster with a pool in [start, end): its number of months with a pool, its cost
    per unit in the first and last of them with usage (and their periods), and its average
    (pools over units) in [start, end) and in [previous_start, start). The same figures as
    `cluster_costs` over both ranges would give, in one query and one row a cluster."""
    rows = _rows(YEAR_COSTS_SQL, {"start": start, "end": end, "previous_start": previous_start})
    return [
        {
            "cluster_id": row["cluster_id"],
            "months": row["months"],
            "first_period": row["first_period"],
            "first_cost_per_unit": _per_unit(row["first_pool"], row["first_units"]),
            "last_period": row["last_period"],
            "last_cost_per_unit": _per_unit(row["last_pool"], row["last_units"]),
            "average_cost_per_unit": _per_unit(row["pools"], row["units"]),
            "previous_average_cost_per_unit": _per_unit(
                row["previous_pools"], row["previous_units"]
            ),
        }
        for row in rows
    ]


# The room of each cluster is counted once (`used`), not once per pair of a membership and
# another cluster; the pairs without room for the membership's usage are left out here.
ALTERNATIVES_SQL = """
WITH used AS (
    SELECT o.cluster_id, SUM(o.usage_units) AS units
    FROM clusters_membership o
    WHERE o.joined_on <= %(today)s AND (o.leaves_on IS NULL OR o.leaves_on > %(today)s)
    GROUP BY o.cluster_id
)
SELECT ms.id AS membership_id, d.code AS department, mine.code AS cluster, sv.code AS service,
       ms.usage_units, other.code AS alternative, p.code AS provider, p.kind = 'psoa' AS psoa,
       other.capacity - COALESCE(u.units, 0) AS room, other.id AS alternative_id
FROM clusters_membership ms
JOIN clusters_department d ON d.id = ms.department_id
JOIN clusters_cluster mine ON mine.id = ms.cluster_id
JOIN clusters_service sv ON sv.id = mine.service_id
JOIN clusters_cluster other ON other.service_id = mine.service_id AND other.id <> mine.id
JOIN clusters_provider p ON p.id = other.provider_id
LEFT JOIN used u ON u.cluster_id = other.id
WHERE ms.joined_on <= %(today)s AND (ms.leaves_on IS NULL OR ms.leaves_on > %(today)s)
  AND (%(department)s::bigint IS NULL OR ms.department_id = %(department)s)
  AND (%(service)s::bigint IS NULL OR mine.service_id = %(service)s)
  AND (%(provider)s::bigint IS NULL OR other.provider_id = %(provider)s)
  AND (other.capacity IS NULL OR other.capacity - COALESCE(u.units, 0) >= ms.usage_units)
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
    usage (`room` None for an unlimited one), with their current cost per unit and 6-month
    compliance rate. Three queries."""
    today = today or timezone.localdate()
    rows = _rows(
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
    for row in rows:
        alternative = row.pop("alternative_id")
        row["cost_per_unit"] = costs.get(alternative)
        row["compliance_rate"] = rates.get(alternative)
    return rows


def viable_alternative_counts(
    *, department_id: int, today: datetime.date | None = None
) -> dict[str, int]:
    """How many alternatives each of a department's current memberships has, by cluster code."""
    counts: dict[str, int] = {}
    for row in alternatives(department_id=department_id, today=today):
        counts[row["cluster"]] = counts.get(row["cluster"], 0) + 1
    return counts


# Make or buy --------------------------------------------------------------------------

MONTHS_BOUGHT = 12  # buy_cost: the charges of the last 12 complete months
QUARTER_RE = re.compile(r"^(\d{4}-\d{2})-Q([1-4])$")
QUARTER_INVALID = "Enter a quarter as YYYY-YY-Qn, for example 2026-27-Q1."


def add_months(day: datetime.date, months: int) -> datetime.date:
    """The first day of the month `months` after (or before) `day`'s."""
    index = day.year * 12 + day.month - 1 + months
    return datetime.date(index // 12, index % 12 + 1, 1)


def quarter_start(day: datetime.date) -> datetime.date:
    """The first day of the fiscal quarter `day` falls in (quarters of the fiscal year,
    which starts in settings.FISCAL_YEAR_START_MONTH)."""
    offset = (day.month - settings.FISCAL_YEAR_START_MONTH) % 3
    return add_months(month_start(day), -offset)


def quarter_label(start: datetime.date) -> str:
    """'2026-27-Q1' for the quarter that starts on 1 April 2026 (April start)."""
    number = (start.month - settings.FISCAL_YEAR_START_MONTH) % 12 // 3 + 1
    return f"{fiscal_year_of(start)}-Q{number}"


def parse_quarter(value: str) -> datetime.date:
    """'2026-27-Q1' -> the quarter's first day; anything else is a ValidationError."""
    match = QUARTER_RE.match(value.strip()) if isinstance(value, str) else None
    if not match:
        raise ValidationError(QUARTER_INVALID, code="invalid_quarter")
    try:
        start_year = parse_fiscal_year(match.group(1))
    except ValidationError:
        raise ValidationError(QUARTER_INVALID, code="invalid_quarter") from None
    first = datetime.date(start_year, settings.FISCAL_YEAR_START_MONTH, 1)
    return add_months(first, 3 * (int(match.group(2)) - 1))


QUARTERS_SHOWN = 8


def default_quarters(today: datetime.date) -> tuple[datetime.date, datetime.date]:
    """[start, end) of the last 8 fiscal quarters, today's the last."""
    current = quarter_start(today)
    return add_months(current, -3 * (QUARTERS_SHOWN - 1)), add_months(current, 3)


def buy_window(today: datetime.date) -> tuple[datetime.date, datetime.date]:
    """[first month, month after the last) of the 12 complete months before `today`."""
    end = month_start(today)
    return add_months(end, -MONTHS_BOUGHT), end


MAKE_OR_BUY_SQL = """
WITH current AS (
    SELECT ms.id, ms.department_id, ms.cluster_id, ms.service_id, ms.usage_units,
           ms.baseline_annual_cost
    FROM clusters_membership ms
    WHERE ms.joined_on <= %(today)s AND (ms.leaves_on IS NULL OR ms.leaves_on > %(today)s)
      AND (%(department)s::bigint IS NULL OR ms.department_id = %(department)s)
      AND (%(service)s::bigint IS NULL OR ms.service_id = %(service)s)
), estimate AS (
    SELECT DISTINCT ON (e.department_id, e.service_id)
           e.department_id, e.service_id, e.annual_cost, e.estimated_on, e.note
    FROM budgets_inhouseestimate e
    WHERE e.estimated_on <= %(today)s
      AND (%(department)s::bigint IS NULL OR e.department_id = %(department)s)
      AND (%(service)s::bigint IS NULL OR e.service_id = %(service)s)
    ORDER BY e.department_id, e.service_id, e.estimated_on DESC, e.entered_at DESC, e.id DESC
), bought AS (
    SELECT ch.department_id, c.service_id, SUM(ch.amount) AS amount,
           COUNT(DISTINCT ch.period) AS months
    FROM budgets_charge ch
    JOIN clusters_cluster c ON c.id = ch.cluster_id
    WHERE ch.period >= %(start)s AND ch.period < %(end)s
      AND (%(department)s::bigint IS NULL OR ch.department_id = %(department)s)
      AND (%(service)s::bigint IS NULL OR c.service_id = %(service)s)
    GROUP BY ch.department_id, c.service_id
)
SELECT cur.id AS membership_id, cur.department_id, d.code AS department, d.name AS department_name,
       sv.code AS service, sv.name AS service_name, sv.charging_unit, c.code AS cluster,
       c.name AS cluster_name, p.code AS provider, cur.usage_units, cur.baseline_annual_cost,
       e.annual_cost AS estimate, e.estimated_on, e.note AS estimate_note,
       COALESCE(b.amount, 0) AS buy_cost, COALESCE(b.months, 0) AS months_charged
FROM current cur
JOIN clusters_department d ON d.id = cur.department_id
JOIN clusters_cluster c ON c.id = cur.cluster_id
JOIN clusters_service sv ON sv.id = cur.service_id
JOIN clusters_provider p ON p.id = c.provider_id
LEFT JOIN estimate e ON e.department_id = cur.department_id AND e.service_id = cur.service_id
LEFT JOIN bought b ON b.department_id = cur.department_id AND b.service_id = cur.service_id
ORDER BY d.code, sv.code
"""

# The cheapest of the other clusters of each current membership's service with room for
# its usage: at its latest pool over the units it was shared over (cluster_costs' cost per
# unit, to 4 places half to even as Decimal.quantize rounds it: computed exactly from the
# quotient and remainder of the pool in ten-thousandths over the units), times the usage
# times 12, to the cent (half up); the first by code among equally cheap ones. Chosen here,
# not in Python: the options are every pair of a membership and another cluster of its
# service (half a million at 1,000 departments), the answer one row a membership.
MAKE_OR_BUY_OPTIONS_SQL = """
WITH current AS (
    SELECT ms.id, ms.cluster_id, ms.service_id, ms.usage_units
    FROM clusters_membership ms
    WHERE ms.joined_on <= %(today)s AND (ms.leaves_on IS NULL OR ms.leaves_on > %(today)s)
      AND (%(department)s::bigint IS NULL OR ms.department_id = %(department)s)
      AND (%(service)s::bigint IS NULL OR ms.service_id = %(service)s)
), latest AS (
    SELECT DISTINCT ON (cp.cluster_id) cp.cluster_id, cp.period, cp.amount
    FROM budgets_costpool cp
    WHERE cp.cluster_id IN (SELECT o.id FROM clusters_cluster o
                            WHERE o.service_id IN (SELECT service_id FROM current))
    ORDER BY cp.cluster_id, cp.period DESC
), priced AS MATERIALIZED (
    -- The latest pool in hundredths of a cent, and the units it was shared over.
    SELECT l.cluster_id, l.period, l.amount * 10000 AS pool,
           (SELECT COALESCE(SUM(o.usage_units), 0) FROM clusters_membership o
             WHERE o.cluster_id = l.cluster_id AND o.joined_on < (l.period + interval '1 month')::date
               AND (o.leaves_on IS NULL OR o.leaves_on > l.period)) AS units
    FROM latest l
), offer AS MATERIALIZED (
    -- Each priced cluster with its cost per unit and room: once per cluster, not per option.
    SELECT other.id, other.service_id, other.code, other.name, other.capacity,
           p.code AS provider, p.name AS provider_name, pr.period,
           ROUND((DIV(pr.pool, pr.units)
                  + CASE WHEN 2 * MOD(pr.pool, pr.units) > pr.units
                           OR (2 * MOD(pr.pool, pr.units) = pr.units
                               AND MOD(DIV(pr.pool, pr.units), 2) = 1)
                         THEN 1 ELSE 0 END) / 10000, 4) AS cost_per_unit,
           ROW_NUMBER() OVER (ORDER BY other.code) AS code_rank,
           other.capacity - COALESCE((
               SELECT SUM(o.usage_units) FROM clusters_membership o
               WHERE o.cluster_id = other.id AND o.joined_on <= %(today)s
                 AND (o.leaves_on IS NULL OR o.leaves_on > %(today)s)), 0) AS room
    FROM priced pr
    JOIN clusters_cluster other ON other.id = pr.cluster_id
    JOIN clusters_provider p ON p.id = other.provider_id
    WHERE pr.units > 0
), choice AS (
    -- One pass: the least of annual cost in cents x 10^6 + the offer's rank by code is the
    -- cheapest offer, the first by code among equally cheap ones (fewer than 10^6 clusters).
    SELECT cur.id AS membership_id,
           MIN(ROUND(o.cost_per_unit * cur.usage_units * %(months)s, 2) * 100000000
               + o.code_rank) AS choice
    FROM current cur
    JOIN offer o ON o.service_id = cur.service_id AND o.id <> cur.cluster_id
    WHERE o.capacity IS NULL OR o.room >= cur.usage_units
    GROUP BY cur.id
)
SELECT choice.membership_id, o.code AS cluster, o.name AS cluster_name, o.provider,
       o.provider_name, o.period, o.cost_per_unit,
       ROUND(DIV(choice.choice, 1000000) / 100, 2) AS annual_cost
FROM choice JOIN offer o ON o.code_rank = MOD(choice.choice, 1000000)
"""


def _cheaper(make: Decimal, buy: Decimal) -> str:
    if make < buy:
        return "make"
    if buy < make:
        return "buy"
    return "equal"


def make_or_buy(
    *,
    department_id: int | None = None,
    service_id: int | None = None,
    today: datetime.date | None = None,
) -> list[dict[str, Any]]:
    """Per current membership (a department and a service) on `today`:

    - `make_cost`: the department's newest in-house estimate for the service dated on or
      before today, else the membership's `baseline_annual_cost` (`make_basis` says which);
    - `buy_cost`: the department's charges for the service (any cluster) over the 12
      complete months before today, with `months_charged` (fewer when it joined lately);
    - `best_alternative`: the cheapest other cluster of the service with room for the
      department's usage, at its latest cost per unit (as `cluster_costs` gives it) times
      that usage times 12, to the cent; None when no other cluster has room and a price;
    - `difference` = make_cost - buy_cost (above 0: buying costs less), and `cheaper`
      (`make`, `buy` or `equal`).

    Two queries. Unscoped: doors ask `servicelevels.rules.make_or_buy_seen_by`."""
    today = today or timezone.localdate()
    start, end = buy_window(today)
    params = {
        "today": today,
        "start": start,
        "end": end,
        "department": department_id,
        "service": service_id,
    }
    rows = _rows(MAKE_OR_BUY_SQL, params)
    cheapest = {
        option["membership_id"]: option
        for option in _rows(MAKE_OR_BUY_OPTIONS_SQL, {**params, "months": MONTHS_BOUGHT})
    }
    for row in rows:
        estimated = row["estimate"] is not None
        row["make_cost"] = row["estimate"] if estimated else row["baseline_annual_cost"]
        row["make_basis"] = "estimate" if estimated else "baseline"
        row["buy_from"], row["buy_to"] = start, previous_month(end)
        row["difference"] = row["make_cost"] - row["buy_cost"]
        row["cheaper"] = _cheaper(row["make_cost"], row["buy_cost"])
        option = cheapest.get(row["membership_id"])
        row["best_alternative"] = option and {
            "cluster": option["cluster"],
            "cluster_name": option["cluster_name"],
            "provider": option["provider"],
            "provider_name": option["provider_name"],
            "period": option["period"],
            "cost_per_unit": option["cost_per_unit"],
            "annual_cost": option["annual_cost"],
        }
    return rows


MAKE_OR_BUY_QUARTERS_SQL = """
WITH q AS (
    SELECT gs::date AS starts,
           LEAST((gs + interval '3 months')::date - 1, %(today)s::date) AS point
    FROM generate_series(%(start)s::date, %(end)s::date - interval '1 day', interval '3 months') gs
    WHERE gs::date <= %(today)s
), bought AS (
    SELECT q.starts, ms.department_id, ms.service_id, ms.usage_units
    FROM q
    JOIN clusters_membership ms
      ON ms.joined_on <= q.point AND (ms.leaves_on IS NULL OR ms.leaves_on > q.point)
    WHERE (%(department)s::bigint IS NULL OR ms.department_id = %(department)s)
      AND (%(service)s::bigint IS NULL OR ms.service_id = %(service)s)
), gone AS (
    -- The latest exit to in-house of each department and service that had taken effect.
    SELECT DISTINCT ON (q.starts, er.department_id, ms.service_id)
           q.starts, er.department_id, ms.service_id, ms.usage_units
    FROM q
    JOIN defection_exitrequest er
      ON er.destination = 'in_house' AND er.status IN ('scheduled', 'completed')
     AND er.leave_on <= q.point
    JOIN clusters_membership ms ON ms.id = er.membership_id
    WHERE (%(department)s::bigint IS NULL OR er.department_id = %(department)s)
      AND (%(service)s::bigint IS NULL OR ms.service_id = %(service)s)
    ORDER BY q.starts, er.department_id, ms.service_id, er.leave_on DESC, er.id DESC
), made AS (
    SELECT g.* FROM gone g
    WHERE NOT EXISTS (SELECT 1 FROM bought b WHERE b.starts = g.starts
                        AND b.department_id = g.department_id AND b.service_id = g.service_id)
), exits AS (
    SELECT q.starts, er.department_id
    FROM q
    JOIN defection_exitrequest er
      ON er.destination = 'in_house' AND er.status IN ('scheduled', 'completed')
     AND er.leave_on >= q.starts AND er.leave_on <= q.point
    JOIN clusters_membership ms ON ms.id = er.membership_id
    WHERE (%(department)s::bigint IS NULL OR er.department_id = %(department)s)
      AND (%(service)s::bigint IS NULL OR ms.service_id = %(service)s)
)
SELECT q.starts, q.point,
       (SELECT COALESCE(SUM(usage_units), 0) FROM bought b WHERE b.starts = q.starts) AS bought,
       (SELECT COALESCE(SUM(usage_units), 0) FROM made m WHERE m.starts = q.starts) AS made,
       (SELECT COUNT(*) FROM exits x WHERE x.starts = q.starts) AS exits,
       ARRAY(SELECT department_id FROM bought b WHERE b.starts = q.starts
             UNION SELECT department_id FROM made m WHERE m.starts = q.starts) AS departments,
       ARRAY(SELECT DISTINCT department_id FROM exits x WHERE x.starts = q.starts)
           AS exit_departments
FROM q
ORDER BY q.starts
"""


def make_or_buy_quarters(
    *,
    start: datetime.date,
    end: datetime.date,
    department_id: int | None = None,
    service_id: int | None = None,
    today: datetime.date | None = None,
) -> list[dict[str, Any]]:
    """The creep back to making, per fiscal quarter from the one `start` falls in to the
    last that starts before `end`, none after today's (`default_quarters`). At each
    quarter's last day (today for the quarter under way):

    - `units_bought`: the usage units of the memberships current that day;
    - `units_made`: the usage of the departments whose exit to in-house (scheduled or
      completed) had taken effect by then and which were in no cluster of that service
      again that day (their latest such exit's usage);
    - `share_bought`: units_bought over both, in per cent to 0.1 (None without either);
    - `exits_in_house`: the exits to in-house whose leave date fell in the quarter (up
      to that day).

    Each quarter carries `departments`, the ids of the departments whose usage makes its
    figures, for `sees_total_over`. One query."""
    today = today or timezone.localdate()
    rows = _rows(
        MAKE_OR_BUY_QUARTERS_SQL,
        {
            "start": quarter_start(start),
            "end": end,
            "today": today,
            "department": department_id,
            "service": service_id,
        },
    )
    quarters = []
    for row in rows:
        total = row["bought"] + row["made"]
        quarters.append(
            {
                "quarter": quarter_label(row["starts"]),
                "starts_on": row["starts"],
                "as_of": row["point"],
                "units_bought": row["bought"],
                "units_made": row["made"],
                "share_bought": (
                    None
                    if not total
                    else (Decimal(row["bought"]) * 100 / Decimal(total)).quantize(
                        Decimal("0.1"), rounding=ROUND_HALF_UP
                    )
                ),
                "exits_in_house": row["exits"],
                "departments": set(row["departments"]) | set(row["exit_departments"]),
            }
        )
    return quarters


__all__ = [
    "alternatives",
    "benefits",
    "cluster_costs",
    "compliance_by_cluster",
    "compliance_by_member",
    "compliance_by_month",
    "last_complete_month",
    "make_or_buy",
    "make_or_buy_quarters",
    "next_month",
    "persistent_breaches",
    "provider_scorecard",
    "returns_by_standard",
    "self_preference",
    "viable_alternative_counts",
    "window",
]
