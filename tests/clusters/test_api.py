"""The organisation's REST API (v1): reads by role, filters by code, writes by administrators,
the rules of the organisation answered as 400/409, bad input answered as 400 everywhere."""

from __future__ import annotations

import csv
import datetime
import io
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import pghistory.models
import pytest
from django.utils import timezone

from clusters.models import (
    DEFAULT_NOTICE_DAYS,
    PILOT_NOTICE_DAYS,
    Cluster,
    Department,
    Membership,
    Provider,
    Service,
    Standard,
)
from clusters.services import CLUSTER_SERVICE_LOCKED
from sharedsvc.api.filters import BOOLEAN_INVALID
from sharedsvc.api.pagination import PAGE_SIZE_INVALID
from tests.factories import MembershipFactory, ServiceFactory, StandardFactory

API = "/api/v1"
D = datetime.date
OVERLAP = str(
    next(
        c for c in Membership._meta.constraints if c.name == "membership_no_overlap_per_service"
    ).violation_error_message
)
ONE_PSOA = str(
    next(
        c for c in Provider._meta.constraints if c.name == "provider_one_psoa"
    ).violation_error_message
)
NEEDS_HOST = str(
    next(
        c for c in Provider._meta.constraints if c.name == "provider_department_needs_host"
    ).violation_error_message
)
NON_ADMINISTRATORS = [
    "analyst",
    "manager",
    "deputy_minister",
    "provider_manager",
    "other_provider_manager",
]


def messages(body: Any) -> list[str]:
    """Every message in an error body, however nested."""
    if isinstance(body, dict):
        return [m for value in body.values() for m in messages(value)]
    if isinstance(body, list):
        return [m for value in body for m in messages(value)]
    return [str(body)]


def snapshot() -> dict[str, list[dict]]:
    """Everything the API could have changed, to show that a refused request changed nothing."""
    state = {
        model.__name__: list(model.objects.order_by("pk").values())
        for model in (Department, Provider, Service, Standard, Cluster, Membership)
    }
    state["events"] = [pghistory.models.Events.objects.count()]  # type: ignore[list-item]
    return state


