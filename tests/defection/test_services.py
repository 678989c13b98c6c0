"""The right to leave, through the service functions."""

from __future__ import annotations

import datetime
import threading
from decimal import Decimal

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import timezone

from budgets.models import Charge, CostPool
from budgets.services import chargeback_run
from clusters.models import Membership
from defection import services
from defection.models import Destination, ExitRequest, ExitStatus, Reason
from notifications.models import Notification
from sharedsvc.errors import Conflict
from tests.factories import ClusterFactory, DepartmentFactory, MembershipFactory, UserFactory
from tests.notifications.support import celery_eager

TODAY = timezone.localdate


def submit(world, **kwargs) -> ExitRequest:
    data = {
        "actor": world.manager,
        "department": world.lcs,
        "from_cluster": world.pay_psoa,
        "destination": Destination.CLUSTER,
        "to_cluster": world.pay_tech,
        "reason": Reason.COST,
        "justification": "Cheaper elsewhere.",
    }
    data.update(kwargs)
    return services.exit_request_submit(**data)


@pytest.fixture
def psoa_payroll_2(world):
    """A second PSOA payroll cluster: moving there is the right to leave."""
    return ClusterFactory(code="PAY-PSOA-2", service=world.payroll, provider=world.psoa)


def test_a_move_to_a_psoa_cluster_is_scheduled_at_once(world, psoa_payroll_2):
    request = submit(world, from_cluster=world.pay_psoa, to_cluster=psoa_payroll_2)
    earliest = TODAY() + datetime.timedelta(days=90)
    assert request.status == ExitStatus.SCHEDULED and not request.needs_board
    assert request.leave_on == earliest
    world.lcs_payroll.refresh_from_db()
    assert world.lcs_payroll.leaves_on == earliest
    new = Membership.objects.get(department=world.lcs, cluster=psoa_payroll_2)
    assert (new.joined_on, new.usage_units, new.leaves_on) == (earliest, 400, None)
    assert request.new_membership_id == new.pk


@pytest.mark.parametrize(
    ("destination", "target"),
    [
        (Destination.CLUSTER, "pay_tech"),
        (Destination.PROVIDER, "outside"),
        (Destination.IN_HOUSE, None),
    ],
)
def test_other_destinations_wait_for_the_board(world, destination, target):
    kwargs = {"destination": destination, "to_cluster": None}
    if destination == Destination.CLUSTER:
        kwargs["to_cluster"] = getattr(world, target)
    if destination == Destination.PROVIDER:
        kwargs["to_provider"] = getattr(world, target)
    request = submit(world, **kwargs)
    assert request.status == ExitStatus.PENDING_BOARD and request.needs_board
    world.lcs_payroll.refresh_from_db()
    assert world.lcs_payroll.leaves_on is None  # nothing moves until the board decides
    assert Membership.objects.filter(department=world.lcs, service=world.payroll).count() == 1


def test_a_leave_date_inside_the_notice_period_is_refused_with_the_earliest_date(world):
    earliest = TODAY() + datetime.timedelta(days=90)
    with pytest.raises(ValidationError) as err:
        submit(world, requested_leave_on=earliest - datetime.timedelta(days=1))
    message = err.value.message_dict["requested_leave_on"][0]
    assert f"{earliest.day} {earliest:%B %Y}" in message
    assert not ExitRequest.objects.exists()


def test_a_later_requested_date_is_kept(world, psoa_payroll_2):
    later = TODAY() + datetime.timedelta(days=200)
    request = submit(world, to_cluster=psoa_payroll_2, requested_leave_on=later)
    assert request.leave_on == later


@pytest.mark.parametrize(
    ("kwargs", "field", "text"),
    [
        ({"to_cluster": "it_tech"}, "to_cluster", "not Payroll"),
        ({"to_cluster": "pay_psoa"}, "to_cluster", "other than the one"),
        ({"to_cluster": None}, "to_cluster", "Choose the cluster"),
        (
            {"destination": Destination.PROVIDER, "to_cluster": None, "to_provider": "psoa"},
            "to_provider",
            "one of its clusters",
        ),
        ({"destination": Destination.IN_HOUSE, "to_cluster": "pay_tech"}, "to_cluster", "empty"),
        ({"from_cluster": "pay_tech", "to_cluster": "pay_psoa"}, "from_cluster", "not a member"),
    ],
)
def test_bad_destinations_are_refused(world, kwargs, field, text):
    resolved = {
        k: (getattr(world, v) if isinstance(v, str) and hasattr(world, v) else v)
        for k, v in kwargs.items()
    }
    with pytest.raises(ValidationError) as err:
        submit(world, **resolved)
    assert text in " ".join(err.value.message_dict[field])
    assert not ExitRequest.objects.exists()


