"""Pilots through the REST API (v1): a plan with its clusters, dates, criteria, status and
board cases; planning one; a pilot's evaluations with the evidence as each reader may see
it (the benefit withheld from a department over fewer than three departments); asking for
an evaluation; every refusal with its message and the database checked after each write;
who reads which evaluation; filters, CSV, pagination and query counts."""

from __future__ import annotations

import csv
import datetime
import io
from decimal import Decimal
from typing import Any

import pghistory.models
import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.utils import timezone
from knox.models import AuthToken

from clusters.models import Lifecycle, Membership
from clusters.rules import WITHHELD
from governance import services as board
from governance.models import Case, CaseKind, CaseStatus
from initiatives import pilots, selectors
from initiatives.api.serializers import COMPLIANCE_DIGITS
from initiatives.api.views import NO_EVIDENCE_SO_FAR
from initiatives.models import (
    PilotCluster,
    PilotDecisionKind,
    PilotEvaluation,
    PilotPlan,
    PilotStatus,
)
from initiatives.pilot_evidence import pilot_evidence
from initiatives.pilots import ALREADY_PLANNED
from notifications.models import Notification
from servicelevels.models import Measurement
from sharedsvc.roles import Role
from tests.factories import (
    ClusterFactory,
    DepartmentFactory,
    MembershipFactory,
    ServiceFactory,
    UserFactory,
)
from tests.initiatives.pilot_world import mail_fixture, months_back, plan_of, seated_fixture  # noqa: F401
from tests.pages import counts_that_grow
from tests.sharedsvc.test_schema import (  # noqa: F401  (fixtures)
    keep_test_connection,
    plain_static,
    served_schema,
)

API = "/api/v1"
PILOT_PLANS = f"{API}/pilot-plans/"
MAIL = f"{PILOT_PLANS}MAIL/"
EVALUATIONS = f"{MAIL}evaluations/"
EVIDENCE = f"{MAIL}evidence/"
NUL = "\x00"
CRITERIA = ["compliance_rate", "cost_per_unit", "members", "benefit"]


def in_days(days: int) -> datetime.date:
    return timezone.localdate() + datetime.timedelta(days=days)


def results(response) -> list[dict[str, Any]]:
    assert response.status_code == 200, response.content
    return response.json()["results"]


def snapshot() -> dict[str, Any]:
    """Everything planning a pilot or asking for its evaluation could change."""
    state: dict[str, Any] = {
        model.__name__: list(model.objects.order_by("pk").values())
        for model in (PilotPlan, PilotCluster, PilotEvaluation, Case, Membership)
    }
    state["events"] = pghistory.models.Events.objects.count()
    state["notifications"] = Notification.objects.count()
    return state


def evaluate(world, plan: PilotPlan, **fields) -> PilotEvaluation:
    return pilots.pilot_evaluate(actor=world.administrator, plan=plan, **fields)


def lapse(evaluation: PilotEvaluation) -> datetime.datetime:
    """The board lets the case lapse: the pilot runs on. Returns when it lapsed."""
    board.case_close_due(as_of=evaluation.case.closes_at)
    return evaluation.case.closes_at


@pytest.fixture
def outsiders(mail):
    """The signed-in users who do not read MAIL's evidence: the PSOA's provider manager
    (no cluster of the pilot) and a manager of TECH (never a member)."""
    mgr_tech = UserFactory(username="mgr_tech", role=Role.DEPARTMENT_MANAGER, department=mail.tech)
    return [mail.provider_manager, mgr_tech]


# Reading a plan ---------------------------------------------------------------------------


def test_a_plan_shows_its_fields(mail, api):
    plan_of(mail)
    response = api.as_user(mail.provider_manager).get(MAIL)
    assert response.status_code == 200, response.content
    assert response.json() == {
        "service": "MAIL",
        "clusters": ["MAIL-TECH"],
        "starts_on": months_back(3).isoformat(),
        "ends_on": in_days(60).isoformat(),
        "min_compliance_rate": "85.0",
        "max_cost_per_unit": "10.00",
        "min_members": 3,
        "min_benefit": "0.00",
        "status": "running",
        "cases": [],
    }


def test_cases_are_the_evaluations_cases_newest_first(mail, api):
    plan = plan_of(mail)
    first = evaluate(mail, plan)
    again = evaluate(mail, plan, now=lapse(first) + datetime.timedelta(minutes=1))
    data = api.as_user(mail.analyst).get(MAIL).json()
    assert data["cases"] == [again.case_id, first.case_id]
    assert data["status"] == "under_review"
    assert Case.objects.get(pk=again.case_id).kind == CaseKind.PILOT


@pytest.mark.parametrize(
    "persona",
    [
        "administrator",
        "analyst",
        "manager",  # LCS: a member of MAIL-TECH
        "other_manager",  # ENV: a member
        "deputy_minister",  # a board seat
        "recused_deputy_minister",
        "other_provider_manager",  # TECHSVC runs MAIL-TECH
    ],
)
def test_those_who_read_the_evidence_see_the_cases_and_evaluations(mail, api, persona):
    evaluation = evaluate(mail, plan_of(mail))
    client = api.as_user(getattr(mail, persona))
    [row] = results(client.get(PILOT_PLANS))
    assert row["cases"] == [evaluation.case_id]
    assert client.get(MAIL).json()["cases"] == [evaluation.case_id]
    assert [e["id"] for e in results(client.get(EVALUATIONS))] == [evaluation.pk]


def test_others_read_the_plan_but_no_evaluation(mail, api, outsiders):
    """The plan is public; its evaluations are not: an empty list, not a 404 (the plan's
    own page says it exists), and no case ids."""
    evaluate(mail, plan_of(mail))
    for user in outsiders:
        client = api.as_user(user)
        assert [r["service"] for r in results(client.get(PILOT_PLANS))] == ["MAIL"]
        assert client.get(MAIL).json()["cases"] == []
        response = client.get(EVALUATIONS)
        assert response.status_code == 200, (user, response.getvalue())
        assert response.json() == {"count": 0, "next": None, "previous": None, "results": []}
        csv_response = client.get(EVALUATIONS, {"format": "csv"})
        assert csv_response.status_code == 200 and csv_response.getvalue().strip() == b""
        assert client.get(EVALUATIONS, {"decision": "go_live"}).json()["count"] == 0


