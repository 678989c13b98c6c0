"""No chargeback run is stuck: one queued or running past its limit is queued again (with a
new outbox key) or, after the last recovery, failed with the reason; the page and the API
say so; and the month is charged exactly once whatever happened to the workers.

The rules take `now`; the worker test kills a real worker (SIGKILL) in the middle of a run
that it holds up with a table lock from a connection of its own.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

import psycopg2
import pytest
from django.conf import settings as django_settings
from django.db import connection, transaction
from django.db.models import Sum
from django.utils import timezone

from budgets import services
from budgets.models import Charge, ChargebackRun, CostPool, RunStatus
from budgets.services import (
    RUN_GIVEN_UP,
    RUN_NOT_FINISHED,
    RUN_NOT_HANDED_OVER,
    RUN_NOT_STARTED,
    RUN_QUEUED_AGAIN,
    chargeback_runs_recover,
)
from budgets.tasks import chargeback_runs_recover_task
from sharedsvc.models import OutboxItem, OutboxStatus
from tests.factories import ClusterFactory, DepartmentFactory, MembershipFactory, UserFactory
from tests.servers import broker, celery_worker, redis_server, wait_for

APRIL = datetime.date(2026, 4, 1)
MINUTE = datetime.timedelta(minutes=1)
T = timezone.make_aware(datetime.datetime(2026, 5, 4, 9, 0))


def queued_run(world, *, handed_over_at: datetime.datetime | None = T) -> ChargebackRun:
    """A run as `chargeback_request` leaves it; handed to the broker at that time (or still
    waiting in the outbox, with None)."""
    with transaction.atomic():
        run = services.chargeback_request(actor=world.administrator, period=APRIL)
    ChargebackRun.objects.filter(pk=run.pk).update(requested_at=T)
    if handed_over_at is not None:
        OutboxItem.objects.filter(key=run.task_key).update(
            status=OutboxStatus.SENT, sent_at=handed_over_at, attempts=1
        )
    run.refresh_from_db()
    return run


def running_run(world, *, started_at: datetime.datetime = T, recoveries: int = 0):
    run = queued_run(world)
    ChargebackRun.objects.filter(pk=run.pk).update(
        status=RunStatus.RUNNING, started_at=started_at, recoveries=recoveries
    )
    run.refresh_from_db()
    return run


def pool(world, amount="1000.00") -> CostPool:
    return CostPool.objects.create(cluster=world.pay_psoa, period=APRIL, amount=Decimal(amount))


# The rules, with `now` passed in -------------------------------------------------------


def test_a_queued_run_handed_over_recently_is_left_alone(world):
    run = queued_run(world)
    assert chargeback_runs_recover(now=T + 10 * MINUTE) == {}
    run.refresh_from_db()
    assert (run.status, run.recoveries, run.recovery_reason) == (RunStatus.QUEUED, 0, "")


def test_a_queued_run_waiting_for_the_broker_is_not_stuck(world):
    # The outbox still holds it (the broker is down): it goes when the broker is back, and
    # a second copy would only pile up behind it.
    run = queued_run(world, handed_over_at=None)
    assert chargeback_runs_recover(now=T + datetime.timedelta(days=2)) == {}
    run.refresh_from_db()
    assert (run.status, run.recoveries) == (RunStatus.QUEUED, 0)
    assert OutboxItem.objects.count() == 1


def test_a_queued_run_no_worker_started_is_queued_again_with_a_new_key(world):
    run = queued_run(world)
    first_key = run.task_key
    now = T + 11 * MINUTE
    assert chargeback_runs_recover(now=now) == {run.pk: RunStatus.QUEUED}
    run.refresh_from_db()
    why = RUN_NOT_STARTED.format(minutes=10)
    assert (run.status, run.recoveries, run.recovered_at) == (RunStatus.QUEUED, 1, now)
    assert run.recovery_reason == RUN_QUEUED_AGAIN.format(why=why, recoveries=1, limit=3)
    assert run.error == ""
    again = OutboxItem.objects.get(key=run.task_key)
    assert run.task_key != first_key
    assert (again.task, again.kwargs, again.status) == (
        "budgets.tasks.chargeback_execute_task",
        {"run_id": run.pk},
        OutboxStatus.PENDING,
    )
    assert OutboxItem.objects.get(key=first_key).status == OutboxStatus.SENT
    # While the new hand-over waits for the broker, the run is not stuck again.
    assert chargeback_runs_recover(now=now + datetime.timedelta(hours=1)) == {}


def test_a_run_queued_again_is_timed_from_its_new_hand_over(world):
    run = queued_run(world)
    chargeback_runs_recover(now=T + 11 * MINUTE)
    run.refresh_from_db()
    OutboxItem.objects.filter(key=run.task_key).update(
        status=OutboxStatus.SENT, sent_at=T + 12 * MINUTE
    )
    assert chargeback_runs_recover(now=T + 21 * MINUTE) == {}
    assert chargeback_runs_recover(now=T + 23 * MINUTE) == {run.pk: RunStatus.QUEUED}
    run.refresh_from_db()
    assert run.recoveries == 2


def test_a_running_run_past_its_limit_is_queued_again(world):
    run = running_run(world)
    assert chargeback_runs_recover(now=T + 30 * MINUTE) == {}
    now = T + 31 * MINUTE
    assert chargeback_runs_recover(now=now) == {run.pk: RunStatus.QUEUED}
    run.refresh_from_db()
    why = RUN_NOT_FINISHED.format(minutes=30)
    assert (run.status, run.recoveries, run.recovered_at) == (RunStatus.QUEUED, 1, now)
    assert run.recovery_reason == RUN_QUEUED_AGAIN.format(why=why, recoveries=1, limit=3)
    assert OutboxItem.objects.filter(key=run.task_key, status=OutboxStatus.PENDING).exists()


def test_after_the_last_recovery_a_stuck_run_fails_with_the_reason(world):
    run = running_run(world, recoveries=3)
    items = OutboxItem.objects.count()
    now = T + 31 * MINUTE
    assert chargeback_runs_recover(now=now) == {run.pk: RunStatus.FAILED}
    run.refresh_from_db()
    why = RUN_NOT_FINISHED.format(minutes=30)
    assert (run.status, run.finished_at, run.recoveries) == (RunStatus.FAILED, now, 3)
    assert run.error == RUN_GIVEN_UP.format(why=why, limit=3)
    assert OutboxItem.objects.count() == items  # not sent again
    assert not Charge.objects.exists()


def test_a_run_the_outbox_gave_up_on_fails_with_the_items_error(world):
    run = queued_run(world, handed_over_at=None)
    OutboxItem.objects.filter(key=run.task_key).update(
        status=OutboxStatus.FAILED, attempts=8, last_error="EncodeError: cannot serialise"
    )
    assert chargeback_runs_recover(now=T + MINUTE) == {run.pk: RunStatus.FAILED}
    run.refresh_from_db()
    assert run.status == RunStatus.FAILED
    assert run.error == RUN_NOT_HANDED_OVER.format(error="EncodeError: cannot serialise")
    assert run.recoveries == 0


def test_finished_runs_are_never_touched(world):
    pool(world)
    done = services.chargeback_run(actor=world.administrator, period=APRIL)
    failed = ChargebackRun.objects.create(
        period=APRIL, status=RunStatus.FAILED, started_at=T, error="Boom"
    )
    before = list(ChargebackRun.objects.order_by("pk").values())
    assert chargeback_runs_recover(now=timezone.now() + datetime.timedelta(days=30)) == {}
    assert list(ChargebackRun.objects.order_by("pk").values()) == before
    assert {done.pk, failed.pk} == set(ChargebackRun.objects.values_list("pk", flat=True))


def test_the_limits_are_settings(world, settings):
    settings.CHARGEBACK_RUN_RUNNING_MINUTES = 5
    settings.CHARGEBACK_RUN_MAX_RECOVERIES = 0
    run = running_run(world)
    assert chargeback_runs_recover(now=T + 4 * MINUTE) == {}
    assert chargeback_runs_recover(now=T + 6 * MINUTE) == {run.pk: RunStatus.FAILED}
    run.refresh_from_db()
    assert run.error == RUN_GIVEN_UP.format(why=RUN_NOT_FINISHED.format(minutes=5), limit=0)


def test_only_the_recovery_executes_a_running_run_again(world):
    pool(world)
    run = running_run(world)
    # A late or repeated task finds the run running and leaves it.
    assert services.chargeback_execute(run_id=run.pk).status == RunStatus.RUNNING
    assert not Charge.objects.exists()
    chargeback_runs_recover(now=T + 31 * MINUTE)
    run = services.chargeback_execute(run_id=run.pk)
    assert (run.status, run.charges, run.total) == (RunStatus.DONE, 2, Decimal("1000.00"))
    assert Charge.objects.count() == 2


def test_a_run_whose_slow_worker_finished_after_all_reports_its_charges(world):
    # The recovery queued the run again while its first worker was only slow, and that
    # worker then committed the charges: the second execution adds none, and the run
    # still reports what it charged (counted from its charges, not from this execution).
    pool(world)
    run = queued_run(world)
    services.chargeback_execute(run_id=run.pk)
    ChargebackRun.objects.filter(pk=run.pk).update(status=RunStatus.QUEUED, recoveries=1)
    run = services.chargeback_execute(run_id=run.pk)
    assert (run.status, run.charges, run.total) == (RunStatus.DONE, 2, Decimal("1000.00"))
    assert Charge.objects.count() == 2
    assert Charge.objects.aggregate(t=Sum("amount"))["t"] == Decimal("1000.00")


def test_beat_runs_the_recovery_every_few_minutes(world):
    entries = [
        e
        for e in django_settings.CELERY_BEAT_SCHEDULE.values()
        if e["task"] == "budgets.tasks.chargeback_runs_recover_task"
    ]
    assert len(entries) == 1
    assert entries[0]["schedule"].minute == set(range(0, 60, 5))
    run = queued_run(world, handed_over_at=timezone.now() - 11 * MINUTE)
    assert chargeback_runs_recover_task.apply().get() == {run.pk: RunStatus.QUEUED}


# The page and the API say so ------------------------------------------------------------


def test_the_api_and_the_page_say_a_run_was_queued_again(world, api, client):
    run = running_run(world)
    chargeback_runs_recover(now=T + 31 * MINUTE)
    run.refresh_from_db()
    body = api.as_user(world.analyst).get(f"/api/v1/chargeback-runs/{run.pk}/").json()
    assert {k: body[k] for k in ("id", "period", "status", "charges", "total")} == {
        "id": run.pk,
        "period": "2026-04",
        "status": "queued",
        "charges": 0,
        "total": "0.00",
    }
    assert (body["recoveries"], body["recovery_reason"], body["error"]) == (
        1,
        run.recovery_reason,
        "",
    )
    client.force_login(world.analyst)
    page = client.get(f"/chargeback/runs/{run.pk}/").content.decode()
    assert "Queued again" in page and run.recovery_reason in page


def test_the_api_and_the_page_say_why_a_stuck_run_failed(world, api, client):
    run = running_run(world, recoveries=3)
    chargeback_runs_recover(now=T + 31 * MINUTE)
    run.refresh_from_db()
    body = api.as_user(world.administrator).get(f"/api/v1/chargeback-runs/{run.pk}/").json()
    assert (body["status"], body["error"], body["recoveries"]) == ("failed", run.error, 3)
    assert body["error"].startswith(RUN_NOT_FINISHED.format(minutes=30))
    client.force_login(world.administrator)
    page = client.get(f"/chargeback/runs/{run.pk}/").content.decode()
    assert "Why it failed" in page and run.error in page and "Failed" in page


# A real worker, killed -------------------------------------------------------------------

# The backend of a worker waiting for the charges table.
BLOCKED_ON_CHARGES = """
SELECT l.pid FROM pg_locks l JOIN pg_class c ON c.oid = l.relation
WHERE c.relname = 'budgets_charge' AND NOT l.granted
"""


def backends_waiting_for_charges() -> list[int]:
    with connection.cursor() as cursor:
        cursor.execute(BLOCKED_ON_CHARGES)
        return [pid for (pid,) in cursor.fetchall()]


def backend_alive(pid: int) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = %s", [pid])
        return cursor.fetchone()[0] > 0


@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_in_the_middle_of_a_run_is_replaced_and_the_month_charged_once():
    admin = UserFactory(username="admin", role="administrator")
    cluster = ClusterFactory(code="KILL")
    for i in range(20):
        MembershipFactory(
            cluster=cluster, department=DepartmentFactory(code=f"K{i}"), usage_units=i + 1
        )
    CostPool.objects.create(cluster=cluster, period=APRIL, amount=Decimal("9876.54"))

    with redis_server() as server, broker(server):
        # A connection of the test's own holds the charges table: the worker's run gets as
        # far as its INSERT and waits there, `running`, with its transaction open.
        locker = psycopg2.connect(**connection.get_connection_params())
        try:
            with locker.cursor() as cursor:
                cursor.execute("LOCK TABLE budgets_charge IN ACCESS EXCLUSIVE MODE")
            run = services.chargeback_request(actor=admin, period=APRIL)
            assert OutboxItem.objects.get(key=run.task_key).status == OutboxStatus.SENT
            with celery_worker(broker_url=server.url) as first:
                assert wait_for(
                    lambda: ChargebackRun.objects.get(pk=run.pk).status == RunStatus.RUNNING
                ), "the worker did not start the run"
                assert wait_for(backends_waiting_for_charges), "the run did not reach its charges"
                (backend,) = backends_waiting_for_charges()
                first.kill()
        finally:
            locker.rollback()
            locker.close()

        # PostgreSQL notices the dead client once the lock is released, and rolls its
        # transaction back; until then the run's row is held (a live transaction's run is
        # never recovered from under it).
        assert wait_for(lambda: not backend_alive(backend)), "the dead worker's backend stayed"
        run.refresh_from_db()
        assert (run.status, run.charges) == (RunStatus.RUNNING, 0)
        # Nothing is done before the limit: the run may only be slow.
        assert chargeback_runs_recover(now=timezone.now()) == {}
        # Past it, the run is queued again and handed to the broker at once.
        changed = chargeback_runs_recover(now=timezone.now() + 31 * MINUTE)
        assert changed == {run.pk: RunStatus.QUEUED}
        run.refresh_from_db()
        assert run.recoveries == 1
        assert OutboxItem.objects.get(key=run.task_key).status == OutboxStatus.SENT
        with celery_worker(broker_url=server.url):
            assert wait_for(
                lambda: (
                    ChargebackRun.objects.get(pk=run.pk).status
                    in (RunStatus.DONE, RunStatus.FAILED)
                ),
                seconds=60,
            ), "the new worker did not finish the run"

    run.refresh_from_db()
    assert (run.status, run.error) == (RunStatus.DONE, "")
    # Charged exactly once: one charge a member, adding up to the pool.
    assert Charge.objects.count() == run.charges == 20
    assert Charge.objects.aggregate(t=Sum("amount"))["t"] == run.total == Decimal("9876.54")
    assert set(Charge.objects.values_list("run_id", flat=True)) == {run.pk}