def codes(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [row.get("code", row.get("id")) for row in response.json()["results"]]


def read_csv(response) -> list[dict[str, str]]:
    assert response.status_code == 200, response.getvalue()
    assert response["Content-Type"].startswith("text/csv")
    return list(csv.DictReader(io.StringIO(response.getvalue().decode())))


# Writes by resource: administrators only ---------------------------------------------


@dataclass
class Resource:
    """One resource of the API, with a record to create and a change to make."""

    name: str
    model: type
    create: dict[str, Any]
    created: dict[str, Any]  # how to find the created record in the database
    existing: Any  # world -> (url key, instance) of a record free to change and delete
    update: dict[str, Any] = field(default_factory=dict)


def free_department(world):
    department = Department.objects.create(code="SPARE", name="Spare")
    return "SPARE", department


def free_provider(world):
    return "ACME", world.outside


def free_service(world):
    service = ServiceFactory(code="HR", name="HR", category="hr")
    return "HR", service


def free_standard(world):
    standard = StandardFactory(service=world.payroll, name="Accuracy")
    return str(standard.pk), standard


def free_cluster(world):
    cluster = Cluster.objects.create(
        code="IT-ACME", name="Acme IT", service=world.it, provider=world.outside
    )
    return "IT-ACME", cluster


def free_membership(world):
    return str(world.tech_payroll.pk), world.tech_payroll


RESOURCES = [
    Resource(
        "departments",
        Department,
        create={"code": "NEW", "name": "New Ministry", "is_main": False},
        created={"code": "NEW", "name": "New Ministry", "is_main": False},
        existing=free_department,
        update={"name": "Spare Ministry", "is_main": True},
    ),
    Resource(
        "providers",
        Provider,
        create={"code": "TECH2", "name": "Tech 2", "kind": "department", "host_department": "LCS"},
        created={"code": "TECH2", "kind": "department", "host_department__code": "LCS"},
        existing=free_provider,
        update={"name": "Acme Outsourcing Ltd"},
    ),
    Resource(
        "services",
        Service,
        create={"code": "FINSVC", "name": "Finance", "category": "finance", "charging_unit": "txn"},
        created={"code": "FINSVC", "category": "finance", "lifecycle": "live"},
        existing=free_service,
        update={"lifecycle": "retired"},
    ),
    Resource(
        "standards",
        Standard,
        create={
            "service": "PAY",
            "name": "Payslips correct",
            "kind": "operational",
            "unit": "%",
            "target": "99.5000",
            "direction": "higher_is_better",
        },
        created={"service__code": "PAY", "name": "Payslips correct", "target": Decimal("99.5")},
        existing=free_standard,
        update={"target": "97.25", "direction": "lower_is_better"},
    ),
    Resource(
        "clusters",
        Cluster,
        create={"code": "PAY-ACME", "name": "Acme Payroll", "service": "PAY", "provider": "ACME"},
        created={"code": "PAY-ACME", "service__code": "PAY", "provider__code": "ACME"},
        existing=free_cluster,
        update={"capacity": 500, "fixed_cost_ratio": "0.60"},
    ),
    Resource(
        "memberships",
        Membership,
        create={
            "department": "FIN",
            "cluster": "PAY-TECH",
            "joined_on": "2025-05-01",
            "usage_units": 120,
            "baseline_annual_cost": "90000.00",
        },
        created={"department__code": "FIN", "cluster__code": "PAY-TECH", "usage_units": 120},
        existing=free_membership,
        update={"usage_units": 250, "leaves_on": "2027-04-01"},
    ),
]
BY_NAME = {r.name: r for r in RESOURCES}


def field_value(instance, name):
    value = getattr(instance, name)
    return getattr(value, "code", value)


def as_stored(name: str, value: Any) -> Any:
    """A JSON value as the database holds it."""
    if name in ("target", "baseline_annual_cost", "fixed_cost_ratio"):
        return Decimal(value)
    if name in ("joined_on", "leaves_on"):
        return D.fromisoformat(value)
    return value


@pytest.mark.parametrize("resource", RESOURCES, ids=lambda r: r.name)
def test_administrator_creates(world, api, resource):
    response = api.as_user(world.administrator).post(f"{API}/{resource.name}/", resource.create)
    assert response.status_code == 201, response.content
    saved = resource.model.objects.get(**resource.created)
    for key, value in resource.create.items():
        assert response.json()[key] == value
        assert field_value(saved, key) == as_stored(key, value), key


@pytest.mark.parametrize("resource", RESOURCES, ids=lambda r: r.name)
def test_administrator_updates(world, api, resource):
    key, instance = resource.existing(world)
    response = api.as_user(world.administrator).patch(
        f"{API}/{resource.name}/{key}/", resource.update
    )
    assert response.status_code == 200, response.content
    instance.refresh_from_db()
    for name, value in resource.update.items():
        assert field_value(instance, name) == as_stored(name, value), name


@pytest.mark.parametrize("resource", RESOURCES, ids=lambda r: r.name)
def test_administrator_deletes(world, api, resource):
    key, instance = resource.existing(world)
    response = api.as_user(world.administrator).delete(f"{API}/{resource.name}/{key}/")
    assert response.status_code == 204, response.content
    assert not resource.model.objects.filter(pk=instance.pk).exists()


@pytest.mark.parametrize("persona", NON_ADMINISTRATORS)
@pytest.mark.parametrize("resource", RESOURCES, ids=lambda r: r.name)
def test_others_may_not_write(world, api, resource, persona):
    key, _ = resource.existing(world)
    before = snapshot()
    client = api.as_user(getattr(world, persona))
    url = f"{API}/{resource.name}/"
    for method, path, body in [
        ("post", url, resource.create),
        ("put", f"{url}{key}/", {**resource.create, **resource.update}),
        ("patch", f"{url}{key}/", resource.update),
        ("delete", f"{url}{key}/", None),
    ]:
        response = getattr(client, method)(path, body)
        assert response.status_code == 403, (method, response.content)
        assert response.json()["detail"]
    assert snapshot() == before


@pytest.mark.parametrize("resource", RESOURCES, ids=lambda r: r.name)
def test_anonymous_may_not_read_or_write(world, api, resource):
    key, _ = resource.existing(world)
    before = snapshot()
    client = api.as_user(None)
    assert client.get(f"{API}/{resource.name}/").status_code == 401
    assert client.get(f"{API}/{resource.name}/{key}/").status_code == 401
    assert client.post(f"{API}/{resource.name}/", resource.create).status_code == 401
    assert client.delete(f"{API}/{resource.name}/{key}/").status_code == 401
    assert snapshot() == before


# Reads ------------------------------------------------------------------------------


@pytest.mark.parametrize("persona", ["administrator", *NON_ADMINISTRATORS, "other_manager"])
def test_everyone_signed_in_reads_reference_data(world, api, persona):
    client = api.as_user(getattr(world, persona))
    assert codes(client.get(f"{API}/departments/")) == ["ENV", "FIN", "LCS", "TECH"]
    assert codes(client.get(f"{API}/providers/")) == ["ACME", "PSOA", "TECHSVC"]
    assert codes(client.get(f"{API}/services/")) == ["IT", "PAY"]
    assert codes(client.get(f"{API}/clusters/")) == ["IT-TECH", "PAY-PSOA", "PAY-TECH"]
    detail = client.get(f"{API}/clusters/PAY-PSOA/").json()
    assert detail == {
        "code": "PAY-PSOA",
        "name": "PSOA Payroll",
        "service": "PAY",
        "provider": "PSOA",
        "notice_days": 90,
        "capacity": None,
        "fixed_cost_ratio": "1.00",
    }
    assert client.get(f"{API}/departments/LCS/").json()["deputy_minister"] == "dm_lcs"
    assert client.get(f"{API}/providers/PSOA/").json() == {
        "code": "PSOA",
        "name": "Public Service Operations Agency",
        "kind": "psoa",
        "host_department": "FIN",
    }


def test_inactive_user_reads_nothing(world, api):
    assert api.as_user(world.outsider).get(f"{API}/departments/").status_code == 401


def membership_ids(response) -> set[int]:
    assert response.status_code == 200, response.content
    return {row["id"] for row in response.json()["results"]}


@pytest.mark.parametrize(
    ("persona", "visible"),
    [
        ("administrator", {"lcs_payroll", "env_payroll", "tech_payroll", "lcs_it"}),
        ("analyst", {"lcs_payroll", "env_payroll", "tech_payroll", "lcs_it"}),
        # LCS's own, and the other members of the clusters LCS is in.
        ("manager", {"lcs_payroll", "env_payroll", "lcs_it"}),
        ("deputy_minister", {"lcs_payroll", "env_payroll", "lcs_it"}),
        ("other_manager", {"lcs_payroll", "env_payroll"}),
        ("provider_manager", {"lcs_payroll", "env_payroll"}),
        ("other_provider_manager", {"tech_payroll", "lcs_it"}),
    ],
)
def test_memberships_visible_by_role(world, api, persona, visible):
    client = api.as_user(getattr(world, persona))
    expected = {getattr(world, name).pk for name in visible}
    assert membership_ids(client.get(f"{API}/memberships/")) == expected
    for name in ("lcs_payroll", "env_payroll", "tech_payroll", "lcs_it"):
        membership = getattr(world, name)
        response = client.get(f"{API}/memberships/{membership.pk}/")
        assert response.status_code == (200 if name in visible else 404), name


def test_membership_fields(world, api):
    body = api.as_user(world.analyst).get(f"{API}/memberships/{world.lcs_payroll.pk}/").json()
    assert body == {
        "id": world.lcs_payroll.pk,
        "department": "LCS",
        "cluster": "PAY-PSOA",
        "joined_on": "2025-04-01",
        "leaves_on": None,
        "usage_units": 400,
        "baseline_annual_cost": "120000.00",
        "status": "active",
    }


# Filters --------------------------------------------------------------------------


@pytest.fixture
def statuses(world):
    """Memberships in every state, as of today."""
    today = timezone.localdate()
    return {
        "joining": MembershipFactory(
            department=world.fin, cluster=world.it_tech, joined_on=today + datetime.timedelta(10)
        ),
        "leaving": MembershipFactory(
            department=world.env,
            cluster=world.it_tech,
            joined_on=D(2025, 1, 1),
            leaves_on=today + datetime.timedelta(30),
        ),
        "left": MembershipFactory(
            department=world.tech,
            cluster=world.it_tech,
            joined_on=D(2024, 1, 1),
            leaves_on=D(2025, 1, 1),
        ),
    }


@pytest.mark.parametrize(
    ("path", "query", "expected"),
    [
        ("departments", {"is_main": "true"}, ["ENV", "FIN", "LCS", "TECH"]),
        ("departments", {"is_main": "false"}, []),
        ("departments", {"active": "true"}, ["ENV", "FIN", "LCS", "TECH"]),
        ("providers", {"host_department": "FIN"}, ["PSOA"]),
        ("providers", {"host_department": "TECH"}, ["TECHSVC"]),
        ("providers", {"kind": "external"}, ["ACME"]),
        ("services", {"category": "it"}, ["IT"]),
        ("services", {"lifecycle": "live"}, ["IT", "PAY"]),
        ("services", {"lifecycle": "pilot"}, []),
        ("clusters", {"service": "PAY"}, ["PAY-PSOA", "PAY-TECH"]),
        ("clusters", {"provider": "TECHSVC"}, ["IT-TECH", "PAY-TECH"]),
        ("clusters", {"provider": "PSOA"}, ["PAY-PSOA"]),
        ("clusters", {"department": "LCS"}, ["IT-TECH", "PAY-PSOA"]),
        ("clusters", {"department": "TECH", "service": "PAY"}, ["PAY-TECH"]),
        ("clusters", {"department": "FIN"}, []),
        ("clusters", {"service": ""}, ["IT-TECH", "PAY-PSOA", "PAY-TECH"]),  # empty: no filter
    ],
)
def test_reference_filters_by_code(world, api, path, query, expected):
    assert codes(api.as_user(world.analyst).get(f"{API}/{path}/", query)) == expected


@pytest.mark.parametrize(
    ("persona", "expected"),
    [
        ("analyst", ["IT-TECH", "PAY-PSOA"]),
        ("manager", ["IT-TECH", "PAY-PSOA"]),
        # ENV shares PAY-PSOA with LCS but may not see LCS's other memberships.
        ("other_manager", ["PAY-PSOA"]),
        ("provider_manager", ["PAY-PSOA"]),
        ("other_provider_manager", ["IT-TECH"]),
    ],
)
def test_cluster_department_filter_reveals_only_visible_memberships(world, api, persona, expected):
    client = api.as_user(getattr(world, persona))
    assert codes(client.get(f"{API}/clusters/", {"department": "LCS"})) == expected


def test_standards_filter_by_service(world, api):
    accuracy = StandardFactory(service=world.payroll, name="Accuracy")
    StandardFactory(service=world.it, name="Uptime")
    on_time = Standard.objects.get(service=world.payroll, name="Paid on time")
    client = api.as_user(world.analyst)
    assert codes(client.get(f"{API}/standards/", {"service": "PAY"})) == [accuracy.pk, on_time.pk]
    assert len(codes(client.get(f"{API}/standards/", {"service": "IT"}))) == 2


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"department": "LCS"}, {"lcs_payroll", "lcs_it"}),
        ({"department": "ENV"}, {"env_payroll", "leaving"}),
        ({"service": "PAY"}, {"lcs_payroll", "env_payroll", "tech_payroll"}),
        ({"provider": "PSOA"}, {"lcs_payroll", "env_payroll"}),
        ({"provider": "TECHSVC", "department": "LCS"}, {"lcs_it"}),
        ({"cluster": "IT-TECH"}, {"lcs_it", "joining", "leaving", "left"}),
        ({"status": "active"}, {"lcs_payroll", "env_payroll", "tech_payroll", "lcs_it"}),
        ({"status": "leaving"}, {"leaving"}),
        ({"status": "left"}, {"left"}),
        ({"status": "joining"}, {"joining"}),
        ({"joined_on_after": "2025-01-01", "joined_on_before": "2025-03-31"}, {"leaving"}),
        ({"joined_on_before": "2024-12-31"}, {"left"}),
        ({"joined_on_after": "2025-04-01", "cluster": "PAY-PSOA"}, {"lcs_payroll", "env_payroll"}),
        ({"leaves_on_before": "2025-06-30"}, {"left"}),
        ({"active_on": "2024-06-01"}, {"left"}),
        ({"active_on": "2025-02-01"}, {"leaving"}),
        ({"status": "", "department": "TECH"}, {"tech_payroll", "left"}),
    ],
)
def test_membership_filters(world, statuses, api, query, expected):
    named = {**statuses, **{n: getattr(world, n) for n in ("lcs_payroll", "env_payroll")}}
    named.update(tech_payroll=world.tech_payroll, lcs_it=world.lcs_it)
    response = api.as_user(world.analyst).get(f"{API}/memberships/", query)
    assert membership_ids(response) == {named[n].pk for n in expected}


