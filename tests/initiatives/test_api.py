"""Programmes through the REST API (v1): a programme with its target departments, their
progress today and its board cases; proposing one; each department's answer and its
progress; every refusal with its message and the database checked after each write; who
may propose and who may answer; filters, CSV, pagination and query counts."""

from __future__ import annotations

import csv
import datetime
import io
from decimal import Decimal
from typing import Any

import pghistory.models
import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from budgets.services import chargeback_run, cost_pool_create
from clusters.models import Membership
from clusters.rules import WITHHELD
from governance import services as board
from governance.models import Case, CaseKind, CaseStatus
from initiatives import selectors, services
from initiatives.api.serializers import DUPLICATE_CODE, TEXT_TOO_LONG
from initiatives.models import (
    TEXT_MAX_LENGTH,
    Answer,
    Commitment,
    Programme,
    ProgrammeDecision,
    ProgrammeStatus,
)
from sharedsvc.roles import Role
from tests.factories import DepartmentFactory, MembershipFactory, UserFactory
from tests.pages import counts_that_grow
from tests.personas import World

API = "/api/v1"
PROGRAMMES = f"{API}/programmes/"
NUL = "\x00"
NO_PROGRESS = {"pending": 0, "committed": 0, "joined": 0, "late": 0, "declined": 0}


def in_days(days: int) -> datetime.date:
    return timezone.localdate() + datetime.timedelta(days=days)


def propose(world: World, **overrides) -> Programme:
    fields: dict[str, Any] = {
        "actor": world.deputy_minister,
        "code": "ITNOW",
        "name": "Desktop IT for every ministry",
        "service": world.it,
        "sponsor": world.deputy_minister,
        "goal": "Every ministry on one shared desktop service.",
        "target_on": in_days(180),
        "departments": [world.env, world.fin],
    }
    return services.programme_propose(**{**fields, **overrides})


def proposal(**overrides) -> dict[str, Any]:
    """A body for POST /programmes/."""
    return {
        "code": "PAYALL",
        "name": "Payroll for all",
        "service": "PAY",
        "sponsor": "dm_fin",
        "goal": "One payroll for every ministry.",
        "target_on": in_days(120).isoformat(),
        "departments": ["ENV", "TECH"],
        **overrides,
    }


def snapshot() -> dict[str, Any]:
    """Everything a proposal or an answer could change."""
    state: dict[str, Any] = {
        model.__name__: list(model.objects.order_by("pk").values())
        for model in (Programme, Commitment, ProgrammeDecision, Case)
    }
    state["events"] = pghistory.models.Events.objects.count()
    return state


def results(response) -> list[dict[str, Any]]:
    assert response.status_code == 200, response.content
    return response.json()["results"]


def answer(api, user, programme_code: str, department: str, data: Any):
    url = f"{PROGRAMMES}{programme_code}/commitments/{department}/"
    return api.as_user(user).put(url, data, format="json")


def answer_as(actor, commitment: Commitment, answer: str, **fields) -> Commitment:
    return services.commitment_answer(actor=actor, commitment=commitment, answer=answer, **fields)


def commitment(programme: Programme, code: str) -> Commitment:
    return Commitment.objects.get(programme=programme, department__code=code)


# Reading a programme ----------------------------------------------------------------------


def test_a_programme_shows_its_fields(world, api):
    programme = propose(world)
    case = Case.objects.get(programme_decision__programme=programme)
    response = api.as_user(world.other_manager).get(f"{PROGRAMMES}ITNOW/")
    assert response.status_code == 200, response.content
    data = response.json()
    assert data == {
        "code": "ITNOW",
        "name": "Desktop IT for every ministry",
        "service": "IT",
        "sponsor": "dm_lcs",
        "goal": "Every ministry on one shared desktop service.",
        "target_on": in_days(180).isoformat(),
        "status": "proposed",
        "proposed_by": "dm_lcs",
        "proposed_at": data["proposed_at"],
        "departments": ["ENV", "FIN"],
        "progress": {**NO_PROGRESS, "pending": 2},
        "cases": [case.pk],
    }
    assert datetime.datetime.fromisoformat(data["proposed_at"]) == programme.proposed_at


def test_progress_counts_each_stage_as_of_today(world, api):
    programme = propose(world, departments=[world.lcs, world.env, world.fin, world.tech])
    soon = in_days(10)
    for code in ("LCS", "ENV", "FIN"):
        answer_as(world.administrator, commitment(programme, code), Answer.COMMITTED, join_by=soon)
    # LCS is in IT-TECH since 2025; ENV joins a cluster of IT on its date; FIN does not.
    Membership.objects.create(
        department=world.env,
        cluster=world.it_tech,
        service=world.it,
        joined_on=soon,
        usage_units=10,
    )
    client = api.as_user(world.analyst)
    assert client.get(f"{PROGRAMMES}ITNOW/").json()["progress"] == {
        **NO_PROGRESS,
        "joined": 2,
        "committed": 1,
        "pending": 1,
    }
    answer_as(
        world.administrator,
        commitment(programme, "TECH"),
        Answer.DECLINED,
        reason="Our own desktops.",
    )
    with time_machine.travel(timezone.now() + datetime.timedelta(days=11)):
        data = client.get(f"{PROGRAMMES}ITNOW/").json()
        assert data["progress"] == {**NO_PROGRESS, "joined": 2, "late": 1, "declined": 1}
        rows = results(client.get(f"{PROGRAMMES}ITNOW/commitments/"))
    assert {r["department"]: r["progress"] for r in rows} == {
        "ENV": "joined",
        "FIN": "late",
        "LCS": "joined",
        "TECH": "declined",
    }


