"""The chargeback from the shell (`manage.py run_chargeback YYYY-MM`) and from Celery beat."""

from __future__ import annotations

import datetime
from decimal import Decimal
from io import StringIO

import pytest
from celery.schedules import crontab
from django.conf import settings as django_settings
from django.core.management import CommandError, call_command
from django.utils import timezone

from budgets import services, tasks
from budgets.models import Charge, ChargebackRun, CostPool, RunStatus
from sharedsvc.periods import PERIOD_INVALID, format_period, previous_month
from tests.factories import ClusterFactory

APRIL = datetime.date(2026, 4, 1)


def run_chargeback(period: str) -> str:
    out = StringIO()
    call_command("run_chargeback", period, stdout=out)
    return out.getvalue()


def charges() -> list[tuple[str, str, Decimal]]:
    return sorted(
        (c.department.code, c.cluster.code, c.amount)
        for c in Charge.objects.select_related("department", "cluster")
    )


@pytest.fixture
def april(world):
    CostPool.objects.create(cluster=world.pay_psoa, period=APRIL, amount=Decimal("1000.00"))
    CostPool.objects.create(cluster=world.it_tech, period=APRIL, amount=Decimal("80.00"))
    return world


def test_run_chargeback_charges_a_month_and_prints_the_counts(april):
    out = run_chargeback("2026-04")
    assert out.strip() == "Chargeback 2026-04: done, 3 charges totalling 1080.00"
    assert charges() == [
        ("ENV", "PAY-PSOA", Decimal("428.57")),
        ("LCS", "IT-TECH", Decimal("80.00")),
        ("LCS", "PAY-PSOA", Decimal("571.43")),
    ]
    run = ChargebackRun.objects.get()
    assert (run.period, run.status, run.charges, run.total, run.requested_by) == (
        APRIL,
        RunStatus.DONE,
        3,
        Decimal("1080.00"),
        None,
    )


def test_a_second_run_changes_nothing_and_says_so(april):
    run_chargeback("2026-04")
    before = list(Charge.objects.order_by("pk").values())
    out = run_chargeback("2026-04")
    assert out.strip() == (
        "Chargeback 2026-04: done, 0 charges totalling 0.00 (the month had already been charged)"
    )
    assert list(Charge.objects.order_by("pk").values()) == before
    assert list(ChargebackRun.objects.order_by("pk").values_list("charges", flat=True)) == [3, 0]


def test_pools_with_no_member_are_reported(april):
    empty = ClusterFactory(code="EMPTY", service=april.it, provider=april.outside)
    CostPool.objects.create(cluster=empty, period=APRIL, amount=Decimal("12.50"))
    out = run_chargeback("2026-04")
    assert "; 12.50 in pools with no member to charge" in out
    assert not Charge.objects.filter(cluster=empty).exists()


@pytest.mark.parametrize("period", ["2026-13", "26-04", "2026-4", "April", "2026-04\x00", ""])
def test_a_malformed_month_is_a_command_error(april, period):
    with pytest.raises(CommandError) as raised:
        run_chargeback(period)
    assert str(raised.value) == PERIOD_INVALID
    assert not ChargebackRun.objects.exists()
    assert not Charge.objects.exists()


@pytest.mark.parametrize("months_ahead", [0, 1])
def test_a_month_not_ended_is_a_command_error(april, months_ahead):
    month = timezone.localdate().replace(day=1)
    if months_ahead:
        month = (month + datetime.timedelta(days=32)).replace(day=1)
    label = format_period(month)
    CostPool.objects.create(
        cluster=april.pay_psoa, period=timezone.localdate().replace(day=1), amount=Decimal("5")
    )
    with pytest.raises(CommandError) as raised:
        run_chargeback(label)
    assert str(raised.value) == services.PERIOD_NOT_ENDED.format(period=label)
    assert not ChargebackRun.objects.exists()
    assert not Charge.objects.exists()


def test_the_command_needs_a_month(db):
    with pytest.raises(CommandError, match="period"):
        call_command("run_chargeback")


# Celery beat -------------------------------------------------------------------------


def test_beat_charges_the_month_just_ended_on_the_first():
    entry = django_settings.CELERY_BEAT_SCHEDULE["chargeback-month-just-ended"]
    assert entry["task"] == "budgets.tasks.chargeback_month_just_ended"
    assert entry["schedule"] == crontab(day_of_month="1", hour="2", minute="0")
    # The name beat sends is the task's registered name.
    assert tasks.chargeback_month_just_ended.name == entry["task"]


def test_the_beat_task_queues_the_previous_month(world, django_capture_on_commit_callbacks):
    ended = previous_month(timezone.localdate())
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        run_id = tasks.chargeback_month_just_ended()
    run = ChargebackRun.objects.get(pk=run_id)
    assert (run.period, run.status, run.requested_by) == (ended, RunStatus.QUEUED, None)
    assert len(callbacks) == 1
    assert not Charge.objects.exists()


def test_the_beat_task_runs_through_to_done(world, settings, django_capture_on_commit_callbacks):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    ended = previous_month(timezone.localdate())
    CostPool.objects.create(cluster=world.pay_psoa, period=ended, amount=Decimal("70.00"))
    with django_capture_on_commit_callbacks(execute=True):
        run_id = tasks.chargeback_month_just_ended()
    run = ChargebackRun.objects.get(pk=run_id)
    assert (run.status, run.charges, run.total) == (RunStatus.DONE, 2, Decimal("70.00"))
    assert sorted(Charge.objects.filter(period=ended).values_list("amount", flat=True)) == [
        Decimal("30.00"),
        Decimal("40.00"),
    ]


@pytest.mark.parametrize(
    ("today", "ended"),
    [
        (datetime.date(2026, 5, 1), datetime.date(2026, 4, 1)),
        (datetime.date(2026, 1, 1), datetime.date(2025, 12, 1)),
        (datetime.date(2026, 3, 31), datetime.date(2026, 2, 1)),
    ],
)
def test_the_month_just_ended(today, ended):
    assert previous_month(today) == ended
