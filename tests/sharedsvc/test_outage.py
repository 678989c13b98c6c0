"""A Redis outage, for real: the test starts its own redis-server, stops it, and starts it
again on the same port, with a real Celery worker in a subprocess on the test's database.

While the broker is down a department manager gives notice (a board case opens and emails
are due) and an administrator asks for a chargeback run: both answer as usual, the rows
are committed and the work waits in the outbox. Once Redis is back, the dispatcher (as
beat runs it) hands the work over, the worker charges the month once and the emails go
out, each one once.

The worker cannot use locmem mail (another process): it writes Django's file-based email
backend's files into a temporary directory, which the test counts.
"""

from __future__ import annotations

import datetime
import re
import shutil
import tempfile
from decimal import Decimal
from pathlib import Path

from django.db.models import Sum
from django.utils import timezone

from budgets.models import Charge, ChargebackRun, CostPool, RunStatus
from defection.models import ExitRequest, ExitStatus
from governance.models import Case, CaseStatus
from sharedsvc.models import OutboxItem, OutboxStatus
from sharedsvc.outbox import outbox_dispatch
from sharedsvc.periods import format_period, previous_month
from tests.personas import build_world
from tests.servers import RedisServer, broker, celery_worker, wait_for

CHARGEBACK_TASK = "budgets.tasks.chargeback_execute_task"


def emails_in(directory: str) -> list[str]:
    """The messages the file-based backend wrote (a file holds one or more)."""
    messages = []
    for path in Path(directory).iterdir():
        messages += re.findall(r"^Message-ID: .*$", path.read_text(), flags=re.M)
    return messages


def test_work_asked_for_while_redis_is_down_is_done_once_it_is_back(transactional_db, api):
    world = build_world()
    month = previous_month(timezone.localdate())
    CostPool.objects.create(cluster=world.pay_psoa, period=month, amount=Decimal("1000.00"))
    CostPool.objects.create(cluster=world.it_tech, period=month, amount=Decimal("20.01"))
    mail_dir = tempfile.mkdtemp(prefix="test-mail-")
    server = RedisServer()
    try:
        server.start()
        with broker(server):
            server.stop()  # the outage

            # A department manager gives notice to another provider: a board case opens.
            response = api.as_user(world.manager).post(
                "/api/v1/exit-requests/",
                {
                    "department": "LCS",
                    "from_cluster": "PAY-PSOA",
                    "destination": "cluster",
                    "to_cluster": "PAY-TECH",
                    "reason": "cost",
                    "justification": "TECH's payroll costs less per employee.",
                    "requested_leave_on": (
                        timezone.localdate() + datetime.timedelta(days=95)
                    ).isoformat(),
                },
                format="json",
            )
            assert response.status_code == 201, response.content
            request = ExitRequest.objects.get(pk=response.json()["id"])
            assert request.status == ExitStatus.PENDING_BOARD
            assert Case.objects.get(exit_request=request).status == CaseStatus.OPEN
            emails_due = OutboxItem.objects.exclude(task=CHARGEBACK_TASK)
            assert emails_due.count() > 0
            assert set(emails_due.values_list("status", "attempts")) == {(OutboxStatus.PENDING, 0)}

            # An administrator asks for the month's chargeback: queued, and it stays so.
            response = api.as_user(world.administrator).post(
                "/api/v1/chargeback-runs/", {"period": format_period(month)}, format="json"
            )
            assert response.status_code in (201, 202), response.content
            run = ChargebackRun.objects.get(pk=response.json()["id"])
            assert run.status == RunStatus.QUEUED
            item = OutboxItem.objects.get(task=CHARGEBACK_TASK)
            assert (item.status, item.attempts) == (OutboxStatus.PENDING, 0)
            waiting = OutboxItem.objects.count()

            server.start()  # Redis is back, on the same port

            # Beat's dispatcher hands everything over, each item once; the worker runs it.
            assert outbox_dispatch() == waiting
            assert outbox_dispatch() == 0
            with celery_worker(broker_url=server.url, mail_dir=mail_dir) as worker:
                done = wait_for(
                    lambda: (
                        ChargebackRun.objects.get(pk=run.pk).status
                        in (RunStatus.DONE, RunStatus.FAILED)
                    ),
                    seconds=60,
                )
                assert done, "the worker did not finish the run"
                sent = wait_for(lambda: len(emails_in(mail_dir)) >= emails_due.count(), seconds=30)
                assert sent, f"{len(emails_in(mail_dir))} emails of {emails_due.count()}"
                worker.stop()  # nothing more is coming: no email is sent twice
    finally:
        server.close()
        emails = emails_in(mail_dir)
        shutil.rmtree(mail_dir, ignore_errors=True)

    run.refresh_from_db()
    assert (run.status, run.error) == (RunStatus.DONE, "")
    members = Charge.objects.filter(period=month)
    # PAY-PSOA: LCS and ENV; IT-TECH: LCS. Charged once, adding up to the pools.
    assert members.count() == run.charges == 3
    assert members.aggregate(t=Sum("amount"))["t"] == run.total == Decimal("1020.01")
    assert len(emails) == len(set(emails)) == emails_due.count()
    assert set(OutboxItem.objects.values_list("status", "attempts")) == {(OutboxStatus.SENT, 1)}