def test_cases_are_the_programmes_board_cases_newest_first(world, api):
    programme = propose(world)
    first = Case.objects.get(programme_decision__programme=programme)
    board.case_close_due(as_of=first.closes_at)  # lapses: the programme stays proposed
    again = services.programme_to_board(actor=world.administrator, programme=programme)
    data = api.as_user(world.provider_manager).get(f"{PROGRAMMES}ITNOW/").json()
    assert data["cases"] == [again.pk, first.pk]
    assert data["status"] == "proposed"


@pytest.mark.parametrize(
    "persona",
    [
        "administrator",
        "analyst",
        "manager",
        "other_manager",
        "deputy_minister",
        "recused_deputy_minister",
        "provider_manager",
        "other_provider_manager",
    ],
)
def test_every_signed_in_user_reads_programmes_and_answers(world, api, persona):
    propose(world)
    client = api.as_user(getattr(world, persona))
    assert [r["code"] for r in results(client.get(PROGRAMMES))] == ["ITNOW"]
    assert client.get(f"{PROGRAMMES}ITNOW/").status_code == 200
    assert [r["department"] for r in results(client.get(f"{PROGRAMMES}ITNOW/commitments/"))] == [
        "ENV",
        "FIN",
    ]


def test_signed_out_is_401_and_unknown_is_404(world, api):
    propose(world)
    signed_out = api.as_user(None)
    for url in (PROGRAMMES, f"{PROGRAMMES}ITNOW/", f"{PROGRAMMES}ITNOW/commitments/"):
        assert signed_out.get(url).status_code == 401, url
    before = snapshot()
    assert signed_out.post(PROGRAMMES, proposal(), format="json").status_code == 401
    response = answer(api, None, "ITNOW", "ENV", {"answer": "declined", "reason": "No."})
    assert response.status_code == 401
    assert snapshot() == before
    client = api.as_user(world.analyst)
    for url in (
        f"{PROGRAMMES}NOPE/",
        f"{PROGRAMMES}NOPE/commitments/",
        f"{PROGRAMMES}NOPE/commitments/ENV/",
        f"{PROGRAMMES}ITNOW/commitments/LCS/",  # LCS is no target of ITNOW
        f"{PROGRAMMES}ITNOW/commitments/env/",  # not a department code
        f"{PROGRAMMES}{'X' * 21}/",  # longer than a programme code
    ):
        response = client.get(url)
        assert response.status_code == 404, url
        assert "detail" in response.json()


def test_programmes_are_not_edited_or_deleted_here(world, api):
    propose(world)
    client = api.as_user(world.administrator)
    before = snapshot()
    for method in ("put", "patch", "delete"):
        response = getattr(client, method)(f"{PROGRAMMES}ITNOW/", {}, format="json")
        assert response.status_code == 405, method
    assert client.post(f"{PROGRAMMES}ITNOW/commitments/", {}, format="json").status_code == 405
    for method in ("patch", "delete"):
        response = getattr(client, method)(f"{PROGRAMMES}ITNOW/commitments/ENV/", {}, format="json")
        assert response.status_code == 405, method
    assert snapshot() == before


# Filters, CSV, pagination -----------------------------------------------------------------


@pytest.fixture
def two_programmes(world):
    """ITNOW (IT, sponsored by LCS's DM, targets ENV and FIN, in 180 days), proposed; and
    PAYALL (payroll, sponsored by FIN's DM, targets LCS and ENV, in 90 days), active."""
    propose(world)
    payall = propose(
        world,
        actor=world.administrator,
        code="PAYALL",
        name="Payroll for all",
        service=world.payroll,
        sponsor=world.recused_deputy_minister,
        target_on=in_days(90),
        departments=[world.lcs, world.env],
    )
    Programme.objects.filter(pk=payall.pk).update(status=ProgrammeStatus.ACTIVE)
    return world


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({}, ["ITNOW", "PAYALL"]),
        ({"service": "IT"}, ["ITNOW"]),
        ({"service": "PAY"}, ["PAYALL"]),
        ({"sponsor": "dm_fin"}, ["PAYALL"]),
        ({"sponsor": "dm_lcs"}, ["ITNOW"]),
        ({"sponsor": "nobody"}, []),
        ({"status": "active"}, ["PAYALL"]),
        ({"status": "proposed"}, ["ITNOW"]),
        ({"status": "closed"}, []),
        ({"department": "LCS"}, ["PAYALL"]),
        ({"department": "ENV"}, ["ITNOW", "PAYALL"]),
        ({"department": "TECH"}, []),
        ({"target_on_after": "{in_100}"}, ["ITNOW"]),
        ({"target_on_before": "{in_100}"}, ["PAYALL"]),
        ({"target_on_after": "{in_90}", "target_on_before": "{in_90}"}, ["PAYALL"]),
        ({"status": ""}, ["ITNOW", "PAYALL"]),  # empty: not filtered
    ],
)
def test_programme_filters(two_programmes, api, params, expected):
    values = {"in_90": in_days(90).isoformat(), "in_100": in_days(100).isoformat()}
    query = {k: v.format(**values) for k, v in params.items()}
    rows = results(api.as_user(two_programmes.manager).get(PROGRAMMES, query))
    assert [r["code"] for r in rows] == expected


