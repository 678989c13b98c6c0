"""Permission-matrix rows of the organisation's pages and API, and of the shared routes."""

from __future__ import annotations

from django.apps import apps

from tests.factories import (
    DepartmentFactory,
    ProviderFactory,
    ServiceFactory,
    StandardFactory,
)
from tests.matrix import API_READ, PAGE, Row, reference_rows, statuses
from tests.personas import World


def _spare_department(w: World) -> str:
    return DepartmentFactory(code="SPARE", name="Spare").code


def _spare_provider(w: World) -> str:
    return ProviderFactory(code="SPAREP", name="Spare provider").code


def _spare_service(w: World) -> str:
    return ServiceFactory(code="SPARES", name="Spare service").code


def _audit_event(w: World) -> str:
    """One event of making the world, read from its own table: `Events`, the union of every
    event table, works out each row's diff first, which took 8 s a call on a worker's test
    database late in the suite (the row asks once per persona)."""
    event = apps.get_model("clusters", "DepartmentEvent").objects.order_by("pgh_id").first()
    assert event is not None  # making the world is audited
    return f"clusters.DepartmentEvent:{event.pgh_id}"


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
    # Any other address under the API is a JSON 404, whoever asks.
    Row(
        "api/v1/<rest>",
        lambda w: "/api/v1/no-such-thing/",
        {"GET": statuses(404, 404), "POST": statuses(404, 404)},
    ),
    # The schema and the docs are for signed-in users: the docs send others to sign in.
    Row("api/v1/schema/", lambda w: "/api/v1/schema/", {"GET": statuses(200, 401)}),
    Row("api/v1/docs/", lambda w: "/api/v1/docs/", {"GET": statuses(200, 302)}),
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
