"""The chargeback: pro rata, weighted by usage, rounded so each pool adds up to the cent."""

from __future__ import annotations

import datetime
import threading
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Sum
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from budgets import services
from budgets.models import BudgetLine, Charge, ChargebackRun, CostPool, RunStatus
from clusters.models import Membership
from sharedsvc.errors import Conflict
from tests.factories import ClusterFactory, DepartmentFactory, MembershipFactory, UserFactory

D = datetime.date
APRIL = D(2026, 4, 1)


def pool(cluster, amount, period=APRIL) -> CostPool:
    return CostPool.objects.create(cluster=cluster, period=period, amount=Decimal(amount))


def charges_of(period=APRIL) -> dict[str, Decimal]:
    return {
        f"{c.department.code}@{c.cluster.code}": c.amount
        for c in Charge.objects.filter(period=period).select_related("department", "cluster")
    }


def test_charges_split_by_usage_and_add_up(world):
    # PAY-PSOA: LCS 400 units, ENV 300 units, both all month.
    pool(world.pay_psoa, "1000.00")
    run = services.chargeback_run(actor=world.administrator, period=APRIL)
    assert charges_of() == {"LCS@PAY-PSOA": Decimal("571.43"), "ENV@PAY-PSOA": Decimal("428.57")}
    run.refresh_from_db()
    assert (run.status, run.charges, run.total) == (RunStatus.DONE, 2, Decimal("1000.00"))


def test_part_month_member_pays_pro_rata(world):
    # ENV leaves on 16 April: 15 of 30 days, 300 units -> weight 4500 against LCS's 12000.
    Membership.objects.filter(pk=world.env_payroll.pk).update(leaves_on=D(2026, 4, 16))
    pool(world.pay_psoa, "330.00")
    services.chargeback_run(actor=world.administrator, period=APRIL)
    assert charges_of() == {"LCS@PAY-PSOA": Decimal("240.00"), "ENV@PAY-PSOA": Decimal("90.00")}


def test_a_move_is_charged_to_each_cluster_for_its_days(world):
    Membership.objects.filter(pk=world.lcs_payroll.pk).update(leaves_on=D(2026, 4, 11))
    MembershipFactory(
        department=world.lcs, cluster=world.pay_tech, joined_on=D(2026, 4, 11), usage_units=400
    )
    pool(world.pay_psoa, "100.00")
    pool(world.pay_tech, "100.00")
    services.chargeback_run(actor=world.administrator, period=APRIL)
    got = charges_of()
    # PAY-PSOA: LCS 400x10 vs ENV 300x30; PAY-TECH: LCS 400x20 vs TECH 200x30.
    assert got["LCS@PAY-PSOA"] == Decimal("30.77")
    assert got["ENV@PAY-PSOA"] == Decimal("69.23")
    assert got["LCS@PAY-TECH"] == Decimal("57.14")
    assert got["TECH@PAY-TECH"] == Decimal("42.86")


def test_largest_remainder_gives_the_odd_cent(world):
    third = MembershipFactory(cluster=world.pay_psoa, usage_units=700)  # 400 + 300 + 700
    pool(world.pay_psoa, "0.02")
    services.chargeback_run(actor=world.administrator, period=APRIL)
    got = charges_of()
    assert sum(got.values()) == Decimal("0.02")
    # exact shares: 0.5714, 0.4286, 1.0 cents -> 0 + 0 + 1 floored, one cent left to LCS (.57)
    assert got[f"{third.department.code}@PAY-PSOA"] == Decimal("0.01")
    assert got["LCS@PAY-PSOA"] == Decimal("0.01")
    assert got["ENV@PAY-PSOA"] == Decimal("0.00")


def test_charges_land_on_the_budget_line_or_are_unfunded(world):
    line = BudgetLine.objects.create(
        department=world.lcs,
        fiscal_year="2026-27",
        service=world.payroll,
        allocated=Decimal("5000"),
    )
    pool(world.pay_psoa, "1000.00")
    services.chargeback_run(actor=world.administrator, period=APRIL)
    lcs = Charge.objects.get(department=world.lcs)
    env = Charge.objects.get(department=world.env)
    assert lcs.budget_line_id == line.pk and not lcs.unfunded
    assert env.budget_line_id is None and env.unfunded


def test_march_belongs_to_the_fiscal_year_that_began_the_april_before(world):
    line = BudgetLine.objects.create(
        department=world.lcs,
        fiscal_year="2025-26",
        service=world.payroll,
        allocated=Decimal("5000"),
    )
    BudgetLine.objects.create(
        department=world.lcs,
        fiscal_year="2026-27",
        service=world.payroll,
        allocated=Decimal("5000"),
    )
    pool(world.pay_psoa, "10.00", period=D(2026, 3, 1))
    services.chargeback_run(actor=world.administrator, period=D(2026, 3, 1))
    assert Charge.objects.get(department=world.lcs).budget_line_id == line.pk


def test_a_month_is_charged_once(world):
    pool(world.pay_psoa, "1000.00")
    services.chargeback_run(actor=world.administrator, period=APRIL)
    before = charges_of()
    again = services.chargeback_run(actor=world.administrator, period=APRIL)
    assert (again.status, again.charges, again.total) == (RunStatus.DONE, 0, Decimal("0.00"))
    assert charges_of() == before
    assert Charge.objects.count() == 2


