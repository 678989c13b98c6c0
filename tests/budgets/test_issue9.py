"""Issue 9 on the money side, each finding a named test: who sees whether a charge is on a
budget line (5), rights from a membership need current membership (4), a PATCH naming a
line's identity is refused cleanly (8), and the services check permission themselves."""

from __future__ import annotations

import csv
import datetime
import io
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied

from budgets import services
from budgets.models import BudgetLine, Charge, ChargebackRun, CostPool
from clusters.models import Membership
from tests.factories import DepartmentFactory, MembershipFactory, ServiceFactory, UserFactory

API = "/api/v1"
D = datetime.date
APRIL = D(2026, 4, 1)


@pytest.fixture
def charged(world):
    """April charged: LCS has a payroll line (its PAY-PSOA charge is funded), ENV has none."""
    line = services.budget_line_create(
        actor=world.manager,
        department=world.lcs,
        fiscal_year="2026-27",
        service=world.payroll,
        allocated=Decimal("5000.00"),
    )
    services.cost_pool_create(
        actor=world.provider_manager, cluster=world.pay_psoa, period=APRIL, amount=Decimal("700")
    )
    services.chargeback_run(actor=world.administrator, period=APRIL)
    return line


def _charge(world, department) -> Charge:
    return Charge.objects.get(department=department, cluster=world.pay_psoa, period=APRIL)


# Finding 5 --------------------------------------------------------------------------------


def test_finding_5_provider_manager_does_not_see_budget_line(world, api, charged):
    lcs, env = _charge(world, world.lcs), _charge(world, world.env)
    assert (lcs.budget_line_id, env.budget_line_id) == (charged.pk, None)
    client = api.as_user(world.provider_manager)
    for charge in (lcs, env):
        body = client.get(f"{API}/charges/{charge.pk}/").json()
        assert (body["amount"], body["budget_line"], body["unfunded"]) == (
            str(charge.amount),
            None,
            None,
        )
    rows = client.get(f"{API}/charges/").json()["results"]
    assert {(r["department"], r["budget_line"], r["unfunded"]) for r in rows} == {
        ("LCS", None, None),
        ("ENV", None, None),
    }
    table = list(
        csv.DictReader(io.StringIO(client.get(f"{API}/charges/?format=csv").getvalue().decode()))
    )
    assert {(r["department"], r["budget_line"], r["unfunded"]) for r in table} == {
        ("LCS", "", ""),
        ("ENV", "", ""),
    }


def test_finding_5_the_department_and_readers_still_see_it(world, api, charged):
    lcs = _charge(world, world.lcs)
    for user in (world.manager, world.deputy_minister, world.analyst, world.administrator):
        body = api.as_user(user).get(f"{API}/charges/{lcs.pk}/").json()
        assert (body["budget_line"], body["unfunded"]) == (charged.pk, False), user


def test_finding_5_a_fellow_member_sees_the_charge_but_not_its_budget_line(world, api, charged):
    lcs = _charge(world, world.lcs)
    body = api.as_user(world.other_manager).get(f"{API}/charges/{lcs.pk}/").json()
    assert (body["department"], body["amount"], body["budget_line"], body["unfunded"]) == (
        "LCS",
        str(lcs.amount),
        None,
        None,
    )


def test_finding_5_filters_on_the_budget_line_tell_a_provider_nothing(world, api, charged):
    client = api.as_user(world.provider_manager)
    for query in ("unfunded=true", "unfunded=false", f"budget_line={charged.pk}"):
        assert client.get(f"{API}/charges/?{query}").json()["results"] == [], query
    # The department filtering its own charges still finds them.
    own = api.as_user(world.manager).get(f"{API}/charges/?unfunded=false").json()["results"]
    assert [(r["department"], r["budget_line"]) for r in own] == [("LCS", charged.pk)]


def test_finding_5_the_schema_says_the_gated_fields_may_be_null(db, client):
    client.force_login(UserFactory(username="schema_reader", role="analyst"))
    schema = client.get("/api/v1/schema/", {"format": "json"}).json()
    charge = schema["components"]["schemas"]["Charge"]["properties"]
    assert charge["budget_line"]["nullable"] is True
    assert charge["unfunded"]["nullable"] is True


# Finding 4 --------------------------------------------------------------------------------


def test_finding_4_a_former_member_reads_no_pools_or_fellow_charges(world, api, charged):
    # ENV left PAY-PSOA yesterday: its own April charge stays its own; LCS's and the
    # cluster's pools are no longer its business.
    Membership.objects.filter(pk=world.env_payroll.pk).update(
        leaves_on=datetime.date.today() - datetime.timedelta(days=1)
    )
    client = api.as_user(world.other_manager)
    assert client.get(f"{API}/cost-pools/").json()["results"] == []
    rows = client.get(f"{API}/charges/").json()["results"]
    assert [(r["department"], r["unfunded"]) for r in rows] == [("ENV", True)]
    lcs = _charge(world, world.lcs)
    assert client.get(f"{API}/charges/{lcs.pk}/").status_code == 404


