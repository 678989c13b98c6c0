"""The money side's REST API (v1): the analysts' contract, the roles of DESIGN.md, filters,
CSV, bad input answered as 400 with nothing saved, and query counts that do not grow."""

from __future__ import annotations

import csv
import datetime
import io
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pghistory.models
import pytest
from django.db.models import Model
from django.utils import timezone

from budgets import services
from budgets.api.views import (
    NO_BUDGETS_FOR_ROLE,
    NOT_YOUR_CLUSTER,
    NOT_YOUR_DEPARTMENT,
    RUNS_FOR_ADMINISTRATORS,
)
from budgets.models import BudgetLine, Charge, ChargebackRun, CostPool, RunStatus
from clusters.filters import UNKNOWN_CODE
from sharedsvc.api.filters import BOOLEAN_INVALID
from sharedsvc.periods import FISCAL_YEAR_INVALID, PERIOD_INVALID, format_period, next_month
from tests.factories import (
    ClusterFactory,
    DepartmentFactory,
    MembershipFactory,
    UserFactory,
)
from tests.pages import count_queries
from tests.personas import World
from tests.shared import shared_fixture

API = "/api/v1"
D = datetime.date
APRIL = D(2026, 4, 1)
MAY = D(2026, 5, 1)
NUL = "\x00"
FULL_WIDTH_MAY = "\uff12\uff10\uff12\uff16-\uff10\uff15"  # 2026-05 in full-width digits
LINE_TWICE = str(
    next(
        c
        for c in BudgetLine._meta.constraints
        if c.name == "budgetline_one_per_department_year_service"
    ).violation_error_message
)
POOL_TWICE = str(
    next(
        c for c in CostPool._meta.constraints if c.name == "costpool_one_per_cluster_month"
    ).violation_error_message
)
EVERYONE = [
    "administrator",
    "analyst",
    "manager",
    "other_manager",
    "deputy_minister",
    "recused_deputy_minister",
    "provider_manager",
    "other_provider_manager",
]


def this_month() -> datetime.date:
    return timezone.localdate().replace(day=1)


def messages(body: Any) -> list[str]:
    """Every message in an error body, however nested."""
    if isinstance(body, dict):
        return [m for value in body.values() for m in messages(value)]
    if isinstance(body, list):
        return [m for value in body for m in messages(value)]
    return [str(body)]


def snapshot() -> dict[str, list]:
    """Everything a budgets request could change, to show a refused one changed nothing."""
    state: dict[str, list] = {
        model.__name__: list(model.objects.order_by("pk").values())
        for model in (BudgetLine, CostPool, Charge, ChargebackRun)
    }
    state["events"] = [pghistory.models.Events.objects.count()]
    return state


def results(response) -> list[dict[str, Any]]:
    assert response.status_code == 200, response.content
    return response.json()["results"]


def read_csv(response) -> list[dict[str, str]]:
    assert response.status_code == 200, response.getvalue()
    assert response["Content-Type"].startswith("text/csv")
    return list(csv.DictReader(io.StringIO(response.getvalue().decode())))


def charge_keys(rows: list[dict[str, Any]]) -> list[str]:
    return sorted(f"{r['department']}@{r['cluster']}@{r['period']}" for r in rows)


def line_keys(rows: list[dict[str, Any]]) -> list[str]:
    return sorted(f"{r['department']}/{r['service']}/{r['fiscal_year']}" for r in rows)


def audit_actor(model: type[Model], pk: int) -> int | None:
    event = (
        pghistory.models.Events.objects.filter(pgh_obj_model=model._meta.label, pgh_obj_id=str(pk))
        .order_by("-pgh_created_at", "-pgh_id")
        .first()
    )
    assert event is not None, f"no audit event for {model.__name__} {pk}"
    return (event.pgh_context or {}).get("user")


@dataclass
class Money:
    """April 2026 charged: PAY-PSOA 700 (LCS 400, ENV 300), PAY-TECH 50 (TECH, unfunded),
    IT-TECH 100 (LCS). Lines for 2026-27: LCS payroll 420 (warning), LCS IT 90
    (overspent), ENV payroll 1000 (ok); TECH has none, so its charge is unfunded."""

    world: World
    lcs_pay: BudgetLine
    lcs_it: BudgetLine
    env_pay: BudgetLine
    pay_psoa_april: CostPool
    run: ChargebackRun


def make_line(world: World, department, service, allocated: str, year="2026-27") -> BudgetLine:
    return services.budget_line_create(
        actor=world.administrator,
        department=department,
        fiscal_year=year,
        service=service,
        allocated=Decimal(allocated),
    )


def make_pool(world: World, cluster, amount: str, period=APRIL) -> CostPool:
    return services.cost_pool_create(
        actor=world.administrator, cluster=cluster, period=period, amount=Decimal(amount)
    )


@shared_fixture("world")
def money(world) -> Money:
    lcs_pay = make_line(world, world.lcs, world.payroll, "420.00")
    lcs_it = make_line(world, world.lcs, world.it, "90.00")
    env_pay = make_line(world, world.env, world.payroll, "1000.00")
    pay_psoa_april = make_pool(world, world.pay_psoa, "700.00")
    make_pool(world, world.pay_tech, "50.00")
    make_pool(world, world.it_tech, "100.00")
    run = services.chargeback_run(actor=world.administrator, period=APRIL)
    return Money(world, lcs_pay, lcs_it, env_pay, pay_psoa_april, run)


# The contract: fields analysts rely on ------------------------------------------------


