"""manage.py seed_demo: a believable world, one user per role, every month charged; a
second run duplicates nothing, `--scale` multiplies it; and the demo's published
statement (its programme of that year is made once).

The demo is seeded once (it takes seconds; running the command again on it takes a
fraction of that) for the tests here, which run one after another: a shared layer
(`demo`, tests/shared.py), each test in a savepoint of its own, so a test that runs the
command again leaves the demo as it was for the next. The scales the command refuses
are tested on an empty database in `test_seed_demo.py`.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.apps import apps
from django.contrib.auth import authenticate
from django.db.models import Count, Sum
from django.utils import timezone

from budgets.models import BudgetLine, BudgetState, Charge, ChargebackRun, CostPool, RunStatus
from clusters.models import (
    Cluster,
    Department,
    Lifecycle,
    Membership,
    MembershipStatus,
    Provider,
    ProviderKind,
    Service,
    Standard,
    StandardKind,
)
from initiatives.models import Programme
from sharedsvc.models import User
from sharedsvc.periods import fiscal_year_of, last_complete_fiscal_year, next_month, previous_month
from sharedsvc.roles import Role
from tests.shared import shared_fixture
from tests.web.test_seed_demo import counts, seed, sign_in_request
from web.statement import TABLES, benefits_statement


@shared_fixture(name="demo")
def seeded_demo() -> dict[str, str]:
    """The demo as the command makes it on an empty database: the printed passwords."""
    return seed()


def test_seed_builds_the_world(demo):
    printed = demo

    assert Department.objects.count() >= 12
    assert Department.objects.filter(is_main=True, deputy_minister__isnull=False).count() >= 4
    psoa = Provider.objects.get(kind=ProviderKind.PSOA)
    assert psoa.host_department is not None
    providing = Provider.objects.get(kind=ProviderKind.DEPARTMENT)
    assert providing.host_department is not None
    assert Provider.objects.filter(kind=ProviderKind.EXTERNAL, host_department=None).exists()

    assert {"hr", "payroll", "finance", "it"} <= set(
        Service.objects.values_list("category", flat=True)
    )
    for service in Service.objects.all():
        assert service.standards.exists(), service
    assert set(Standard.objects.values_list("kind", flat=True)) == set(StandardKind.values)

    # Two clusters of the same service make leaving possible.
    payroll = Cluster.objects.filter(service__category="payroll")
    assert {c.provider.kind for c in payroll} >= {ProviderKind.PSOA, ProviderKind.DEPARTMENT}
    pilot = Cluster.objects.get(service__lifecycle=Lifecycle.PILOT)
    assert pilot.notice_days == 30
    assert pilot.memberships.exists()

    statuses = {m.status for m in Membership.objects.all()}
    assert {MembershipStatus.ACTIVE, MembershipStatus.LEFT, MembershipStatus.LEAVING} <= statuses
    assert not Membership.objects.filter(baseline_annual_cost=0).exists()

    # One printed user per role, and each printed password signs in.
    roles = {User.objects.get(username=name).role for name in printed}
    assert roles == set(Role.values)
    for username, password in printed.items():
        assert authenticate(sign_in_request(), username=username, password=password) is not None, (
            username
        )
    for user in User.objects.filter(role=Role.DEPUTY_MINISTER):
        assert user.department.deputy_minister == user
    admin = User.objects.get(username="admin")
    assert admin.is_staff and admin.is_superuser


def test_every_write_is_audited_with_the_system_actor(demo):

    system = User.objects.get(username="system")
    events = apps.get_model("clusters", "MembershipEvent").objects.all()
    assert events.filter(pgh_label="insert").count() == Membership.objects.count()
    # The organisation is written by the system user; the moves that the demo's exit
    # requests schedule are written by the deputy minister who gave notice.
    actors = {event.pgh_context.metadata.get("user") for event in events}
    deputy_ministers = set(User.objects.filter(role="deputy_minister").values_list("pk", flat=True))
    assert system.pk in actors
    assert actors <= {system.pk} | deputy_ministers


# Running it again ---------------------------------------------------------------------


def test_second_run_duplicates_nothing_and_resets_passwords(demo):
    first = demo
    before = counts()

    second = seed()

    assert counts() == before
    assert second.keys() == first.keys()
    for username, password in second.items():
        assert password != first[username]
        assert authenticate(sign_in_request(), username=username, password=first[username]) is None
        assert authenticate(sign_in_request(), username=username, password=password) is not None


def test_scale_multiplies_departments_clusters_and_members(demo):
    one = counts()
    seed("--scale", "2")
    two = counts()
    for model in ("Membership", "Cluster"):
        assert two[model] == 2 * one[model], model
    assert two["Department"] == 2 * one["Department"]
    # The copies have their own pools, lines and charges, and every pool adds up.
    assert two["CostPool"] == 2 * one["CostPool"]
    assert two["BudgetLine"] == 2 * one["BudgetLine"]
    assert two["Charge"] == 2 * one["Charge"]
    copies = Charge.objects.filter(department__code__endswith="-002")
    assert copies.count() == one["Charge"]
    pools = CostPool.objects.annotate(charged=Sum("charges__amount"), n=Count("charges"))
    assert all(pool.charged == pool.amount for pool in pools)
    # A copy department is in the copy of its original's clusters only.
    lcs2 = Department.objects.get(code="LCS-002")
    assert sorted(lcs2.memberships.values_list("cluster__code", flat=True)) == sorted(
        f"{code}-002"
        for code in Department.objects.get(code="LCS").memberships.values_list(
            "cluster__code", flat=True
        )
    )
    assert not lcs2.is_main  # the board stays the real departments' deputy ministers
    # The copies are audited too (bulk inserts still fire the triggers).
    events = apps.get_model("clusters", "MembershipEvent").objects.filter(pgh_label="insert")
    assert events.count() == two["Membership"]
    # And scale is idempotent as well.
    seed("--scale", "2")
    assert counts() == two


# The money side -----------------------------------------------------------------------


def demo_months() -> list[datetime.date]:
    """From the start of the fiscal year two years back up to the last month that ended."""
    today = timezone.localdate()
    start_year = today.year if today.month >= 4 else today.year - 1
    month, last = datetime.date(start_year - 2, 4, 1), previous_month(today)
    found = []
    while month <= last:
        found.append(month)
        month = next_month(month)
    return found


def test_two_years_of_pools_for_every_cluster_with_members(demo):
    months = demo_months()
    assert len(months) >= 24
    for cluster in Cluster.objects.all():
        periods = set(cluster.cost_pools.values_list("period", flat=True))
        served = {
            month
            for month in months
            if cluster.memberships.filter(joined_on__lt=next_month(month))
            .exclude(leaves_on__lte=month)
            .exists()
        }
        assert periods == served, cluster.code
    # Proportional to usage, with some variation: PSOA payroll is never the same twice.
    amounts = list(
        CostPool.objects.filter(cluster__code="PAY-PSOA").values_list("amount", flat=True)
    )
    assert len(set(amounts)) == len(amounts)
    assert all(Decimal("500000") < a < Decimal("2000000") for a in amounts)


def test_every_ended_month_is_charged_and_adds_up(demo):
    months = demo_months()
    done = set(ChargebackRun.objects.filter(status=RunStatus.DONE).values_list("period", flat=True))
    assert done == set(months)
    pools = CostPool.objects.annotate(charged=Sum("charges__amount"))
    assert all(pool.charged == pool.amount for pool in pools)
    # One charge per member and month at most (the database's rule), and every member pays.
    assert Charge.objects.count() == len(
        {(c, d, p) for c, d, p in Charge.objects.values_list("cluster", "department", "period")}
    )


def test_budget_lines_for_each_year_some_in_warning_or_overspent(demo):
    # Every year with a month charged, and this one (budgeted before anything is charged).
    years = {fiscal_year_of(month) for month in demo_months()} | {
        fiscal_year_of(timezone.localdate())
    }
    lines = list(BudgetLine.objects.with_charged().select_related("department", "service"))
    assert {line.fiscal_year for line in lines} == years
    states = {line.state for line in lines}
    assert states == {BudgetState.OK, BudgetState.WARNING, BudgetState.OVERSPENT}
    warning = [line for line in lines if line.state == BudgetState.WARNING]
    overspent = [line for line in lines if line.state == BudgetState.OVERSPENT]
    assert 2 <= len(warning) <= 10 and 1 <= len(overspent) <= 5
    assert all(line.charged > line.allocated for line in overspent)
    # Most lines are comfortably funded.
    assert sum(line.state == BudgetState.OK for line in lines) > 0.8 * len(lines)
    # The demo's LCS manager sees a line in warning on their own budget.
    assert any(line.department.code == "LCS" for line in warning)


def test_one_department_has_unfunded_charges(demo):
    unfunded = Charge.objects.filter(budget_line__isnull=True)
    assert unfunded.exists()
    assert set(unfunded.values_list("department__code", "cluster__service__code")) == {
        ("TRAN", "PORTAL")
    }
    assert not BudgetLine.objects.filter(department__code="TRAN", service__code="PORTAL").exists()
    # Every other charge is on the line of its department, service and fiscal year.
    for charge in Charge.objects.exclude(budget_line=None).select_related("budget_line", "cluster")[
        :200
    ]:
        line = charge.budget_line
        assert (line.department_id, line.service_id, line.fiscal_year) == (
            charge.department_id,
            charge.cluster.service_id,
            fiscal_year_of(charge.period),
        )


def test_money_is_audited_with_the_system_actor(demo):
    system = User.objects.get(username="system")
    for name, model in (("CostPoolEvent", CostPool), ("BudgetLineEvent", BudgetLine)):
        events = apps.get_model("budgets", name).objects.filter(pgh_label="insert")
        assert events.count() == model.objects.count()
        assert {e.pgh_context.metadata.get("user") for e in events} == {system.pk}
    assert set(ChargebackRun.objects.values_list("requested_by", flat=True)) == {system.pk}


# The statement --------------------------------------------------------------------------


def test_the_last_complete_year_has_a_statement_with_every_table(demo):
    """A published statement for the last complete fiscal year (2025-26 when the demo is
    seeded in 2026-27), with figures in every table, read as an analyst."""
    seed()  # idempotent: the year's programme is not made twice
    assert Programme.objects.filter(code="HRALL").count() == 1
    year = last_complete_fiscal_year(timezone.localdate())
    tables = benefits_statement(User.objects.get(username="analyst"), year)["tables"]
    assert {name for name, rows in tables.items() if not rows} == set(), year
    assert set(tables) == set(TABLES)
    (programme,) = [row for row in tables["programmes"] if row["programme"] == "HRALL"]
    assert (programme["joined"], programme["declined"], programme["pending"]) == (2, 1, 1)
    assert any(row["kind"] == "programme" for row in tables["decisions"])
