"""The service-levels REST API: returns (one or a list, all or nothing), their roles, bad
input answered 400/403 with nothing saved, and the five reports with their scoping, CSV
and query counts that do not grow with the data."""

from __future__ import annotations

import csv
import datetime
import io
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pghistory.models
import pytest
from django.utils import timezone

from budgets.models import CostPool
from budgets.services import chargeback_run, cost_pool_create
from clusters.filters import UNKNOWN_CODE
from clusters.models import Membership, Standard
from clusters.rules import WITHHELD
from servicelevels import selectors, services
from servicelevels.api.views import (
    NO_RETURNS,
    NOT_A_RETURN,
    NOT_YOUR_CLUSTER,
    OWN_ALTERNATIVES,
    TOO_MANY_RETURNS,
)
from servicelevels.models import BreachNotice, Measurement
from sharedsvc.api.filters import BOOLEAN_INVALID
from sharedsvc.periods import (
    FISCAL_YEAR_INVALID,
    PERIOD_INVALID,
    fiscal_year_bounds,
    fiscal_year_of,
    format_period,
    last_complete_fiscal_year,
    next_month,
)
from tests.factories import (
    ClusterFactory,
    DepartmentFactory,
    MembershipFactory,
    ProviderFactory,
    StandardFactory,
    UserFactory,
)
from tests.pages import count_queries
from tests.personas import World
from tests.shared import shared_fixture

API = "/api/v1"
NUL = "\x00"
D = datetime.date
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
DUPLICATE = str(
    next(
        c for c in Measurement._meta.constraints if c.name == "measurement_one_return_per_month"
    ).violation_error_message
)

# The last three months of the last complete fiscal year: always over, and the year the
# benefits report looks at by default.
FY = last_complete_fiscal_year(timezone.localdate())
M1 = fiscal_year_bounds(FY)[1].replace(month=1)
M2 = next_month(M1)
M3 = next_month(M2)
P1, P2, P3 = (format_period(m) for m in (M1, M2, M3))
NEXT_FY = fiscal_year_of(fiscal_year_bounds(FY)[1])
BEFORE = format_period(D(M1.year - 1, 12, 1))  # a month with no returns


def this_month() -> datetime.date:
    return timezone.localdate().replace(day=1)


def messages(body: Any) -> list[str]:
    if isinstance(body, dict):
        return [m for value in body.values() for m in messages(value)]
    if isinstance(body, list):
        return [m for value in body for m in messages(value)]
    return [str(body)]


def snapshot() -> dict[str, list]:
    return {
        "measurements": list(Measurement.objects.order_by("pk").values()),
        "notices": list(BreachNotice.objects.order_by("pk").values()),
        "events": [pghistory.models.Events.objects.count()],
    }


def results(response) -> list[dict[str, Any]]:
    assert response.status_code == 200, response.content
    return response.json()["results"]


def read_csv(response) -> list[dict[str, str]]:
    assert response.status_code == 200, response.getvalue()
    assert response["Content-Type"].startswith("text/csv")
    return list(csv.DictReader(io.StringIO(response.getvalue().decode())))


def keys(rows: list[dict[str, Any]]) -> list[str]:
    return sorted(f"{r['cluster']}/{r['department']}/{r['period']}" for r in rows)


@dataclass
class Levels:
    """Returns for M1..M3 (the last quarter of the last complete fiscal year):

    PAY-PSOA "Paid on time" (target 99.5): LCS 90, 91, 92 (a persistent breach); ENV 99.9,
    99.6, 98. PAY-TECH (TECHSVC, hosted by TECH): TECH 100 x3, HLTH 99 x3 (a breach too);
    IT-TECH "Tickets" (target 90): LCS 95 in M1. Pools: PAY-PSOA 700 in M1 and 1400 in M2,
    PAY-TECH 600 and IT-TECH 350 in M1, all charged. PAY-TECH's members' baselines are 100:
    it does not deliver its benefit."""

    world: World
    on_time: Standard
    tickets: Standard
    hlth: Any


def _submit(world, standard, cluster, department, period, value) -> Measurement:
    # Each cluster's own provider submits its returns (the service checks it).
    by_provider = {
        world.psoa.pk: world.provider_manager,
        world.tech_provider.pk: world.other_provider_manager,
    }
    return services.measurement_submit(
        actor=by_provider.get(cluster.provider_id, world.administrator),
        standard=standard,
        cluster=cluster,
        department=department,
        period=period,
        value=Decimal(value),
    )


@shared_fixture("world")
def levels(world) -> Levels:
    on_time = world.payroll.standards.get()
    tickets = world.it.standards.get()
    hlth = DepartmentFactory(code="HLTH", name="Health")
    MembershipFactory(
        department=hlth, cluster=world.pay_tech, joined_on=D(2025, 4, 1), usage_units=100
    )
    Membership.objects.filter(cluster=world.pay_tech).update(baseline_annual_cost=Decimal("100"))
    for month, lcs, env, tech, health in [
        (M1, "90", "99.9", "100", "99"),
        (M2, "91", "99.6", "100", "99"),
        (M3, "92", "98", "100", "99"),
    ]:
        _submit(world, on_time, world.pay_psoa, world.lcs, month, lcs)
        _submit(world, on_time, world.pay_psoa, world.env, month, env)
        _submit(world, on_time, world.pay_tech, world.tech, month, tech)
        _submit(world, on_time, world.pay_tech, hlth, month, health)
    _submit(world, tickets, world.it_tech, world.lcs, M1, "95")
    admin = world.administrator
    for cluster, month, amount in [
        (world.pay_psoa, M1, "700.00"),
        (world.pay_psoa, M2, "1400.00"),
        (world.pay_tech, M1, "600.00"),
        (world.it_tech, M1, "350.00"),
    ]:
        cost_pool_create(actor=admin, cluster=cluster, period=month, amount=Decimal(amount))
    chargeback_run(actor=admin, period=M1)
    chargeback_run(actor=admin, period=M2)
    return Levels(world=world, on_time=on_time, tickets=tickets, hlth=hlth)


def body(levels: Levels, **changes: Any) -> dict[str, Any]:
    """A good new return: ENV's on PAY-PSOA for the month before M1."""
    return {
        "standard": levels.on_time.pk,
        "cluster": "PAY-PSOA",
        "department": "ENV",
        "period": BEFORE,
        "value": "99.7",
        **changes,
    }


# Measurements: reading ------------------------------------------------------------------


