"""Benchmark: a list's whole CSV (`?format=csv`) over a million rows, against PostgreSQL's own
`COPY (SELECT ...) TO STDOUT WITH CSV` of the same columns.

In a throwaway database: the demo (scale 1) and BENCH_CSV_ROWS charges (default 1,000,000)
written by one INSERT ... SELECT over the demo's clusters, departments and months. gunicorn
serves the app (DEBUG off, two sync workers); an analyst downloads `charges/?format=csv`.

- the baseline: COPY of the same columns, formatted by SQL as the API formats them, read
  through psycopg2's `copy_expert`; the two files must be byte for byte the same;
- ours: the download, timed to its first byte and to its last, and the serving worker's
  peak resident memory (VmHWM).

Targets (issue 15): the first byte within 1 s; the worker's peak memory under 150 MB; the
whole file at no less than half COPY's speed (COPY's seconds over ours >= 0.5).

The same for the audit trail (`audit-events/?format=csv`) over BENCH_AUDIT_ROWS events
(default 200,000; the audit triggers write them as the charges are updated). Its baseline is
COPY of the same events' columns from pghistory's events view as PostgreSQL prints them
(the JSON as jsonb text, not the serializer's), so the files are not compared. Also timed,
not a target: COPY of the query the trail's CSV is written by (sharedsvc/api/audit_sql.py),
the database's share of the download.
"""

from __future__ import annotations

import hashlib
import math
import os
import sys
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import (
    Result,
    limit_result,
    ratio_result,
    record,
    served,
    setup_django,
    throwaway_database,
    worker_peak_rss_mb,
)

ROWS = int(os.environ.get("BENCH_CSV_ROWS", "1000000"))
AUDIT_ROWS = int(os.environ.get("BENCH_AUDIT_ROWS", "200000"))
DATABASE = os.environ.get("BENCH_DATABASE_NAME", "sharedsvc_bench_csv")
FIRST_BYTE_S = 1.0
PEAK_MB = 150
MIN_SPEED = 0.5

# The charges' CSV columns as the API writes them (budgets.api.serializers.ChargeSerializer,
# seen by an analyst, who sees every field), in the list's order.
COPY_SQL = """
COPY (
    SELECT c.id, d.code AS department, k.code AS cluster, s.code AS service,
           to_char(c.period, 'YYYY-MM') AS period, c.amount, c.budget_line_id AS budget_line,
           CASE WHEN c.budget_line_id IS NULL THEN 'True' ELSE 'False' END AS unfunded
    FROM budgets_charge c
    JOIN clusters_department d ON d.id = c.department_id
    JOIN clusters_cluster k ON k.id = c.cluster_id
    JOIN clusters_service s ON s.id = k.service_id
    ORDER BY c.period DESC, k.code, d.code
) TO STDOUT WITH (FORMAT csv, HEADER true)
"""


class Sink:
    """Where COPY writes: a running digest and a byte count, nothing kept."""

    def __init__(self) -> None:
        self.digest = hashlib.sha256()
        self.size = 0
        self.head = b""

    def write(self, data: bytes | str) -> None:
        chunk = data.encode() if isinstance(data, str) else data
        # COPY ends its lines with \n, Python's csv (and RFC 4180) with \r\n; no cell here
        # holds a line break.
        chunk = chunk.replace(b"\n", b"\r\n")
        self.digest.update(chunk)
        self.size += len(chunk)
        if len(self.head) < 600:
            self.head += chunk