@pytest.mark.parametrize(
    ("params", "field", "message"),
    [
        ({"service": "NOPE"}, "service", "No service has the code “NOPE”."),
        ({"department": "NOPE"}, "department", "No department has the code “NOPE”."),
        ({"department": f"LCS{NUL}"}, "department", None),
        ({"status": "pending"}, "status", None),
        ({"sponsor": f"dm{NUL}"}, "sponsor", "Null characters"),
        ({"target_on_after": "tomorrow"}, "target_on", None),
        ({"target_on_before": "2026-02-30"}, "target_on", None),
    ],
)
def test_bad_programme_filters_are_400(world, api, params, field, message):
    response = api.as_user(world.analyst).get(PROGRAMMES, params)
    assert response.status_code == 400, response.content
    errors = response.json()
    assert field in errors, errors
    if message:
        assert any(message in m for m in errors[field]), errors


def test_programmes_as_csv(two_programmes, api):
    response = api.as_user(two_programmes.analyst).get(PROGRAMMES, {"format": "csv"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.getvalue().decode())))
    assert list(rows[0]) == [
        "code",
        "name",
        "service",
        "sponsor",
        "goal",
        "target_on",
        "status",
        "proposed_by",
        "proposed_at",
        "departments",
        "progress.pending",
        "progress.committed",
        "progress.joined",
        "progress.late",
        "progress.declined",
        "cases",
    ]
    assert [(r["code"], r["departments"], r["progress.pending"]) for r in rows] == [
        ("ITNOW", "ENV;FIN", "2"),
        ("PAYALL", "ENV;LCS", "2"),
    ]
    assert rows[1]["cases"] == str(
        Case.objects.get(programme_decision__programme__code="PAYALL").pk
    )


def test_programmes_csv_follows_the_filters(two_programmes, api):
    response = api.as_user(two_programmes.analyst).get(
        PROGRAMMES, {"format": "csv", "status": "active"}
    )
    rows = list(csv.DictReader(io.StringIO(response.getvalue().decode())))
    assert [r["code"] for r in rows] == ["PAYALL"]
    response = api.as_user(two_programmes.analyst).get(
        PROGRAMMES, {"format": "csv", "service": "NOPE"}
    )
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"


def test_programmes_are_paginated(two_programmes, api):
    client = api.as_user(two_programmes.analyst)
    first = client.get(PROGRAMMES, {"page_size": 1}).json()
    assert (first["count"], [r["code"] for r in first["results"]]) == (2, ["ITNOW"])
    assert first["previous"] is None and "page=2" in first["next"]
    second = client.get(PROGRAMMES, {"page_size": 1, "page": 2}).json()
    assert ([r["code"] for r in second["results"]], second["next"]) == (["PAYALL"], None)
    assert client.get(PROGRAMMES, {"page_size": 1, "page": 3}).status_code == 404
    assert client.get(PROGRAMMES, {"page_size": 0}).status_code == 400


# Proposing --------------------------------------------------------------------------------


@pytest.mark.parametrize("persona", ["deputy_minister", "recused_deputy_minister", "administrator"])
def test_proposing_is_201_and_puts_it_to_the_board(world, api, persona):
    user = getattr(world, persona)
    response = api.as_user(user).post(PROGRAMMES, proposal(), format="json")
    assert response.status_code == 201, response.content
    data = response.json()
    programme = Programme.objects.get()
    case = Case.objects.get()
    assert data == {
        "code": "PAYALL",
        "name": "Payroll for all",
        "service": "PAY",
        "sponsor": "dm_fin",
        "goal": "One payroll for every ministry.",
        "target_on": in_days(120).isoformat(),
        "status": "proposed",
        "proposed_by": user.username,
        "proposed_at": data["proposed_at"],
        "departments": ["ENV", "TECH"],
        "progress": {**NO_PROGRESS, "pending": 2},
        "cases": [case.pk],
    }
    assert (programme.code, programme.service, programme.sponsor, programme.proposed_by) == (
        "PAYALL",
        world.payroll,
        world.recused_deputy_minister,
        user,
    )
    assert (programme.status, programme.target_on) == (ProgrammeStatus.PROPOSED, in_days(120))
    assert sorted(programme.commitments.values_list("department__code", "answer")) == [
        ("ENV", Answer.PENDING),
        ("TECH", Answer.PENDING),
    ]
    assert (case.kind, case.status) == (CaseKind.PROGRAMME, CaseStatus.OPEN)
    assert ProgrammeDecision.objects.get().programme == programme