def test_budget_line_fields(money, api):
    w = money.world
    response = api.as_user(w.manager).get(f"{API}/budget-lines/{money.lcs_pay.pk}/")
    assert response.status_code == 200, response.content
    assert response.json() == {
        "id": money.lcs_pay.pk,
        "department": "LCS",
        "fiscal_year": "2026-27",
        "service": "PAY",
        "allocated": "420.00",
        "charged": "400.00",
        "remaining": "20.00",
        "state": "warning",
    }


def test_budget_line_states_in_the_list(money, api):
    rows = results(api.as_user(money.world.analyst).get(f"{API}/budget-lines/"))
    got = {
        (r["department"], r["service"]): (r["charged"], r["remaining"], r["state"]) for r in rows
    }
    assert got == {
        ("LCS", "PAY"): ("400.00", "20.00", "warning"),
        ("LCS", "IT"): ("100.00", "-10.00", "overspent"),
        ("ENV", "PAY"): ("300.00", "700.00", "ok"),
    }


def test_charge_fields(money, api):
    w = money.world
    lcs = Charge.objects.get(department=w.lcs, cluster=w.pay_psoa)
    tech = Charge.objects.get(department=w.tech)
    client = api.as_user(w.analyst)
    body = client.get(f"{API}/charges/{lcs.pk}/").json()
    contract = {
        "id": lcs.pk,
        "department": "LCS",
        "cluster": "PAY-PSOA",
        "period": "2026-04",
        "amount": "400.00",
        "budget_line": money.lcs_pay.pk,
        "unfunded": False,
    }
    assert {k: body[k] for k in contract} == contract
    body = client.get(f"{API}/charges/{tech.pk}/").json()
    assert (body["amount"], body["budget_line"], body["unfunded"]) == ("50.00", None, True)


def test_chargeback_run_fields(money, api):
    response = api.as_user(money.world.administrator).get(f"{API}/chargeback-runs/{money.run.pk}/")
    assert response.status_code == 200, response.content
    body = response.json()
    contract = {
        "id": money.run.pk,
        "period": "2026-04",
        "status": "done",
        "charges": 4,
        "total": "850.00",
    }
    assert {k: body[k] for k in contract} == contract