def test_measurement_fields(levels, api):
    w = levels.world
    m = Measurement.objects.get(cluster=w.it_tech, department=w.lcs)
    response = api.as_user(w.analyst).get(f"{API}/measurements/{m.pk}/")
    assert response.status_code == 200
    assert response.json() == {
        "id": m.pk,
        "standard": levels.tickets.pk,
        "standard_name": "Tickets resolved in 2 days",
        "cluster": "IT-TECH",
        "department": "LCS",
        "period": P1,
        "value": "95.0000",
        "met": True,
        "submitted_at": response.json()["submitted_at"],
        "submitted_by": "pm_tech",  # TECHSVC runs IT-TECH
        "late": True,  # submitted today, long after the 10th of M2
    }
    assert datetime.datetime.fromisoformat(response.json()["submitted_at"]) == m.submitted_at


def test_late_means_after_the_tenth_of_the_next_month(levels, api):
    w = levels.world
    early, late = Measurement.objects.filter(cluster=w.pay_psoa, period=M1).order_by(
        "department__code"
    )  # ENV, LCS
    due = next_month(M1).replace(day=10)
    Measurement.objects.filter(pk=early.pk).update(
        submitted_at=timezone.make_aware(datetime.datetime.combine(due, datetime.time(23, 59)))
    )
    Measurement.objects.filter(pk=late.pk).update(
        submitted_at=timezone.make_aware(
            datetime.datetime.combine(due + datetime.timedelta(days=1), datetime.time(0, 1))
        )
    )
    rows = results(
        api.as_user(w.analyst).get(f"{API}/measurements/", {"cluster": "PAY-PSOA", "period": P1})
    )
    assert {(r["department"], r["late"]) for r in rows} == {("ENV", False), ("LCS", True)}


ALL_RETURNS = sorted(
    [f"PAY-PSOA/{d}/{p}" for d in ("ENV", "LCS") for p in (P1, P2, P3)]
    + [f"PAY-TECH/{d}/{p}" for d in ("HLTH", "TECH") for p in (P1, P2, P3)]
    + [f"IT-TECH/LCS/{P1}"]
)


@pytest.mark.parametrize(
    ("persona", "visible"),
    [
        ("administrator", ALL_RETURNS),
        ("analyst", ALL_RETURNS),
        # LCS's own returns and those of the clusters it belongs to
        ("manager", [k for k in ALL_RETURNS if not k.startswith("PAY-TECH")]),
        ("deputy_minister", [k for k in ALL_RETURNS if not k.startswith("PAY-TECH")]),
        ("other_manager", [k for k in ALL_RETURNS if k.startswith("PAY-PSOA")]),
        ("recused_deputy_minister", []),  # FIN belongs to no cluster
        ("provider_manager", [k for k in ALL_RETURNS if k.startswith("PAY-PSOA")]),
        ("other_provider_manager", [k for k in ALL_RETURNS if not k.startswith("PAY-PSOA")]),
    ],
)
def test_measurements_visible_by_role(levels, api, persona, visible):
    user = levels.world.personas()[persona]
    assert keys(results(api.as_user(user).get(f"{API}/measurements/?page_size=100"))) == visible


def test_another_providers_return_is_404(levels, api):
    w = levels.world
    m = Measurement.objects.filter(cluster=w.pay_tech).first()
    assert api.as_user(w.provider_manager).get(f"{API}/measurements/{m.pk}/").status_code == 404
    assert api.as_user(w.other_manager).get(f"{API}/measurements/{m.pk}/").status_code == 404


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("provider=TECHSVC", [k for k in ALL_RETURNS if "TECH/" in k]),
        ("cluster=IT-TECH", [f"IT-TECH/LCS/{P1}"]),
        ("department=LCS", [k for k in ALL_RETURNS if "/LCS/" in k]),
        ("service=IT", [f"IT-TECH/LCS/{P1}"]),
        ("standard={tickets}", [f"IT-TECH/LCS/{P1}"]),
        ("period=" + P2, [k for k in ALL_RETURNS if k.endswith(P2)]),
        ("period_after=" + P3, [k for k in ALL_RETURNS if k.endswith(P3)]),
        ("period_before=" + P1, [k for k in ALL_RETURNS if k.endswith(P1)]),
        (f"period_after={P2}&period_before={P2}", [k for k in ALL_RETURNS if k.endswith(P2)]),
        ("fiscal_year=" + FY, ALL_RETURNS),
        ("fiscal_year=" + NEXT_FY, []),
        (
            "met=true",
            sorted(
                [f"PAY-PSOA/ENV/{P1}", f"PAY-PSOA/ENV/{P2}", f"IT-TECH/LCS/{P1}"]
                + [f"PAY-TECH/TECH/{p}" for p in (P1, P2, P3)]
            ),
        ),
        (
            "met=false&cluster=PAY-PSOA",
            sorted([f"PAY-PSOA/LCS/{p}" for p in (P1, P2, P3)] + [f"PAY-PSOA/ENV/{P3}"]),
        ),
        ("met=", ALL_RETURNS),
    ],
)
def test_measurement_filters(levels, api, query, expected):
    query = query.format(tickets=levels.tickets.pk)
    rows = results(
        api.as_user(levels.world.analyst).get(f"{API}/measurements/?page_size=100&{query}")
    )
    assert keys(rows) == expected


def test_measurements_as_csv(levels, api):
    rows = read_csv(
        api.as_user(levels.world.provider_manager).get(f"{API}/measurements/?format=csv")
    )
    assert sorted((r["department"], r["period"], r["value"], r["met"]) for r in rows) == sorted(
        [
            ("LCS", P1, "90.0000", "False"),
            ("LCS", P2, "91.0000", "False"),
            ("LCS", P3, "92.0000", "False"),
            ("ENV", P1, "99.9000", "True"),
            ("ENV", P2, "99.6000", "True"),
            ("ENV", P3, "98.0000", "False"),
        ]
    )
    assert list(rows[0]) == [
        "id",
        "standard",
        "standard_name",
        "cluster",
        "department",
        "period",
        "value",
        "met",
        "submitted_at",
        "submitted_by",
        "late",
    ]


# Measurements: writing ------------------------------------------------------------------


