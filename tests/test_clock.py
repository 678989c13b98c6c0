"""The suite's clock (tests/clock.py): `TEST_TODAY` starts it on a given day, and the
processes the tests start (Python servers and workers, the Node OpenID provider) run on
the same shifted clock."""

from __future__ import annotations

import datetime
import subprocess
import sys
import time
import zoneinfo

import pytest
from django.conf import settings
from django.utils import timezone

from tests import clock
from tests.oidc.support import NODE, SCRIPT

DAY = 86400
LEAP_DAY = "2028-02-29"


def test_the_clock_starts_at_ten_on_the_day_given():
    start = clock.suite_start(LEAP_DAY)
    assert start == datetime.datetime(2028, 2, 29, 10, tzinfo=zoneinfo.ZoneInfo(settings.TIME_ZONE))


def test_a_day_that_is_not_a_date_is_refused_with_the_variable_named():
    with pytest.raises(
        ValueError, match=r"TEST_TODAY must be a date as YYYY-MM-DD, not '2027-02-29'"
    ):
        clock.suite_start("2027-02-29")


def test_no_test_today_leaves_the_clock_alone():
    assert clock.suite_clock({}) is None
    assert clock.suite_clock({clock.ENV: "  "}) is None


def test_the_clock_runs_on_from_the_day_given():
    travel = clock.suite_clock({clock.ENV: LEAP_DAY})
    assert travel is not None
    with travel:
        first = timezone.localtime()
        time.sleep(0.01)
        assert (first.date(), first.hour) == (datetime.date(2028, 2, 29), 10)
        assert timezone.localtime() > first  # it ticks: timeouts and waits still work


@pytest.fixture
def two_days_ahead(monkeypatch) -> float:
    """Processes started now run two days ahead of the real clock; returns how far ahead
    of this process's clock that is (this one may run on TEST_TODAY's)."""
    ours = clock._offset or 0.0
    monkeypatch.setattr(clock, "_offset", 2 * DAY)
    return 2 * DAY - ours


def test_a_python_process_started_by_a_test_runs_on_the_suite_clock(two_days_ahead):
    env = clock.subprocess_env({"PATH": "/usr/bin:/bin"})
    result = subprocess.run(
        [sys.executable, "-c", "import time; print(time.time())"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert abs(float(result.stdout) - time.time() - two_days_ahead) < 60


def test_the_openid_provider_runs_on_the_suite_clock(two_days_ahead):
    env = clock.subprocess_env({"PATH": "/usr/bin:/bin"})
    program = "import('./clock.mjs').then(() => console.log(Date.now(), new Date().getTime()))"
    result = subprocess.run(  # noqa: S603 (node, a fixed program)
        [NODE, "--input-type=module", "-e", program],
        env=env,
        cwd=SCRIPT.parent,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    now, constructed = (int(part) / 1000 for part in result.stdout.split())
    assert abs(now - time.time() - two_days_ahead) < 60
    assert abs(constructed - now) < 60


def test_on_today_processes_get_the_environment_unchanged(monkeypatch):
    monkeypatch.setattr(clock, "_offset", None)
    env = {"PATH": "/usr/bin:/bin"}
    assert clock.subprocess_env(env) == env