def test_a_member_from_before_reads_the_evidence_after_leaving(mail, api):
    """'Ever a member': a department that left the pilot's cluster still reads it."""
    evaluation = evaluate(mail, plan_of(mail))
    Membership.objects.filter(department=mail.env, cluster=mail.mail_cluster).update(
        leaves_on=timezone.localdate()
    )
    rows = results(api.as_user(mail.other_manager).get(EVALUATIONS))
    assert [r["id"] for r in rows] == [evaluation.pk]


def test_signed_out_is_401_and_unknown_is_404(mail, api):
    plan_of(mail)
    signed_out = api.as_user(None)
    for url in (PILOT_PLANS, MAIL, EVALUATIONS):
        assert signed_out.get(url).status_code == 401, url
    before = snapshot()
    assert signed_out.post(PILOT_PLANS, {}, format="json").status_code == 401
    assert signed_out.post(EVALUATIONS, {}, format="json").status_code == 401
    assert snapshot() == before
    client = api.as_user(mail.analyst)
    for url in (
        f"{PILOT_PLANS}NOPE/",
        f"{PILOT_PLANS}NOPE/evaluations/",
        f"{PILOT_PLANS}IT/",  # a live service without a plan
        f"{PILOT_PLANS}IT/evaluations/",
        f"{PILOT_PLANS}mail/",  # not a service code
        f"{MAIL}evaluations/1/",  # evaluations are listed, not read one by one
    ):
        response = client.get(url)
        assert response.status_code == 404, url
        assert "detail" in response.json()
    response = api.as_user(mail.administrator).post(
        f"{PILOT_PLANS}NOPE/evaluations/", {}, format="json"
    )
    assert response.status_code == 404
    assert snapshot() == before


def test_plans_and_evaluations_are_not_edited_or_deleted_here(mail, api):
    evaluate(mail, plan_of(mail))
    client = api.as_user(mail.administrator)
    before = snapshot()
    for method in ("put", "patch", "delete"):
        assert getattr(client, method)(MAIL, {}, format="json").status_code == 405, method
        assert getattr(client, method)(EVALUATIONS, {}, format="json").status_code == 405
    assert snapshot() == before


# Filters, CSV, pagination -----------------------------------------------------------------


@pytest.fixture
def two_plans(mail):
    """MAIL (in MAIL-TECH, ending in 60 days), running; and DOCS (in DOCS-PSOA and
    DOCS-TECH, ending in 200 days), live."""
    plan_of(mail)
    docs = ServiceFactory(code="DOCS", name="Documents", category="it", lifecycle=Lifecycle.PILOT)
    clusters = [
        ClusterFactory(code="DOCS-PSOA", service=docs, provider=mail.psoa),
        ClusterFactory(code="DOCS-TECH", service=docs, provider=mail.tech_provider),
    ]
    plan = plan_of(mail, service=docs, clusters=clusters, ends_on=in_days(200), min_members=1)
    PilotPlan.objects.filter(pk=plan.pk).update(status=PilotStatus.LIVE)
    return mail


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({}, ["DOCS", "MAIL"]),
        ({"status": "running"}, ["MAIL"]),
        ({"status": "live"}, ["DOCS"]),
        ({"status": "stopped"}, []),
        ({"cluster": "MAIL-TECH"}, ["MAIL"]),
        ({"cluster": "DOCS-TECH"}, ["DOCS"]),
        ({"cluster": "PAY-PSOA"}, []),
        ({"ends_on_after": "{in_100}"}, ["DOCS"]),
        ({"ends_on_before": "{in_100}"}, ["MAIL"]),
        ({"ends_on_after": "{in_60}", "ends_on_before": "{in_60}"}, ["MAIL"]),
        ({"status": "live", "cluster": "MAIL-TECH"}, []),
        ({"status": "", "cluster": ""}, ["DOCS", "MAIL"]),  # empty: not filtered
    ],
)
def test_plan_filters(two_plans, api, params, expected):
    values = {"in_60": in_days(60).isoformat(), "in_100": in_days(100).isoformat()}
    query = {k: v.format(**values) for k, v in params.items()}
    rows = results(api.as_user(two_plans.manager).get(PILOT_PLANS, query))
    assert [r["service"] for r in rows] == expected


@pytest.mark.parametrize(
    ("params", "field", "message"),
    [
        ({"cluster": "NOPE"}, "cluster", "No cluster has the code “NOPE”."),
        ({"cluster": f"MAIL-TECH{NUL}"}, "cluster", None),
        ({"status": "proposed"}, "status", None),
        ({"ends_on_after": "tomorrow"}, "ends_on", None),
        ({"ends_on_before": "2026-02-30"}, "ends_on", None),
    ],
)
def test_bad_plan_filters_are_400(mail, api, params, field, message):
    response = api.as_user(mail.analyst).get(PILOT_PLANS, params)
    assert response.status_code == 400, response.content
    errors = response.json()
    assert field in errors, errors
    if message:
        assert any(message in m for m in errors[field]), errors


def test_plans_as_csv(two_plans, api):
    evaluation = evaluate(two_plans, PilotPlan.objects.get(service__code="MAIL"))
    response = api.as_user(two_plans.analyst).get(PILOT_PLANS, {"format": "csv"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.getvalue().decode())))
    assert list(rows[0]) == [
        "service",
        "clusters",
        "starts_on",
        "ends_on",
        "min_compliance_rate",
        "max_cost_per_unit",
        "min_members",
        "min_benefit",
        "status",
        "cases",
    ]
    assert [(r["service"], r["clusters"], r["status"], r["cases"]) for r in rows] == [
        ("DOCS", "DOCS-PSOA;DOCS-TECH", "live", ""),
        ("MAIL", "MAIL-TECH", "under_review", str(evaluation.case_id)),
    ]
    assert (rows[1]["min_compliance_rate"], rows[1]["max_cost_per_unit"]) == ("85.0", "10.00")


def test_plans_csv_follows_the_filters(two_plans, api):
    client = api.as_user(two_plans.analyst)
    response = client.get(PILOT_PLANS, {"format": "csv", "status": "live"})
    rows = list(csv.DictReader(io.StringIO(response.getvalue().decode())))
    assert [r["service"] for r in rows] == ["DOCS"]
    response = client.get(PILOT_PLANS, {"format": "csv", "cluster": "NOPE"})
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"


def test_plans_are_paginated(two_plans, api):
    client = api.as_user(two_plans.analyst)
    first = client.get(PILOT_PLANS, {"page_size": 1}).json()
    assert (first["count"], [r["service"] for r in first["results"]]) == (2, ["DOCS"])
    assert first["previous"] is None and "page=2" in first["next"]
    second = client.get(PILOT_PLANS, {"page_size": 1, "page": 2}).json()
    assert ([r["service"] for r in second["results"]], second["next"]) == (["MAIL"], None)
    assert client.get(PILOT_PLANS, {"page_size": 1, "page": 3}).status_code == 404
    assert client.get(PILOT_PLANS, {"page_size": 0}).status_code == 400


