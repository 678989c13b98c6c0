"""Budget lines and cost pools through their services: the rules and who sees what."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from budgets import services
from budgets.models import BudgetLine, BudgetState, Charge, CostPool, budget_state
from sharedsvc.errors import Conflict

APRIL = datetime.date(2026, 4, 1)


def line(world, **kwargs) -> BudgetLine:
    data = {
        "department": world.lcs,
        "fiscal_year": "2026-27",
        "service": world.payroll,
        "allocated": Decimal("1000.00"),
    }
    data.update(kwargs)
    return services.budget_line_create(actor=world.manager, **data)


@pytest.mark.parametrize(
    ("allocated", "charged", "state"),
    [
        ("1000.00", "900.00", BudgetState.OK),  # exactly 90% is not past it
        ("1000.00", "900.01", BudgetState.WARNING),
        ("1000.00", "1000.00", BudgetState.WARNING),
        ("1000.00", "1000.01", BudgetState.OVERSPENT),
        ("0.00", "0.00", BudgetState.OK),
        ("0.00", "0.01", BudgetState.OVERSPENT),
    ],
)
def test_budget_state_thresholds(allocated, charged, state):
    assert budget_state(Decimal(allocated), Decimal(charged)) == state


def test_one_line_per_department_year_and_service(world):
    line(world)
    with pytest.raises(ValidationError, match="already has a budget line"):
        line(world, allocated=Decimal("5.00"))
    assert BudgetLine.objects.filter(department=world.lcs).count() == 1


@pytest.mark.parametrize("fiscal_year", ["2026", "2026-28", "26-27", "2026/27", ""])
def test_fiscal_year_must_be_well_formed(world, fiscal_year):
    with pytest.raises(ValidationError):
        line(world, fiscal_year=fiscal_year)
    assert not BudgetLine.objects.exists()


def test_allocation_cannot_be_negative(world):
    with pytest.raises(ValidationError, match="cannot be negative"):
        line(world, allocated=Decimal("-1.00"))
    assert not BudgetLine.objects.exists()


def test_a_new_line_takes_up_the_unfunded_charges_of_its_year(world):
    CostPool.objects.create(cluster=world.pay_psoa, period=APRIL, amount=Decimal("700.00"))
    services.chargeback_run(actor=world.administrator, period=APRIL)
    assert Charge.objects.get(department=world.lcs).unfunded
    new = line(world)
    charge = Charge.objects.get(department=world.lcs)
    assert charge.budget_line_id == new.pk
    assert BudgetLine.objects.with_charged().get(pk=new.pk).charged == Decimal("400.00")
    assert Charge.objects.get(department=world.env).unfunded  # not ENV's


def test_charged_remaining_and_state_are_derived(world):
    new = line(world, allocated=Decimal("420.00"))
    CostPool.objects.create(cluster=world.pay_psoa, period=APRIL, amount=Decimal("700.00"))
    services.chargeback_run(actor=world.administrator, period=APRIL)
    got = BudgetLine.objects.with_charged().get(pk=new.pk)
    assert (got.charged, got.remaining, got.state) == (
        Decimal("400.00"),
        Decimal("20.00"),
        BudgetState.WARNING,
    )


def test_a_line_with_charges_cannot_be_deleted(world):
    new = line(world)
    CostPool.objects.create(cluster=world.pay_psoa, period=APRIL, amount=Decimal("700.00"))
    services.chargeback_run(actor=world.administrator, period=APRIL)
    with pytest.raises(Conflict, match="has charges"):
        services.budget_line_delete(actor=world.manager, budget_line=new)
    assert BudgetLine.objects.filter(pk=new.pk).exists()


def test_pools_for_future_months_are_refused(world):
    next_month = (timezone.localdate().replace(day=1) + datetime.timedelta(days=32)).replace(day=1)
    with pytest.raises(ValidationError, match="in the future"):
        services.cost_pool_create(
            actor=world.provider_manager,
            cluster=world.pay_psoa,
            period=next_month,
            amount=Decimal("1"),
        )
    assert not CostPool.objects.exists()


def test_one_pool_per_cluster_and_month(world):
    services.cost_pool_create(
        actor=world.provider_manager, cluster=world.pay_psoa, period=APRIL, amount=Decimal("1")
    )
    with pytest.raises(ValidationError, match="already has a cost pool"):
        services.cost_pool_create(
            actor=world.provider_manager, cluster=world.pay_psoa, period=APRIL, amount=Decimal("2")
        )
    assert CostPool.objects.get().amount == Decimal("1.00")


def test_pool_import_saves_all_or_nothing(world):
    rows = [
        {"cluster": world.pay_psoa, "period": APRIL, "amount": Decimal("10")},
        {"cluster": world.pay_psoa, "period": datetime.date(2026, 5, 1), "amount": Decimal("-5")},
    ]
    with pytest.raises(ValidationError):
        services.cost_pools_import(actor=world.provider_manager, rows=rows)
    assert not CostPool.objects.exists()


def test_visibility_budgets_stay_with_the_customer(world):
    mine = line(world)
    services.budget_line_create(
        actor=world.other_manager,
        department=world.env,
        fiscal_year="2026-27",
        service=world.payroll,
        allocated=Decimal("1"),
    )
    assert list(BudgetLine.objects.visible_to(world.manager)) == [mine]
    assert list(BudgetLine.objects.visible_to(world.deputy_minister)) == [mine]
    assert BudgetLine.objects.visible_to(world.analyst).count() == 2
    assert BudgetLine.objects.visible_to(world.provider_manager).count() == 0
    assert BudgetLine.objects.visible_to(world.outsider).count() == 0


def test_visibility_of_charges_and_pools(world):
    CostPool.objects.create(cluster=world.pay_psoa, period=APRIL, amount=Decimal("700.00"))
    CostPool.objects.create(cluster=world.pay_tech, period=APRIL, amount=Decimal("50.00"))
    services.chargeback_run(actor=world.administrator, period=APRIL)

    def charged(user):
        return sorted(
            f"{c.department.code}@{c.cluster.code}" for c in Charge.objects.visible_to(user)
        )

    # LCS sees its own charge and its fellow member ENV's (one pool, shared by usage).
    assert charged(world.manager) == ["ENV@PAY-PSOA", "LCS@PAY-PSOA"]
    assert charged(world.provider_manager) == ["ENV@PAY-PSOA", "LCS@PAY-PSOA"]
    assert charged(world.other_provider_manager) == ["TECH@PAY-TECH"]
    assert len(charged(world.analyst)) == 3
    pools = {p.cluster.code for p in CostPool.objects.visible_to(world.manager)}
    assert pools == {"PAY-PSOA"}  # LCS is a member of PAY-PSOA and IT-TECH (no pool yet)
