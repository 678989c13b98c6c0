"""What every benchmark shares: a throwaway database, a served app, a load generator and the
results file.

Each benchmark (`bench/<name>.py`, run by `bench/run.py` through `make bench`) works in a
database of its own, created and migrated on the configured PostgreSQL server (DATABASE_URL
or the embedded one) and dropped at the end, so the developer's database is never touched.
It measures a baseline and ours in the same run, on the same data, and records each target
as a `Result`; `bench/run.py` prints them as one table and keeps them in
`bench/results.json`, a list of `{"name", "baseline", "ours", "ratio", "target", "met"}`
(with the unit and a note beside them).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(os.environ.get("BENCH_RESULTS", ROOT / "bench" / "results.json"))
WRK = shutil.which("wrk")
# What is measured is the app, not a debug page or the https redirect of a deployment.
SERVED_ENV = {
    "DEBUG": "0",
    "SECRET_KEY": "bench-only-not-a-secret-" + "x" * 40,
    "SECURE_SSL_REDIRECT": "0",
    "SESSION_COOKIE_SECURE": "0",
    "CSRF_COOKIE_SECURE": "0",
    "SECURE_HSTS_SECONDS": "0",
}


def setup_django() -> None:
    """Django with the benchmarks' settings (the app's, plus the bare baseline views)."""
    sys.path.insert(0, str(ROOT))
    for name, value in SERVED_ENV.items():
        os.environ.setdefault(name, value)
    os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings"
    import django

    django.setup()


@dataclass
class Result:
    """One target: the baseline and ours measured in the same run, and their ratio.

    `ratio` is ours over the baseline for a throughput (higher is better) and for a time
    (lower is better) alike; `target` says which way it must go (">= 0.25", "<= 3"). A
    target with no baseline (a time limit such as "p95 < 15 ms") has `ratio` None and its
    limit in `target`.
    """

    name: str
    baseline: float | None
    ours: float
    ratio: float | None
    target: str
    met: bool
    unit: str = ""
    note: str = ""


def ratio_result(
    name: str,
    *,
    baseline: float,
    ours: float,
    at_least: float | None = None,
    at_most: float | None = None,
    unit: str = "",
    note: str = "",
) -> Result:
    ratio = ours / baseline if baseline else float("inf")
    if at_least is not None:
        target, met = f">= {at_least:g}", ratio >= at_least
    else:
        assert at_most is not None
        target, met = f"<= {at_most:g}", ratio <= at_most
    return Result(
        name, round(baseline, 4), round(ours, 4), round(ratio, 4), target, met, unit, note
    )


def limit_result(name: str, *, ours: float, below: float, unit: str, note: str = "") -> Result:
    return Result(name, None, round(ours, 4), None, f"< {below:g} {unit}", ours < below, unit, note)


def record(bench: str, results: list[Result]) -> None:
    """Keep this benchmark's results in the results file (replacing its earlier ones)."""
    kept: list[dict[str, Any]] = []
    if RESULTS.exists():
        kept = [r for r in json.loads(RESULTS.read_text()) if r.get("bench") != bench]
    kept.extend({**asdict(result), "bench": bench} for result in results)
    RESULTS.write_text(json.dumps(kept, indent=2) + "\n")
    for result in results:
        print(format_result(result))


def format_result(result: Result | dict[str, Any]) -> str:
    r = asdict(result) if isinstance(result, Result) else result
    ratio = "" if r["ratio"] is None else f"{r['ratio']:.3g}"
    baseline = "" if r["baseline"] is None else f"{r['baseline']:.4g}"
    return (
        f"  {r['name']:<58} {baseline:>10} {r['ours']:>10.4g} {r['unit']:<6} "
        f"{ratio:>8} {r['target']:>10}  {'met' if r['met'] else 'MISSED'}"
    )


def refuse_main_database(name: str) -> str:
    """The main database's name; a benchmark's own database `name` must not be it."""
    from django.db import connection

    main_database = connection.settings_dict["NAME"]
    if name == main_database:
        raise SystemExit(f"The benchmark database must not be the main one ({main_database}).")
    return main_database


def create_database(name: str, kind: str) -> None:
    """Create database `name` afresh (dropping one of that name) and migrate it, saying so;
    the connection then uses it."""
    from django.db import connection

    connection.settings_dict.setdefault("TEST", {})["NAME"] = name
    print(f"Creating and migrating the {kind} database {name}...", flush=True)
    began = time.monotonic()
    connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    print(f"  ready in {time.monotonic() - began:.0f} s", flush=True)


@contextlib.contextmanager
def throwaway_database(name: str) -> Iterator[str]:
    """Create and migrate database `name`; yield a URL for it; drop it afterwards."""
    from django.db import connection

    main_database = refuse_main_database(name)
    create_database(name, "throwaway")
    try:
        yield url_of(connection.settings_dict)
    finally:
        connection.close()
        connection.creation.destroy_test_db(main_database, verbosity=0)
        print(f"Dropped {name}.", flush=True)