# Planning ---------------------------------------------------------------------------------


def new_plan(**overrides) -> dict[str, Any]:
    """A body for POST /pilot-plans/: the pilot of MAIL."""
    return {
        "service": "MAIL",
        "clusters": ["MAIL-TECH"],
        "starts_on": months_back(3).isoformat(),
        "ends_on": in_days(90).isoformat(),
        "min_compliance_rate": "90.5",
        "max_cost_per_unit": "12.50",
        "min_members": 2,
        "min_benefit": "1000.00",
        **overrides,
    }


def test_planning_is_201_and_saved(mail, api):
    response = api.as_user(mail.administrator).post(PILOT_PLANS, new_plan(), format="json")
    assert response.status_code == 201, response.content
    assert response.json() == {
        "service": "MAIL",
        "clusters": ["MAIL-TECH"],
        "starts_on": months_back(3).isoformat(),
        "ends_on": in_days(90).isoformat(),
        "min_compliance_rate": "90.5",
        "max_cost_per_unit": "12.50",
        "min_members": 2,
        "min_benefit": "1000.00",
        "status": "running",
        "cases": [],
    }
    plan = PilotPlan.objects.get()
    assert (plan.service, plan.starts_on, plan.ends_on, plan.status) == (
        mail.mail,
        months_back(3),
        in_days(90),
        PilotStatus.RUNNING,
    )
    assert (plan.min_compliance_rate, plan.max_cost_per_unit) == (Decimal("90.5"), Decimal("12.5"))
    assert (plan.min_members, plan.min_benefit) == (2, Decimal("1000"))
    assert list(plan.clusters.all()) == [mail.mail_cluster]
    assert not PilotEvaluation.objects.exists() and not Case.objects.exists()
    actors = set(
        pghistory.models.Events.objects.filter(pgh_obj_model="initiatives.PilotPlan").values_list(
            "pgh_context__user", flat=True
        )
    )
    assert actors == {mail.administrator.pk}


def test_the_minimum_benefit_defaults_to_0_and_a_cluster_named_twice_is_one(mail, api):
    body = new_plan(clusters=["MAIL-TECH", "MAIL-TECH"])
    del body["min_benefit"]
    response = api.as_user(mail.administrator).post(PILOT_PLANS, body, format="json")
    assert response.status_code == 201, response.content
    assert (response.json()["min_benefit"], response.json()["clusters"]) == ("0.00", ["MAIL-TECH"])
    plan = PilotPlan.objects.get()
    assert plan.min_benefit == Decimal("0") and plan.plan_clusters.count() == 1


@pytest.mark.parametrize(
    "persona",
    [
        "analyst",
        "manager",
        "other_manager",
        "deputy_minister",
        "recused_deputy_minister",
        "provider_manager",
        "other_provider_manager",
    ],
)
def test_others_may_not_plan_403_with_why(mail, api, persona):
    before = snapshot()
    response = api.as_user(getattr(mail, persona)).post(PILOT_PLANS, new_plan(), format="json")
    assert response.status_code == 403
    assert response.json() == {"detail": pilots.MAY_NOT_PLAN}
    assert snapshot() == before


def test_a_refusal_comes_before_the_body_is_read(mail, api):
    plan_of(mail)
    before = snapshot()
    response = api.as_user(mail.analyst).post(PILOT_PLANS, {"service": 5}, format="json")
    assert response.status_code == 403
    response = api.as_user(mail.analyst).post(EVALUATIONS, {"decision": "maybe"}, format="json")
    assert response.status_code == 403
    assert snapshot() == before


def _elsewhere(world) -> None:
    """A second pilot service, DOCS, with a plan: its cluster is not MAIL's."""
    docs = ServiceFactory(code="DOCS", name="Documents", category="it", lifecycle=Lifecycle.PILOT)
    cluster = ClusterFactory(code="DOCS-TECH", service=docs, provider=world.tech_provider)
    plan_of(world, service=docs, clusters=[cluster])


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"min_compliance_rate": "101"}, "min_compliance_rate", pilots.COMPLIANCE_OUT_OF_RANGE),
        ({"min_compliance_rate": 100.1}, "min_compliance_rate", pilots.COMPLIANCE_OUT_OF_RANGE),
        ({"min_compliance_rate": "-1"}, "min_compliance_rate", pilots.COMPLIANCE_OUT_OF_RANGE),
        ({"min_compliance_rate": "1000"}, "min_compliance_rate", COMPLIANCE_DIGITS),
        ({"min_compliance_rate": "85.55"}, "min_compliance_rate", "1 decimal place"),
        ({"min_compliance_rate": "NaN"}, "min_compliance_rate", "A valid number"),
        ({"max_cost_per_unit": "0"}, "max_cost_per_unit", pilots.COST_OUT_OF_RANGE),
        ({"max_cost_per_unit": "-5.00"}, "max_cost_per_unit", pilots.COST_OUT_OF_RANGE),
        ({"max_cost_per_unit": "1e20"}, "max_cost_per_unit", None),
        ({"min_members": 0}, "min_members", pilots.MEMBERS_OUT_OF_RANGE),
        ({"min_members": -3}, "min_members", pilots.MEMBERS_OUT_OF_RANGE),
        ({"min_members": 2**31}, "min_members", None),
        ({"min_members": "many"}, "min_members", "A valid integer"),
        ({"min_benefit": "-1"}, "min_benefit", pilots.BENEFIT_OUT_OF_RANGE),
        ({"min_benefit": "-0.01"}, "min_benefit", pilots.BENEFIT_OUT_OF_RANGE),
        ({"service": "NOPE"}, "service", "No service has the code “NOPE”."),
        ({"service": 7}, "service", "Give a code as text"),
        ({"service": None}, "service", None),
        ({"clusters": ["MAIL-TECH", "NOPE"]}, "clusters", "No cluster has the code “NOPE”."),
        ({"clusters": "MAIL-TECH"}, "clusters", "Expected a list"),
        ({"clusters": []}, "clusters", pilots.NO_CLUSTERS),
        (
            {"clusters": ["MAIL-TECH", "PAY-PSOA", "DOCS-TECH"]},
            "clusters",
            "DOCS-TECH, PAY-PSOA: not clusters of Digital mail.",
        ),
        (
            {"service": "IT", "clusters": ["IT-TECH"]},
            "service",
            "Desktop IT is live, not in pilot: only a pilot service has a plan.",
        ),
        ({"service": "DOCS", "clusters": ["DOCS-TECH"]}, "service", "Documents has a pilot plan"),
        ({"ends_on": "{start}"}, "ends_on", pilots.ENDS_BEFORE_START),
        ({"ends_on": "{before_start}"}, "ends_on", pilots.ENDS_BEFORE_START),
        ({"starts_on": "31/12/2030"}, "starts_on", "Date has wrong format"),
        ({"ends_on": None}, "ends_on", None),
    ],
)
def test_bad_plans_are_400_with_a_message_and_change_nothing(mail, api, overrides, field, message):
    _elsewhere(mail)
    values = {
        "start": months_back(3).isoformat(),
        "before_start": (months_back(3) - datetime.timedelta(days=1)).isoformat(),
    }
    overrides = {k: v.format(**values) if isinstance(v, str) else v for k, v in overrides.items()}
    before = snapshot()
    response = api.as_user(mail.administrator).post(
        PILOT_PLANS, new_plan(**overrides), format="json"
    )
    assert response.status_code == 400, response.content
    errors = response.json()
    assert field in errors, errors
    if message:
        assert any(message in m for m in errors[field]), errors
    assert snapshot() == before


