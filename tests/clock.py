"""The whole suite on another day: `TEST_TODAY=2027-04-02 make test`.

Time is an input (STYLE.md 19): nothing in the suite may pass today and fail tomorrow.
With `TEST_TODAY` set, every test process starts its clock on that date (at ten in the
morning, in the site's time zone) and lets it run on, so a test written against the day
it was written fails here first. Tests that freeze the clock themselves still do so:
time-machine nests. The processes a test starts (gunicorn, a Celery worker, the OpenID
provider) run on the same shifted clock: `subprocess_env()` hands them the offset, which
`tests/clocked/sitecustomize.py` (Python) and `tests/oidc/clock.mjs` (Node) apply.

`make test-calendar` runs the suite on the dates most likely to find such tests: just
after a fiscal year ends, and on a leap day.
"""

from __future__ import annotations

import datetime
import os
import time
import zoneinfo
from pathlib import Path

import time_machine
from django.conf import settings

ENV = "TEST_TODAY"
# Seconds to add to the real clock; set for the processes the tests start.
OFFSET_ENV = "TEST_CLOCK_OFFSET"
HOUR = 10
CLOCKED = Path(__file__).resolve().parent / "clocked"

_offset: float | None = None


def suite_start(value: str) -> datetime.datetime:
    """The moment the suite's clock starts for `TEST_TODAY=value` (a date, YYYY-MM-DD)."""

    try:
        day = datetime.date.fromisoformat(value)
    except ValueError as error:
        raise ValueError(f"{ENV} must be a date as YYYY-MM-DD, not {value!r}.") from error
    zone = zoneinfo.ZoneInfo(settings.TIME_ZONE)
    return datetime.datetime.combine(day, datetime.time(HOUR), tzinfo=zone)


def suite_clock(environ: dict[str, str] | None = None) -> time_machine.travel | None:
    """A running clock started on `TEST_TODAY`, or None when the suite runs on today."""

    value = (os.environ if environ is None else environ).get(ENV, "").strip()
    if not value:
        return None
    return time_machine.travel(suite_start(value), tick=True)


def start(config) -> None:
    """Start this process's clock on `TEST_TODAY` (pytest_configure), if it is set."""

    global _offset
    clock = suite_clock()
    if clock is None:
        return
    _offset = clock.destination_timestamp_ns / 1e9 - time.time()
    clock.start()
    config.add_cleanup(clock.stop)


def subprocess_env(env: dict[str, str]) -> dict[str, str]:
    """`env` for a process a test starts, on the suite's clock (unchanged on today's)."""

    if _offset is None:
        return env
    path = env.get("PYTHONPATH", "")
    return {
        **env,
        OFFSET_ENV: repr(_offset),
        "PYTHONPATH": f"{CLOCKED}{os.pathsep}{path}" if path else str(CLOCKED),
    }