def make_charges(rows: int) -> None:
    """`rows` charges over the demo's clusters and departments, month after month backwards
    from 2026-03, half of them on no budget line; audit triggers off for the load only."""
    from django.db import connection

    from budgets.models import ChargebackRun, CostPool
    from clusters.models import Cluster, Department

    pairs = Cluster.objects.count() * Department.objects.count()
    months = math.ceil(rows / pairs)
    pool = CostPool.objects.order_by("pk").first()
    run = ChargebackRun.objects.order_by("pk").first()
    assert pool is not None and run is not None, "the demo has a cost pool and a run"
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM budgets_charge")
        cursor.execute("ALTER TABLE budgets_charge DISABLE TRIGGER USER")
        cursor.execute(
            """
            INSERT INTO budgets_charge
                (cluster_id, department_id, period, amount, budget_line_id, cost_pool_id,
                 run_id, created_at)
            SELECT k.id, d.id, (date '2026-03-01' - make_interval(months => m))::date,
                   ((k.id * 7919 + d.id * 104729 + m * 31) %% 9000000) / 100.0,
                   NULL, %s, %s, now()
            FROM clusters_cluster k CROSS JOIN clusters_department d
                 CROSS JOIN generate_series(0, %s - 1) AS m
            ORDER BY m, k.id, d.id
            LIMIT %s
            """,
            [pool.pk, run.pk, months, rows],
        )
        # Half on a budget line: any line will do, the CSV shows its id.
        cursor.execute(
            "UPDATE budgets_charge SET budget_line_id = (SELECT min(id) FROM budgets_budgetline)"
            " WHERE id % 2 = 0"
        )
        cursor.execute("ALTER TABLE budgets_charge ENABLE TRIGGER USER")
        cursor.execute("ANALYZE budgets_charge")


HEADS: dict[str, bytes] = {}


def copy_baseline() -> tuple[float, str, int]:
    from django.db import connection

    sink = Sink()
    began = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.cursor.copy_expert(COPY_SQL, sink)
    HEADS["COPY"] = sink.head[:600]
    return time.perf_counter() - began, sink.digest.hexdigest(), sink.size


def download(url: str, headers: dict[str, str]) -> tuple[float, float, str, int]:
    """Seconds to the first byte and to the last, the file's digest and size."""
    digest = hashlib.sha256()
    size = 0
    began = time.perf_counter()
    first = None
    request = urllib.request.Request(url, headers=headers)
    with urllib.request.urlopen(request, timeout=600) as response:
        while chunk := response.read(1 << 16):
            if first is None:
                first = time.perf_counter() - began
            if not size:
                HEADS["ours"] = chunk[:600]
            digest.update(chunk)
            size += len(chunk)
    return first or 0.0, time.perf_counter() - began, digest.hexdigest(), size


def bench(url: str) -> int:
    from knox.models import AuthToken

    from budgets.models import Charge
    from sharedsvc.models import User
    from web.demo import build_demo

    build_demo(scale=1)
    began = time.monotonic()
    make_charges(ROWS)
    print(f"{Charge.objects.count():,} charges written in {time.monotonic() - began:.0f} s")
    copy_seconds, copy_digest, copy_size = min(copy_baseline() for _ in range(2))
    print(f"COPY: {copy_size / 1e6:,.1f} MB in {copy_seconds:.2f} s")

    _, key = AuthToken.objects.create(user=User.objects.get(username="analyst"))
    headers = {"Authorization": f"Token {key}"}
    with served(url) as base:
        first, total, digest, size = download(base + "/api/v1/charges/?format=csv", headers)
        peak = worker_peak_rss_mb(base)
    print(
        f"ours: first byte {first:.2f} s, {size / 1e6:,.1f} MB in {total:.1f} s, "
        f"worker peak {peak:.0f} MB"
    )
    identical = digest == copy_digest
    print("the two files are identical" if identical else "THE TWO FILES DIFFER")
    if not identical:
        for name, head in HEADS.items():
            print(f"{name} begins:\n{head.decode(errors='replace')}")
    results = targets(
        f"CSV charges ({ROWS:,} charges)",
        first=first,
        peak=peak,
        copy_seconds=copy_seconds,
        total=total,
        note="" if identical else "; the files differ",
    )
    results[-1].met = results[-1].met and identical
    results += audit_trail(url, headers)
    record("csv_export", results)
    return 0 if all(r.met for r in results) else 1