def test_a_target_named_twice_is_one_target(world, api):
    body = proposal(departments=["ENV", "TECH", "ENV"])
    response = api.as_user(world.deputy_minister).post(PROGRAMMES, body, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["departments"] == ["ENV", "TECH"]
    assert Commitment.objects.count() == 2


@pytest.mark.parametrize(
    "persona",
    ["analyst", "manager", "other_manager", "provider_manager", "other_provider_manager"],
)
def test_others_may_not_propose_403_with_why(world, api, persona):
    before = snapshot()
    response = api.as_user(getattr(world, persona)).post(PROGRAMMES, proposal(), format="json")
    assert response.status_code == 403
    assert response.json() == {"detail": services.MAY_NOT_PROPOSE}
    assert snapshot() == before


def _inactive(world):
    DepartmentFactory(code="OLD", active=False)


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"service": "NOPE"}, "service", "No service has the code “NOPE”."),
        ({"departments": ["ENV", "NOPE"]}, "departments", "No department has the code “NOPE”."),
        ({"departments": "ENV"}, "departments", "Expected a list"),
        ({"departments": []}, "departments", services.NO_TARGETS),
        ({"departments": ["OLD"]}, "departments", services.INACTIVE_TARGET.format(code="OLD")),
        ({"sponsor": "nobody"}, "sponsor", "No user has the username “nobody”."),
        ({"sponsor": "mgr_lcs"}, "sponsor", services.SPONSOR_NOT_A_DEPUTY_MINISTER),
        ({"sponsor": 7}, "sponsor", "Give a username as text."),
        ({"target_on": "{today}"}, "target_on", "{past}"),
        ({"target_on": "{yesterday}"}, "target_on", "{past}"),
        ({"target_on": "31/12/2030"}, "target_on", "Date has wrong format"),
        ({"code": "ITNOW"}, "code", DUPLICATE_CODE),
        ({"code": "IT NOW"}, "code", None),
        ({"code": "X" * 21}, "code", "no more than 20"),
        ({"code": ""}, "code", None),
        ({"name": ""}, "name", None),
        ({"goal": "x" * (TEXT_MAX_LENGTH + 1)}, "goal", TEXT_TOO_LONG),
        ({"goal": f"One{NUL}"}, "goal", "Null characters"),
        ({"service": None}, "service", None),
    ],
)
def test_bad_proposals_are_400_with_a_message_and_change_nothing(
    world, api, overrides, field, message
):
    propose(world)  # ITNOW exists already
    _inactive(world)
    today = timezone.localdate()
    values = {
        "today": today.isoformat(),
        "yesterday": (today - datetime.timedelta(days=1)).isoformat(),
        "past": services.TARGET_IN_THE_PAST.format(today=today),
    }
    overrides = {k: v.format(**values) if isinstance(v, str) else v for k, v in overrides.items()}
    before = snapshot()
    response = api.as_user(world.deputy_minister).post(
        PROGRAMMES, proposal(**overrides), format="json"
    )
    assert response.status_code == 400, response.content
    errors = response.json()
    assert field in errors, errors
    if message:
        expected = message.format(**values)
        assert any(expected in m for m in errors[field]), errors
    assert snapshot() == before


def test_every_field_of_a_proposal_is_required(world, api):
    response = api.as_user(world.deputy_minister).post(PROGRAMMES, {}, format="json")
    assert response.status_code == 400
    assert set(response.json()) == {
        "code",
        "name",
        "service",
        "sponsor",
        "goal",
        "target_on",
        "departments",
    }
    assert not Programme.objects.exists()


def test_the_service_names_every_field_it_refuses_at_once(world, api):
    body = proposal(sponsor="mgr_lcs", departments=[], target_on=timezone.localdate().isoformat())
    response = api.as_user(world.administrator).post(PROGRAMMES, body, format="json")
    assert response.status_code == 400
    assert set(response.json()) == {"sponsor", "departments", "target_on"}
    assert not Programme.objects.exists() and not Case.objects.exists()


def test_a_body_that_is_not_an_object_is_400(world, api):
    for body in (["PAYALL"], "PAYALL"):
        response = api.as_user(world.deputy_minister).post(PROGRAMMES, body, format="json")
        assert response.status_code == 400
    response = api.as_user(world.deputy_minister).post(
        PROGRAMMES, "code=PAYALL", content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 415
    assert not Programme.objects.exists()


# Commitments -------------------------------------------------------------------------------


def test_a_commitment_shows_its_answer_and_progress(world, api):
    programme = propose(world)
    client = api.as_user(world.analyst)
    pending = client.get(f"{PROGRAMMES}ITNOW/commitments/ENV/").json()
    assert pending == {
        "programme": "ITNOW",
        "department": "ENV",
        "answer": "pending",
        "join_by": None,
        "reason": "",
        "answered_by": None,
        "answered_at": None,
        "progress": "pending",
    }
    services.commitment_answer(
        actor=world.other_manager,
        commitment=commitment(programme, "ENV"),
        answer=Answer.COMMITTED,
        join_by=in_days(30),
    )
    data = client.get(f"{PROGRAMMES}ITNOW/commitments/ENV/").json()
    assert {k: v for k, v in data.items() if k != "answered_at"} == {
        "programme": "ITNOW",
        "department": "ENV",
        "answer": "committed",
        "join_by": in_days(30).isoformat(),
        "reason": "",
        "answered_by": "mgr_env",
        "progress": "committed",
    }
    assert data["answered_at"] is not None


@pytest.fixture
def answered(world):
    """ITNOW targets LCS (joined: it is in IT-TECH), ENV (committed), FIN (committed,
    late in eleven days) and TECH (declined); PAYALL targets ENV (pending)."""
    programme = propose(world, departments=[world.lcs, world.env, world.fin, world.tech])
    answer_as(
        world.administrator, commitment(programme, "LCS"), Answer.COMMITTED, join_by=in_days(5)
    )
    answer_as(
        world.administrator, commitment(programme, "ENV"), Answer.COMMITTED, join_by=in_days(60)
    )
    answer_as(
        world.administrator, commitment(programme, "FIN"), Answer.COMMITTED, join_by=in_days(10)
    )
    answer_as(
        world.administrator, commitment(programme, "TECH"), Answer.DECLINED, reason="Own desktops."
    )
    propose(
        world, code="PAYALL", service=world.payroll, target_on=in_days(90), departments=[world.env]
    )
    return programme


ELEVEN_DAYS_ON = datetime.timedelta(days=11)


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({}, ["ENV", "FIN", "LCS", "TECH"]),
        ({"department": "FIN"}, ["FIN"]),
        ({"answer": "committed"}, ["ENV", "FIN", "LCS"]),
        ({"answer": "declined"}, ["TECH"]),
        ({"answer": "pending"}, []),
        ({"progress": "joined"}, ["LCS"]),
        ({"progress": "committed"}, ["ENV"]),
        ({"progress": "late"}, ["FIN"]),
        ({"progress": "declined"}, ["TECH"]),
        ({"progress": "pending"}, []),
        ({"progress": "late", "department": "ENV"}, []),
    ],
)
def test_commitment_filters(world, api, answered, params, expected):
    with time_machine.travel(timezone.now() + ELEVEN_DAYS_ON):
        rows = results(api.as_user(world.manager).get(f"{PROGRAMMES}ITNOW/commitments/", params))
    assert [r["department"] for r in rows] == expected