def test_a_service_with_a_plan_already_is_told_so(mail, api):
    plan_of(mail)
    before = snapshot()
    response = api.as_user(mail.administrator).post(PILOT_PLANS, new_plan(), format="json")
    assert response.status_code == 400
    assert response.json() == {"service": [ALREADY_PLANNED.format(service="Digital mail")]}
    assert snapshot() == before


def test_the_service_names_every_criterion_out_of_range_at_once(mail, api):
    body = new_plan(
        min_compliance_rate="100.5",
        max_cost_per_unit="0",
        min_members=0,
        min_benefit="-1",
        ends_on=months_back(4).isoformat(),
    )
    response = api.as_user(mail.administrator).post(PILOT_PLANS, body, format="json")
    assert response.status_code == 400
    assert response.json() == {
        "ends_on": [pilots.ENDS_BEFORE_START],
        "min_compliance_rate": [pilots.COMPLIANCE_OUT_OF_RANGE],
        "max_cost_per_unit": [pilots.COST_OUT_OF_RANGE],
        "min_members": [pilots.MEMBERS_OUT_OF_RANGE],
        "min_benefit": [pilots.BENEFIT_OUT_OF_RANGE],
    }
    assert not PilotPlan.objects.exists()


def test_every_field_of_a_plan_but_the_benefit_is_required(mail, api):
    response = api.as_user(mail.administrator).post(PILOT_PLANS, {}, format="json")
    assert response.status_code == 400
    assert set(response.json()) == {
        "service",
        "clusters",
        "starts_on",
        "ends_on",
        "min_compliance_rate",
        "max_cost_per_unit",
        "min_members",
    }
    assert not PilotPlan.objects.exists()