@pytest.mark.parametrize("persona", ["provider_manager", "administrator"])
def test_one_return_is_submitted(levels, api, persona):
    user = levels.world.personas()[persona]
    response = api.as_user(user).post(f"{API}/measurements/", body(levels))
    assert response.status_code == 201, response.content
    saved = Measurement.objects.get(department__code="ENV", period=D(M1.year - 1, 12, 1))
    assert response.json()["id"] == saved.pk
    assert (response.json()["value"], response.json()["met"]) == ("99.7000", True)
    assert (saved.value, saved.submitted_by, saved.cluster.code) == (
        Decimal("99.7"),
        user,
        "PAY-PSOA",
    )


def test_a_list_is_submitted_at_once_in_order(levels, api):
    w = levels.world
    before = Measurement.objects.count()
    rows = [
        body(levels, department="LCS", value="99.5"),
        body(levels),
        body(levels, period=format_period(D(M1.year - 1, 11, 1)), value="1"),
    ]
    response = api.as_user(w.provider_manager).post(f"{API}/measurements/", rows)
    assert response.status_code == 201, response.content
    answered = response.json()
    assert [(r["department"], r["period"], r["met"]) for r in answered] == [
        ("LCS", BEFORE, True),
        ("ENV", BEFORE, True),
        ("ENV", format_period(D(M1.year - 1, 11, 1)), False),
    ]
    assert Measurement.objects.count() == before + 3
    assert set(
        Measurement.objects.filter(pk__in=[r["id"] for r in answered]).values_list(
            "submitted_by", flat=True
        )
    ) == {w.provider_manager.pk}


def test_a_list_with_one_bad_row_saves_nothing_and_names_the_row(levels, api):
    before = snapshot()
    rows = [body(levels), body(levels, department="TECH"), body(levels, department="LCS")]
    response = api.as_user(levels.world.provider_manager).post(f"{API}/measurements/", rows)
    assert response.status_code == 400
    assert response.json() == {
        "row 2": {
            "department": [
                services.NOT_A_MEMBER.format(department="TECH", cluster="PAY-PSOA", period=BEFORE)
            ]
        }
    }
    assert snapshot() == before


def test_a_list_names_every_unreadable_row(levels, api):
    before = snapshot()
    rows = [body(levels, value="lots"), body(levels, department="LCS"), body(levels, period="13")]
    response = api.as_user(levels.world.administrator).post(f"{API}/measurements/", rows)
    assert response.status_code == 400
    assert set(response.json()) == {"row 1", "row 3"}
    assert set(response.json()["row 1"]) == {"value"}
    assert response.json()["row 3"] == {"period": [PERIOD_INVALID]}
    assert snapshot() == before


def test_the_same_return_twice_in_a_list_is_refused(levels, api):
    before = snapshot()
    response = api.as_user(levels.world.provider_manager).post(
        f"{API}/measurements/", [body(levels), body(levels, value="12")]
    )
    assert response.status_code == 400
    assert response.json() == {"row 2": {"non_field_errors": [DUPLICATE]}}
    assert snapshot() == before


def test_a_persistent_breach_posted_through_the_api_is_told_once(levels, api):
    w = levels.world
    notices = BreachNotice.objects.count()
    months = [D(M1.year - 1, m, 1) for m in (9, 10, 11)]
    rows = [body(levels, period=format_period(m), value="50") for m in months]
    response = api.as_user(w.provider_manager).post(f"{API}/measurements/", rows)
    assert response.status_code == 201
    # ENV missed three months running: the fixture's two breaches and this one are told.
    assert BreachNotice.objects.count() == notices + 3
    assert BreachNotice.objects.filter(department=w.env, started=months[0]).exists()


@pytest.mark.parametrize("as_list", [False, True])
def test_another_providers_cluster_is_403_and_nothing_saved(levels, api, as_list):
    before = snapshot()
    bad = body(levels, cluster="PAY-TECH", department="TECH")
    data = [body(levels), bad] if as_list else bad
    response = api.as_user(levels.world.provider_manager).post(f"{API}/measurements/", data)
    assert response.status_code == 403
    assert response.json() == {"detail": NOT_YOUR_CLUSTER}
    assert snapshot() == before


@pytest.mark.parametrize(
    "persona", ["analyst", "manager", "other_manager", "deputy_minister", "recused_deputy_minister"]
)
def test_only_providers_and_administrators_submit(levels, api, persona):
    before = snapshot()
    user = levels.world.personas()[persona]
    response = api.as_user(user).post(f"{API}/measurements/", body(levels))
    assert response.status_code == 403
    assert snapshot() == before


def test_signed_out_reads_and_writes_nothing(levels, api):
    before = snapshot()
    assert api.as_user(None).get(f"{API}/measurements/").status_code == 401
    assert api.as_user(None).post(f"{API}/measurements/", body(levels)).status_code == 401
    assert api.as_user(levels.world.outsider).get(f"{API}/measurements/").status_code == 401
    assert snapshot() == before


def test_a_value_is_corrected_and_keeps_its_submission_time(levels, api):
    w = levels.world
    m = Measurement.objects.get(cluster=w.pay_psoa, department=w.lcs, period=M3)
    response = api.as_user(w.provider_manager).patch(
        f"{API}/measurements/{m.pk}/", {"value": "99.9", "period": BEFORE, "department": "ENV"}
    )
    assert response.status_code == 200, response.content
    assert (response.json()["value"], response.json()["met"]) == ("99.9000", True)
    fresh = Measurement.objects.get(pk=m.pk)
    assert (fresh.value, fresh.period, fresh.department_id, fresh.submitted_at) == (
        Decimal("99.9"),
        M3,
        w.lcs.pk,
        m.submitted_at,
    )


@pytest.mark.parametrize(
    ("persona", "status"),
    [
        ("analyst", 403),
        ("manager", 403),
        ("deputy_minister", 403),
        ("other_provider_manager", 404),  # not theirs to see
    ],
)
def test_others_cannot_correct_a_return(levels, api, persona, status):
    w = levels.world
    m = Measurement.objects.get(cluster=w.pay_psoa, department=w.lcs, period=M3)
    before = snapshot()
    user = w.personas()[persona]
    response = api.as_user(user).patch(f"{API}/measurements/{m.pk}/", {"value": "99.9"})
    assert response.status_code == status
    assert snapshot() == before


@pytest.mark.parametrize("method", ["put", "delete"])
def test_returns_are_not_replaced_or_deleted(levels, api, method):
    w = levels.world
    m = Measurement.objects.get(cluster=w.pay_psoa, department=w.lcs, period=M3)
    before = snapshot()
    response = getattr(api.as_user(w.administrator), method)(
        f"{API}/measurements/{m.pk}/", body(levels)
    )
    assert response.status_code == 405
    assert snapshot() == before


