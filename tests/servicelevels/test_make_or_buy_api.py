"""The API of make or buy (issue 14): `reports/make-or-buy/` (rows as the gate allows, the
quarterly series, filters, CSV, bad queries refused) and `in-house-estimates/` (list as the
gate allows, POST records one; the database checked after each POST)."""

from __future__ import annotations

import csv
import datetime
import io
from decimal import Decimal

import pytest

from budgets.api.views import NO_ESTIMATES_FOR_ROLE
from budgets.models import InHouseEstimate
from budgets.services import (
    ESTIMATE_IN_FUTURE,
    ESTIMATE_NEGATIVE,
    ESTIMATE_NO_NOTE,
    NOT_YOUR_ESTIMATE,
    in_house_estimate_record,
)
from clusters.rules import WITHHELD
from servicelevels.filters import QUARTERS_REVERSED, TOO_MANY_QUARTERS
from servicelevels.selectors import QUARTER_INVALID, add_months, quarter_label, quarter_start
from tests.servicelevels.make_or_buy_world import build_costs, build_exits, today

REPORT = "/api/v1/reports/make-or-buy/"
ESTIMATES = "/api/v1/in-house-estimates/"


@pytest.fixture
def mob(world):
    build_costs(world)
    build_exits(world)
    return world


def get(api, user, url=REPORT, status=200):
    response = api.as_user(user).get(url)
    assert response.status_code == status, response.content
    return response.json()


def test_an_analyst_reads_every_row_and_the_series(api, mob):
    body = get(api, mob.analyst)

    pairs = {(r["department"], r["service"]) for r in body["results"]}
    assert ("LCS", "PAY") in pairs and ("ENV", "PAY") in pairs and ("BACK", "PAY") in pairs
    lcs = next(r for r in body["results"] if (r["department"], r["service"]) == ("LCS", "PAY"))
    assert lcs["make_cost"] == "120000.00"
    assert lcs["make_basis"] == "baseline"
    assert lcs["buy_cost"] == "36000.00"
    assert lcs["difference"] == "84000.00"
    assert lcs["cheaper"] == "buy"
    assert lcs["best_alternative"] == {
        "cluster": "PAY-TECH",
        "provider": "TECHSVC",
        "period": lcs["buy_to"],
        "cost_per_unit": "10.0000",
        "annual_cost": "48000.00",
    }
    assert len(body["quarters"]) == 8
    last = body["quarters"][-1]
    assert last["quarter"] == quarter_label(quarter_start(today()))
    assert (last["units_bought"], last["units_made"], last["share_bought"]) == (1410, 150, "90.4")
    assert last["exits_in_house"] == 1 and last["withheld"] is None


def test_an_estimate_makes_it_cheaper_in_house(api, mob):
    in_house_estimate_record(
        actor=mob.manager,
        department=mob.lcs,
        service=mob.payroll,
        annual_cost=Decimal("30000.00"),
        estimated_on=today(),
        note="Our own payroll team.",
    )
    body = get(api, mob.manager, f"{REPORT}?service=PAY")
    (row,) = body["results"]
    assert (row["make_cost"], row["make_basis"], row["estimated_on"]) == (
        "30000.00",
        "estimate",
        today().isoformat(),
    )
    assert (row["difference"], row["cheaper"]) == ("-6000.00", "make")


def test_a_department_reads_its_own_rows_and_the_series(api, mob):
    body = get(api, mob.manager)
    assert {r["department"] for r in body["results"]} == {"LCS"}
    assert body["quarters"][-1]["units_bought"] == 1410  # many departments contribute


def test_a_provider_reads_no_rows_but_the_series(api, mob):
    body = get(api, mob.provider_manager)
    assert body["results"] == []
    assert body["quarters"][-1]["share_bought"] == "90.4"


def test_one_department_series_is_withheld_from_another(api, mob):
    mine = get(api, mob.manager, f"{REPORT}?department=LCS")
    assert mine["quarters"][-1]["units_bought"] == 750
    theirs = get(api, mob.other_manager, f"{REPORT}?department=LCS")
    assert theirs["results"] == []
    assert theirs["quarters"][-1]["units_bought"] is None
    assert theirs["quarters"][-1]["withheld"] == WITHHELD
    assert get(api, mob.analyst, f"{REPORT}?department=LCS")["quarters"][-1]["withheld"] is None