def url_of(settings: dict[str, Any]) -> str:
    user = quote(settings.get("USER") or "", safe="")
    password = settings.get("PASSWORD") or ""
    auth = f"{user}:{quote(password, safe='')}@" if password else (f"{user}@" if user else "")
    # The embedded server's socket directory comes as the URL's `?host=`, which
    # dj-database-url keeps in OPTIONS, not in HOST.
    host = settings.get("HOST") or (settings.get("OPTIONS") or {}).get("host") or ""
    port = f":{settings['PORT']}" if settings.get("PORT") else ""
    if host.startswith("/"):
        # A socket directory (the embedded server): libpq takes it as the host parameter.
        return f"postgres://{auth}{port}/{settings['NAME']}?host={quote(host, safe='')}"
    return f"postgres://{auth}{host}{port}/{settings['NAME']}"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# The gunicorn master of each served base URL, for `worker_peak_rss_mb`.
SERVED: dict[str, int] = {}


def worker_peak_rss_mb(base: str) -> float:
    """The largest peak resident memory (VmHWM) of the workers serving `base`, in MB."""
    master = SERVED[base]
    children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    peaks = []
    for pid in children:
        status = Path(f"/proc/{pid}/status").read_text()
        match = re.search(r"^VmHWM:\s+(\d+) kB", status, re.M)
        if match:
            peaks.append(int(match.group(1)) / 1024)
    return max(peaks)


@contextlib.contextmanager
def served(database_url: str, *, workers: int = 2) -> Iterator[str]:
    """The app under gunicorn (DEBUG off, `workers` sync workers) on a free local port."""
    port = free_port()
    env = {
        **os.environ,
        **SERVED_ENV,
        "DATABASE_URL": database_url,
        "DJANGO_SETTINGS_MODULE": "bench.settings",
        "PYTHONPATH": str(ROOT),
    }
    process = subprocess.Popen(
        [
            str(Path(sys.executable).with_name("gunicorn")),
            "sharedsvc.wsgi",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(workers),
            "--access-logfile",
            "/dev/null",
            "--error-logfile",
            "-",
            "--log-level",
            "warning",
            "--preload",
        ],
        cwd=ROOT,
        env=env,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(base + "/bench/bare/memberships/", timeout=2).read()
                break
            except (urllib.error.URLError, ConnectionError):
                if process.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit("gunicorn did not start; see its messages above.") from None
                time.sleep(0.2)
        SERVED[base] = process.pid
        yield base
    finally:
        SERVED.pop(base, None)
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)


@dataclass
class Load:
    requests_per_second: float
    p50_ms: float
    p95_ms: float
    errors: int


_WRK_REPORT = """
done = function(summary, latency, requests)
  local bad = summary.errors.connect + summary.errors.read + summary.errors.write
    + summary.errors.status + summary.errors.timeout
  io.write(string.format("BENCH %d %f %f %f %d\\n", summary.requests, summary.duration,
    latency:percentile(50), latency:percentile(95), bad))
end
"""


def wrk(
    url: str, *, seconds: int = 8, connections: int = 4, headers: dict[str, str] | None = None
) -> Load:
    """`wrk` against one URL: requests per second, median and 95th-percentile latency.

    Non-2xx answers count as errors (a benchmark of a 401 would measure nothing).
    """
    if WRK is None:
        raise SystemExit(
            "wrk is not installed: `apt-get install wrk` (make bench installs it when run as root)."
        )
    script = ROOT / "bench" / ".wrk-report.lua"
    script.write_text(_WRK_REPORT)
    command = [WRK, "-t", "2", "-c", str(connections), "-d", f"{seconds}s", "-s", str(script)]
    for name, value in (headers or {}).items():
        command += ["-H", f"{name}: {value}"]
    output = subprocess.run([*command, url], capture_output=True, text=True, check=True).stdout
    match = re.search(r"^BENCH (\d+) ([\d.]+) ([\d.]+) ([\d.]+) (\d+)$", output, re.M)
    if match is None:
        raise SystemExit(f"wrk printed no report:\n{output}")
    count, duration_us, p50_us, p95_us, errors = match.groups()
    return Load(
        requests_per_second=int(count) / (float(duration_us) / 1e6),
        p50_ms=float(p50_us) / 1000,
        p95_ms=float(p95_us) / 1000,
        errors=int(errors),
    )


def best_of(runs: int, measure: Callable[[], float]) -> float:
    """The smallest of `runs` timings: the one least disturbed by the rest of the machine."""
    return min(measure() for _ in range(runs))


def seconds_of(work: Callable[[], Any]) -> float:
    began = time.perf_counter()
    work()
    return time.perf_counter() - began