# Bad input: 400 with a field message, nothing saved ------------------------------------


@dataclass
class Bad:
    data: Any  # a body (dict or list), or for "get" the query
    field: str
    message: str | None = None
    method: str = "post"
    path: str = "measurements"


def _std(levels: Levels, name: str) -> int:
    return {"tickets": levels.tickets.pk, "on_time": levels.on_time.pk}[name]


BAD_INPUT = [
    Bad({"standard": "tickets"}, "standard", "not of PAY-PSOA"),
    Bad({"department": "TECH"}, "department", "was not a member"),
    Bad({"department": "FIN"}, "department", "was not a member"),
    Bad({"period": P1, "department": "LCS"}, "non_field_errors", DUPLICATE),
    Bad({"value": "lots"}, "value"),
    Bad({"value": "NaN"}, "value"),
    Bad({"value": "Infinity"}, "value"),
    Bad({"value": "1e30"}, "value"),
    Bad({"value": "99.12345"}, "value"),
    Bad({"value": True}, "value"),
    Bad({"value": [1]}, "value"),
    Bad({"value": None}, "value"),
    Bad({"value": f"99{NUL}"}, "value"),
    Bad({"period": "this_month"}, "period", "has not ended"),
    Bad({"period": "next_month"}, "period", "has not ended"),
    Bad({"period": "2026-13"}, "period", PERIOD_INVALID),
    Bad({"period": "2026-4"}, "period", PERIOD_INVALID),
    Bad({"period": "2026-04-01"}, "period", PERIOD_INVALID),
    Bad({"period": 202604}, "period", PERIOD_INVALID),
    Bad({"period": f"{BEFORE}{NUL}"}, "period", PERIOD_INVALID),
    Bad({"period": "\uff12\uff10\uff12\uff16-\uff10\uff11"}, "period", PERIOD_INVALID),
    Bad({"cluster": "NOPE"}, "cluster", "NOPE"),
    Bad({"cluster": NUL}, "cluster"),
    Bad({"cluster": ["PAY-PSOA"]}, "cluster"),
    Bad({"department": f"ENV{NUL}"}, "department"),
    Bad({"department": 5}, "department"),
    Bad({"standard": 999999}, "standard", "999999"),
    Bad({"standard": "abc"}, "standard"),
    Bad({"standard": True}, "standard"),
    Bad({"standard": 2**70}, "standard"),
    Bad({"standard": None}, "standard"),
    Bad({"value": "drop"}, "value"),  # replaced below: a body without the field
    Bad([], "non_field_errors", NO_RETURNS),
    Bad("a return", "non_field_errors", NOT_A_RETURN),
    Bad([{}] * 1001, "non_field_errors", TOO_MANY_RETURNS),
    Bad({"value": "-"}, "value", method="patch"),
    Bad({"value": "1.00001"}, "value", method="patch"),
    Bad({}, "value", method="patch"),
    # Filters
    Bad({"met": "perhaps"}, "met", BOOLEAN_INVALID, method="get"),
    Bad({"standard": "1.5"}, "standard", method="get"),
    Bad({"standard": "9" * 30}, "standard", method="get"),
    Bad({"period_after": "2026-13"}, "period_after", PERIOD_INVALID, method="get"),
    Bad({"period": f"2026-01{NUL}"}, "period", PERIOD_INVALID, method="get"),
    Bad({"provider": "NOPE"}, "provider", "NOPE", method="get"),
    Bad({"department": NUL}, "department", method="get"),
    Bad({"fiscal_year": "2026"}, "fiscal_year", FISCAL_YEAR_INVALID, method="get"),
    # Reports
    Bad({"fiscal_year": "2026-28"}, "fiscal_year", FISCAL_YEAR_INVALID, "get", "reports/benefits"),
    Bad({"service": "NOPE"}, "service", "NOPE", "get", "reports/benefits"),
    Bad({"period_before": "May"}, "period_before", PERIOD_INVALID, "get", "reports/cluster-costs"),
    Bad({"cluster": f"X{NUL}"}, "cluster", None, "get", "reports/cluster-costs"),
    Bad(
        {"persistent_breach": "yes"},
        "persistent_breach",
        BOOLEAN_INVALID,
        "get",
        "reports/service-levels",
    ),
    Bad({"department": "NOPE"}, "department", "NOPE", "get", "reports/service-levels"),
    Bad({"as_of": "2026-00"}, "as_of", PERIOD_INVALID, "get", "reports/self-preference"),
    Bad({"provider": "NOPE"}, "provider", "NOPE", "get", "reports/self-preference"),
    Bad({"department": "NOPE"}, "department", "NOPE", "get", "reports/alternatives"),
    Bad({"page_size": "1001"}, "page_size", None, "get", "reports/alternatives"),
]


def bad_id(bad: Bad) -> str:
    data = repr(bad.data).replace(NUL, "NUL")
    return f"{bad.method}-{bad.path}-{data[:40]}"


def _resolve(levels: Levels, bad: Bad) -> Any:
    if bad.method != "post" or not isinstance(bad.data, dict):
        return bad.data
    data = body(levels, **bad.data)
    if data["standard"] in ("tickets", "on_time"):
        data["standard"] = _std(levels, data["standard"])
    if data["period"] == "this_month":
        data["period"] = format_period(this_month())
    if data["period"] == "next_month":
        data["period"] = format_period(next_month(this_month()))
    if data["value"] == "drop":
        del data["value"]
    return data


@pytest.mark.parametrize("bad", BAD_INPUT, ids=bad_id)
def test_bad_input_is_400_with_field_messages(levels, api, bad):
    w = levels.world
    data = _resolve(levels, bad)
    before = snapshot()
    client = api.as_user(w.administrator)
    url = f"{API}/{bad.path}/"
    if bad.method == "get":
        response = client.get(url, data)
    elif bad.method == "patch":
        m = Measurement.objects.filter(cluster=w.pay_psoa).first()
        response = client.patch(f"{url}{m.pk}/", data, format="json")
    else:
        response = client.post(url, data, format="json")
    assert response.status_code == 400, response.content
    answer = response.json()
    assert bad.field in answer, answer
    assert all(isinstance(m, str) and m for m in messages(answer[bad.field]))
    if bad.message:
        assert any(bad.message in m for m in messages(answer)), answer
    assert snapshot() == before
    # The same return in a list is named by its row.
    if bad.method == "post" and isinstance(data, dict):
        response = client.post(url, [body(levels, department="LCS"), data], format="json")
        assert response.status_code == 400
        assert list(response.json()) == ["row 2"]
        assert bad.field in response.json()["row 2"]
        assert snapshot() == before


