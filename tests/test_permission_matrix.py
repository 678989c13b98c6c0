"""The permission matrix: role x route x method -> expected status, for every route.

A route of the project without a row here fails `test_every_route_has_a_row`, so a new
endpoint or page cannot ship without its permissions written down.
Requests sign in with the session (token auth has its own tests); each request runs in
a savepoint that is rolled back, so rows do not disturb each other.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.db import transaction
from django.test import Client

from tests.factories import DepartmentFactory, ProviderFactory, ServiceFactory, StandardFactory
from tests.personas import World
from tests.routes import all_routes

PERSONAS = [
    "anonymous",
    "administrator",
    "analyst",
    "manager",
    "other_manager",
    "deputy_minister",
    "recused_deputy_minister",
    "provider_manager",
    "other_provider_manager",
    "outsider",
]
SIGNED_OUT = {"anonymous", "outsider"}  # the outsider's account is inactive


def statuses(default: int, signed_out: int, **overrides: int) -> dict[str, int]:
    """Expected status per persona: `default` for active users, `signed_out` for the rest."""
    table = {p: (signed_out if p in SIGNED_OUT else default) for p in PERSONAS}
    table.update(overrides)
    return table


PAGE = statuses(200, 302)  # pages: signed-in users read, others go to sign in
API_READ = statuses(200, 401)
ADMIN_WRITE = {"POST": 201, "PUT": 200, "PATCH": 200, "DELETE": 204}


def api_write(method: str) -> dict[str, int]:
    return statuses(403, 401, administrator=ADMIN_WRITE[method])


@dataclass
class Row:
    route: str
    url: Callable[[World], str]
    methods: dict[str, dict[str, int]]
    body: Callable[[World], dict[str, Any]] = field(default=lambda w: {})


def _spare_department(w: World) -> str:
    return DepartmentFactory(code="SPARE", name="Spare").code


def _spare_provider(w: World) -> str:
    return ProviderFactory(code="SPAREP", name="Spare provider").code


def _spare_service(w: World) -> str:
    return ServiceFactory(code="SPARES", name="Spare service").code


def _audit_event(w: World) -> str:
    import pghistory.models

    return pghistory.models.Events.objects.order_by("pgh_created_at").first().pgh_slug


def reference_rows(
    plural: str,
    lookup: Callable[[World], str],
    new: Callable[[World], dict[str, Any]],
    change: dict[str, Any],
    deletable: Callable[[World], str],
    read: dict[str, int] = API_READ,
) -> list[Row]:
    base = f"/api/v1/{plural}/"
    return [
        Row(
            f"api/v1/{plural}/",
            lambda w: base,
            {"GET": API_READ, "POST": api_write("POST")},
            body=new,
        ),
        Row(
            f"api/v1/{plural}/<{'pk' if plural in ('standards', 'memberships') else 'code'}>/",
            lambda w: f"{base}{lookup(w)}/",
            {
                "GET": read,
                "PATCH": api_write("PATCH"),
                "PUT": statuses(403, 401, administrator=400),
            },
            body=lambda w: change,
        ),
        Row(
            "(delete)",
            lambda w: f"{base}{deletable(w)}/",
            {"DELETE": api_write("DELETE")},
        ),
    ]


# Memberships: a department's people see their own and their clusters' co-members;
# provider managers see their provider's clusters; nobody else's (404, existence private).
MEMBERSHIP_READ = statuses(200, 401, recused_deputy_minister=404, other_provider_manager=404)

ROWS: list[Row] = [
    Row("", lambda w: "/", {"GET": PAGE}),
    Row(
        "accounts/login/",
        lambda w: "/accounts/login/",
        {"GET": statuses(302, 200)},  # signed-in users are sent on home
    ),
    Row(
        "accounts/logout/",
        lambda w: "/accounts/logout/",
        {"POST": statuses(302, 302), "GET": statuses(405, 405)},
    ),
    Row("departments/", lambda w: "/departments/", {"GET": PAGE}),
    Row("departments/<code>/", lambda w: "/departments/LCS/", {"GET": PAGE}),
    Row("clusters/", lambda w: "/clusters/", {"GET": PAGE}),
    Row("clusters/<code>/", lambda w: "/clusters/PAY-PSOA/", {"GET": PAGE}),
    Row("services/", lambda w: "/services/", {"GET": PAGE}),
    Row("api/v1/", lambda w: "/api/v1/", {"GET": API_READ}),
    Row("api/v1/schema/", lambda w: "/api/v1/schema/", {"GET": statuses(200, 200)}),
    Row("api/v1/docs/", lambda w: "/api/v1/docs/", {"GET": statuses(200, 200)}),
    Row(
        "api/v1/audit-events/",
        lambda w: "/api/v1/audit-events/",
        {
            "GET": statuses(403, 401, administrator=200, analyst=200),
            "POST": statuses(403, 401, administrator=405, analyst=405),
        },
    ),
    Row(
        "api/v1/audit-events/<pk>/",
        lambda w: f"/api/v1/audit-events/{_audit_event(w)}/",
        {
            "GET": statuses(403, 401, administrator=200, analyst=200),
            "DELETE": statuses(403, 401, administrator=405, analyst=405),
        },
    ),
    *reference_rows(
        "departments",
        lambda w: "LCS",
        lambda w: {"code": "NEW", "name": "New Ministry", "is_main": False},
        {"name": "Labour, Citizens and Services"},
        _spare_department,
    ),
    *reference_rows(
        "providers",
        lambda w: "ACME",
        lambda w: {"code": "NEWCO", "name": "New Co", "kind": "external"},
        {"name": "Acme Outsourcing Ltd"},
        _spare_provider,
    ),
    *reference_rows(
        "services",
        lambda w: "PAY",
        lambda w: {"code": "HR", "name": "HR", "category": "hr", "charging_unit": "employee"},
        {"name": "Payroll and pensions"},
        _spare_service,
    ),
    *reference_rows(
        "standards",
        lambda w: str(StandardFactory(service=w.payroll, name="Accuracy").pk),
        lambda w: {
            "service": "PAY",
            "name": "Pay on time",
            "kind": "operational",
            "unit": "%",
            "target": "99.5",
            "direction": "higher_is_better",
        },
        {"target": "98.0"},
        lambda w: str(StandardFactory(service=w.it, name="Uptime").pk),
    ),
    *reference_rows(
        "clusters",
        lambda w: "PAY-TECH",
        lambda w: {"code": "IT-PSOA", "name": "PSOA Desktop", "service": "IT", "provider": "PSOA"},
        {"capacity": 5000},
        lambda w: (
            __import__("tests.factories", fromlist=["ClusterFactory"])
            .ClusterFactory(code="EMPTY", service=w.it, provider=w.outside)
            .code
        ),
    ),
    *reference_rows(
        "memberships",
        lambda w: str(w.lcs_payroll.pk),
        lambda w: {
            "department": "ENV",
            "cluster": "IT-TECH",
            "joined_on": "2026-01-01",
            "usage_units": 50,
            "baseline_annual_cost": "1000.00",
        },
        {"usage_units": 420},
        lambda w: str(w.tech_payroll.pk),
        read=MEMBERSHIP_READ,
    ),
]


def _request(client: Client, method: str, url: str, body: dict[str, Any]):
    if method in ("GET", "DELETE"):
        return client.generic(method, url)
    return client.generic(
        method, url, data=__import__("json").dumps(body), content_type="application/json"
    )


class _Rollback(Exception):
    pass


def _status_as(world: World, persona: str, method: str, row: Row) -> int:
    user = world.personas()[persona]
    client = Client()
    if user is not None:
        client.force_login(user)
    status = 0
    try:
        with transaction.atomic():
            response = _request(client, method, row.url(world), row.body(world))
            status = response.status_code
            raise _Rollback
    except _Rollback:
        pass
    return status


CASES = [(row, method) for row in ROWS for method in row.methods]


@pytest.mark.parametrize(
    ("row", "method"),
    CASES,
    ids=[f"{method} {row.route or '/'} #{i}" for i, (row, method) in enumerate(CASES)],
)
def test_permission_matrix(world, row, method):
    expected = row.methods[method]
    actual = {persona: _status_as(world, persona, method, row) for persona in PERSONAS}
    assert actual == expected


def test_every_route_has_a_row():
    covered = {row.route for row in ROWS}
    # The Django admin's own views are covered by test_admin_is_for_administrators.
    missing = [r for r in all_routes() if r not in covered and not r.startswith("admin/")]
    assert missing == [], f"routes without a permission-matrix row: {missing}"


def test_admin_is_for_administrators(world):
    from django.contrib import admin

    urls = ["/admin/"] + [
        f"/admin/{model._meta.app_label}/{model._meta.model_name}/"
        for model in admin.site._registry
    ]
    for persona in PERSONAS:
        user = world.personas()[persona]
        client = Client()
        if user is not None:
            client.force_login(user)
        for url in urls:
            status = client.get(url).status_code
            expected = 200 if persona == "administrator" else 302
            assert status == expected, (persona, url, status)