def test_a_plan_body_that_is_not_an_object_is_400(mail, api):
    client = api.as_user(mail.administrator)
    for body in (["MAIL"], "MAIL"):
        assert client.post(PILOT_PLANS, body, format="json").status_code == 400
    response = client.post(
        PILOT_PLANS, "service=MAIL", content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 415
    assert not PilotPlan.objects.exists()


def test_a_second_plan_that_slips_past_the_check_is_a_message_not_an_error(mail):
    """The net under the API's check (two administrators at once): the service's save
    turns the one-plan-per-service constraint into a message, never an IntegrityError."""
    plan_of(mail)
    with pytest.raises(ValidationError) as refused:
        plan_of(mail)
    assert list(refused.value.message_dict) == ["service"]
    assert PilotPlan.objects.count() == 1


# Evaluations ------------------------------------------------------------------------------


def test_an_evaluation_shows_its_evidence(mail, api):
    evaluation = evaluate(mail, plan_of(mail))
    stored = evaluation.evidence
    [data] = results(api.as_user(mail.analyst).get(EVALUATIONS))
    benefit = stored["criteria"][3]["measured"]
    assert data == {
        "id": evaluation.pk,
        "case": evaluation.case_id,
        "decision": "go_live" if stored["all_met"] else "stop",
        "new_ends_on": None,
        "wind_down_on": data["wind_down_on"],
        "as_of": timezone.localdate().isoformat(),
        "all_met": stored["all_met"],
        "evaluated_by": "admin",
        "criteria": [
            {
                "criterion": "compliance_rate",
                "label": "Compliance with the service's standards",
                "target": "at least 85.0%",
                "measured": "88.9%",
                "met": True,
                "behind": "8 of 9 returns met their standard",
                "withheld": None,
            },
            {
                "criterion": "cost_per_unit",
                "label": "Cost per unit",
                "target": "at most 10.00",
                "measured": "8.00",
                "met": True,
                "behind": "cost pools of 7200.00 over 900 units served",
                "withheld": None,
            },
            {
                "criterion": "members",
                "label": "Member departments",
                "target": "at least 3",
                "measured": "3",
                "met": True,
                "behind": f"members on {timezone.localdate().isoformat()}; 0 left during the pilot",
                "withheld": None,
            },
            {
                "criterion": "benefit",
                "label": "Benefit against the members' baselines",
                "target": "at least 0.00",
                "measured": benefit,
                "met": Decimal(benefit) >= 0,
                "behind": "baselines pro rata to the days of membership, less the charges",
                "withheld": None,
            },
        ],
        "monthly": stored["monthly"],
        "members": ["ENV", "FIN", "LCS"],
        "departures": [],
        "withheld": None,
    }
    assert [m["period"] for m in data["monthly"]] == [
        months_back(n).strftime("%Y-%m") for n in (3, 2, 1)
    ]
    assert data["monthly"][0]["charged"] == "2400.00"
    assert sum(Decimal(m["benefit"]) for m in data["monthly"]) == Decimal(benefit)


def test_departures_are_shown(mail, api):
    left_on = months_back(1)
    Membership.objects.filter(department=mail.fin, cluster=mail.mail_cluster).update(
        leaves_on=left_on
    )
    evaluate(mail, plan_of(mail, min_members=1))
    [data] = results(api.as_user(mail.manager).get(EVALUATIONS))
    assert data["departures"] == [
        {"department": "FIN", "cluster": "MAIL-TECH", "left_on": left_on.isoformat()}
    ]
    assert data["members"] == ["ENV", "LCS"]


@pytest.fixture
def two_contributors(mail):
    """FIN joins MAIL-TECH only today: the pilot's complete months have two members (LCS
    and ENV), so the benefit is a total over fewer than three departments."""
    Membership.objects.filter(department=mail.fin, cluster=mail.mail_cluster).update(
        joined_on=timezone.localdate()
    )
    evaluate(mail, plan_of(mail))
    return mail


@pytest.mark.parametrize(
    "persona", ["manager", "other_manager", "recused_deputy_minister", "other_provider_manager"]
)
def test_the_benefit_is_withheld_from_a_reader_who_may_not_see_the_total(
    two_contributors, api, persona
):
    [data] = results(api.as_user(getattr(two_contributors, persona)).get(EVALUATIONS))
    assert data["withheld"] == WITHHELD
    by_name = {c["criterion"]: c for c in data["criteria"]}
    assert by_name["benefit"]["measured"] is None
    assert by_name["benefit"]["withheld"] == WITHHELD
    assert isinstance(by_name["benefit"]["met"], bool)  # met or not is no figure
    for name in ("compliance_rate", "cost_per_unit", "members"):
        assert by_name[name]["measured"] is not None and by_name[name]["withheld"] is None
    for month in data["monthly"]:
        assert (month["baseline"], month["charged"], month["benefit"]) == (None, None, None)
        assert month["pool"] == "2400.00" and month["cost_per_unit"] is not None
    assert data["members"] == ["ENV", "FIN", "LCS"]
    # The withheld figures are in no other answer either: not in the CSV ...
    response = api.as_user(getattr(two_contributors, persona)).get(EVALUATIONS, {"format": "csv"})
    [row] = list(csv.DictReader(io.StringIO(response.getvalue().decode())))
    assert (row["withheld"], row["criteria.benefit.measured"]) == (WITHHELD, "")
    # ... and the evaluation keeps them.
    stored = PilotEvaluation.objects.get().evidence
    assert stored["criteria"][3]["measured"] is not None
    assert sorted(stored["contributors"]) == sorted(
        [two_contributors.lcs.pk, two_contributors.env.pk]
    )


@pytest.mark.parametrize("persona", ["analyst", "administrator"])
def test_those_who_see_every_department_see_the_benefit(two_contributors, api, persona):
    [data] = results(api.as_user(getattr(two_contributors, persona)).get(EVALUATIONS))
    stored = PilotEvaluation.objects.get().evidence
    assert data["withheld"] is None
    assert data["criteria"][3]["measured"] == stored["criteria"][3]["measured"] is not None
    assert data["monthly"] == stored["monthly"]


def test_three_contributors_show_the_benefit_to_a_department(mail, api):
    evaluate(mail, plan_of(mail))
    [data] = results(api.as_user(mail.other_manager).get(EVALUATIONS))
    assert data["withheld"] is None
    assert data["criteria"][3]["measured"] is not None
    assert all(m["benefit"] is not None for m in data["monthly"])


@pytest.fixture
def two_evaluations(mail):
    """MAIL's first evaluation (stop, compiled today) lapsed; its second (extend, compiled
    the day the first lapsed) is with the board."""
    plan = plan_of(mail)
    first = evaluate(mail, plan, decision=PilotDecisionKind.STOP)
    lapsed = lapse(first)
    second = evaluate(
        mail,
        plan,
        decision=PilotDecisionKind.EXTEND,
        new_ends_on=in_days(200),
        now=lapsed + datetime.timedelta(minutes=1),
    )
    mail.first, mail.second = first, second
    return mail


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({}, ["second", "first"]),  # newest first
        ({"decision": "stop"}, ["first"]),
        ({"decision": "extend"}, ["second"]),
        ({"decision": "go_live"}, []),
        ({"as_of_before": "{today}"}, ["first"]),
        ({"as_of_after": "{tomorrow}"}, ["second"]),
        ({"decision": ""}, ["second", "first"]),
    ],
)
def test_evaluation_filters(two_evaluations, api, params, expected):
    today = timezone.localdate()
    values = {
        "today": today.isoformat(),
        "tomorrow": (today + datetime.timedelta(days=1)).isoformat(),
    }
    query = {k: v.format(**values) for k, v in params.items()}
    rows = results(api.as_user(two_evaluations.analyst).get(EVALUATIONS, query))
    assert [r["id"] for r in rows] == [getattr(two_evaluations, name).pk for name in expected]


@pytest.mark.parametrize(
    ("params", "field"),
    [({"decision": "maybe"}, "decision"), ({"as_of_after": "soon"}, "as_of")],
)
def test_bad_evaluation_filters_are_400(mail, api, params, field):
    plan_of(mail)
    response = api.as_user(mail.analyst).get(EVALUATIONS, params)
    assert response.status_code == 400, response.content
    assert field in response.json()


def test_evaluations_as_csv(two_evaluations, api):
    response = api.as_user(two_evaluations.analyst).get(EVALUATIONS, {"format": "csv"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.getvalue().decode())))
    assert list(rows[0]) == [
        "id",
        "case",
        "decision",
        "new_ends_on",
        "wind_down_on",
        "as_of",
        "all_met",
        "evaluated_by",
        "withheld",
        "members",
        *(f"criteria.{name}.{part}" for name in CRITERIA for part in ("target", "measured", "met")),
    ]
    second, first = rows
    assert (second["id"], second["decision"], second["new_ends_on"]) == (
        str(two_evaluations.second.pk),
        "extend",
        in_days(200).isoformat(),
    )
    assert (first["decision"], first["wind_down_on"]) == (
        "stop",
        two_evaluations.first.wind_down_on.isoformat(),
    )
    assert first["members"] == "ENV;FIN;LCS"
    assert (first["criteria.compliance_rate.measured"], first["criteria.compliance_rate.met"]) == (
        "88.9%",
        "True",
    )
    assert first["criteria.cost_per_unit.target"] == "at most 10.00"
    assert first["withheld"] == "" and first["evaluated_by"] == "admin"


def test_evaluations_are_paginated(two_evaluations, api):
    client = api.as_user(two_evaluations.analyst)
    first = client.get(EVALUATIONS, {"page_size": 1}).json()
    assert (first["count"], [r["id"] for r in first["results"]]) == (
        2,
        [two_evaluations.second.pk],
    )
    second = client.get(EVALUATIONS, {"page_size": 1, "page": 2}).json()
    assert [r["id"] for r in second["results"]] == [two_evaluations.first.pk]
    assert client.get(EVALUATIONS, {"page": 3}).status_code == 404