def test_membership_status_is_derived_from_dates(world, statuses, api):
    client = api.as_user(world.analyst)
    for status, membership in statuses.items():
        assert client.get(f"{API}/memberships/{membership.pk}/").json()["status"] == status
    assert client.get(f"{API}/memberships/{world.lcs_it.pk}/").json()["status"] == "active"


def test_status_is_read_only(world, api):
    response = api.as_user(world.administrator).patch(
        f"{API}/memberships/{world.lcs_it.pk}/", {"status": "left"}
    )
    assert response.status_code == 200
    assert response.json()["status"] == "active"
    world.lcs_it.refresh_from_db()
    assert world.lcs_it.leaves_on is None


# CSV -----------------------------------------------------------------------------


def test_membership_csv_has_a_header_and_every_row(world, statuses, api):
    rows = read_csv(
        api.as_user(world.analyst).get(f"{API}/memberships/", {"format": "csv", "page_size": "2"})
    )
    assert list(rows[0]) == [
        "id",
        "department",
        "cluster",
        "joined_on",
        "leaves_on",
        "usage_units",
        "baseline_annual_cost",
        "status",
    ]
    assert len(rows) == Membership.objects.count() == 7


def test_csv_of_a_filtered_list(world, statuses, api):
    rows = read_csv(
        api.as_user(world.analyst).get(
            f"{API}/memberships/", {"format": "csv", "page_size": "1", "cluster": "IT-TECH"}
        )
    )
    assert sorted((r["department"], r["status"]) for r in rows) == [
        ("ENV", "leaving"),
        ("FIN", "joining"),
        ("LCS", "active"),
        ("TECH", "left"),
    ]


