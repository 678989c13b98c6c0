"""Make or buy (issue 14): the selector's figures to the cent, the estimate's service and
its refusals, and the pages per role, the database checked after each POST.

The world's figures are in `tests/servicelevels/make_or_buy_world.py`."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.apps import apps
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client

from budgets.models import InHouseEstimate
from budgets.services import (
    ESTIMATE_IN_FUTURE,
    ESTIMATE_NEGATIVE,
    ESTIMATE_NO_NOTE,
    NOT_YOUR_ESTIMATE,
    in_house_estimate_record,
)
from clusters.models import Department
from clusters.rules import WITHHELD
from servicelevels import selectors
from servicelevels.forms import ENTER_ESTIMATED_ON, SELECT_SERVICE
from servicelevels.rules import make_or_buy_seen_by
from servicelevels.selectors import QUARTER_INVALID, add_months, parse_quarter, quarter_label
from servicelevels.views import ESTIMATE_RECORDED
from tests.pages import html
from tests.servicelevels.make_or_buy_world import build_costs, build_exits, today
from web.demo import build_demo

NEW = "/departments/LCS/in-house-estimates/new/"


@pytest.fixture
def costs(world):
    build_costs(world)
    return world


def row_of(rows, department: str, service: str):
    return next(r for r in rows if r["department"] == department and r["service"] == service)


def record(world, actor=None, **overrides):
    fields = {
        "department": world.lcs,
        "service": world.payroll,
        "annual_cost": Decimal("30000.00"),
        "estimated_on": today() - datetime.timedelta(days=10),
        "note": "Two payroll officers and the licence.",
    }
    fields.update(overrides)
    return in_house_estimate_record(actor=actor or world.manager, **fields)


# The selector -------------------------------------------------------------------------


def test_make_cost_is_the_baseline_without_an_estimate(costs):
    row = row_of(selectors.make_or_buy(today=today()), "LCS", "PAY")

    assert row["make_cost"] == Decimal("120000.00")
    assert row["make_basis"] == "baseline"
    assert row["estimated_on"] is None
    assert row["buy_cost"] == Decimal("36000.00")  # 12 x 3,000.00, not the months around
    assert row["months_charged"] == 12
    assert row["difference"] == Decimal("84000.00")
    assert row["cheaper"] == "buy"
    start, end = selectors.buy_window(today())
    assert (row["buy_from"], row["buy_to"]) == (start, add_months(end, -1))


def test_best_alternative_is_the_cheapest_cluster_with_room(costs):
    rows = selectors.make_or_buy(today=today())
    lcs = row_of(rows, "LCS", "PAY")["best_alternative"]
    # PAY-FULL (1.0000) has room for 300 only; PAY-NEW no pool; PAY-TECH's latest pool:
    # 2,000.00 / 200 = 10.0000 a head, x 400 x 12.
    assert lcs["cluster"] == "PAY-TECH"
    assert lcs["cost_per_unit"] == Decimal("10.0000")
    assert lcs["annual_cost"] == Decimal("48000.00")
    # ENV's 300 fit in PAY-FULL: 100.00 / 100 = 1.0000 x 300 x 12.
    env = row_of(rows, "ENV", "PAY")["best_alternative"]
    assert (env["cluster"], env["annual_cost"]) == ("PAY-FULL", Decimal("3600.00"))
    # No other IT cluster.
    assert row_of(rows, "LCS", "IT")["best_alternative"] is None
    assert row_of(rows, "LCS", "IT")["buy_cost"] == Decimal("0")


def test_newest_estimate_on_or_before_today_is_the_make_cost(costs):
    record(
        costs, annual_cost=Decimal("50000.00"), estimated_on=today() - datetime.timedelta(days=40)
    )
    record(
        costs, annual_cost=Decimal("30000.00"), estimated_on=today() - datetime.timedelta(days=10)
    )

    row = row_of(selectors.make_or_buy(today=today()), "LCS", "PAY")
    assert row["make_cost"] == Decimal("30000.00")
    assert row["make_basis"] == "estimate"
    assert row["estimated_on"] == today() - datetime.timedelta(days=10)
    assert row["difference"] == Decimal("-6000.00")
    assert row["cheaper"] == "make"

    # Twenty days ago only the older estimate had been made.
    earlier = today() - datetime.timedelta(days=20)
    row = row_of(selectors.make_or_buy(department_id=costs.lcs.pk, today=earlier), "LCS", "PAY")
    assert row["make_cost"] == Decimal("50000.00")
    # Fifty days ago, none: the baseline.
    earliest = today() - datetime.timedelta(days=50)
    row = row_of(selectors.make_or_buy(department_id=costs.lcs.pk, today=earliest), "LCS", "PAY")
    assert row["make_basis"] == "baseline"


def test_filters_narrow_the_rows(costs):
    rows = selectors.make_or_buy(department_id=costs.lcs.pk, service_id=costs.it.pk)
    assert [(r["department"], r["service"]) for r in rows] == [("LCS", "IT")]


def test_make_or_buy_is_two_queries(costs, django_assert_num_queries):
    with django_assert_num_queries(2):
        selectors.make_or_buy(today=today())


def test_quarters_count_bought_made_and_exits(world):
    build_exits(world)
    current = selectors.quarter_start(today())
    before = add_months(current, -3)

    quarters = selectors.make_or_buy_quarters(start=before, end=add_months(current, 3))

    assert [q["quarter"] for q in quarters] == [quarter_label(before), quarter_label(current)]
    last_quarter, this_quarter = quarters
    # The quarter before: every membership of its last day (HOME still in IT-TECH); BACK
    # had gone in-house (80). 1410 / 1490 = 94.63%.
    assert last_quarter["as_of"] == current - datetime.timedelta(days=1)
    assert (last_quarter["units_bought"], last_quarter["units_made"]) == (1410, 80)
    assert last_quarter["share_bought"] == Decimal("94.6")
    assert last_quarter["exits_in_house"] == 1
    # Today's: HOME gone in-house (150); BACK back in a payroll cluster (50 bought). The
    # withdrawn exit counts for nothing. 1310 / 1460 = 89.73%.
    assert this_quarter["as_of"] == today()
    assert (this_quarter["units_bought"], this_quarter["units_made"]) == (1310, 150)
    assert this_quarter["share_bought"] == Decimal("89.7")
    assert this_quarter["exits_in_house"] == 1


def test_quarters_by_service_and_none_after_today(world, django_assert_num_queries):
    build_exits(world)
    current = selectors.quarter_start(today())
    with django_assert_num_queries(1):
        quarters = selectors.make_or_buy_quarters(
            start=current, end=add_months(current, 12), service_id=world.it.pk
        )
    assert len(quarters) == 1  # the quarters to come are not counted
    (quarter,) = quarters
    # IT: LCS 350 and STAY 10 bought, HOME's 150 made.
    assert (quarter["units_bought"], quarter["units_made"]) == (360, 150)
    assert quarter["share_bought"] == Decimal("70.6")


def test_quarters_withheld_from_a_department_below_three_contributors(world):
    build_exits(world)
    current = selectors.quarter_start(today())
    mine = selectors.make_or_buy_quarters(
        start=current, end=add_months(current, 3), department_id=world.lcs.pk
    )
    assert make_or_buy_seen_by(world.manager, [], mine)["quarters"][0]["units_bought"] == 750
    other = make_or_buy_seen_by(world.other_manager, [], mine)["quarters"][0]
    assert other["units_bought"] is None and other["share_bought"] is None
    assert other["withheld"] == WITHHELD
    everyone = selectors.make_or_buy_quarters(start=current, end=add_months(current, 3))
    assert make_or_buy_seen_by(world.other_manager, [], everyone)["quarters"][0]["withheld"] is None


def test_rows_are_for_those_who_see_the_department(costs):
    rows = selectors.make_or_buy(today=today())
    seen = {
        persona: {r["department"] for r in make_or_buy_seen_by(user, rows, [])["rows"]}
        for persona, user in costs.personas().items()
        if user is not None
    }
    assert seen["analyst"] == seen["administrator"] == {"LCS", "ENV", "TECH", "FIN"}
    assert seen["manager"] == seen["deputy_minister"] == {"LCS"}
    assert seen["other_manager"] == {"ENV"}
    assert seen["provider_manager"] == seen["outsider"] == set()


def test_quarter_names():
    start = parse_quarter("2026-27-Q1")
    assert start == datetime.date(2026, 4, 1)
    assert quarter_label(datetime.date(2027, 1, 1)) == "2026-27-Q4"
    for bad in ("2026-27-Q5", "2026-28-Q1", "2026Q1", ""):
        with pytest.raises(ValidationError) as refused:
            parse_quarter(bad)
        assert refused.value.messages == [QUARTER_INVALID]


# The service ----------------------------------------------------------------------------


@pytest.mark.parametrize("persona", ["manager", "deputy_minister", "administrator"])
def test_the_department_records_an_estimate(world, persona):
    actor = getattr(world, persona)
    estimate = record(world, actor=actor)

    saved = InHouseEstimate.objects.get()
    assert saved == estimate
    assert (saved.department, saved.service) == (world.lcs, world.payroll)
    assert saved.annual_cost == Decimal("30000.00")
    assert saved.entered_by == actor
    events = apps.get_model("budgets", "InHouseEstimateEvent").objects.filter(pgh_label="insert")
    assert events.count() == 1


@pytest.mark.parametrize(
    "persona", ["other_manager", "recused_deputy_minister", "analyst", "provider_manager"]
)
def test_others_may_not_record_one(world, persona):
    with pytest.raises(PermissionDenied) as refused:
        record(world, actor=getattr(world, persona))
    assert str(refused.value) == NOT_YOUR_ESTIMATE
    assert not InHouseEstimate.objects.exists()


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"annual_cost": Decimal("-0.01")}, "annual_cost", ESTIMATE_NEGATIVE),
        ({"estimated_on": "tomorrow"}, "estimated_on", ESTIMATE_IN_FUTURE),
        ({"note": "   "}, "note", ESTIMATE_NO_NOTE),
    ],
)
def test_bad_input_is_refused_with_a_message(world, overrides, field, message):
    if overrides.get("estimated_on") == "tomorrow":
        overrides = {"estimated_on": today() + datetime.timedelta(days=1)}
    with pytest.raises(ValidationError) as refused:
        record(world, **overrides)
    assert refused.value.message_dict == {field: [message]}
    assert not InHouseEstimate.objects.exists()


def test_one_estimate_per_department_service_and_day(world):
    record(world)
    with pytest.raises(ValidationError) as refused:
        record(world, annual_cost=Decimal("1.00"))
    assert "already has an in-house estimate" in str(refused.value)
    assert InHouseEstimate.objects.count() == 1


# The pages ------------------------------------------------------------------------------


def page(world, persona: str, url: str = "/departments/LCS/"):
    client = Client()
    client.force_login(getattr(world, persona))
    return client, client.get(url)


@pytest.mark.parametrize("persona", ["manager", "deputy_minister", "administrator"])
def test_the_department_page_shows_make_or_buy_and_the_form(costs, persona):
    _, response = page(costs, persona)
    body = html(response)
    assert 'id="make-or-buy-table"' in body
    assert "120,000.00" in body and "36,000.00" in body and "84,000.00" in body
    assert "Technology Payroll" in body and "48,000.00 a year" in body
    assert 'id="in-house-estimate-form"' in body


def test_an_analyst_sees_the_figures_without_the_form(costs):
    _, response = page(costs, "analyst")
    body = html(response)
    assert 'id="make-or-buy-table"' in body
    assert 'id="in-house-estimate-form"' not in body


@pytest.mark.parametrize(
    "persona", ["other_manager", "provider_manager", "recused_deputy_minister"]
)
def test_others_do_not_see_the_department_make_or_buy(costs, persona):
    _, response = page(costs, persona)
    assert response.status_code == 200
    body = html(response)
    assert "Make or buy" not in body and "120,000.00" not in body


def _post(client, **overrides):
    day = today() - datetime.timedelta(days=2)
    data = {
        "service": "PAY",
        "annual_cost": "30000",
        "estimated_on_day": str(day.day),
        "estimated_on_month": str(day.month),
        "estimated_on_year": str(day.year),
        "note": "Our HR team's quote.",
    }
    data.update(overrides)
    return client.post(NEW, data)


def test_recording_from_the_page(costs):
    client, _ = page(costs, "manager")
    response = _post(client)

    assert response.status_code == 302
    assert response["Location"] == "/departments/LCS/#make-or-buy"
    saved = InHouseEstimate.objects.get()
    assert saved.annual_cost == Decimal("30000.00")
    assert saved.estimated_on == today() - datetime.timedelta(days=2)
    assert saved.entered_by == costs.manager
    body = html(client.get("/departments/LCS/"))
    day = saved.estimated_on
    assert (
        ESTIMATE_RECORDED.format(service="Payroll", cost="30,000.00", day=f"{day:%-d %B %Y}")
        in body
    )
    assert f"estimate of {day:%-d %b %Y}" in body
    assert "-6,000.00" in body  # 30,000.00 to make against 36,000.00 to buy


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"annual_cost": "-5"}, ESTIMATE_NEGATIVE),
        ({"note": ""}, ESTIMATE_NO_NOTE),
        ({"service": "NOPE"}, SELECT_SERVICE),
        (
            {"estimated_on_day": "", "estimated_on_month": "", "estimated_on_year": ""},
            ENTER_ESTIMATED_ON,
        ),
    ],
)
def test_bad_input_comes_back_with_the_error_summary(costs, overrides, message):
    client, _ = page(costs, "manager")
    response = _post(client, **overrides)

    assert response.status_code == 400
    body = html(response)
    assert "There is a problem" in body and message in body
    assert body.count(message) == 2  # in the summary and by the field
    assert not InHouseEstimate.objects.exists()


def test_a_date_after_today_is_refused_on_the_page(costs):
    client, _ = page(costs, "manager")
    day = today() + datetime.timedelta(days=1)
    response = _post(
        client,
        estimated_on_day=str(day.day),
        estimated_on_month=str(day.month),
        estimated_on_year=str(day.year),
    )
    assert response.status_code == 400
    assert ESTIMATE_IN_FUTURE in html(response)
    assert not InHouseEstimate.objects.exists()


@pytest.mark.parametrize("persona", ["other_manager", "analyst", "provider_manager"])
def test_others_are_refused_the_form(costs, persona):
    client, response = page(costs, persona, NEW)
    assert response.status_code == 403
    assert _post(client).status_code == 403
    assert not InHouseEstimate.objects.exists()


def test_the_overview_charts_the_creep_back_to_making(world):
    build_exits(world)
    _, response = page(world, "analyst", "/overview/")
    body = html(response)
    current = selectors.quarter_start(today())
    assert 'id="make-or-buy-chart-title"' in body
    assert 'id="make-or-buy-table"' in body
    assert quarter_label(current) in body
    assert "89.7%" in body and "94.6%" in body


# The demo ---------------------------------------------------------------------------------


def test_the_demo_shows_a_department_cheaper_in_house(db):
    build_demo()
    lcs = Department.objects.get(code="LCS")
    rows = selectors.make_or_buy(department_id=lcs.pk, today=today())
    payroll = row_of(rows, "LCS", "PAY")
    assert payroll["make_basis"] == "estimate"
    assert payroll["cheaper"] == "make"
    assert payroll["make_cost"] < payroll["buy_cost"]

    build_demo()  # idempotent: the estimate is found, not made again
    assert InHouseEstimate.objects.count() == 1