def test_the_daily_jobs_evaluation_has_no_evaluator(mail, api):
    plan = plan_of(mail)
    [evaluation] = pilots.pilots_evaluate_due(as_of=timezone.now() + datetime.timedelta(days=60))
    [data] = results(api.as_user(mail.analyst).get(EVALUATIONS))
    assert (data["id"], data["evaluated_by"], data["as_of"]) == (
        evaluation.pk,
        None,
        plan.ends_on.isoformat(),
    )


# Asking for an evaluation -----------------------------------------------------------------


def test_asking_without_a_decision_lets_the_evidence_decide_201(mail, api):
    plan = plan_of(mail)
    response = api.as_user(mail.administrator).post(EVALUATIONS, {}, format="json")
    assert response.status_code == 201, response.content
    data = response.json()
    evaluation = PilotEvaluation.objects.get()
    assert evaluation.decision == (
        PilotDecisionKind.GO_LIVE if evaluation.all_met else PilotDecisionKind.STOP
    )
    assert (evaluation.plan, evaluation.evaluated_by, evaluation.as_of) == (
        plan,
        mail.administrator,
        timezone.localdate(),
    )
    assert (data["id"], data["case"], data["decision"], data["evaluated_by"]) == (
        evaluation.pk,
        evaluation.case_id,
        evaluation.decision,
        "admin",
    )
    assert [c["criterion"] for c in data["criteria"]] == CRITERIA
    assert data["monthly"] == evaluation.evidence["monthly"]
    case = evaluation.case
    assert (case.kind, case.status) == (CaseKind.PILOT, CaseStatus.OPEN)
    assert PilotPlan.objects.get(pk=plan.pk).status == PilotStatus.UNDER_REVIEW
    assert api.as_user(mail.analyst).get(MAIL).json()["cases"] == [case.pk]


def test_asking_to_extend_is_201_and_saved(mail, api):
    plan_of(mail)
    body = {"decision": "extend", "new_ends_on": in_days(150).isoformat(), "wind_down_on": None}
    response = api.as_user(mail.administrator).post(EVALUATIONS, body, format="json")
    assert response.status_code == 201, response.content
    data = response.json()
    assert (data["decision"], data["new_ends_on"], data["wind_down_on"]) == (
        "extend",
        in_days(150).isoformat(),
        None,
    )
    evaluation = PilotEvaluation.objects.get()
    assert (evaluation.decision, evaluation.new_ends_on, evaluation.wind_down_on) == (
        PilotDecisionKind.EXTEND,
        in_days(150),
        None,
    )


def test_asking_to_stop_winds_down_on_the_date_given_or_the_earliest(mail, api):
    plan = plan_of(mail)
    wind_down = in_days(60)
    body = {"decision": "stop", "wind_down_on": wind_down.isoformat()}
    response = api.as_user(mail.administrator).post(EVALUATIONS, body, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["wind_down_on"] == wind_down.isoformat()
    first = PilotEvaluation.objects.get()
    assert (first.decision, first.wind_down_on, first.new_ends_on) == (
        PilotDecisionKind.STOP,
        wind_down,
        None,
    )
    # The board lets it lapse; asked again without a date, the earliest is taken.
    lapse(first)
    response = api.as_user(mail.administrator).post(
        EVALUATIONS, {"decision": "stop"}, format="json"
    )
    assert response.status_code == 201, response.content
    again = PilotEvaluation.objects.get(pk=response.json()["id"])
    assert again.wind_down_on == pilots.earliest_wind_down(plan, again.case.closes_at)


@pytest.mark.parametrize(
    "persona",
    [
        "analyst",
        "manager",
        "other_manager",
        "deputy_minister",
        "recused_deputy_minister",
        "provider_manager",
        "other_provider_manager",
    ],
)
def test_others_may_not_ask_for_an_evaluation_403_with_why(mail, api, persona):
    plan_of(mail)
    before = snapshot()
    response = api.as_user(getattr(mail, persona)).post(EVALUATIONS, {}, format="json")
    assert response.status_code == 403
    assert response.json() == {"detail": pilots.MAY_NOT_EVALUATE}
    assert snapshot() == before


def test_a_pilot_already_with_the_board_is_409(mail, api):
    evaluation = evaluate(mail, plan_of(mail))
    before = snapshot()
    response = api.as_user(mail.administrator).post(EVALUATIONS, {}, format="json")
    assert response.status_code == 409
    assert response.json() == {
        "detail": pilots.ALREADY_WITH_THE_BOARD.format(
            service="Digital mail", case=evaluation.case_id
        )
    }
    assert snapshot() == before


@pytest.mark.parametrize("status", [PilotStatus.LIVE, PilotStatus.STOPPED])
def test_a_pilot_that_is_not_running_is_409(mail, api, status):
    plan = plan_of(mail)
    PilotPlan.objects.filter(pk=plan.pk).update(status=status)
    before = snapshot()
    response = api.as_user(mail.administrator).post(EVALUATIONS, {}, format="json")
    assert response.status_code == 409
    assert response.json() == {
        "detail": pilots.NOT_RUNNING.format(service="Digital mail", status=status.label.lower())
    }
    assert snapshot() == before


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"decision": "extend"}, "new_ends_on", pilots.NEW_END_NEEDED),
        ({"decision": "extend", "new_ends_on": None}, "new_ends_on", pilots.NEW_END_NEEDED),
        ({"decision": "extend", "new_ends_on": "{ends}"}, "new_ends_on", "{too_early}"),
        ({"decision": "extend", "new_ends_on": "{today}"}, "new_ends_on", "{too_early}"),
        ({"decision": "stop", "wind_down_on": "{today}"}, "wind_down_on", "{notice}"),
        ({"decision": "maybe"}, "decision", pilots.UNKNOWN_DECISION),
        ({"decision": 3}, "decision", pilots.UNKNOWN_DECISION),
        ({"decision": "extend", "new_ends_on": "soon"}, "new_ends_on", "Date has wrong format"),
        ({"decision": "stop", "wind_down_on": "2026-02-30"}, "wind_down_on", None),
    ],
)
def test_bad_evaluation_requests_are_400_and_change_nothing(mail, api, data, field, message):
    plan = plan_of(mail)
    values = {
        "ends": plan.ends_on.isoformat(),
        "today": timezone.localdate().isoformat(),
        "too_early": pilots.NEW_END_TOO_EARLY.format(ends=plan.ends_on),
        "notice": "The members must have their notice (30 days) after the board's decision",
    }
    data = {k: v.format(**values) if isinstance(v, str) else v for k, v in data.items()}
    before = snapshot()
    response = api.as_user(mail.administrator).post(EVALUATIONS, data, format="json")
    assert response.status_code == 400, response.content
    errors = response.json()
    assert field in errors, errors
    if message:
        expected = message.format(**values)
        assert any(expected in m for m in errors[field]), errors
    assert snapshot() == before
    assert PilotPlan.objects.get(pk=plan.pk).status == PilotStatus.RUNNING