def test_a_full_cluster_is_refused(world, psoa_payroll_2):
    psoa_payroll_2.capacity = 100
    psoa_payroll_2.save()
    with pytest.raises(ValidationError, match="room for 100 more units"):
        submit(world, to_cluster=psoa_payroll_2)
    assert not ExitRequest.objects.exists()


def test_one_open_request_per_membership(world, psoa_payroll_2):
    submit(world, destination=Destination.IN_HOUSE, to_cluster=None)
    with pytest.raises(ValidationError, match="already has an open exit request"):
        submit(world, to_cluster=psoa_payroll_2)
    assert ExitRequest.objects.count() == 1


def test_a_membership_already_leaving_cannot_give_notice_again(world, psoa_payroll_2):
    Membership.objects.filter(pk=world.lcs_payroll.pk).update(
        leaves_on=TODAY() + datetime.timedelta(days=30)
    )
    with pytest.raises(ValidationError, match="already leaving"):
        submit(world, to_cluster=psoa_payroll_2)
    assert not ExitRequest.objects.exists()


def test_withdraw_undoes_a_scheduled_move(world, psoa_payroll_2):
    request = submit(world, to_cluster=psoa_payroll_2)
    services.exit_request_withdraw(actor=world.manager, exit_request=request)
    request.refresh_from_db()
    world.lcs_payroll.refresh_from_db()
    assert request.status == ExitStatus.WITHDRAWN and request.new_membership is None
    assert world.lcs_payroll.leaves_on is None
    assert not Membership.objects.filter(cluster=psoa_payroll_2).exists()
    # and the department may give notice again
    assert submit(world, to_cluster=psoa_payroll_2).status == ExitStatus.SCHEDULED


def test_withdraw_a_pending_request(world):
    request = submit(world)
    services.exit_request_withdraw(actor=world.manager, exit_request=request)
    assert ExitRequest.objects.get(pk=request.pk).status == ExitStatus.WITHDRAWN


def test_cannot_withdraw_twice(world):
    request = submit(world)
    services.exit_request_withdraw(actor=world.manager, exit_request=request)
    with pytest.raises(Conflict, match="only a scheduled or pending request"):
        services.exit_request_withdraw(actor=world.manager, exit_request=request)


def test_completed_once_the_date_has_passed(world, psoa_payroll_2):
    request = submit(world, to_cluster=psoa_payroll_2)
    assert services.exit_requests_complete(today=request.leave_on - datetime.timedelta(days=1)) == 0
    assert (
        ExitRequest.objects.with_current_status(request.leave_on).get().status_now
        == ExitStatus.COMPLETED
    )
    assert services.exit_requests_complete(today=request.leave_on) == 1
    assert ExitRequest.objects.get().status == ExitStatus.COMPLETED


def test_board_approval_schedules_the_day_after_a_passed_date(world):
    request = submit(world)
    late = request.leave_on + datetime.timedelta(days=3)
    services.exit_request_approve(actor=None, exit_request=request, decided_on=late)
    request.refresh_from_db()
    assert request.status == ExitStatus.SCHEDULED
    assert request.leave_on == late + datetime.timedelta(days=1)
    assert (
        Membership.objects.get(department=world.lcs, cluster=world.pay_tech).joined_on
        == request.leave_on
    )


def test_board_rejection_leaves_the_department_where_it_is(world):
    request = submit(world)
    services.exit_request_close(actor=None, exit_request=request, status=ExitStatus.REJECTED)
    world.lcs_payroll.refresh_from_db()
    assert ExitRequest.objects.get().status == ExitStatus.REJECTED
    assert world.lcs_payroll.leaves_on is None


def test_impact_with_fixed_and_variable_costs(world):
    # PAY-PSOA: LCS 400, ENV 300 units; a third member of 300; pool 10,000; f = 0.60.
    other = MembershipFactory(
        cluster=world.pay_psoa, usage_units=300, department=DepartmentFactory(code="OTH")
    )
    world.pay_psoa.fixed_cost_ratio = Decimal("0.60")
    world.pay_psoa.save()
    CostPool.objects.create(
        cluster=world.pay_psoa, period=datetime.date(2026, 3, 1), amount=Decimal("10000.00")
    )
    request = submit(world, destination=Destination.IN_HOUSE, to_cluster=None)
    impact = request.impact
    # U = 1000, u = 400: before 10.0000; after = 10000 x (0.6 + 0.4 x 0.6) / 600 = 14.0000
    assert impact["period"] == "2026-03"
    assert (impact["unit_cost_before"], impact["unit_cost_after"]) == ("10.0000", "14.0000")
    assert impact["members"] == [
        {"department": "ENV", "usage_units": 300, "before": "3000.00", "after": "4200.00"},
        {
            "department": other.department.code,
            "usage_units": 300,
            "before": "3000.00",
            "after": "4200.00",
        },
    ]
    assert ExitRequest.objects.get().impact == impact  # kept with the request