def test_unknown_codes_name_them(levels, api):
    response = api.as_user(levels.world.administrator).post(
        f"{API}/measurements/", body(levels, cluster="NOPE", department="GONE")
    )
    assert response.status_code == 400
    assert response.json() == {
        "cluster": [UNKNOWN_CODE.format(model="cluster").replace("%(value)s", "NOPE")],
        "department": [UNKNOWN_CODE.format(model="department").replace("%(value)s", "GONE")],
    }


# Reports ------------------------------------------------------------------------------


def report(api, user, name: str, query: str = "") -> list[dict[str, Any]]:
    return results(api.as_user(user).get(f"{API}/reports/{name}/?page_size=1000&{query}"))


def test_cluster_costs_are_pool_over_units(levels, api):
    rows = report(api, levels.world.analyst, "cluster-costs")
    assert [
        (
            r["cluster"],
            r["service"],
            r["provider"],
            r["period"],
            r["pool"],
            r["units"],
            r["cost_per_unit"],
        )
        for r in rows
    ] == [
        ("IT-TECH", "IT", "TECHSVC", P1, "350.00", 350, "1.0000"),
        ("PAY-PSOA", "PAY", "PSOA", P1, "700.00", 700, "1.0000"),
        ("PAY-PSOA", "PAY", "PSOA", P2, "1400.00", 700, "2.0000"),
        ("PAY-TECH", "PAY", "TECHSVC", P1, "600.00", 300, "2.0000"),
    ]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("service=IT", [("IT-TECH", P1)]),
        ("provider=PSOA", [("PAY-PSOA", P1), ("PAY-PSOA", P2)]),
        ("cluster=PAY-TECH", [("PAY-TECH", P1)]),
        ("period=" + P2, [("PAY-PSOA", P2)]),
        ("period_after=" + P2, [("PAY-PSOA", P2)]),
        ("period_before=" + P1, [("IT-TECH", P1), ("PAY-PSOA", P1), ("PAY-TECH", P1)]),
        ("fiscal_year=" + FY + "&provider=PSOA", [("PAY-PSOA", P1), ("PAY-PSOA", P2)]),
        (f"period_after={P3}", []),
    ],
)
def test_cluster_costs_filters(levels, api, query, expected):
    rows = report(api, levels.world.analyst, "cluster-costs", query)
    assert [(r["cluster"], r["period"]) for r in rows] == expected


@pytest.mark.parametrize(
    "persona",
    [
        "administrator",
        "analyst",
        "manager",
        "other_manager",
        "recused_deputy_minister",
        "provider_manager",
        "other_provider_manager",
    ],
)
def test_cluster_prices_are_public_to_every_signed_in_user(levels, api, persona):
    # The price list that makes leaving plausible: every cluster's cost per unit, for all.
    rows = report(api, levels.world.personas()[persona], "cluster-costs")
    assert sorted({r["cluster"] for r in rows}) == ["IT-TECH", "PAY-PSOA", "PAY-TECH"]


def test_a_provider_manager_asking_for_another_provider_gets_its_prices_only(levels, api):
    w = levels.world
    costs = report(api, w.provider_manager, "cluster-costs", "provider=TECHSVC")
    assert sorted({r["cluster"] for r in costs}) == ["IT-TECH", "PAY-TECH"]
    for name in ("service-levels", "self-preference"):
        assert report(api, w.provider_manager, name, "provider=TECHSVC") == [], name
    response = api.as_user(w.provider_manager).get(f"{API}/reports/benefits/?provider=TECHSVC")
    assert response.json()["results"] == []
    # Totals over one or two departments: withheld, saying why.
    assert {
        (c["cluster"], c["baseline"], c["benefit"], c["withheld"])
        for c in response.json()["clusters"]
    } == {
        ("IT-TECH", None, None, WITHHELD),
        ("PAY-TECH", None, None, WITHHELD),
    }


def sl(rows) -> dict[str, tuple]:
    return {
        f"{r['cluster']}/{r['department']}/{r['standard_name']}": (
            r["met"],
            r["total"],
            r["compliance_rate"],
            r["persistent_breach"],
        )
        for r in rows
    }


def test_service_levels_count_met_and_flag_persistent_breaches(levels, api):
    rows = report(api, levels.world.analyst, "service-levels")
    assert sl(rows) == {
        "IT-TECH/LCS/Tickets resolved in 2 days": (1, 1, "100.0", False),
        "PAY-PSOA/ENV/Paid on time": (2, 3, "66.7", False),
        "PAY-PSOA/LCS/Paid on time": (0, 3, "0.0", True),
        "PAY-TECH/HLTH/Paid on time": (0, 3, "0.0", True),
        "PAY-TECH/TECH/Paid on time": (3, 3, "100.0", False),
    }
    lcs = next(r for r in rows if r["cluster"] == "PAY-PSOA" and r["department"] == "LCS")
    assert (
        lcs["provider"],
        lcs["service"],
        lcs["standard"],
        lcs["breach_started"],
        lcs["breach_latest"],
        lcs["breach_months"],
        lcs["breach_ongoing"],
    ) == ("PSOA", "PAY", levels.on_time.pk, P1, P3, 3, True)
    env = next(r for r in rows if r["department"] == "ENV")
    assert (env["breach_started"], env["breach_months"], env["breach_ongoing"]) == (
        None,
        None,
        None,
    )


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        (
            "period=" + P1,
            {"IT-TECH/LCS", "PAY-PSOA/ENV", "PAY-PSOA/LCS", "PAY-TECH/HLTH", "PAY-TECH/TECH"},
        ),
        ("persistent_breach=true", {"PAY-PSOA/LCS", "PAY-TECH/HLTH"}),
        ("persistent_breach=false&provider=PSOA", {"PAY-PSOA/ENV"}),
        ("department=LCS", {"IT-TECH/LCS", "PAY-PSOA/LCS"}),
        ("cluster=PAY-TECH&persistent_breach=true", {"PAY-TECH/HLTH"}),
        ("service=IT", {"IT-TECH/LCS"}),
        (
            "fiscal_year=" + FY + "&provider=TECHSVC",
            {"IT-TECH/LCS", "PAY-TECH/HLTH", "PAY-TECH/TECH"},
        ),
        ("period_before=" + BEFORE, set()),
    ],
)
def test_service_levels_filters(levels, api, query, expected):
    rows = report(api, levels.world.analyst, "service-levels", query)
    assert {f"{r['cluster']}/{r['department']}" for r in rows} == expected