def test_csv_respects_visibility(world, api):
    rows = read_csv(api.as_user(world.provider_manager).get(f"{API}/memberships/?format=csv"))
    assert sorted(r["department"] for r in rows) == ["ENV", "LCS"]


# The organisation's rules ----------------------------------------------------------


def test_overlapping_membership_is_400_and_nothing_saved(world, api):
    before = snapshot()
    # LCS is in PAY-PSOA from 2025-04-01, open-ended: PAY-TECH is the same service.
    response = api.as_user(world.administrator).post(
        f"{API}/memberships/",
        {"department": "LCS", "cluster": "PAY-TECH", "joined_on": "2026-01-01", "usage_units": 5},
    )
    assert response.status_code == 400
    assert OVERLAP in messages(response.json())
    assert snapshot() == before


def test_overlap_by_update_is_400_and_nothing_saved(world, api):
    world.lcs_payroll.leaves_on = D(2026, 1, 1)
    world.lcs_payroll.save()
    later = MembershipFactory(
        department=world.lcs, cluster=world.pay_tech, joined_on=D(2026, 1, 1), usage_units=400
    )
    before = snapshot()
    response = api.as_user(world.administrator).patch(
        f"{API}/memberships/{later.pk}/", {"joined_on": "2025-12-01"}
    )
    assert response.status_code == 400
    assert OVERLAP in messages(response.json())
    assert snapshot() == before