def test_cost_pool_fields(money, api):
    response = api.as_user(money.world.provider_manager).get(
        f"{API}/cost-pools/{money.pay_psoa_april.pk}/"
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert {k: body[k] for k in ("id", "cluster", "period", "amount")} == {
        "id": money.pay_psoa_april.pk,
        "cluster": "PAY-PSOA",
        "period": "2026-04",
        "amount": "700.00",
    }


# Budget lines: the department's own, nobody else's ------------------------------------


NEW_LINE = {"department": "LCS", "fiscal_year": "2025-26", "service": "PAY", "allocated": "500.00"}


@pytest.mark.parametrize("persona", ["manager", "deputy_minister", "administrator"])
def test_department_people_and_administrators_create_lines(money, api, persona):
    user = money.world.personas()[persona]
    response = api.as_user(user).post(f"{API}/budget-lines/", NEW_LINE)
    assert response.status_code == 201, response.content
    line = BudgetLine.objects.get(
        department__code="LCS", fiscal_year="2025-26", service__code="PAY"
    )
    assert line.allocated == Decimal("500.00")
    assert response.json() == {
        "id": line.pk,
        **NEW_LINE,
        "charged": "0.00",
        "remaining": "500.00",
        "state": "ok",
    }
    assert audit_actor(BudgetLine, line.pk) == user.pk


def test_a_new_line_shows_the_charges_it_takes_up(money, api):
    # TECH's April payroll charge was unfunded; its new line takes it up at once.
    w = money.world
    admin = api.as_user(w.administrator)
    response = admin.post(
        f"{API}/budget-lines/",
        {"department": "TECH", "fiscal_year": "2026-27", "service": "PAY", "allocated": "50"},
    )
    assert response.status_code == 201, response.content
    assert (response.json()["charged"], response.json()["state"]) == ("50.00", "warning")
    assert Charge.objects.get(department=w.tech).budget_line_id == response.json()["id"]


@pytest.mark.parametrize("persona", ["manager", "deputy_minister"])
def test_department_people_change_their_lines(money, api, persona):
    user = money.world.personas()[persona]
    url = f"{API}/budget-lines/{money.lcs_pay.pk}/"
    response = api.as_user(user).patch(url, {"allocated": "1000.00"})
    assert response.status_code == 200, response.content
    assert (response.json()["allocated"], response.json()["state"]) == ("1000.00", "ok")
    money.lcs_pay.refresh_from_db()
    assert money.lcs_pay.allocated == Decimal("1000.00")
    assert audit_actor(BudgetLine, money.lcs_pay.pk) == user.pk


def test_department_year_and_service_of_a_line_do_not_change(money, api):
    url = f"{API}/budget-lines/{money.lcs_pay.pk}/"
    response = api.as_user(money.world.manager).put(
        url,
        {"department": "ENV", "fiscal_year": "2030-31", "service": "IT", "allocated": "5.00"},
    )
    assert response.status_code == 200, response.content
    line = BudgetLine.objects.get(pk=money.lcs_pay.pk)
    assert (line.department.code, line.fiscal_year, line.service.code, line.allocated) == (
        "LCS",
        "2026-27",
        "PAY",
        Decimal("5.00"),
    )


def test_manager_deletes_a_line_without_charges(money, api):
    w = money.world
    spare = make_line(w, w.lcs, w.payroll, "10.00", year="2027-28")
    response = api.as_user(w.manager).delete(f"{API}/budget-lines/{spare.pk}/")
    assert response.status_code == 204, response.content
    assert not BudgetLine.objects.filter(pk=spare.pk).exists()


def test_a_line_with_charges_cannot_be_deleted(money, api):
    before = snapshot()
    response = api.as_user(money.world.manager).delete(f"{API}/budget-lines/{money.lcs_pay.pk}/")
    assert response.status_code == 409, response.content
    assert response.json() == {"detail": services.LINE_HAS_CHARGES}
    assert snapshot() == before


@pytest.mark.parametrize("persona", ["other_manager", "recused_deputy_minister"])
@pytest.mark.parametrize("method", ["get", "patch", "put", "delete"])
def test_another_departments_line_does_not_exist_for_a_manager(money, api, persona, method):
    before = snapshot()
    client = api.as_user(money.world.personas()[persona])
    url = f"{API}/budget-lines/{money.lcs_pay.pk}/"
    response = getattr(client, method)(url, {"allocated": "1.00"})
    assert response.status_code == 404, response.content
    assert snapshot() == before


def test_another_departments_lines_are_not_listed(money, api):
    rows = results(api.as_user(money.world.other_manager).get(f"{API}/budget-lines/"))
    assert line_keys(rows) == ["ENV/PAY/2026-27"]
    rows = results(api.as_user(money.world.deputy_minister).get(f"{API}/budget-lines/"))
    assert line_keys(rows) == ["LCS/IT/2026-27", "LCS/PAY/2026-27"]
    # A department filter cannot reach past the gate either.
    rows = results(api.as_user(money.world.manager).get(f"{API}/budget-lines/?department=ENV"))
    assert rows == []


@pytest.mark.parametrize("persona", ["manager", "deputy_minister"])
def test_a_line_for_another_department_is_403_and_nothing_saved(money, api, persona):
    before = snapshot()
    response = api.as_user(money.world.personas()[persona]).post(
        f"{API}/budget-lines/", {**NEW_LINE, "department": "ENV"}
    )
    assert response.status_code == 403, response.content
    assert response.json() == {"detail": NOT_YOUR_DEPARTMENT}
    assert snapshot() == before


@pytest.mark.parametrize("persona", ["provider_manager", "other_provider_manager"])
def test_providers_see_no_budget_lines(money, api, persona):
    client = api.as_user(money.world.personas()[persona])
    response = client.get(f"{API}/budget-lines/")
    assert response.status_code == 403
    assert response.json() == {"detail": NO_BUDGETS_FOR_ROLE}
    assert client.get(f"{API}/budget-lines/{money.lcs_pay.pk}/").status_code == 403
    assert client.get(f"{API}/budget-lines/?format=csv").status_code == 403


@pytest.mark.parametrize("persona", ["provider_manager", "other_provider_manager"])
def test_providers_cannot_write_budget_lines(money, api, persona):
    before = snapshot()
    client = api.as_user(money.world.personas()[persona])
    url = f"{API}/budget-lines/{money.lcs_pay.pk}/"
    assert client.post(f"{API}/budget-lines/", NEW_LINE).status_code == 403
    assert client.patch(url, {"allocated": "1.00"}).status_code == 403
    assert client.delete(url).status_code == 403
    assert snapshot() == before


def test_analysts_read_every_line_and_write_none(money, api):
    client = api.as_user(money.world.analyst)
    rows = results(client.get(f"{API}/budget-lines/"))
    assert line_keys(rows) == ["ENV/PAY/2026-27", "LCS/IT/2026-27", "LCS/PAY/2026-27"]
    before = snapshot()
    url = f"{API}/budget-lines/{money.lcs_pay.pk}/"
    assert client.post(f"{API}/budget-lines/", NEW_LINE).status_code == 403
    assert client.patch(url, {"allocated": "1.00"}).status_code == 403
    assert client.put(url, {"allocated": "1.00"}).status_code == 403
    assert client.delete(url).status_code == 403
    assert snapshot() == before


def test_signed_out_reads_nothing(money, api):
    for path in ("budget-lines", "cost-pools", "charges", "chargeback-runs"):
        assert api.as_user(None).get(f"{API}/{path}/").status_code == 401
        assert api.as_user(money.world.outsider).get(f"{API}/{path}/").status_code == 401


# Cost pools: the provider's managers, for their own clusters ---------------------------


@pytest.mark.parametrize("persona", ["provider_manager", "administrator"])
def test_provider_managers_and_administrators_enter_pools(money, api, persona):
    user = money.world.personas()[persona]
    response = api.as_user(user).post(
        f"{API}/cost-pools/", {"cluster": "PAY-PSOA", "period": "2026-05", "amount": "812.50"}
    )
    assert response.status_code == 201, response.content
    pool = CostPool.objects.get(cluster__code="PAY-PSOA", period=MAY)
    assert (pool.amount, pool.entered_by) == (Decimal("812.50"), user)
    body = response.json()
    assert (body["id"], body["period"], body["amount"], body["entered_by"]) == (
        pool.pk,
        "2026-05",
        "812.50",
        user.username,
    )
    assert audit_actor(CostPool, pool.pk) == user.pk


def test_a_pool_for_another_providers_cluster_is_403_and_nothing_saved(money, api):
    before = snapshot()
    response = api.as_user(money.world.provider_manager).post(
        f"{API}/cost-pools/", {"cluster": "PAY-TECH", "period": "2026-05", "amount": "10.00"}
    )
    assert response.status_code == 403, response.content
    assert response.json() == {"detail": NOT_YOUR_CLUSTER}
    assert snapshot() == before


@pytest.mark.parametrize(
    "persona", ["analyst", "manager", "deputy_minister", "other_manager", "recused_deputy_minister"]
)
def test_others_cannot_write_pools(money, api, persona):
    before = snapshot()
    client = api.as_user(money.world.personas()[persona])
    response = client.post(
        f"{API}/cost-pools/", {"cluster": "PAY-PSOA", "period": "2026-05", "amount": "10.00"}
    )
    assert response.status_code == 403, response.content
    url = f"{API}/cost-pools/{money.pay_psoa_april.pk}/"
    assert client.patch(url, {"amount": "1.00"}).status_code in (403, 404)
    assert client.delete(url).status_code in (403, 404)
    assert snapshot() == before


def test_another_providers_pool_is_not_theirs_to_change(money, api):
    before = snapshot()
    client = api.as_user(money.world.other_provider_manager)
    url = f"{API}/cost-pools/{money.pay_psoa_april.pk}/"
    assert client.get(url).status_code == 404
    assert client.patch(url, {"amount": "1.00"}).status_code == 404
    assert client.delete(url).status_code == 404
    assert snapshot() == before


def test_a_pool_is_corrected_until_its_month_is_charged(money, api):
    w = money.world
    may = make_pool(w, w.pay_psoa, "100.00", period=MAY)
    url = f"{API}/cost-pools/{may.pk}/"
    response = api.as_user(w.provider_manager).patch(url, {"amount": "150.25"})
    assert response.status_code == 200, response.content
    may.refresh_from_db()
    assert (may.amount, may.entered_by) == (Decimal("150.25"), w.provider_manager)
    # Cluster and month identify a pool: they stay as they were.
    response = api.as_user(w.provider_manager).put(
        url, {"cluster": "PAY-TECH", "period": "2026-06", "amount": "151.00"}
    )
    assert response.status_code == 200, response.content
    may.refresh_from_db()
    assert (may.cluster_id, may.period, may.amount) == (w.pay_psoa.pk, MAY, Decimal("151.00"))
    response = api.as_user(w.provider_manager).delete(url)
    assert response.status_code == 204
    assert not CostPool.objects.filter(pk=may.pk).exists()


@pytest.mark.parametrize("method", ["patch", "put", "delete"])
def test_a_charged_pool_cannot_change_409(money, api, method):
    before = snapshot()
    url = f"{API}/cost-pools/{money.pay_psoa_april.pk}/"
    response = getattr(api.as_user(money.world.provider_manager), method)(url, {"amount": "1.00"})
    assert response.status_code == 409, response.content
    assert response.json() == {"detail": services.POOL_ALREADY_CHARGED.format(period="2026-04")}
    assert snapshot() == before


@pytest.mark.parametrize(
    ("persona", "visible"),
    [
        ("administrator", {"PAY-PSOA", "PAY-TECH", "IT-TECH"}),
        ("analyst", {"PAY-PSOA", "PAY-TECH", "IT-TECH"}),
        ("provider_manager", {"PAY-PSOA"}),
        ("other_provider_manager", {"PAY-TECH", "IT-TECH"}),
        ("manager", {"PAY-PSOA", "IT-TECH"}),  # the clusters LCS belongs to
        ("other_manager", {"PAY-PSOA"}),
        ("recused_deputy_minister", set()),  # FIN belongs to no cluster
    ],
)
def test_pools_visible_by_role(money, api, persona, visible):
    rows = results(api.as_user(money.world.personas()[persona]).get(f"{API}/cost-pools/"))
    assert {r["cluster"] for r in rows} == visible


# Charges: read only, by who pays and who raised them ----------------------------------


@pytest.mark.parametrize(
    ("persona", "visible"),
    [
        ("administrator", ["ENV@PAY-PSOA", "LCS@IT-TECH", "LCS@PAY-PSOA", "TECH@PAY-TECH"]),
        ("analyst", ["ENV@PAY-PSOA", "LCS@IT-TECH", "LCS@PAY-PSOA", "TECH@PAY-TECH"]),
        # Fellow current members see each other's charges (they share one pool by usage).
        ("manager", ["ENV@PAY-PSOA", "LCS@IT-TECH", "LCS@PAY-PSOA"]),
        ("deputy_minister", ["ENV@PAY-PSOA", "LCS@IT-TECH", "LCS@PAY-PSOA"]),
        ("other_manager", ["ENV@PAY-PSOA", "LCS@PAY-PSOA"]),
        ("recused_deputy_minister", []),
        ("provider_manager", ["ENV@PAY-PSOA", "LCS@PAY-PSOA"]),  # raised on PSOA's clusters
        ("other_provider_manager", ["LCS@IT-TECH", "TECH@PAY-TECH"]),
    ],
)
def test_charges_visible_by_role(money, api, persona, visible):
    rows = results(api.as_user(money.world.personas()[persona]).get(f"{API}/charges/"))
    assert charge_keys(rows) == [f"{v}@2026-04" for v in visible]


def test_a_charge_outside_ones_clusters_is_404(money, api):
    # LCS's IT-TECH charge: ENV is no member of IT-TECH.
    lcs_it = Charge.objects.get(department=money.world.lcs, cluster=money.world.it_tech)
    response = api.as_user(money.world.other_manager).get(f"{API}/charges/{lcs_it.pk}/")
    assert response.status_code == 404


@pytest.mark.parametrize("persona", EVERYONE)
def test_charges_are_read_only(money, api, persona):
    before = snapshot()
    client = api.as_user(money.world.personas()[persona])
    charge = Charge.objects.get(department=money.world.lcs, cluster=money.world.pay_psoa)
    url = f"{API}/charges/{charge.pk}/"
    assert client.post(f"{API}/charges/", {"amount": "1.00"}).status_code == 405
    for method in ("put", "patch", "delete"):
        assert getattr(client, method)(url, {"amount": "1.00"}).status_code == 405
    assert snapshot() == before


# Chargeback runs: administrators start them, analysts follow them ----------------------


def test_administrator_queues_a_run(money, api, django_capture_on_commit_callbacks):
    w = money.world
    make_pool(w, w.pay_psoa, "350.00", period=MAY)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = api.as_user(w.administrator).post(
            f"{API}/chargeback-runs/", {"period": "2026-05"}
        )
    assert response.status_code == 201, response.content
    run = ChargebackRun.objects.get(period=MAY)
    assert response.json()["id"] == run.pk
    assert (response.json()["status"], response.json()["period"]) == ("queued", "2026-05")
    assert (run.status, run.requested_by) == (RunStatus.QUEUED, w.administrator)
    assert len(callbacks) == 1  # the task, sent once the request's transaction commits
    assert not Charge.objects.filter(period=MAY).exists()


def test_a_queued_run_is_done_by_the_worker(
    money, api, settings, django_capture_on_commit_callbacks
):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    w = money.world
    make_pool(w, w.pay_psoa, "350.00", period=MAY)
    make_pool(w, w.it_tech, "20.01", period=MAY)
    client = api.as_user(w.administrator)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"{API}/chargeback-runs/", {"period": "2026-05"})
    assert response.status_code == 201, response.content
    run = ChargebackRun.objects.get(pk=response.json()["id"])
    assert (run.status, run.charges, run.total) == (RunStatus.DONE, 3, Decimal("370.01"))
    assert Charge.objects.filter(period=MAY).count() == 3
    body = client.get(f"{API}/chargeback-runs/{run.pk}/").json()
    assert (body["status"], body["charges"], body["total"]) == ("done", 3, "370.01")