def test_a_breach_counts_within_the_range_asked_for(levels, api):
    rows = report(api, levels.world.analyst, "service-levels", f"period={P3}&cluster=PAY-PSOA")
    assert sl(rows) == {
        "PAY-PSOA/ENV/Paid on time": (0, 1, "0.0", False),
        "PAY-PSOA/LCS/Paid on time": (0, 1, "0.0", True),  # the run reaches into P3
    }


@pytest.mark.parametrize(
    ("persona", "expected"),
    [
        ("manager", {"IT-TECH/LCS", "PAY-PSOA/ENV", "PAY-PSOA/LCS"}),
        ("other_manager", {"PAY-PSOA/ENV", "PAY-PSOA/LCS"}),
        ("recused_deputy_minister", set()),
        ("provider_manager", {"PAY-PSOA/ENV", "PAY-PSOA/LCS"}),
        ("other_provider_manager", {"IT-TECH/LCS", "PAY-TECH/HLTH", "PAY-TECH/TECH"}),
    ],
)
def test_service_levels_by_role(levels, api, persona, expected):
    rows = report(api, levels.world.personas()[persona], "service-levels")
    assert {f"{r['cluster']}/{r['department']}" for r in rows} == expected


def test_self_preference_has_the_contracts_fields(levels, api):
    rows = report(api, levels.world.analyst, "self-preference", f"as_of={P3}")
    # TECHSVC is hosted by TECH, a member of PAY-TECH: TECH 3/3 met, HLTH 0/3.
    assert rows == [
        {
            "cluster": "PAY-TECH",
            "provider": "TECHSVC",
            "host_department": "TECH",
            "host_rate": "100.0",
            "others_rate": "0.0",
            "gap": "100.0",
            "flagged": True,
            "from_period": format_period(D(M1.year - 1, 10, 1)),
            "to_period": P3,
        }
    ]
    assert report(api, levels.world.analyst, "self-preference", f"as_of={P3}&service=IT") == []
    # The default window is the six months up to the last complete month.
    (default,) = report(api, levels.world.analyst, "self-preference")
    assert default["to_period"] == format_period(selectors.last_complete_month())


@pytest.mark.parametrize(
    ("persona", "clusters"),
    [
        ("administrator", ["PAY-TECH"]),
        ("manager", []),  # LCS is not in PAY-TECH
        ("recused_deputy_minister", []),
        ("provider_manager", []),
        ("other_provider_manager", ["PAY-TECH"]),
    ],
)
def test_self_preference_by_role(levels, api, persona, clusters):
    rows = report(api, levels.world.personas()[persona], "self-preference", f"as_of={P3}")
    assert [r["cluster"] for r in rows] == clusters


def test_self_preference_for_a_member_of_the_cluster(levels, api):
    health = UserFactory(username="mgr_hlth", role="department_manager", department=levels.hlth)
    rows = report(api, health, "self-preference", f"as_of={P3}")
    assert [(r["cluster"], r["flagged"]) for r in rows] == [("PAY-TECH", True)]


def test_benefits_per_membership_with_totals_and_flags(levels, api):
    response = api.as_user(levels.world.analyst).get(f"{API}/reports/benefits/")
    assert response.status_code == 200
    answer = response.json()
    assert (answer["fiscal_year"], answer["last_complete_fiscal_year"], answer["count"]) == (
        FY,
        FY,
        5,
    )
    rows = {(r["department"], r["cluster"]): r for r in answer["results"]}
    # Each baseline is a whole year's (members since April 2025); charges: M1 and M2.
    lcs = rows[("LCS", "PAY-PSOA")]
    assert (lcs["baseline"], lcs["charged"], lcs["benefit"], lcs["cluster_flagged"]) == (
        "120000.00",
        "1200.00",
        "118800.00",
        False,
    )
    tech = rows[("TECH", "PAY-TECH")]
    assert (tech["baseline"], tech["charged"], tech["benefit"], tech["cluster_flagged"]) == (
        "100.00",
        "400.00",
        "-300.00",
        True,
    )
    clusters = {c["cluster"]: c for c in answer["clusters"]}
    assert (clusters["PAY-TECH"]["benefit"], clusters["PAY-TECH"]["flagged"]) == ("-400.00", True)
    assert (clusters["PAY-PSOA"]["benefit"], clusters["PAY-PSOA"]["flagged"]) == (
        "237900.00",
        False,
    )
    services_ = {s["service"]: s for s in answer["services"]}
    assert services_["PAY"]["benefit"] == "237500.00"
    assert services_["IT"]["benefit"] == "119650.00"


def test_benefits_filters_and_other_years(levels, api):
    w = levels.world
    rows = report(api, w.analyst, "benefits", "service=IT")
    assert [(r["department"], r["cluster"]) for r in rows] == [("LCS", "IT-TECH")]
    rows = report(api, w.analyst, "benefits", "provider=TECHSVC&department=HLTH")
    assert [(r["department"], r["cluster"], r["benefit"]) for r in rows] == [
        ("HLTH", "PAY-TECH", "-100.00")
    ]
    earlier = f"{M1.year - 3}-{(M1.year - 2) % 100:02d}"
    answer = api.as_user(w.analyst).get(f"{API}/reports/benefits/?fiscal_year={earlier}").json()
    assert (answer["fiscal_year"], answer["results"], answer["clusters"]) == (earlier, [], [])