def test_the_progress_filter_agrees_with_the_progress_shown(world, api, answered):
    client = api.as_user(world.analyst)
    for days in (0, 11, 61):  # before any date, FIN late, ENV late too
        with time_machine.travel(timezone.now() + datetime.timedelta(days=days)):
            shown = {
                r["department"]: r["progress"]
                for r in results(client.get(f"{PROGRAMMES}ITNOW/commitments/"))
            }
            for progress in ("pending", "committed", "joined", "late", "declined"):
                rows = results(
                    client.get(f"{PROGRAMMES}ITNOW/commitments/", {"progress": progress})
                )
                assert {r["department"] for r in rows} == {
                    d for d, p in shown.items() if p == progress
                }, (days, progress)
    assert shown == {"LCS": "joined", "ENV": "late", "FIN": "late", "TECH": "declined"}


def test_with_progress_agrees_with_progress_on(world, answered):
    """The rule is written twice, in Python (`progress_on`, for rows already loaded) and in
    SQL (`with_progress`, for filters): on every day they give the same progress."""
    for days in (0, 5, 6, 10, 11, 60, 61):
        day = in_days(days)
        rows = Commitment.objects.with_progress(day).select_related("department")
        assert rows.count() == 5
        for row in rows:
            assert row.progress == row.progress_on(day, joined=row.joined_on_time), (
                days,
                row.department.code,
            )
    on_day_11 = dict(
        Commitment.objects.with_progress(in_days(11))
        .filter(programme__code="ITNOW")
        .values_list("department__code", "progress")
    )
    assert on_day_11 == {"LCS": "joined", "ENV": "committed", "FIN": "late", "TECH": "declined"}


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"department": "NOPE"}, "department"),
        ({"answer": "joined"}, "answer"),
        ({"progress": "finished"}, "progress"),
    ],
)
def test_bad_commitment_filters_are_400(world, api, answered, params, field):
    response = api.as_user(world.analyst).get(f"{PROGRAMMES}ITNOW/commitments/", params)
    assert response.status_code == 400, response.content
    assert field in response.json()


def test_commitments_as_csv(world, api, answered):
    response = api.as_user(world.analyst).get(f"{PROGRAMMES}ITNOW/commitments/", {"format": "csv"})
    assert response.status_code == 200
    rows = list(csv.DictReader(io.StringIO(response.getvalue().decode())))
    assert list(rows[0]) == [
        "programme",
        "department",
        "answer",
        "join_by",
        "reason",
        "answered_by",
        "answered_at",
        "progress",
    ]
    assert [(r["department"], r["answer"], r["progress"]) for r in rows] == [
        ("ENV", "committed", "committed"),
        ("FIN", "committed", "committed"),
        ("LCS", "committed", "joined"),
        ("TECH", "declined", "declined"),
    ]
    assert rows[3]["reason"] == "Own desktops." and rows[3]["join_by"] == ""


# Answering --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("persona", "department"),
    [
        ("other_manager", "ENV"),  # ENV's manager
        ("recused_deputy_minister", "FIN"),  # FIN's deputy minister
        ("administrator", "ENV"),
    ],
)
def test_committing_is_200_and_saved(world, api, persona, department):
    programme = propose(world)
    user = getattr(world, persona)
    response = answer(
        api, user, "ITNOW", department, {"answer": "committed", "join_by": in_days(60).isoformat()}
    )
    assert response.status_code == 200, response.content
    data = response.json()
    assert {k: v for k, v in data.items() if k != "answered_at"} == {
        "programme": "ITNOW",
        "department": department,
        "answer": "committed",
        "join_by": in_days(60).isoformat(),
        "reason": "",
        "answered_by": user.username,
        "progress": "committed",
    }
    saved = commitment(programme, department)
    assert (saved.answer, saved.join_by, saved.reason, saved.answered_by) == (
        Answer.COMMITTED,
        in_days(60),
        "",
        user,
    )
    assert datetime.datetime.fromisoformat(data["answered_at"]) == saved.answered_at
    other = "FIN" if department == "ENV" else "ENV"
    assert commitment(programme, other).answer == Answer.PENDING