def test_a_month_charged_again_changes_nothing(
    money, api, settings, django_capture_on_commit_callbacks
):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    charges = list(Charge.objects.order_by("pk").values())
    with django_capture_on_commit_callbacks(execute=True):
        response = api.as_user(money.world.administrator).post(
            f"{API}/chargeback-runs/", {"period": "2026-04"}
        )
    assert response.status_code == 201, response.content
    run = ChargebackRun.objects.get(pk=response.json()["id"])
    assert (run.status, run.charges, run.total) == (RunStatus.DONE, 0, Decimal("0.00"))
    assert list(Charge.objects.order_by("pk").values()) == charges


def test_a_month_not_ended_is_400_naming_the_month(money, api):
    before = snapshot()
    month = format_period(this_month())
    response = api.as_user(money.world.administrator).post(
        f"{API}/chargeback-runs/", {"period": month}
    )
    assert response.status_code == 400, response.content
    assert response.json() == {"period": [services.PERIOD_NOT_ENDED.format(period=month)]}
    assert snapshot() == before


@pytest.mark.parametrize("persona", [p for p in EVERYONE if p != "administrator"])
def test_only_administrators_start_runs(money, api, persona):
    before = snapshot()
    response = api.as_user(money.world.personas()[persona]).post(
        f"{API}/chargeback-runs/", {"period": "2026-05"}
    )
    assert response.status_code == 403, response.content
    assert snapshot() == before