@pytest.mark.parametrize(
    ("persona", "expected", "totals_shown"),
    [
        # LCS alone makes IT-TECH's total: its own figures. PAY-PSOA (LCS, ENV) and
        # PAY-TECH (TECH, HLTH) have two contributors: withheld.
        ("manager", {("LCS", "IT-TECH"), ("LCS", "PAY-PSOA")}, {"IT-TECH"}),
        ("deputy_minister", {("LCS", "IT-TECH"), ("LCS", "PAY-PSOA")}, {"IT-TECH"}),
        ("other_manager", {("ENV", "PAY-PSOA")}, set()),
        ("recused_deputy_minister", set(), set()),
        # Providers never see a department's baseline or benefit.
        ("provider_manager", set(), set()),
        ("other_provider_manager", set(), set()),
        (
            "analyst",
            {
                ("LCS", "IT-TECH"),
                ("LCS", "PAY-PSOA"),
                ("ENV", "PAY-PSOA"),
                ("TECH", "PAY-TECH"),
                ("HLTH", "PAY-TECH"),
            },
            {"IT-TECH", "PAY-PSOA", "PAY-TECH"},
        ),
    ],
)
def test_benefits_by_role(levels, api, persona, expected, totals_shown):
    user = levels.world.personas()[persona]
    answer = api.as_user(user).get(f"{API}/reports/benefits/").json()
    assert {(r["department"], r["cluster"]) for r in answer["results"]} == expected
    # Every cluster has its total; the baseline and benefit only where they may be seen.
    totals = {c["cluster"]: c for c in answer["clusters"]}
    assert set(totals) == {"IT-TECH", "PAY-PSOA", "PAY-TECH"}
    assert {c for c, t in totals.items() if t["benefit"] is not None} == totals_shown
    for code, total in totals.items():
        assert (total["withheld"] is None) == (code in totals_shown)


def test_a_department_asking_for_another_departments_benefits_gets_none(levels, api):
    answer = api.as_user(levels.world.manager).get(f"{API}/reports/benefits/?department=ENV")
    assert (answer.status_code, answer.json()["results"]) == (200, [])
    # ENV's figures alone: every total withheld.
    totals = answer.json()["clusters"] + answer.json()["services"]
    assert totals and all(
        (t["baseline"], t["benefit"], t["withheld"]) == (None, None, WITHHELD) for t in totals
    )


def alt(rows) -> set[tuple]:
    return {(r["department"], r["cluster"], r["alternative"]) for r in rows}


def test_alternatives_for_a_department(levels, api):
    rows = report(api, levels.world.analyst, "alternatives", "department=LCS")
    assert rows == [
        {
            "department": "LCS",
            "cluster": "PAY-PSOA",
            "service": "PAY",
            "usage_units": 400,
            "alternative": "PAY-TECH",
            "provider": "TECHSVC",
            "psoa": False,
            "room": None,
            "cost_per_unit": "2.0000",  # PAY-TECH's latest pool: 600 over 300 units
            "compliance_rate": rows[0]["compliance_rate"],
        }
    ]
    start, end = selectors.window()
    expected_rate = selectors.compliance_by_cluster(start=start, end=end).get(
        levels.world.pay_tech.pk
    )
    assert rows[0]["compliance_rate"] == (None if expected_rate is None else str(expected_rate))


def test_alternatives_respect_capacity(levels, api):
    w = levels.world
    w.pay_tech.capacity = 500  # 300 used: room for ENV's 300? no; for LCS's 400? no
    w.pay_tech.save()
    assert report(api, w.analyst, "alternatives", "department=LCS") == []
    w.pay_tech.capacity = 700
    w.pay_tech.save()
    (row,) = report(api, w.analyst, "alternatives", "department=LCS")
    assert row["room"] == 400


def test_analysts_see_every_departments_alternatives_when_none_is_named(levels, api):
    rows = report(api, levels.world.analyst, "alternatives")
    assert alt(rows) == {
        ("ENV", "PAY-PSOA", "PAY-TECH"),
        ("HLTH", "PAY-TECH", "PAY-PSOA"),
        ("LCS", "PAY-PSOA", "PAY-TECH"),
        ("TECH", "PAY-TECH", "PAY-PSOA"),
    }
    rows = report(api, levels.world.analyst, "alternatives", "provider=PSOA")
    assert alt(rows) == {("HLTH", "PAY-TECH", "PAY-PSOA"), ("TECH", "PAY-TECH", "PAY-PSOA")}
    psoa = rows[0]
    assert (psoa["psoa"], psoa["cost_per_unit"]) == (True, "2.0000")  # 1400 / 700
    assert report(api, levels.world.analyst, "alternatives", "service=IT") == []


@pytest.mark.parametrize(
    ("persona", "query", "expected"),
    [
        ("manager", "", {("LCS", "PAY-PSOA", "PAY-TECH")}),
        ("deputy_minister", "department=LCS", {("LCS", "PAY-PSOA", "PAY-TECH")}),
        ("other_manager", "", {("ENV", "PAY-PSOA", "PAY-TECH")}),
        ("recused_deputy_minister", "", set()),
        (
            "provider_manager",
            "",
            {("ENV", "PAY-PSOA", "PAY-TECH"), ("LCS", "PAY-PSOA", "PAY-TECH")},
        ),
        ("provider_manager", "department=ENV", {("ENV", "PAY-PSOA", "PAY-TECH")}),
        (
            "other_provider_manager",
            "",
            {("HLTH", "PAY-TECH", "PAY-PSOA"), ("TECH", "PAY-TECH", "PAY-PSOA")},
        ),
    ],
)
def test_alternatives_by_role(levels, api, persona, query, expected):
    rows = report(api, levels.world.personas()[persona], "alternatives", query)
    assert alt(rows) == expected


@pytest.mark.parametrize("persona", ["manager", "deputy_minister", "recused_deputy_minister"])
def test_another_departments_alternatives_are_403(levels, api, persona):
    user = levels.world.personas()[persona]
    response = api.as_user(user).get(f"{API}/reports/alternatives/?department=ENV")
    assert response.status_code == 403
    assert response.json() == {"detail": OWN_ALTERNATIVES}


@pytest.mark.parametrize(
    "name", ["cluster-costs", "service-levels", "self-preference", "benefits", "alternatives"]
)
def test_reports_are_read_only(levels, api, name):
    before = snapshot()
    for method in ("post", "put", "patch", "delete"):
        response = getattr(api.as_user(levels.world.administrator), method)(
            f"{API}/reports/{name}/", {}
        )
        assert response.status_code == 405, (name, method)
        assert getattr(api.as_user(None), method)(f"{API}/reports/{name}/", {}).status_code == 401
    assert api.as_user(None).get(f"{API}/reports/{name}/").status_code == 401
    assert api.as_user(levels.world.outsider).get(f"{API}/reports/{name}/").status_code == 401
    assert snapshot() == before