def test_a_later_answer_replaces_the_last_one(world, api):
    programme = propose(world)
    late = {
        "answer": "committed",
        "join_by": (programme.target_on + datetime.timedelta(days=30)).isoformat(),
        "reason": "Our contract ends a month after the target.",
    }
    assert answer(api, world.other_manager, "ITNOW", "ENV", late).status_code == 200
    response = answer(
        api,
        world.other_manager,
        "ITNOW",
        "ENV",
        {"answer": "declined", "join_by": in_days(5).isoformat(), "reason": "  Costs.  "},
    )
    assert response.status_code == 200, response.content
    assert (response.json()["join_by"], response.json()["progress"]) == (None, "declined")
    saved = commitment(programme, "ENV")
    assert (saved.answer, saved.join_by, saved.reason) == (Answer.DECLINED, None, "Costs.")
    assert Commitment.objects.filter(programme=programme).count() == 2


@pytest.mark.parametrize(
    ("persona", "department"),
    [
        ("manager", "ENV"),  # LCS's people do not answer for ENV
        ("deputy_minister", "ENV"),
        ("other_manager", "FIN"),
        ("analyst", "ENV"),
        ("provider_manager", "FIN"),
        ("other_provider_manager", "ENV"),
    ],
)
def test_others_may_not_answer_403_with_why(world, api, persona, department):
    propose(world)
    before = snapshot()
    response = answer(
        api, getattr(world, persona), "ITNOW", department, {"answer": "declined", "reason": "No."}
    )
    assert response.status_code == 403
    assert response.json() == {"detail": services.MAY_NOT_ANSWER.format(code=department)}
    assert snapshot() == before


def test_a_refusal_comes_before_the_body_is_read(world, api):
    propose(world)
    before = snapshot()
    response = answer(api, world.analyst, "ITNOW", "ENV", {"answer": "maybe"})
    assert response.status_code == 403
    assert snapshot() == before


@pytest.mark.parametrize("status", [ProgrammeStatus.REJECTED, ProgrammeStatus.CLOSED])
def test_no_answer_once_the_programme_is_rejected_or_closed_409(world, api, status):
    programme = propose(world)
    Programme.objects.filter(pk=programme.pk).update(status=status)
    before = snapshot()
    response = answer(
        api, world.other_manager, "ITNOW", "ENV", {"answer": "declined", "reason": "No."}
    )
    assert response.status_code == 409
    assert response.json() == {
        "detail": services.NOT_ANSWERABLE.format(code="ITNOW", status=status.label.lower())
    }
    assert snapshot() == before


def test_an_active_programme_is_answered(world, api):
    programme = propose(world)
    Programme.objects.filter(pk=programme.pk).update(status=ProgrammeStatus.ACTIVE)
    response = answer(
        api, world.other_manager, "ITNOW", "ENV", {"answer": "declined", "reason": "No."}
    )
    assert response.status_code == 200, response.content
    assert commitment(programme, "ENV").answer == Answer.DECLINED


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"answer": "committed"}, "join_by", "{join_by_needed}"),
        ({"answer": "committed", "join_by": None}, "join_by", "{join_by_needed}"),
        ({"answer": "committed", "join_by": "{after_target}"}, "reason", "{late}"),
        (
            {"answer": "committed", "join_by": "{after_target}", "reason": "   "},
            "reason",
            "{late}",
        ),
        ({"answer": "declined"}, "reason", services.DECLINE_NEEDS_REASON),
        ({"answer": "declined", "reason": " "}, "reason", services.DECLINE_NEEDS_REASON),
        ({"answer": "pending"}, "answer", services.UNKNOWN_ANSWER),
        ({"answer": "maybe"}, "answer", services.UNKNOWN_ANSWER),
        ({"reason": "Why not."}, "answer", "required"),
        ({"answer": "committed", "join_by": "soon"}, "join_by", "Date has wrong format"),
        (
            {"answer": "declined", "reason": "x" * (TEXT_MAX_LENGTH + 1)},
            "reason",
            TEXT_TOO_LONG,
        ),
        ({"answer": "declined", "reason": f"No{NUL}"}, "reason", "Null characters"),
        ({"answer": "declined", "reason": 5}, "reason", None),
    ],
)
def test_bad_answers_are_400_and_change_nothing(world, api, data, field, message):
    programme = propose(world)
    values = {
        "after_target": (programme.target_on + datetime.timedelta(days=1)).isoformat(),
        "join_by_needed": services.JOIN_BY_NEEDED.format(service="Desktop IT"),
        "late": services.LATE_NEEDS_REASON.format(target=programme.target_on),
    }
    data = {k: v.format(**values) if isinstance(v, str) else v for k, v in data.items()}
    before = snapshot()
    response = answer(api, world.other_manager, "ITNOW", "ENV", data)
    assert response.status_code == 400, response.content
    errors = response.json()
    assert field in errors, errors
    if message:
        expected = message.format(**values)
        assert any(expected in m for m in errors[field]), errors
    assert snapshot() == before


def test_a_late_date_with_a_reason_is_accepted(world, api):
    programme = propose(world)
    after = programme.target_on + datetime.timedelta(days=1)
    response = answer(
        api,
        world.other_manager,
        "ITNOW",
        "ENV",
        {"answer": "committed", "join_by": after.isoformat(), "reason": "Contract ends then."},
    )
    assert response.status_code == 200, response.content
    saved = commitment(programme, "ENV")
    assert (saved.join_by, saved.reason) == (after, "Contract ends then.")