def test_an_evaluation_body_that_is_not_an_object_is_400(mail, api):
    plan_of(mail)
    client = api.as_user(mail.administrator)
    for body in (["stop"], "stop"):
        assert client.post(EVALUATIONS, body, format="json").status_code == 400
    assert not PilotEvaluation.objects.exists()


# The evidence so far ----------------------------------------------------------------------


def test_the_evidence_so_far_is_an_evaluations_evidence_compiled_today(mail, api):
    plan = plan_of(mail)
    response = api.as_user(mail.analyst).get(EVIDENCE)
    assert response.status_code == 200, response.content
    data = response.json()
    plan.refresh_from_db()  # the criteria as stored (`0.00`, not the `0` it was given)
    compiled = pilot_evidence(plan, as_of=timezone.localdate())
    assert data == {
        "service": "MAIL",
        "as_of": timezone.localdate().isoformat(),
        "all_met": compiled["all_met"],
        "criteria": [{"withheld": None, **c} for c in compiled["criteria"]],
        "monthly": compiled["monthly"],
        "members": ["ENV", "FIN", "LCS"],
        "departures": [],
        "withheld": None,
    }
    # The shape of an evaluation's evidence: compiled the same day, the same figures.
    evaluate(mail, plan)
    [evaluation] = results(api.as_user(mail.analyst).get(EVALUATIONS))
    again = api.as_user(mail.analyst).get(EVIDENCE).json()
    for key in ("as_of", "all_met", "criteria", "monthly", "members", "departures", "withheld"):
        assert again[key] == evaluation[key], key


def test_the_page_shows_the_same_evidence(mail, api, client):
    plan_of(mail)
    client.force_login(mail.manager)
    shown = client.get("/pilots/MAIL/").context["evidence"]
    data = api.as_user(mail.manager).get(EVIDENCE).json()
    assert data["criteria"] == [{"withheld": None, **c} for c in shown.criteria]
    assert data["monthly"] == shown.monthly
    assert data["withheld"] == shown.withheld


@pytest.mark.parametrize(
    "persona", ["manager", "other_manager", "recused_deputy_minister", "other_provider_manager"]
)
def test_the_evidence_so_far_withholds_a_total_of_two(two_contributors, api, client, persona):
    user = getattr(two_contributors, persona)
    data = api.as_user(user).get(EVIDENCE).json()
    assert data["withheld"] == WITHHELD
    by_name = {c["criterion"]: c for c in data["criteria"]}
    assert (by_name["benefit"]["measured"], by_name["benefit"]["withheld"]) == (None, WITHHELD)
    for month in data["monthly"]:
        assert (month["baseline"], month["charged"], month["benefit"]) == (None, None, None)
        assert month["cost_per_unit"] is not None
    # As the page shows it.
    client.force_login(user)
    assert client.get("/pilots/MAIL/").context["evidence"].withheld == WITHHELD
    csv_rows = list(
        csv.DictReader(
            io.StringIO(api.as_user(user).get(EVIDENCE, {"format": "csv"}).content.decode())
        )
    )
    assert [r["benefit"] for r in csv_rows] == ["", "", ""]


@pytest.mark.parametrize("persona", ["analyst", "administrator"])
def test_the_evidence_so_far_shows_the_benefit_to_whom_sees_every_department(
    two_contributors, api, persona
):
    data = api.as_user(getattr(two_contributors, persona)).get(EVIDENCE).json()
    assert data["withheld"] is None
    assert data["criteria"][3]["measured"] is not None


def test_whoever_does_not_read_the_evidence_gets_a_404(mail, api, client, outsiders):
    """The page leaves the section out for them; the API answers 404."""
    plan_of(mail)
    for user in outsiders:
        response = api.as_user(user).get(EVIDENCE)
        assert response.status_code == 404, user
        assert "detail" in response.json()
        assert api.as_user(user).get(MAIL).status_code == 200  # the plan is public
        client.force_login(user)
        page = client.get("/pilots/MAIL/")
        assert page.status_code == 200 and page.context["evidence"] is None


@pytest.mark.parametrize("status", [PilotStatus.LIVE, PilotStatus.STOPPED])
def test_a_decided_pilot_has_no_evidence_so_far(mail, api, client, status):
    plan = plan_of(mail)
    evaluate(mail, plan)
    PilotPlan.objects.filter(pk=plan.pk).update(status=status)
    response = api.as_user(mail.analyst).get(EVIDENCE)
    assert response.status_code == 404
    assert response.json()["detail"] == NO_EVIDENCE_SO_FAR.format(
        service="Digital mail", status=PilotStatus(status).label.lower()
    )
    # Its evaluation keeps the evidence it was decided on; the page shows none so far.
    assert len(results(api.as_user(mail.analyst).get(EVALUATIONS))) == 1
    client.force_login(mail.analyst)
    assert client.get("/pilots/MAIL/").context["evidence"] is None


def test_a_pilot_with_the_board_shows_its_evidence_so_far(mail, api):
    evaluate(mail, plan_of(mail))
    assert PilotPlan.objects.get().status == PilotStatus.UNDER_REVIEW
    assert api.as_user(mail.manager).get(EVIDENCE).status_code == 200


def test_the_evidence_signed_out_is_401_unknown_404_and_not_written(mail, api):
    plan_of(mail)
    assert api.as_user(None).get(EVIDENCE).status_code == 401
    client = api.as_user(mail.administrator)
    for url in (f"{PILOT_PLANS}NOPE/evidence/", f"{PILOT_PLANS}IT/evidence/"):
        assert client.get(url).status_code == 404, url
    before = snapshot()
    for method in ("post", "put", "patch", "delete"):
        assert getattr(client, method)(EVIDENCE, {}, format="json").status_code == 405
    assert snapshot() == before


def test_the_evidence_as_csv_has_the_months(mail, api):
    plan_of(mail)
    response = api.as_user(mail.analyst).get(EVIDENCE, {"format": "csv"})
    assert response.status_code == 200
    rows = list(csv.DictReader(io.StringIO(response.getvalue().decode())))
    assert [r["period"] for r in rows] == [months_back(n).strftime("%Y-%m") for n in (3, 2, 1)]
    assert rows[0]["pool"] == "2400.00" and rows[0]["charged"] == "2400.00"


