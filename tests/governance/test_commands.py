"""The board's periodic jobs from the shell, with --as-of."""

from __future__ import annotations

import datetime
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from defection.models import ExitRequest, ExitStatus
from governance.models import Case, CaseStatus, Seat


def run(command, *args) -> str:
    out = StringIO()
    call_command(command, *args, stdout=out)
    return out.getvalue()


def test_close_due_cases_as_of_closing_time(case):
    before = timezone.localtime(case.closes_at - datetime.timedelta(minutes=1)).isoformat()
    assert "0 case(s) closed" in run("close_due_cases", "--as-of", before)
    assert Case.objects.get().status == CaseStatus.OPEN
    out = run("close_due_cases", "--as-of", case.closes_at.isoformat())
    assert "1 case(s) closed" in out and "lapsed" in out
    assert ExitRequest.objects.get().status == ExitStatus.LAPSED
    assert "0 case(s) closed" in run("close_due_cases", "--as-of", case.closes_at.isoformat())


def test_send_reminders_as_of(case):
    due = (case.closes_at - datetime.timedelta(hours=24)).isoformat()
    assert "5 reminder(s) sent" in run("send_reminders", "--as-of", due)
    assert "0 reminder(s) sent" in run("send_reminders", "--as-of", due)
    assert Seat.objects.filter(reminded_at__isnull=False).count() == 5


@pytest.mark.parametrize("bad", ["tomorrow", "2026-13-01T00:00", "29/11/2026"])
def test_bad_as_of_is_a_clear_error(db, bad):
    with pytest.raises(CommandError, match="ISO date-time"):
        run("close_due_cases", "--as-of", bad)


def test_the_jobs_are_scheduled_in_beat(settings):
    tasks = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert {
        "governance.tasks.close_due_cases",
        "governance.tasks.send_reminders",
        "defection.tasks.complete_due_exits",
    } <= tasks