@pytest.mark.parametrize(
    ("persona", "status"),
    [(p, 200 if p in ("administrator", "analyst") else 403) for p in EVERYONE],
)
def test_runs_are_followed_by_administrators_and_analysts(money, api, persona, status):
    client = api.as_user(money.world.personas()[persona])
    response = client.get(f"{API}/chargeback-runs/")
    assert response.status_code == status
    detail = client.get(f"{API}/chargeback-runs/{money.run.pk}/")
    assert detail.status_code == status
    if status == 403:
        assert response.json() == {"detail": RUNS_FOR_ADMINISTRATORS}
    else:
        assert [r["id"] for r in response.json()["results"]] == [money.run.pk]


# Filters ---------------------------------------------------------------------------


@pytest.fixture
def history(money) -> Money:
    """Add a 2025-26 month (March 2026) on PAY-PSOA and a 2025-26 line for LCS payroll."""
    w = money.world
    make_line(w, w.lcs, w.payroll, "5000.00", year="2025-26")
    make_pool(w, w.pay_psoa, "70.00", period=D(2026, 3, 1))
    services.chargeback_run(actor=w.administrator, period=D(2026, 3, 1))
    make_pool(w, w.pay_psoa, "7.00", period=MAY)  # not charged yet
    return money


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", ["ENV/PAY/2026-27", "LCS/IT/2026-27", "LCS/PAY/2025-26", "LCS/PAY/2026-27"]),
        ("department=LCS", ["LCS/IT/2026-27", "LCS/PAY/2025-26", "LCS/PAY/2026-27"]),
        ("service=IT", ["LCS/IT/2026-27"]),
        ("fiscal_year=2025-26", ["LCS/PAY/2025-26"]),
        ("fiscal_year=2026-27&department=ENV", ["ENV/PAY/2026-27"]),
        ("state=warning", ["LCS/PAY/2026-27"]),
        ("state=overspent", ["LCS/IT/2026-27"]),
        ("state=ok", ["ENV/PAY/2026-27", "LCS/PAY/2025-26"]),
        ("department=TECH", []),
    ],
)
def test_budget_line_filters(history, api, query, expected):
    rows = results(api.as_user(history.world.analyst).get(f"{API}/budget-lines/?{query}"))
    assert line_keys(rows) == expected