def test_a_quarter_range(api, mob):
    current = quarter_start(today())
    before = quarter_label(add_months(current, -3))
    body = get(api, mob.analyst, f"{REPORT}?quarter_after={before}&quarter_before={before}")
    (quarter,) = body["quarters"]
    assert quarter["quarter"] == before
    assert (quarter["units_made"], quarter["exits_in_house"]) == (80, 1)


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ("quarter_after=2026-Q1", "quarter_after", QUARTER_INVALID),
        (
            "quarter_after=2026-27-Q2&quarter_before=2026-27-Q1",
            "quarter_before",
            QUARTERS_REVERSED,
        ),
        ("quarter_after=2001-02-Q1&quarter_before=2026-27-Q1", "quarter_after", TOO_MANY_QUARTERS),
        ("department=NOPE", "department", None),
    ],
)
def test_bad_queries_are_refused_with_a_message(api, mob, query, field, message):
    body = get(api, mob.analyst, f"{REPORT}?{query}", status=400)
    assert list(body) == [field]
    if message:
        assert body[field] == [message]


def test_csv_has_the_rows(api, mob):
    response = api.as_user(mob.analyst).get(f"{REPORT}?format=csv&department=LCS")
    assert response.status_code == 200
    rows = list(csv.DictReader(io.StringIO(response.getvalue().decode())))
    assert [(r["department"], r["service"]) for r in rows] == [("LCS", "IT"), ("LCS", "PAY")]
    pay = rows[1]
    assert (pay["make_cost"], pay["buy_cost"], pay["best_alternative.annual_cost"]) == (
        "120000.00",
        "36000.00",
        "48000.00",
    )


# In-house estimates ---------------------------------------------------------------------


def new(**overrides):
    body = {
        "department": "LCS",
        "service": "PAY",
        "annual_cost": "31000.50",
        "estimated_on": (today() - datetime.timedelta(days=1)).isoformat(),
        "note": "Two officers and the licence.",
    }
    body.update(overrides)
    return body


@pytest.mark.parametrize("persona", ["manager", "deputy_minister", "administrator"])
def test_posting_records_an_estimate(api, world, persona):
    response = api.as_user(getattr(world, persona)).post(ESTIMATES, new(), format="json")

    assert response.status_code == 201, response.content
    saved = InHouseEstimate.objects.get()
    assert response.json() == {
        "id": saved.pk,
        "department": "LCS",
        "service": "PAY",
        "annual_cost": "31000.50",
        "estimated_on": saved.estimated_on.isoformat(),
        "note": "Two officers and the licence.",
        "entered_by": getattr(world, persona).username,
        "entered_at": response.json()["entered_at"],
    }
    assert saved.annual_cost == Decimal("31000.50")


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"annual_cost": "-1.00"}, "annual_cost", ESTIMATE_NEGATIVE),
        ({"note": "  "}, "note", ESTIMATE_NO_NOTE),
        (
            {"estimated_on": (today() + datetime.timedelta(days=1)).isoformat()},
            "estimated_on",
            ESTIMATE_IN_FUTURE,
        ),
    ],
)
def test_bad_estimates_are_refused_with_a_message(api, world, overrides, field, message):
    response = api.as_user(world.manager).post(ESTIMATES, new(**overrides), format="json")
    assert response.status_code == 400
    assert response.json() == {field: [message]}
    assert not InHouseEstimate.objects.exists()


def test_another_department_is_refused(api, world):
    response = api.as_user(world.manager).post(ESTIMATES, new(department="ENV"), format="json")
    assert response.status_code == 403
    assert response.json() == {"detail": NOT_YOUR_ESTIMATE}
    assert not InHouseEstimate.objects.exists()


def test_estimates_are_read_as_the_gate_allows(api, world):
    for department, actor in ((world.lcs, world.manager), (world.env, world.other_manager)):
        in_house_estimate_record(
            actor=actor,
            department=department,
            service=world.payroll,
            annual_cost=Decimal("1000.00"),
            estimated_on=today(),
            note="A quote.",
        )
    assert {r["department"] for r in get(api, world.manager, ESTIMATES)["results"]} == {"LCS"}
    assert {r["department"] for r in get(api, world.analyst, ESTIMATES)["results"]} == {
        "LCS",
        "ENV",
    }
    lcs = InHouseEstimate.objects.get(department=world.lcs)
    get(api, world.other_manager, f"{ESTIMATES}{lcs.pk}/", status=404)
    body = get(api, world.provider_manager, ESTIMATES, status=403)
    assert body == {"detail": NO_ESTIMATES_FOR_ROLE}
    assert get(api, world.analyst, f"{ESTIMATES}?department=ENV")["count"] == 1