def test_a_move_leaves_and_joins_on_the_same_day(world, api):
    client = api.as_user(world.administrator)
    response = client.patch(
        f"{API}/memberships/{world.lcs_payroll.pk}/", {"leaves_on": "2026-07-01"}
    )
    assert response.status_code == 200, response.content
    response = client.post(
        f"{API}/memberships/",
        {"department": "LCS", "cluster": "PAY-TECH", "joined_on": "2026-07-01", "usage_units": 400},
    )
    assert response.status_code == 201, response.content
    assert Membership.objects.filter(department=world.lcs, service=world.payroll).count() == 2


def test_second_psoa_provider_is_400(world, api):
    before = snapshot()
    response = api.as_user(world.administrator).post(
        f"{API}/providers/", {"code": "PSOA2", "name": "Another PSOA", "kind": "psoa"}
    )
    assert response.status_code == 400
    assert ONE_PSOA in messages(response.json())
    assert snapshot() == before


def test_changing_a_provider_into_a_second_psoa_is_400(world, api):
    before = snapshot()
    response = api.as_user(world.administrator).patch(f"{API}/providers/ACME/", {"kind": "psoa"})
    assert response.status_code == 400
    assert ONE_PSOA in messages(response.json())
    assert snapshot() == before


def test_department_provider_without_host_is_400(world, api):
    before = snapshot()
    response = api.as_user(world.administrator).post(
        f"{API}/providers/", {"code": "DP", "name": "Dept provider", "kind": "department"}
    )
    assert response.status_code == 400
    assert NEEDS_HOST in messages(response.json())
    assert snapshot() == before


@pytest.mark.parametrize(
    ("lifecycle", "given", "expected"),
    [
        ("pilot", None, PILOT_NOTICE_DAYS),
        ("live", None, DEFAULT_NOTICE_DAYS),
        ("retired", None, DEFAULT_NOTICE_DAYS),
        ("pilot", 45, 45),
        ("live", 0, 0),
    ],
)
def test_cluster_notice_defaults_by_lifecycle(world, api, lifecycle, given, expected):
    ServiceFactory(code="NEWSVC", category="portal", lifecycle=lifecycle)
    body = {"code": "NEW-1", "name": "New", "service": "NEWSVC", "provider": "PSOA"}
    if given is not None:
        body["notice_days"] = given
    response = api.as_user(world.administrator).post(f"{API}/clusters/", body)
    assert response.status_code == 201, response.content
    assert response.json()["notice_days"] == expected
    assert Cluster.objects.get(code="NEW-1").notice_days == expected


@pytest.mark.parametrize(
    ("path", "blocker"),
    [
        ("departments/LCS", "memberships"),
        ("departments/FIN", "providers"),
        ("providers/PSOA", "clusters"),
        ("services/PAY", "clusters"),
        ("clusters/PAY-PSOA", "memberships"),
    ],
)
def test_deleting_what_is_in_use_is_409(world, api, path, blocker):
    before = snapshot()
    response = api.as_user(world.administrator).delete(f"{API}/{path}/")
    assert response.status_code == 409, response.content
    detail = response.json()["detail"]
    assert "still in use" in detail
    assert blocker in detail
    assert snapshot() == before


def test_a_clusters_service_cannot_change_once_it_has_members(world, api):
    before = snapshot()
    response = api.as_user(world.administrator).patch(
        f"{API}/clusters/PAY-PSOA/", {"service": "IT"}
    )
    assert response.status_code == 400
    assert response.json() == {"service": [CLUSTER_SERVICE_LOCKED]}
    assert snapshot() == before


def test_put_replaces_a_department(world, api):
    response = api.as_user(world.administrator).put(
        f"{API}/departments/ENV/",
        {"code": "ENV", "name": "Environment and Parks", "is_main": False, "active": True},
    )
    assert response.status_code == 200, response.content
    world.env.refresh_from_db()
    assert (world.env.name, world.env.is_main) == ("Environment and Parks", False)


def test_renaming_a_code_moves_the_url(world, api):
    client = api.as_user(world.administrator)
    response = client.patch(f"{API}/services/IT/", {"code": "DESK"})
    assert response.status_code == 200, response.content
    assert client.get(f"{API}/services/DESK/").status_code == 200
    assert client.get(f"{API}/services/IT/").status_code == 404
    assert Cluster.objects.get(code="IT-TECH").service.code == "DESK"


# Bad input, everywhere: 400 with field messages, never a 500, nothing saved ----------

NUL = "\x00"
LONG = "A" * 10_000


@dataclass
class Bad:
    method: str
    path: str  # may name {membership} or {standard}
    data: Any
    field: str  # the key the error is reported under
    message: str | None = None  # a message that must appear, if any