def test_an_answer_body_that_is_not_an_object_is_400(world, api):
    programme = propose(world)
    response = answer(api, world.other_manager, "ITNOW", "ENV", ["declined"])
    assert response.status_code == 400
    assert commitment(programme, "ENV").answer == Answer.PENDING


# The benefit to date of the departments that joined -----------------------------------------

BENEFIT = f"{PROGRAMMES}ITNOW/benefit/"
LAST_MONTH = (timezone.localdate().replace(day=1) - datetime.timedelta(days=1)).replace(day=1)


def join(world: World, programme: Programme, department, joined_on: datetime.date) -> None:
    """The department commits to join by a month from now, and is in IT-TECH since
    `joined_on` (LCS is already, since April 2025)."""
    if not Membership.objects.filter(department=department, cluster=world.it_tech).exists():
        MembershipFactory(department=department, cluster=world.it_tech, joined_on=joined_on)
    answer_as(
        world.administrator,
        commitment(programme, department.code),
        Answer.COMMITTED,
        join_by=in_days(30),
    )


@pytest.fixture
def joined(world):
    """ITNOW targets LCS, ENV and FIN: LCS (in IT-TECH since April 2025) and ENV (since
    June 2026) joined, FIN has not answered; IT-TECH was charged for last month. Two
    departments make the total."""
    programme = propose(world, departments=[world.lcs, world.env, world.fin])
    join(world, programme, world.lcs, datetime.date(2025, 4, 1))
    join(world, programme, world.env, datetime.date(2026, 6, 1))
    cost_pool_create(
        actor=world.administrator,
        cluster=world.it_tech,
        period=LAST_MONTH,
        amount=Decimal("4000.00"),
    )
    chargeback_run(actor=world.administrator, period=LAST_MONTH)
    world.programme = programme
    return world


def _money(value) -> str:
    return f"{value:.2f}"


def test_the_benefit_is_the_pages_rows_and_total(joined, api, client):
    """The same selector as the page: the analyst reads every row and the total."""
    response = api.as_user(joined.analyst).get(BENEFIT)
    assert response.status_code == 200, response.content
    data = response.json()
    client.force_login(joined.analyst)
    page = client.get("/programmes/ITNOW/").context["benefits"]
    assert data == {
        "programme": "ITNOW",
        "service": "IT",
        "as_of": timezone.localdate().isoformat(),
        "contributors": 2,
        "rows": [
            {
                "department": row["department"],
                "name": row["name"],
                "baseline": _money(row["baseline"]),
                "charged": _money(row["charged"]),
                "benefit": _money(row["benefit"]),
            }
            for row in page["rows"]
        ],
        "total": {
            "baseline": _money(page["total"]["baseline"]),
            "charged": _money(page["total"]["charged"]),
            "benefit": _money(page["total"]["benefit"]),
        },
        "withheld": None,
    }
    assert [r["department"] for r in data["rows"]] == ["ENV", "LCS"]
    assert sum(Decimal(r["charged"]) for r in data["rows"]) == Decimal("4000.00")
    for row in data["rows"]:
        assert Decimal(row["benefit"]) == Decimal(row["baseline"]) - Decimal(row["charged"])


@pytest.mark.parametrize(
    ("persona", "rows"),
    [
        ("manager", ["LCS"]),  # its own department's row
        ("deputy_minister", ["LCS"]),
        ("other_manager", ["ENV"]),
        ("recused_deputy_minister", []),  # FIN has not joined
        ("provider_manager", []),
        ("other_provider_manager", []),  # runs IT-TECH: charges, not baselines
    ],
)
def test_a_department_reads_its_own_row_and_not_a_total_of_two(joined, api, client, persona, rows):
    user = getattr(joined, persona)
    data = api.as_user(user).get(BENEFIT).json()
    assert [r["department"] for r in data["rows"]] == rows
    assert data["total"] is None
    assert data["withheld"] == WITHHELD
    assert data["contributors"] == 2
    # The page shows the same rows and withholds the same total.
    client.force_login(user)
    page = client.get("/programmes/ITNOW/").context["benefits"]
    assert [r["department"] for r in page["rows"]] == rows
    assert page["total"]["withheld"] == WITHHELD


def test_three_departments_show_the_total_to_everyone(joined, api):
    join(joined, joined.programme, joined.fin, datetime.date(2026, 6, 1))
    everything = api.as_user(joined.analyst).get(BENEFIT).json()
    for persona in ("manager", "provider_manager"):
        data = api.as_user(getattr(joined, persona)).get(BENEFIT).json()
        assert data["contributors"] == 3
        assert data["withheld"] is None
        assert data["total"] == everything["total"] is not None
    assert len(everything["rows"]) == 3


def test_nobody_joined_yet_is_no_row_and_no_total(world, api):
    propose(world)
    data = api.as_user(world.manager).get(BENEFIT).json()
    assert data == {
        "programme": "ITNOW",
        "service": "IT",
        "as_of": timezone.localdate().isoformat(),
        "contributors": 0,
        "rows": [],
        "total": None,
        "withheld": None,
    }