def audit_trail(url: str, headers: dict[str, str]) -> list[Result]:
    """The audit trail's CSV over AUDIT_ROWS update events of charges."""
    import pghistory.models
    from django.db import connection
    from django.db.models import F

    from budgets.models import Charge
    from sharedsvc.api import audit_sql

    began = time.monotonic()
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE budgets_charge SET amount = amount + 0.01"
            " WHERE id IN (SELECT id FROM budgets_charge ORDER BY id LIMIT %s)",
            [AUDIT_ROWS],
        )
    events = pghistory.models.Events.objects.count()
    print(
        f"{events:,} audit events ({AUDIT_ROWS:,} charge updates in {time.monotonic() - began:.0f} s)"
    )
    assert Charge.objects.exists()
    query = (
        pghistory.models.Events.objects.order_by("-pgh_created_at", "-pgh_id")
        .annotate(url=F("pgh_context__url"))
        .values_list(
            "pgh_slug",
            "pgh_obj_model",
            "pgh_obj_id",
            "pgh_label",
            "pgh_created_at",
            "url",
            "pgh_data",
            "pgh_diff",
        )
    )
    sql, params = query.query.sql_with_params()

    def copy() -> float:
        sink = Sink()
        began = time.perf_counter()
        with connection.cursor() as cursor:
            statement = cursor.mogrify(sql, params).decode()
            cursor.cursor.copy_expert(
                f"COPY ({statement}) TO STDOUT WITH (FORMAT csv, HEADER)", sink
            )
        return time.perf_counter() - began

    copy_seconds = min(copy() for _ in range(2))
    print(f"COPY of the events' columns: {copy_seconds:.2f} s")
    ours_sql, ours_params = audit_sql.trail_sql(
        pghistory.models.Events.objects.order_by(*audit_sql.ORDER),
        "lines",
        f'"{audit_sql.TABLE}"."csv_line"',
    )

    def copy_ours() -> float:
        began = time.perf_counter()
        with connection.cursor() as cursor:
            statement = cursor.mogrify(ours_sql, ours_params).decode()
            cursor.cursor.copy_expert(f"COPY ({statement}) TO STDOUT", Sink())
        return time.perf_counter() - began

    ours_copy_seconds = min(copy_ours() for _ in range(2))
    print(f"COPY of the trail's own query (audit_sql): {ours_copy_seconds:.2f} s")
    with served(url) as base:
        first, total, _, size = download(base + "/api/v1/audit-events/?format=csv", headers)
        peak = worker_peak_rss_mb(base)
    print(
        f"audit trail: first byte {first:.2f} s, {size / 1e6:,.1f} MB in {total:.1f} s, "
        f"worker peak {peak:.0f} MB"
    )
    return targets(
        f"CSV audit trail ({events:,} events)",
        first=first,
        peak=peak,
        copy_seconds=copy_seconds,
        total=total,
        note=(
            f" (COPY of pghistory's view's columns; COPY of the trail's own query"
            f" {ours_copy_seconds:.2f} s)"
        ),
    )


def targets(
    label: str, *, first: float, peak: float, copy_seconds: float, total: float, note: str
) -> list[Result]:
    """The three targets of one list's CSV: first byte, the worker's memory, speed."""
    return [
        limit_result(f"{label}: first byte", ours=first, below=FIRST_BYTE_S, unit="s"),
        limit_result(f"{label}: worker's peak memory", ours=peak, below=PEAK_MB, unit="MB"),
        ratio_result(
            f"{label}: speed against COPY (COPY s / ours s)",
            baseline=1.0,
            ours=copy_seconds / total,
            at_least=MIN_SPEED,
            unit="x",
            note=f"COPY {copy_seconds:.2f} s, ours {total:.1f} s{note}",
        ),
    ]


def main() -> int:
    setup_django()
    from django.conf import settings

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    with throwaway_database(DATABASE) as url:
        return bench(url)


if __name__ == "__main__":
    sys.exit(main())