BAD_INPUT = [
    # Departments
    Bad("post", "departments", {"code": "lcs", "name": "x"}, "code"),
    Bad("post", "departments", {"code": "LCS", "name": "Duplicate"}, "code", "already exists"),
    Bad("post", "departments", {"code": "X" * 33, "name": "x"}, "code"),
    Bad("post", "departments", {"code": LONG, "name": "x"}, "code"),
    Bad("post", "departments", {"code": f"N{NUL}", "name": "x"}, "code"),
    Bad("post", "departments", {"code": "NEW", "name": ["a", "b"]}, "name"),
    Bad("post", "departments", {"code": "NEW", "name": LONG}, "name"),
    Bad("post", "departments", {"code": "NEW", "name": f"a{NUL}b"}, "name", "Null characters"),
    Bad("post", "departments", {"code": "NEW", "name": ""}, "name"),
    Bad("post", "departments", {"code": "NEW"}, "name", "required"),
    Bad("post", "departments", {"code": "NEW", "name": "x", "is_main": "perhaps"}, "is_main"),
    Bad(
        "post",
        "departments",
        {"code": "NEW", "name": "x", "deputy_minister": "nobody"},
        "deputy_minister",
        "nobody",
    ),
    Bad(
        "post",
        "departments",
        {"code": "NEW", "name": "x", "deputy_minister": ""},
        "deputy_minister",
    ),
    Bad(
        "post", "departments", {"code": "NEW", "name": "x", "deputy_minister": 7}, "deputy_minister"
    ),
    Bad("post", "departments", ["NEW"], "non_field_errors"),
    Bad("post", "departments", "NEW", "non_field_errors"),
    Bad("patch", "departments/LCS", {"name": ""}, "name"),
    Bad("patch", "departments/LCS", {"code": "L C S"}, "code"),
    Bad("patch", "departments/LCS", {"active": NUL}, "active"),
    # Providers
    Bad(
        "post",
        "providers",
        {"code": "P2", "name": "x", "kind": "psoa"},
        "non_field_errors",
        ONE_PSOA,
    ),
    Bad(
        "post",
        "providers",
        {"code": "P2", "name": "x", "kind": "department"},
        "non_field_errors",
        NEEDS_HOST,
    ),
    Bad(
        "post",
        "providers",
        {"code": "P2", "name": "x", "kind": "external", "host_department": "LCS"},
        "non_field_errors",
        "no host",
    ),
    Bad(
        "post",
        "providers",
        {"code": "P2", "name": "x", "kind": "department", "host_department": "NOPE"},
        "host_department",
        "NOPE",
    ),
    Bad(
        "post",
        "providers",
        {"code": "P2", "name": "x", "kind": "department", "host_department": ["LCS"]},
        "host_department",
    ),
    Bad(
        "post",
        "providers",
        {"code": "P2", "name": "x", "kind": "department", "host_department": f"LCS{NUL}"},
        "host_department",
    ),
    Bad("post", "providers", {"code": "P2", "name": "x", "kind": "alien"}, "kind"),
    # Services
    Bad(
        "post",
        "services",
        {"code": "S", "name": "x", "category": "spa", "charging_unit": "u"},
        "category",
    ),
    Bad(
        "post",
        "services",
        {"code": "S", "name": "x", "category": "hr", "charging_unit": "u", "lifecycle": 5},
        "lifecycle",
    ),
    Bad(
        "post",
        "services",
        {"code": "S", "name": "x", "category": "hr", "charging_unit": LONG},
        "charging_unit",
    ),
    # Standards
    Bad(
        "post",
        "standards",
        {
            "service": "PAY",
            "name": "n",
            "kind": "operational",
            "unit": "%",
            "target": "1.234567",
            "direction": "higher_is_better",
        },
        "target",
    ),
    Bad(
        "post",
        "standards",
        {
            "service": "PAY",
            "name": "n",
            "kind": "operational",
            "unit": "%",
            "target": "abc",
            "direction": "higher_is_better",
        },
        "target",
    ),
    Bad(
        "post",
        "standards",
        {
            "service": "PAY",
            "name": "n",
            "kind": "operational",
            "unit": "%",
            "target": "1e400",
            "direction": "higher_is_better",
        },
        "target",
    ),
    Bad(
        "post",
        "standards",
        {
            "service": "PAY",
            "name": "n",
            "kind": "operational",
            "unit": "%",
            "target": "NaN",
            "direction": "higher_is_better",
        },
        "target",
    ),
    Bad(
        "post",
        "standards",
        {
            "service": "NOPE",
            "name": "n",
            "kind": "operational",
            "unit": "%",
            "target": "1",
            "direction": "higher_is_better",
        },
        "service",
        "NOPE",
    ),
    Bad(
        "post",
        "standards",
        {
            "service": "PAY",
            "name": "Accuracy",
            "kind": "operational",
            "unit": "%",
            "target": "1",
            "direction": "higher_is_better",
        },
        "non_field_errors",
        "already has a standard",
    ),
    Bad("patch", "standards/{standard}", {"direction": "sideways"}, "direction"),
    # Clusters
    Bad(
        "post",
        "clusters",
        {"code": "C", "name": "c", "service": "PAY", "provider": "ACME", "fixed_cost_ratio": 1.5},
        "fixed_cost_ratio",
    ),
    Bad(
        "post",
        "clusters",
        {
            "code": "C",
            "name": "c",
            "service": "PAY",
            "provider": "ACME",
            "fixed_cost_ratio": "-0.10",
        },
        "fixed_cost_ratio",
    ),
    Bad(
        "post",
        "clusters",
        {
            "code": "C",
            "name": "c",
            "service": "PAY",
            "provider": "ACME",
            "fixed_cost_ratio": "0.125",
        },
        "fixed_cost_ratio",
    ),
    Bad(
        "post",
        "clusters",
        {"code": "C", "name": "c", "service": "PAY", "provider": "ACME", "notice_days": -1},
        "notice_days",
    ),
    Bad(
        "post",
        "clusters",
        {"code": "C", "name": "c", "service": "PAY", "provider": "ACME", "notice_days": 99999},
        "notice_days",
    ),
    Bad(
        "post",
        "clusters",
        {"code": "C", "name": "c", "service": "PAY", "provider": "ACME", "notice_days": "soon"},
        "notice_days",
    ),
    Bad(
        "post",
        "clusters",
        {"code": "C", "name": "c", "service": "PAY", "provider": "ACME", "capacity": 0},
        "capacity",
    ),
    Bad(
        "post",
        "clusters",
        {"code": "C", "name": "c", "service": "PAY", "provider": "ACME", "capacity": 2**63},
        "capacity",
    ),
    Bad(
        "post",
        "clusters",
        {"code": "C", "name": "c", "service": "PAY", "provider": ["PSOA"]},
        "provider",
    ),
    Bad(
        "post",
        "clusters",
        {"code": "C", "name": "c", "service": "NOPE", "provider": "PSOA"},
        "service",
        "NOPE",
    ),
    Bad("patch", "clusters/PAY-PSOA", {"service": "IT"}, "service", CLUSTER_SERVICE_LOCKED),
    # Memberships
    Bad(
        "post",
        "memberships",
        {"department": "FIN", "cluster": "PAY-TECH", "joined_on": "2026-13-45", "usage_units": 1},
        "joined_on",
    ),
    Bad(
        "post",
        "memberships",
        {"department": "FIN", "cluster": "PAY-TECH", "joined_on": "yesterday", "usage_units": 1},
        "joined_on",
    ),
    Bad(
        "post",
        "memberships",
        {
            "department": "FIN",
            "cluster": "PAY-TECH",
            "joined_on": f"2026-01-01{NUL}",
            "usage_units": 1,
        },
        "joined_on",
    ),
    Bad(
        "post",
        "memberships",
        {
            "department": "FIN",
            "cluster": "PAY-TECH",
            "joined_on": "2026-01-01",
            "usage_units": "many",
        },
        "usage_units",
    ),
    Bad(
        "post",
        "memberships",
        {"department": "FIN", "cluster": "PAY-TECH", "joined_on": "2026-01-01", "usage_units": 0},
        "usage_units",
    ),
    Bad(
        "post",
        "memberships",
        {"department": "FIN", "cluster": "PAY-TECH", "joined_on": "2026-01-01", "usage_units": -5},
        "usage_units",
    ),
    Bad(
        "post",
        "memberships",
        {"department": "FIN", "cluster": "PAY-TECH", "joined_on": "2026-01-01", "usage_units": 1.5},
        "usage_units",
    ),
    Bad(
        "post",
        "memberships",
        {
            "department": "FIN",
            "cluster": "PAY-TECH",
            "joined_on": "2026-01-01",
            "usage_units": 2**40,
        },
        "usage_units",
    ),
    Bad(
        "post",
        "memberships",
        {
            "department": "FIN",
            "cluster": "PAY-TECH",
            "joined_on": "2026-01-01",
            "usage_units": 1,
            "baseline_annual_cost": "12.345",
        },
        "baseline_annual_cost",
    ),
    Bad(
        "post",
        "memberships",
        {
            "department": "FIN",
            "cluster": "PAY-TECH",
            "joined_on": "2026-01-01",
            "usage_units": 1,
            "baseline_annual_cost": "-1.00",
        },
        "baseline_annual_cost",
    ),
    Bad(
        "post",
        "memberships",
        {
            "department": "FIN",
            "cluster": "PAY-TECH",
            "joined_on": "2026-01-01",
            "usage_units": 1,
            "baseline_annual_cost": "1e20",
        },
        "baseline_annual_cost",
    ),
    Bad(
        "post",
        "memberships",
        {
            "department": "FIN",
            "cluster": "PAY-TECH",
            "joined_on": "2026-01-01",
            "leaves_on": "2025-01-01",
            "usage_units": 1,
        },
        "leaves_on",
        "after the joining date",
    ),
    Bad(
        "post",
        "memberships",
        {"department": "NOPE", "cluster": "PAY-TECH", "joined_on": "2026-01-01", "usage_units": 1},
        "department",
        "NOPE",
    ),
    Bad(
        "post",
        "memberships",
        {"department": NUL, "cluster": "PAY-TECH", "joined_on": "2026-01-01", "usage_units": 1},
        "department",
    ),
    Bad(
        "post",
        "memberships",
        {"department": "FIN", "cluster": "PAY-TECH", "joined_on": None, "usage_units": 1},
        "joined_on",
    ),
    Bad(
        "post",
        "memberships",
        {"department": "LCS", "cluster": "PAY-TECH", "joined_on": "2026-01-01", "usage_units": 1},
        "non_field_errors",
        OVERLAP,
    ),
    Bad("patch", "memberships/{membership}", {"leaves_on": "2020-01-01"}, "leaves_on"),
    Bad("patch", "memberships/{membership}", {"leaves_on": "2025-04-01"}, "leaves_on"),
    Bad(
        "patch",
        "memberships/{membership}",
        {"joined_on": "2030-01-01", "leaves_on": "2029-01-01"},
        "leaves_on",
    ),
    # LCS's IT membership moved into a payroll cluster would overlap its PSOA payroll.
    Bad("patch", "memberships/{lcs_it}", {"cluster": "PAY-TECH"}, "non_field_errors", OVERLAP),
    Bad("patch", "memberships/{membership}", {"usage_units": None}, "usage_units"),
    # Filters and pages
    Bad("get", "memberships", {"department": "NOPE"}, "department", "NOPE"),
    Bad("get", "memberships", {"department": NUL}, "department"),
    Bad("get", "memberships", {"department": LONG}, "department"),
    Bad("get", "memberships", {"cluster": f"PAY-PSOA{NUL}"}, "cluster"),
    Bad("get", "memberships", {"service": "NOPE"}, "service"),
    Bad("get", "memberships", {"provider": "NOPE"}, "provider"),
    Bad("get", "memberships", {"status": "gone"}, "status"),
    Bad("get", "memberships", {"status": NUL}, "status"),
    Bad("get", "memberships", {"joined_on_after": "2026-13-45"}, "joined_on"),
    Bad("get", "memberships", {"joined_on_before": NUL}, "joined_on"),
    Bad("get", "memberships", {"leaves_on_after": "soon"}, "leaves_on"),
    Bad("get", "memberships", {"active_on": "2026-02-30"}, "active_on"),
    Bad("get", "memberships", {"page_size": "100000"}, "page_size", PAGE_SIZE_INVALID),
    Bad("get", "memberships", {"page_size": "abc"}, "page_size", PAGE_SIZE_INVALID),
    Bad("get", "memberships", {"page_size": "-1"}, "page_size", PAGE_SIZE_INVALID),
    Bad("get", "memberships", {"page_size": NUL}, "page_size", PAGE_SIZE_INVALID),
    Bad("get", "clusters", {"service": "NOPE"}, "service", "NOPE"),
    Bad("get", "clusters", {"provider": NUL}, "provider"),
    Bad("get", "clusters", {"department": "lcs"}, "department"),
    Bad("get", "providers", {"kind": "alien"}, "kind"),
    Bad("get", "providers", {"host_department": NUL}, "host_department"),
    Bad("get", "departments", {"is_main": "perhaps"}, "is_main", BOOLEAN_INVALID),
    Bad("get", "departments", {"active": NUL}, "active", BOOLEAN_INVALID),
    Bad("get", "services", {"category": NUL}, "category"),
    Bad("get", "standards", {"service": LONG}, "service"),
    Bad("get", "standards", {"direction": "up"}, "direction"),
    Bad("get", "audit-events", {"at_after": "2026-13-45T00:00"}, "at"),
    Bad("get", "audit-events", {"at_before": "9999-12-31T23:00:00-18:00"}, "at"),
    Bad("get", "audit-events", {"action": "truncate"}, "action"),
    Bad("get", "audit-events", {"model": "auth.Nothing"}, "model"),
    Bad("get", "audit-events", {"object_id": NUL}, "object_id"),
    Bad("get", "audit-events", {"actor": NUL}, "actor"),
]