def test_impact_without_a_pool_is_null(world):
    impact = submit(world).impact
    assert impact["period"] is None and impact["unit_cost_before"] is None
    assert [m["department"] for m in impact["members"]] == ["ENV"]
    assert impact["members"][0]["before"] is None


def test_impact_when_nobody_remains(world):
    lone = ClusterFactory(code="LONE", service=world.it, provider=world.psoa)
    Membership.objects.filter(pk=world.lcs_it.pk).update(cluster=lone)
    CostPool.objects.create(
        cluster=lone, period=datetime.date(2026, 3, 1), amount=Decimal("500.00")
    )
    impact = submit(
        world, from_cluster=lone, destination=Destination.IN_HOUSE, to_cluster=None
    ).impact
    assert impact["unit_cost_before"] == "1.4286" and impact["unit_cost_after"] is None
    assert impact["members"] == []


def test_members_and_provider_are_told_after_commit(world, django_capture_on_commit_callbacks):
    env_mgr2 = UserFactory(
        username="env_mgr2",
        role="department_manager",
        department=world.env,
        email="env@example.gov",
    )
    with celery_eager(), django_capture_on_commit_callbacks(execute=True):
        request = submit(world)
        assert mail.outbox == []  # nothing before the commit
    told = {world.other_manager, env_mgr2, world.provider_manager}
    rows = Notification.objects.filter(subject="LCS gives notice to leave PAY-PSOA")
    assert {n.recipient for n in rows} == told
    assert {n.link for n in rows} == {f"/exit-requests/{request.pk}/"}
    # One message each, To: that one person.
    assert sorted(m.to for m in mail.outbox) == sorted([u.email] for u in told)
    assert all(m.subject == "LCS gives notice to leave PAY-PSOA" for m in mail.outbox)
    # The leaver's own people are not the audience.
    assert not Notification.objects.filter(recipient=world.manager).exists()
    assert all(world.manager.email not in m.to for m in mail.outbox)


def test_a_move_is_charged_to_each_cluster_for_its_days(world, psoa_payroll_2):
    request = submit(world, to_cluster=psoa_payroll_2)
    # Bring the move into a past month to charge it: shift every date back.
    move = datetime.date(2026, 4, 16)
    Membership.objects.filter(pk=world.lcs_payroll.pk).update(leaves_on=move)
    Membership.objects.filter(pk=request.new_membership_id).update(joined_on=move)
    CostPool.objects.create(
        cluster=world.pay_psoa, period=datetime.date(2026, 4, 1), amount=Decimal("1000.00")
    )
    CostPool.objects.create(
        cluster=psoa_payroll_2, period=datetime.date(2026, 4, 1), amount=Decimal("300.00")
    )
    chargeback_run(actor=world.administrator, period=datetime.date(2026, 4, 1))
    lcs = {c.cluster.code: c.amount for c in Charge.objects.filter(department=world.lcs)}
    # PAY-PSOA: LCS 400 x 15 days vs ENV 300 x 30; PAY-PSOA-2: LCS alone for 15 days.
    assert lcs == {"PAY-PSOA": Decimal("400.00"), "PAY-PSOA-2": Decimal("300.00")}


@pytest.mark.django_db(transaction=True)
def test_two_simultaneous_submissions_leave_exactly_one_request() -> None:
    from tests.personas import build_world

    world = build_world()
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def give_notice(destination):
        try:
            barrier.wait()
            submit(
                world,
                destination=destination,
                to_cluster=None if destination != Destination.CLUSTER else world.pay_tech,
            )
            outcomes.append("submitted")
        except ValidationError as exc:
            outcomes.append(" ".join(exc.messages))
        finally:
            connection.close()

    threads = [
        threading.Thread(target=give_notice, args=(d,))
        for d in (Destination.IN_HOUSE, Destination.CLUSTER)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes)[1] == "submitted"
    assert "already has an open exit request" in sorted(outcomes)[0]
    assert ExitRequest.objects.filter(membership=world.lcs_payroll).count() == 1