ALL_CHARGES = [
    "ENV@PAY-PSOA@2026-03",
    "ENV@PAY-PSOA@2026-04",
    "LCS@IT-TECH@2026-04",
    "LCS@PAY-PSOA@2026-03",
    "LCS@PAY-PSOA@2026-04",
    "TECH@PAY-TECH@2026-04",
]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", ALL_CHARGES),
        ("department=LCS", [c for c in ALL_CHARGES if c.startswith("LCS")]),
        ("cluster=PAY-PSOA", [c for c in ALL_CHARGES if "@PAY-PSOA@" in c]),
        ("service=IT", ["LCS@IT-TECH@2026-04"]),
        ("provider=TECHSVC", ["LCS@IT-TECH@2026-04", "TECH@PAY-TECH@2026-04"]),
        ("fiscal_year=2025-26", ["ENV@PAY-PSOA@2026-03", "LCS@PAY-PSOA@2026-03"]),
        ("period=2026-03", ["ENV@PAY-PSOA@2026-03", "LCS@PAY-PSOA@2026-03"]),
        ("period_after=2026-04", [c for c in ALL_CHARGES if c.endswith("2026-04")]),
        ("period_before=2026-03", ["ENV@PAY-PSOA@2026-03", "LCS@PAY-PSOA@2026-03"]),
        ("period_after=2026-03&period_before=2026-04", ALL_CHARGES),
        ("period_after=2026-05", []),
        # ENV has no 2025-26 line: its March charge is unfunded, as is TECH's April one.
        ("unfunded=true", ["ENV@PAY-PSOA@2026-03", "TECH@PAY-TECH@2026-04"]),
        ("unfunded=true&fiscal_year=2025-26", ["ENV@PAY-PSOA@2026-03"]),
        ("unfunded=false&department=ENV", ["ENV@PAY-PSOA@2026-04"]),
        ("department=LCS&service=PAY&period_after=2026-04", ["LCS@PAY-PSOA@2026-04"]),
    ],
)
def test_charge_filters(history, api, query, expected):
    rows = results(api.as_user(history.world.analyst).get(f"{API}/charges/?{query}"))
    assert charge_keys(rows) == expected


def test_charge_filter_by_budget_line(history, api):
    url = f"{API}/charges/?budget_line={history.lcs_pay.pk}"
    rows = results(api.as_user(history.world.analyst).get(url))
    assert charge_keys(rows) == ["LCS@PAY-PSOA@2026-04"]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        (
            "",
            [
                "IT-TECH@2026-04",
                "PAY-PSOA@2026-03",
                "PAY-PSOA@2026-04",
                "PAY-PSOA@2026-05",
                "PAY-TECH@2026-04",
            ],
        ),
        ("cluster=PAY-PSOA", ["PAY-PSOA@2026-03", "PAY-PSOA@2026-04", "PAY-PSOA@2026-05"]),
        ("provider=TECHSVC", ["IT-TECH@2026-04", "PAY-TECH@2026-04"]),
        ("service=IT", ["IT-TECH@2026-04"]),
        ("fiscal_year=2025-26", ["PAY-PSOA@2026-03"]),
        (
            "period_after=2026-04&period_before=2026-04",
            ["IT-TECH@2026-04", "PAY-PSOA@2026-04", "PAY-TECH@2026-04"],
        ),
        ("period_after=2026-05", ["PAY-PSOA@2026-05"]),
    ],
)
def test_cost_pool_filters(history, api, query, expected):
    rows = results(api.as_user(history.world.analyst).get(f"{API}/cost-pools/?{query}"))
    assert sorted(f"{r['cluster']}@{r['period']}" for r in rows) == expected


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", ["2026-03", "2026-04"]),
        ("period=2026-03", ["2026-03"]),
        ("status=done", ["2026-03", "2026-04"]),
        ("status=queued", []),
        ("period_after=2026-04", ["2026-04"]),
    ],
)
def test_chargeback_run_filters(history, api, query, expected):
    rows = results(api.as_user(history.world.analyst).get(f"{API}/chargeback-runs/?{query}"))
    assert sorted(r["period"] for r in rows) == expected


# CSV -------------------------------------------------------------------------------


def test_budget_lines_as_csv(money, api):
    rows = read_csv(api.as_user(money.world.manager).get(f"{API}/budget-lines/?format=csv"))
    assert [
        (r["department"], r["service"], r["allocated"], r["charged"], r["remaining"], r["state"])
        for r in rows
    ] == [
        ("LCS", "IT", "90.00", "100.00", "-10.00", "overspent"),
        ("LCS", "PAY", "420.00", "400.00", "20.00", "warning"),
    ]


def test_filtered_charges_as_csv(history, api):
    url = f"{API}/charges/?format=csv&unfunded=true&page_size=1"
    rows = read_csv(api.as_user(history.world.analyst).get(url))
    assert [(r["department"], r["period"], r["budget_line"], r["unfunded"]) for r in rows] == [
        ("TECH", "2026-04", "", "True"),  # newest month first
        ("ENV", "2026-03", "", "True"),
    ]


def test_pools_and_runs_as_csv(history, api):
    rows = read_csv(
        api.as_user(history.world.provider_manager).get(f"{API}/cost-pools/?format=csv")
    )
    assert sorted((r["cluster"], r["period"], r["amount"]) for r in rows) == [
        ("PAY-PSOA", "2026-03", "70.00"),
        ("PAY-PSOA", "2026-04", "700.00"),
        ("PAY-PSOA", "2026-05", "7.00"),
    ]
    rows = read_csv(api.as_user(history.world.analyst).get(f"{API}/chargeback-runs/?format=csv"))
    assert sorted((r["period"], r["status"], r["charges"], r["total"]) for r in rows) == [
        ("2026-03", "done", "2", "70.00"),
        ("2026-04", "done", "4", "850.00"),
    ]


# Bad input: 400 with a field message, nothing saved ------------------------------------


@dataclass
class Bad:
    method: str
    path: str  # may name {line} or {pool}
    data: Any
    field: str  # the key the error is reported under
    message: str | None = None  # a message that must appear, if any