def bad_id(bad: Bad) -> str:
    data = repr(bad.data).replace(NUL, "NUL")
    return f"{bad.method}-{bad.path}-{data[:40]}"


@pytest.mark.parametrize("bad", BAD_INPUT, ids=bad_id)
def test_bad_input_is_400_with_field_messages(world, api, bad):
    StandardFactory(service=world.payroll, name="Accuracy")
    path = bad.path.format(
        membership=world.lcs_payroll.pk,
        lcs_it=world.lcs_it.pk,
        standard=Standard.objects.get(name="Accuracy").pk,
    )
    before = snapshot()
    client = api.as_user(world.administrator)
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


@pytest.mark.parametrize("method", ["get", "put", "patch", "delete"])
@pytest.mark.parametrize(
    "path",
    [
        "departments/%00",
        "departments/LCS%00",
        "clusters/%00",
        "providers/%00PSOA",
        "services/%E2%80%8BPAY",
        "memberships/%00",
        "memberships/1%00",
        "standards/%00",
    ],
)
def test_nul_and_junk_in_url_codes_are_404(world, api, method, path):
    before = snapshot()
    response = getattr(api.as_user(world.administrator), method)(f"{API}/{path}/", {})
    assert response.status_code == 404, response.content
    assert response.json()["detail"]
    assert snapshot() == before


@pytest.mark.parametrize("path", ["audit-events/%00", "audit-events/%00clusters.x:1"])
def test_nul_in_audit_event_ids_is_404(world, api, path):
    response = api.as_user(world.analyst).get(f"{API}/{path}/")
    assert response.status_code == 404, response.content


def test_unknown_codes_in_bodies_name_the_code(world, api):
    response = api.as_user(world.administrator).post(
        f"{API}/memberships/",
        {"department": "NOPE", "cluster": "GONE", "joined_on": "2026-01-01", "usage_units": 1},
    )
    assert response.status_code == 400
    assert response.json() == {
        "department": ["No department has the code “NOPE”."],
        "cluster": ["No cluster has the code “GONE”."],
    }