def test_the_benefit_as_csv_has_the_rows_you_see(joined, api):
    response = api.as_user(joined.analyst).get(BENEFIT, {"format": "csv"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.getvalue().decode())))
    assert [r["department"] for r in rows] == ["ENV", "LCS"]
    assert list(rows[0]) == ["department", "name", "baseline", "charged", "benefit"]
    response = api.as_user(joined.manager).get(BENEFIT, {"format": "csv"})
    assert [r["department"] for r in csv.DictReader(io.StringIO(response.getvalue().decode()))] == [
        "LCS"
    ]


def test_the_benefit_signed_out_is_401_unknown_404_and_not_written(joined, api):
    assert api.as_user(None).get(BENEFIT).status_code == 401
    client = api.as_user(joined.analyst)
    response = client.get(f"{PROGRAMMES}NOPE/benefit/")
    assert response.status_code == 404 and "detail" in response.json()
    before = snapshot()
    for method in ("post", "put", "patch", "delete"):
        assert getattr(client, method)(BENEFIT, {}, format="json").status_code == 405
    assert snapshot() == before


def test_the_benefit_is_one_computation_for_both_doors(joined, api, monkeypatch):
    """The API asks the page's selector, not a copy of it."""
    calls = []
    original = selectors.programme_benefit

    def spy(*args, **kwargs):
        calls.append(args[1].code)
        return original(*args, **kwargs)

    monkeypatch.setattr(selectors, "programme_benefit", spy)
    assert api.as_user(joined.analyst).get(BENEFIT).status_code == 200
    assert calls == ["ITNOW"]


# Query counts ------------------------------------------------------------------------------


def grow(world: World, n: int, start: int = 0) -> None:
    """n more programmes, each with a board case and three targets (one committed, one
    declined, one pending); and 2n more target departments on ITNOW, committed: n of them
    in IT-TECH since June 2026 (joined: ITNOW's benefit grows a row each)."""
    itnow = Programme.objects.get(code="ITNOW")
    for i in range(start, start + n):
        departments = [DepartmentFactory(code=f"G{i:03d}{x}") for x in "ABC"]
        programme = propose(world, code=f"G{i:03d}", departments=departments)
        by_code = {c.department.code: c for c in programme.commitments.select_related("department")}
        answer_as(world.administrator, by_code[f"G{i:03d}A"], Answer.COMMITTED, join_by=in_days(30))
        answer_as(world.administrator, by_code[f"G{i:03d}B"], Answer.DECLINED, reason="No.")
        target = DepartmentFactory(code=f"T{i:03d}")
        Commitment.objects.create(programme=itnow, department=target)
        answer_as(
            world.administrator,
            commitment(itnow, target.code),
            Answer.COMMITTED,
            join_by=in_days(30),
        )
        joiner = DepartmentFactory(code=f"J{i:03d}")
        Commitment.objects.create(programme=itnow, department=joiner)
        join(world, itnow, joiner, datetime.date(2026, 6, 1))


# url -> (persona, pinned count). Session sign-in costs 2 queries (session, user).
LISTS = {
    # count, page (service, sponsor, proposer joined), commitments, decisions
    "/api/v1/programmes/": ("analyst", 6),
    # the same, and the department named by the filter
    "/api/v1/programmes/?department=ENV&status=proposed": ("manager", 7),
    "/api/v1/programmes/?format=csv": ("other_provider_manager", 6),  # no count
    # the same for one programme: the programme, commitments, decisions
    "/api/v1/programmes/ITNOW/": ("manager", 5),
    # the programme, count, page (programme, department, answerer joined)
    "/api/v1/programmes/ITNOW/commitments/": ("analyst", 5),
    "/api/v1/programmes/ITNOW/commitments/?progress=committed": ("manager", 5),
    "/api/v1/programmes/ITNOW/commitments/?format=csv": ("deputy_minister", 5),  # no count
    # the programme (service joined), its commitments (whether each joined), the joined
    # departments' memberships of the service, their charges
    "/api/v1/programmes/ITNOW/benefit/": ("analyst", 6),
    "/api/v1/programmes/ITNOW/benefit/?format=csv": ("manager", 6),
}


def test_no_list_runs_more_queries_as_the_data_grows(world):
    propose(world)

    def signed_in(persona: str) -> Client:
        client = Client()
        client.force_login(getattr(world, persona))
        return client

    wrong = counts_that_grow(
        LISTS, signed_in, small=lambda: grow(world, 1), large=lambda: grow(world, 6, start=1)
    )
    assert wrong == []


def test_the_query_counts_see_the_growth(world, api):
    propose(world)
    grow(world, 3)
    client = api.as_user(world.analyst)
    assert client.get(PROGRAMMES).json()["count"] == 4
    assert client.get(f"{PROGRAMMES}ITNOW/commitments/").json()["count"] == 8
    assert len(client.get(BENEFIT).json()["rows"]) == 3
    assert client.get(f"{PROGRAMMES}G001/").json()["progress"] == {
        **NO_PROGRESS,
        "pending": 1,
        "committed": 1,
        "declined": 1,
    }


def test_a_new_deputy_minister_may_sponsor(world, api):
    dm = UserFactory(username="dm_env", role=Role.DEPUTY_MINISTER, department=world.env)
    world.env.deputy_minister = dm
    world.env.save()
    response = api.as_user(dm).post(PROGRAMMES, proposal(sponsor="dm_env"), format="json")
    assert response.status_code == 201, response.content
    assert Programme.objects.get().sponsor == dm