def test_finding_4_a_future_member_is_an_outsider(world, api):
    # FIN is to join PAY-PSOA next month: today it is no member, so its pools are not FIN's.
    MembershipFactory(
        department=world.fin,
        cluster=world.pay_psoa,
        joined_on=datetime.date.today() + datetime.timedelta(days=31),
    )
    CostPool.objects.create(cluster=world.pay_psoa, period=APRIL, amount=Decimal("1.00"))
    client = api.as_user(world.recused_deputy_minister)  # FIN's deputy minister
    assert client.get(f"{API}/cost-pools/").json()["results"] == []
    # LCS, a current member, reads it.
    rows = api.as_user(world.manager).get(f"{API}/cost-pools/").json()["results"]
    assert [(r["cluster"], r["amount"]) for r in rows] == [("PAY-PSOA", "1.00")]


# Finding 8 --------------------------------------------------------------------------------

IDENTITY = {"department": "AGRI", "service": "FINOPS"}


def test_finding_8_patching_a_lines_identity_by_another_department_is_404(world, api, charged):
    DepartmentFactory(code="AGRI")
    ServiceFactory(code="FINOPS")
    before = list(BudgetLine.objects.values())
    response = api.as_user(world.other_manager).patch(
        f"{API}/budget-lines/{charged.pk}/", IDENTITY, format="json"
    )
    assert response.status_code == 404
    assert list(BudgetLine.objects.values()) == before


def test_finding_8_patching_only_a_lines_identity_changes_nothing(world, api, charged):
    # The 500 (TypeError: no allocation given) on one's own line: now the line, unchanged.
    before = list(BudgetLine.objects.values())
    response = api.as_user(world.manager).patch(
        f"{API}/budget-lines/{charged.pk}/", IDENTITY, format="json"
    )
    assert response.status_code == 200
    assert (response.json()["department"], response.json()["allocated"]) == ("LCS", "5000.00")
    assert list(BudgetLine.objects.values()) == before


def test_finding_8_patching_a_pool_with_nothing_it_may_change_is_not_a_500(world, api):
    pool = services.cost_pool_create(
        actor=world.provider_manager, cluster=world.pay_psoa, period=APRIL, amount=Decimal("7")
    )
    response = api.as_user(world.provider_manager).patch(
        f"{API}/cost-pools/{pool.pk}/", {"cluster": "IT-TECH"}, format="json"
    )
    assert (response.status_code, response.json()["cluster"]) == (200, "PAY-PSOA")
    response = api.as_user(world.other_provider_manager).patch(
        f"{API}/cost-pools/{pool.pk}/", {"cluster": "IT-TECH"}, format="json"
    )
    assert response.status_code == 404


# Services check permission themselves -------------------------------------------------------


def test_services_refuse_an_actor_without_the_permission(world):
    with pytest.raises(PermissionDenied):
        services.budget_line_create(
            actor=world.other_manager,
            department=world.lcs,
            fiscal_year="2026-27",
            service=world.payroll,
            allocated=Decimal("1.00"),
        )
    with pytest.raises(PermissionDenied):
        services.cost_pool_create(
            actor=world.other_provider_manager,
            cluster=world.pay_psoa,
            period=APRIL,
            amount=Decimal("1.00"),
        )
    with pytest.raises(PermissionDenied):
        services.chargeback_request(actor=world.analyst, period=APRIL)
    with pytest.raises(PermissionDenied):
        services.chargeback_run(actor=world.provider_manager, period=APRIL)
    assert not BudgetLine.objects.exists()
    assert not CostPool.objects.exists()
    assert not ChargebackRun.objects.exists()


def test_services_refuse_changes_to_another_departments_line_and_pool(world, charged):
    pool = CostPool.objects.get(cluster=world.pay_psoa)
    with pytest.raises(PermissionDenied):
        services.budget_line_update(
            actor=world.other_manager, budget_line=charged, allocated=Decimal("1")
        )
    with pytest.raises(PermissionDenied):
        services.budget_line_delete(actor=world.provider_manager, budget_line=charged)
    with pytest.raises(PermissionDenied):
        services.cost_pool_update(
            actor=world.other_provider_manager, cost_pool=pool, amount=Decimal("1")
        )
    with pytest.raises(PermissionDenied):
        services.cost_pool_delete(actor=world.manager, cost_pool=pool)
    charged.refresh_from_db()
    pool.refresh_from_db()
    assert (charged.allocated, pool.amount) == (Decimal("5000.00"), Decimal("700.00"))


def test_the_system_acts_without_a_user(world):
    line = services.budget_line_create(
        actor=None,
        department=world.lcs,
        fiscal_year="2026-27",
        service=world.payroll,
        allocated=Decimal("1.00"),
    )
    pool = services.cost_pool_create(
        actor=None, cluster=world.pay_psoa, period=APRIL, amount=Decimal("7")
    )
    run = services.chargeback_run(actor=None, period=APRIL)
    assert (line.pk is not None, pool.entered_by, run.charges) == (True, None, 2)