def line_body(**changes: Any) -> dict[str, Any]:
    return {**NEW_LINE, **changes}


def pool_body(**changes: Any) -> dict[str, Any]:
    return {"cluster": "PAY-PSOA", "period": "2026-05", "amount": "10.00", **changes}


def _future() -> str:
    return format_period(next_month(this_month()))


BAD_INPUT = [
    # Budget lines
    Bad("post", "budget-lines", line_body(allocated="-1.00"), "allocated"),
    Bad("post", "budget-lines", line_body(allocated="1.234"), "allocated", "2 decimal places"),
    Bad("post", "budget-lines", line_body(allocated="1e20"), "allocated"),
    Bad("post", "budget-lines", line_body(allocated="NaN"), "allocated"),
    Bad("post", "budget-lines", line_body(allocated="lots"), "allocated"),
    Bad("post", "budget-lines", line_body(allocated=[1]), "allocated"),
    Bad("post", "budget-lines", line_body(allocated=None), "allocated"),
    Bad(
        "post", "budget-lines", line_body(fiscal_year="2026-28"), "fiscal_year", FISCAL_YEAR_INVALID
    ),
    Bad("post", "budget-lines", line_body(fiscal_year="2026"), "fiscal_year", FISCAL_YEAR_INVALID),
    Bad("post", "budget-lines", line_body(fiscal_year=2026), "fiscal_year"),
    Bad("post", "budget-lines", line_body(fiscal_year=f"2026-27{NUL}"), "fiscal_year"),
    Bad("post", "budget-lines", line_body(fiscal_year=["2026-27"]), "fiscal_year"),
    Bad("post", "budget-lines", line_body(department="NOPE"), "department", "NOPE"),
    Bad("post", "budget-lines", line_body(department=5), "department"),
    Bad("post", "budget-lines", line_body(department=NUL), "department"),
    Bad("post", "budget-lines", line_body(service="NOPE"), "service", "NOPE"),
    Bad("post", "budget-lines", line_body(service=None), "service"),
    Bad("post", "budget-lines", {"department": "LCS"}, "allocated"),
    Bad(
        "post",
        "budget-lines",
        line_body(fiscal_year="2026-27"),
        "non_field_errors",
        LINE_TWICE,
    ),
    Bad("patch", "budget-lines/{line}", {"allocated": "-0.01"}, "allocated"),
    Bad("patch", "budget-lines/{line}", {"allocated": "12.345"}, "allocated"),
    Bad("patch", "budget-lines/{line}", {"allocated": {"a": 1}}, "allocated"),
    Bad("put", "budget-lines/{line}", {}, "allocated"),
    # Cost pools
    Bad("post", "cost-pools", pool_body(amount="-5.00"), "amount"),
    Bad("post", "cost-pools", pool_body(amount="5.001"), "amount", "2 decimal places"),
    Bad("post", "cost-pools", pool_body(amount="Infinity"), "amount"),
    Bad("post", "cost-pools", pool_body(amount=True), "amount"),
    Bad("post", "cost-pools", pool_body(period="2026-13"), "period", PERIOD_INVALID),
    Bad("post", "cost-pools", pool_body(period="26-04"), "period", PERIOD_INVALID),
    Bad("post", "cost-pools", pool_body(period="2026-4"), "period", PERIOD_INVALID),
    Bad("post", "cost-pools", pool_body(period="2026-00"), "period", PERIOD_INVALID),
    Bad("post", "cost-pools", pool_body(period="2026-04-01"), "period", PERIOD_INVALID),
    Bad("post", "cost-pools", pool_body(period=f"2026-05{NUL}"), "period", PERIOD_INVALID),
    Bad("post", "cost-pools", pool_body(period=NUL), "period", PERIOD_INVALID),
    Bad("post", "cost-pools", pool_body(period=FULL_WIDTH_MAY), "period", PERIOD_INVALID),
    Bad("post", "cost-pools", pool_body(period=202605), "period", PERIOD_INVALID),
    Bad("post", "cost-pools", pool_body(period=None), "period"),
    Bad("post", "cost-pools", pool_body(period=_future()), "period", "in the future"),
    Bad("post", "cost-pools", pool_body(), "non_field_errors", POOL_TWICE),  # May's exists
    Bad("post", "cost-pools", pool_body(cluster="NOPE"), "cluster", "NOPE"),
    Bad("post", "cost-pools", pool_body(cluster=["PAY-PSOA"]), "cluster"),
    Bad("patch", "cost-pools/{pool}", {"amount": "-1"}, "amount"),
    Bad("patch", "cost-pools/{pool}", {"amount": "1.001"}, "amount"),
    # Chargeback runs
    Bad("post", "chargeback-runs", {"period": "2026-13"}, "period", PERIOD_INVALID),
    Bad("post", "chargeback-runs", {"period": "26-04"}, "period", PERIOD_INVALID),
    Bad("post", "chargeback-runs", {"period": "2026-4"}, "period", PERIOD_INVALID),
    Bad("post", "chargeback-runs", {"period": f"{NUL}2026-04"}, "period", PERIOD_INVALID),
    Bad("post", "chargeback-runs", {"period": 2026}, "period", PERIOD_INVALID),
    Bad("post", "chargeback-runs", {}, "period"),
    Bad("post", "chargeback-runs", {"period": _future()}, "period", "has not ended"),
    # Filters
    Bad("get", "budget-lines", {"department": "NOPE"}, "department", "NOPE"),
    Bad("get", "budget-lines", {"service": NUL}, "service"),
    Bad("get", "budget-lines", {"fiscal_year": "2026"}, "fiscal_year", FISCAL_YEAR_INVALID),
    Bad("get", "budget-lines", {"state": "broke"}, "state"),
    Bad("get", "charges", {"period_after": "2026-13"}, "period_after", PERIOD_INVALID),
    Bad("get", "charges", {"period_before": "26-04"}, "period_before", PERIOD_INVALID),
    Bad("get", "charges", {"period": f"2026-04{NUL}"}, "period", PERIOD_INVALID),
    Bad("get", "charges", {"unfunded": "perhaps"}, "unfunded", BOOLEAN_INVALID),
    Bad("get", "charges", {"cluster": "NOPE"}, "cluster", "NOPE"),
    Bad("get", "charges", {"provider": "NOPE"}, "provider"),
    Bad("get", "charges", {"fiscal_year": "2026-28"}, "fiscal_year"),
    Bad("get", "charges", {"budget_line": "first"}, "budget_line"),
    Bad("get", "charges", {"budget_line": "1.5"}, "budget_line"),
    Bad("get", "charges", {"budget_line": "9" * 30}, "budget_line"),
    Bad("get", "charges", {"budget_line": NUL}, "budget_line"),
    Bad("get", "cost-pools", {"period_after": "2026-4"}, "period_after", PERIOD_INVALID),
    Bad("get", "cost-pools", {"service": "NOPE"}, "service"),
    Bad("get", "chargeback-runs", {"status": "lost"}, "status"),
    Bad("get", "chargeback-runs", {"period": "April"}, "period", PERIOD_INVALID),
]