def test_report_rows_are_paginated_like_the_lists(levels, api):
    client = api.as_user(levels.world.analyst)
    first = client.get(f"{API}/reports/service-levels/?page_size=2").json()
    assert (first["count"], len(first["results"]), first["previous"]) == (5, 2, None)
    assert "page=2" in first["next"]
    last = client.get(f"{API}/reports/service-levels/?page_size=2&page=3").json()
    assert (len(last["results"]), last["next"]) == (1, None)
    assert client.get(f"{API}/reports/service-levels/?page_size=2&page=4").status_code == 404
    benefits = client.get(f"{API}/reports/benefits/?page_size=2").json()
    assert (benefits["count"], len(benefits["results"]), len(benefits["clusters"])) == (5, 2, 3)


def test_reports_as_csv(levels, api):
    client = api.as_user(levels.world.analyst)
    rows = read_csv(client.get(f"{API}/reports/cluster-costs/?format=csv&page_size=1"))
    assert [(r["cluster"], r["period"], r["cost_per_unit"]) for r in rows] == [
        ("IT-TECH", P1, "1.0000"),
        ("PAY-PSOA", P1, "1.0000"),
        ("PAY-PSOA", P2, "2.0000"),
        ("PAY-TECH", P1, "2.0000"),
    ]
    rows = read_csv(client.get(f"{API}/reports/service-levels/?format=csv&persistent_breach=true"))
    assert sorted(
        (r["cluster"], r["department"], r["persistent_breach"], r["breach_started"]) for r in rows
    ) == [
        ("PAY-PSOA", "LCS", "True", P1),
        ("PAY-TECH", "HLTH", "True", P1),
    ]
    rows = read_csv(client.get(f"{API}/reports/self-preference/?format=csv&as_of={P3}"))
    assert [(r["cluster"], r["host_department"], r["gap"], r["flagged"]) for r in rows] == [
        ("PAY-TECH", "TECH", "100.0", "True")
    ]
    rows = read_csv(client.get(f"{API}/reports/benefits/?format=csv&provider=TECHSVC"))
    assert sorted(
        (r["department"], r["cluster"], r["benefit"], r["cluster_flagged"]) for r in rows
    ) == [
        ("HLTH", "PAY-TECH", "-100.00", "True"),
        ("LCS", "IT-TECH", "119650.00", "False"),
        ("TECH", "PAY-TECH", "-300.00", "True"),
    ]
    rows = read_csv(client.get(f"{API}/reports/alternatives/?format=csv&department=ENV"))
    assert [(r["department"], r["alternative"], r["room"]) for r in rows] == [
        ("ENV", "PAY-TECH", "")
    ]
    bad = client.get(f"{API}/reports/benefits/?format=csv&fiscal_year=2026")
    assert (bad.status_code, bad["Content-Type"]) == (400, "application/json")


# Query counts: every list and report at two data sizes ------------------------------


def grow(levels: Levels, n: int) -> None:
    """n more providers, each with a PAY cluster whose host and another department are
    members, with returns (misses: breaches too), pools and charges; plus more returns on
    PAY-PSOA for the LCS manager and the PSOA's manager to see."""
    w = levels.world
    months = [D(M1.year - 1, m, 1) for m in (4, 5, 6)]
    for i in range(n):
        host = DepartmentFactory(code=f"QH{i:03d}")
        other = DepartmentFactory(code=f"QO{i:03d}")
        provider = ProviderFactory(code=f"QP{i:03d}", kind="department", host_department=host)
        cluster = ClusterFactory(code=f"QC{i:03d}", service=w.payroll, provider=provider)
        for dept in (host, other):
            MembershipFactory(department=dept, cluster=cluster, joined_on=D(2024, 1, 1))
        StandardFactory(service=w.payroll, name=f"Extra {i}")
        for month in months:
            _submit(w, levels.on_time, cluster, host, month, "100")
            _submit(w, levels.on_time, cluster, other, month, "50")
            cost_pool_create(
                actor=w.administrator, cluster=cluster, period=month, amount=Decimal("10.00")
            )
    for month in months:
        _submit(w, levels.on_time, w.pay_psoa, w.lcs, month, "50")
        _submit(w, levels.on_time, w.pay_psoa, w.env, month, "100")
        chargeback_run(actor=w.administrator, period=month)
    assert CostPool.objects.count() > 4


# url -> (persona, pinned count). Token sign-in costs 1 query (the token with its user and
# its name; an expired token is kept, so no sweep of the user's other tokens); what follows is the list or the report itself.
LISTS = {
    # count, one page (standard, cluster, department and who submitted joined)
    "/api/v1/measurements/": ("analyst", 3),
    "/api/v1/measurements/?met=false&period_after=2020-01": ("manager", 3),
    "/api/v1/measurements/?format=csv": ("provider_manager", 3),
    # + the cluster named by the filter
    "/api/v1/measurements/?cluster=PAY-PSOA": ("analyst", 4),
    # the pools with their units (one query)
    "/api/v1/reports/cluster-costs/": ("analyst", 2),
    # prices are public: the same query for everyone
    "/api/v1/reports/cluster-costs/?format=csv": ("manager", 2),
    # returns grouped, persistent breaches
    "/api/v1/reports/service-levels/": ("analyst", 3),
    # + the provider named by the filter
    "/api/v1/reports/service-levels/?provider=PSOA&persistent_breach=true": ("provider_manager", 4),
    # the report, limited in its own query to the clusters whose members one sees
    # (servicelevels.rules)
    "/api/v1/reports/self-preference/": ("analyst", 2),
    "/api/v1/reports/self-preference/?as_of=2026-03": ("manager", 2),
    # members of the year asked for, and of the last complete one for the flags
    "/api/v1/reports/benefits/?fiscal_year=2024-25": ("analyst", 3),
    # the year asked for is the last complete one: one query
    "/api/v1/reports/benefits/": ("manager", 2),
    # the memberships whose options one sees, candidates, the latest pools, compliance
    # over six months
    "/api/v1/reports/alternatives/": ("analyst", 5),
    # + the department named
    "/api/v1/reports/alternatives/?department=LCS": ("provider_manager", 6),
}


@pytest.mark.parametrize("url", list(LISTS))
def test_query_count_does_not_grow(levels, api, url):
    persona, pinned = LISTS[url]
    client = api.as_user(levels.world.personas()[persona])
    small = count_queries(client, url)
    grow(levels, 4)
    large = count_queries(client, url)
    assert small == large, f"{url}: {small} queries with little data, {large} with more"
    assert small == pinned