def test_the_evidence_is_one_computation_for_both_doors(mail, api, monkeypatch):
    plan_of(mail)
    calls = []
    original = selectors.pilot_evidence_so_far

    def spy(*args, **kwargs):
        calls.append(args[1].service.code)
        return original(*args, **kwargs)

    monkeypatch.setattr(selectors, "pilot_evidence_so_far", spy)
    assert api.as_user(mail.analyst).get(EVIDENCE).status_code == 200
    assert calls == ["MAIL"]


# Query counts ------------------------------------------------------------------------------


def grow(world, n: int, start: int = 0) -> None:
    """n more pilots, each with two clusters and an evaluation with the board; n more
    members of MAIL-TECH with their returns; and n more evaluations of MAIL (each lapsed
    before the next, the last with the board)."""
    for i in range(start, start + n):
        service = ServiceFactory(
            code=f"P{i:03d}", name=f"Pilot {i}", category="it", lifecycle=Lifecycle.PILOT
        )
        clusters = [
            ClusterFactory(code=f"P{i:03d}-{x}", service=service, provider=world.tech_provider)
            for x in "AB"
        ]
        MembershipFactory(department=world.lcs, cluster=clusters[0], joined_on=months_back(2))
        evaluate(world, plan_of(world, service=service, clusters=clusters, min_members=1))
    plan = PilotPlan.objects.get(service__code="MAIL")
    now = world.clock
    for _ in range(n):
        plan.refresh_from_db()
        if plan.status == PilotStatus.UNDER_REVIEW:
            latest = PilotEvaluation.objects.filter(plan=plan).first()  # newest first
            assert latest is not None
            now = lapse(latest) + datetime.timedelta(minutes=1)
        evaluate(world, plan, now=now)
    world.clock = now
    for i in range(start, start + n):
        # A member of MAIL-TECH with its returns (MAIL's evidence grows), after the
        # evaluations, whose evidence stays as it was.
        member = DepartmentFactory(code=f"M{i:03d}")
        MembershipFactory(department=member, cluster=world.mail_cluster, joined_on=months_back(3))
        for back in (3, 2, 1):
            Measurement.objects.create(
                standard=world.mail.standards.get(),
                cluster=world.mail_cluster,
                department=member,
                period=months_back(back),
                value=Decimal("97"),
                submitted_by=world.other_provider_manager,
                submitted_at=timezone.now(),
            )


# url -> (persona, pinned count). Session sign-in costs 2 queries (session, user).
LISTS = {
    # count, page (service joined), clusters, evaluations (case ids, as far as the
    # analyst reads the evidence: in the same query)
    "/api/v1/pilot-plans/": ("analyst", 6),
    # the same, and the cluster named by the filter
    "/api/v1/pilot-plans/?cluster=MAIL-TECH&status=under_review": ("manager", 7),
    # the same (the deputy minister's seat is a subquery of the evaluations' query)
    "/api/v1/pilot-plans/?ends_on_after=2000-01-01": ("deputy_minister", 6),
    "/api/v1/pilot-plans/?format=csv": ("provider_manager", 6),  # no count
    # the plan (service joined), its clusters, its evaluations
    "/api/v1/pilot-plans/MAIL/": ("other_provider_manager", 5),
    # the plan, count, page (evaluator joined; the evidence is in the row)
    "/api/v1/pilot-plans/MAIL/evaluations/": ("analyst", 5),
    "/api/v1/pilot-plans/MAIL/evaluations/?decision=go_live": ("manager", 5),
    # the same (the seat is a subquery of the count and of the page)
    "/api/v1/pilot-plans/MAIL/evaluations/?as_of_after=2000-01-01": ("deputy_minister", 5),
    "/api/v1/pilot-plans/MAIL/evaluations/?format=csv": ("other_manager", 5),  # no count
    # the plan (service joined, as far as the reader reads its evidence), then the
    # evidence: its clusters, returns, pools, charges, memberships
    "/api/v1/pilot-plans/MAIL/evidence/": ("analyst", 8),
    # the same (the member's condition is a subquery of the plan's query)
    "/api/v1/pilot-plans/MAIL/evidence/?format=csv": ("manager", 8),
}


def test_no_list_runs_more_queries_as_the_data_grows(mail):
    plan_of(mail)
    mail.clock = timezone.now()

    def signed_in(persona: str) -> Client:
        client = Client()
        client.force_login(getattr(mail, persona))
        return client

    wrong = counts_that_grow(
        LISTS, signed_in, small=lambda: grow(mail, 1), large=lambda: grow(mail, 5, start=1)
    )
    assert wrong == []


def test_the_query_counts_see_the_growth(mail, api):
    plan_of(mail)
    mail.clock = timezone.now()
    grow(mail, 3)
    client = api.as_user(mail.analyst)
    assert client.get(PILOT_PLANS).json()["count"] == 4
    assert client.get(EVALUATIONS).json()["count"] == 3
    assert len(client.get(MAIL).json()["cases"]) == 3
    assert client.get(f"{PILOT_PLANS}P001/").json()["clusters"] == ["P001-A", "P001-B"]
    # The manager reads the evidence of MAIL and of the pilots LCS is a member of.
    rows = results(api.as_user(mail.manager).get(PILOT_PLANS))
    assert all(len(r["cases"]) >= 1 for r in rows)


# The schema says what the answers are --------------------------------------------------------


@pytest.mark.usefixtures("keep_test_connection", "plain_static")
@pytest.mark.parametrize("persona", ["manager", "analyst"])
def test_the_answers_are_what_the_schema_says(two_contributors, persona):
    """The evidence is nested JSON the schema documents by hand: each answer, withheld
    (the manager) or not (the analyst), is checked against it. Schemathesis's run over
    every operation (tests/sharedsvc/test_schema.py) has no pilot in its world."""
    schema = served_schema()
    token = AuthToken.objects.create(user=getattr(two_contributors, persona))[1]
    headers = {"Authorization": f"Token {token}"}
    for path, query in (
        ("/api/v1/pilot-plans/", {}),
        ("/api/v1/pilot-plans/{service_code}/", {}),
        ("/api/v1/pilot-plans/{service_code}/evaluations/", {}),
        ("/api/v1/pilot-plans/{service_code}/evaluations/", {"format": "csv"}),
    ):
        operation = schema[path]["GET"]
        params = {"service_code": "MAIL"} if "{service_code}" in path else {}
        case = operation.Case(path_parameters=params, query=query)
        response = case.call_and_validate(headers=headers)
        assert response.status_code == 200, (path, response.text)