def bad_id(bad: Bad) -> str:
    data = repr(bad.data).replace(NUL, "NUL")
    return f"{bad.method}-{bad.path}-{data[:50]}"


@pytest.mark.parametrize("bad", BAD_INPUT, ids=bad_id)
def test_bad_input_is_400_with_field_messages(money, api, bad):
    path = bad.path.format(
        line=money.lcs_pay.pk,
        pool=make_pool(money.world, money.world.pay_psoa, "1.00", period=MAY).pk,
    )
    before = snapshot()
    client = api.as_user(money.world.administrator)
    url = f"{API}/{path}/"
    if bad.method == "get":
        response = client.get(url, bad.data)
    else:
        response = getattr(client, bad.method)(url, bad.data, format="json")
    assert response.status_code == 400, response.content
    body = response.json()
    assert bad.field in body, body
    assert all(isinstance(m, str) and m for m in messages(body[bad.field]))
    if bad.message:
        assert any(bad.message in m for m in messages(body)), body
    assert snapshot() == before


def test_unknown_codes_in_a_line_name_them(money, api):
    response = api.as_user(money.world.administrator).post(
        f"{API}/budget-lines/", line_body(department="NOPE", service="GONE")
    )
    assert response.status_code == 400
    assert response.json() == {
        "department": [UNKNOWN_CODE.format(model="department").replace("%(value)s", "NOPE")],
        "service": [UNKNOWN_CODE.format(model="service").replace("%(value)s", "GONE")],
    }


# Query counts: every budgets list at two data sizes ------------------------------------


def grow(world: World, n: int) -> None:
    """n more departments in PAY-PSOA and a cluster of PSOA's each, with lines, pools,
    charged months and runs: rows every list shows, to the analyst and the LCS manager."""
    admin = world.administrator
    for i in range(n):
        dept = DepartmentFactory(code=f"Q{i:03d}")
        MembershipFactory(department=dept, cluster=world.pay_psoa, usage_units=10 + i)
        cluster = ClusterFactory(code=f"QC{i:03d}", service=world.it, provider=world.psoa)
        MembershipFactory(department=dept, cluster=cluster, usage_units=5)
        make_line(world, dept, world.payroll, "100.00")
        make_line(world, world.lcs, world.payroll, "100.00", year=f"{2030 + i}-{31 + i}")
        month = D(2025, 4 + i, 1)
        make_pool(world, cluster, "33.00", period=month)
        make_pool(world, world.pay_psoa, "99.00", period=month)
        services.chargeback_run(actor=admin, period=month)
    UserFactory(username="q_extra", role="analyst")


# url -> (persona, pinned count). Token sign-in costs 1 query (the token with its user and
# its name; an expired token is kept, so no sweep of the user's other tokens); what follows is the list itself.
LISTS = {
    # count, one page of lines with `charged` summed in a subquery
    "/api/v1/budget-lines/": ("analyst", 3),
    "/api/v1/budget-lines/?state=warning": ("analyst", 3),
    # CSV: every row in one query, no count
    "/api/v1/budget-lines/?format=csv": ("manager", 3),
    "/api/v1/cost-pools/": ("analyst", 3),  # count, page (cluster and who entered it joined)
    "/api/v1/cost-pools/?format=csv": ("provider_manager", 3),
    "/api/v1/charges/": ("analyst", 3),  # count, page (department, cluster, service joined)
    # + the department named by the filter
    "/api/v1/charges/?department=LCS&period_after=2025-04": ("manager", 4),
    "/api/v1/charges/?format=csv": ("provider_manager", 3),
    "/api/v1/chargeback-runs/": ("administrator", 3),  # count, page (who asked joined)
    "/api/v1/chargeback-runs/?format=csv": ("analyst", 3),
}


@pytest.mark.parametrize("url", list(LISTS))
def test_query_count_does_not_grow(money, api, url):
    persona, pinned = LISTS[url]
    client = api.as_user(money.world.personas()[persona])
    small = count_queries(client, url)
    grow(money.world, 5)
    large = count_queries(client, url)
    assert small == large, f"{url}: {small} queries with little data, {large} with more"
    if pinned is not None:
        assert small == pinned