def test_a_month_that_has_not_ended_cannot_be_charged(world):
    this_month = timezone.localdate().replace(day=1)
    with pytest.raises(ValidationError, match="has not ended"):
        services.chargeback_run(actor=world.administrator, period=this_month)
    assert not ChargebackRun.objects.exists()


def test_a_pool_with_no_members_is_reported_not_lost(world):
    empty = ClusterFactory(code="EMPTY", service=world.it, provider=world.outside)
    pool(empty, "250.00")
    run = services.chargeback_run(actor=world.administrator, period=APRIL)
    assert run.unallocated == Decimal("250.00")
    assert not Charge.objects.filter(cluster=empty).exists()


def test_a_charged_pool_cannot_change(world):
    p = pool(world.pay_psoa, "1000.00")
    services.chargeback_run(actor=world.administrator, period=APRIL)
    with pytest.raises(Conflict, match="already been charged"):
        services.cost_pool_update(actor=world.administrator, cost_pool=p, amount=Decimal("1.00"))
    assert CostPool.objects.get(pk=p.pk).amount == Decimal("1000.00")


def test_chargeback_query_count_does_not_grow_with_members(world, django_assert_num_queries):
    pool(world.pay_psoa, "1000.00")
    # create run, lock run, mark running, advisory lock, constraints immediate, insert,
    # constraints deferred, unallocated, save run (+ savepoints and the audit context):
    # the same however many members.
    with django_assert_num_queries(14):
        services.chargeback_run(actor=world.administrator, period=APRIL)
    for i in range(40):
        MembershipFactory(cluster=world.pay_psoa, department=DepartmentFactory(code=f"Q{i}"))
    pool(world.pay_psoa, "999.00", period=D(2026, 5, 1))
    with django_assert_num_queries(14):
        services.chargeback_run(actor=world.administrator, period=D(2026, 5, 1))
    assert Charge.objects.filter(period=D(2026, 5, 1)).count() == 42


@pytest.mark.django_db(transaction=True)
def test_two_workers_charging_one_month_at_once_leave_one_set_of_charges():
    admin = UserFactory(username="admin", role="administrator")
    cluster = ClusterFactory(code="RACE")
    for i in range(30):
        MembershipFactory(
            cluster=cluster, department=DepartmentFactory(code=f"R{i}"), usage_units=i + 1
        )
    CostPool.objects.create(cluster=cluster, period=APRIL, amount=Decimal("12345.67"))
    runs = [ChargebackRun.objects.create(period=APRIL, requested_by=admin) for _ in range(2)]
    barrier = threading.Barrier(2)

    def execute(run):
        try:
            barrier.wait()
            services.chargeback_execute(run_id=run.pk)
        finally:
            connection.close()

    threads = [threading.Thread(target=execute, args=(r,)) for r in runs]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert Charge.objects.count() == 30
    assert Charge.objects.aggregate(t=Sum("amount"))["t"] == Decimal("12345.67")
    done = sorted(ChargebackRun.objects.values_list("status", "charges"))
    assert done == [(RunStatus.DONE, 0), (RunStatus.DONE, 30)]


members = st.lists(
    st.tuples(
        st.integers(min_value=1, max_value=100_000),  # usage units
        st.integers(min_value=1, max_value=30),  # joins on day
        st.integers(min_value=2, max_value=31),  # leaves on day (31 = stays)
    ),
    min_size=1,
    max_size=12,
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(amount=st.decimals(min_value=0, max_value=10_000_000, places=2), members=members)
def test_property_charges_add_up_and_are_fair(world, amount, members):
    """For any pool, usages and join/leave days in the month: charges are non-negative,
    add up exactly to the pool, and each is within a cent of its exact share."""
    try:
        with transaction.atomic():
            cluster = ClusterFactory(code="PROP", service=world.it, provider=world.outside)
            weights = {}
            for i, (units, join_day, leave_day) in enumerate(members):
                joined = D(2026, 4, join_day)
                leaves = None if leave_day > 30 else D(2026, 4, leave_day)
                if leaves is not None and leaves <= joined:
                    leaves = None
                m = MembershipFactory(
                    cluster=cluster,
                    department=DepartmentFactory(code=f"H{i}"),
                    usage_units=units,
                    joined_on=joined,
                    leaves_on=leaves,
                )
                days = ((leaves or D(2026, 5, 1)) - joined).days
                weights[m.department_id] = Decimal(units * days)
            CostPool.objects.create(cluster=cluster, period=APRIL, amount=amount)
            services.chargeback_run(actor=world.administrator, period=APRIL)
            got = {c.department_id: c.amount for c in Charge.objects.filter(cluster=cluster)}
            total_weight = sum(weights.values())
            assert set(got) == set(weights)
            assert sum(got.values()) == amount
            for dept, charge in got.items():
                assert charge >= 0
                exact = amount * weights[dept] / total_weight
                assert abs(charge - exact) < Decimal("0.01")
            raise _Rollback
    except _Rollback:
        pass


class _Rollback(Exception):
    pass
