"""The board through the REST API (v1): cases with their seats, quorum and tally; votes cast
and changed; every rule of the decision shown through the API with the database checked
after each write; who may vote and who may see; filters, CSV and query counts."""

from __future__ import annotations

import csv
import datetime
import io
from typing import Any

import pghistory.models
import pytest
from django.test import Client
from django.utils import timezone

from clusters.models import Membership
from defection.models import Destination, ExitRequest, ExitStatus, Reason
from defection.services import exit_request_submit
from governance import services
from governance.models import REASON_MAX_LENGTH, Case, CaseStatus, Seat, Vote
from sharedsvc.roles import Role
from tests.factories import DepartmentFactory, MembershipFactory, UserFactory
from tests.pages import count_queries

API = "/api/v1"
NUL = "\x00"
EVERYONE_SEATED = ["AGRI", "EDUC", "HLTH", "JAG", "TRAN"]


def snapshot() -> dict[str, Any]:
    """Everything a vote could change."""
    state: dict[str, Any] = {
        model.__name__: list(model.objects.order_by("pk").values())
        for model in (Case, Seat, Vote, ExitRequest, Membership)
    }
    state["events"] = pghistory.models.Events.objects.count()
    return state


def cast(api, user, case, choice: str, reason: str | None = "Because.", **extra):
    data: dict[str, Any] = {"choice": choice, **extra}
    if reason is not None:
        data["reason"] = reason
    return api.as_user(user).post(f"{API}/cases/{case.pk}/votes/", data, format="json")


def read_case(api, case, user) -> dict[str, Any]:
    response = api.as_user(user).get(f"{API}/cases/{case.pk}/")
    assert response.status_code == 200, response.content
    return response.json()


def reload(case) -> Case:
    return Case.objects.get(pk=case.pk)


@pytest.fixture
def acme_manager(world):
    """A manager of the outside provider: no part in the world's case."""
    return UserFactory(username="pm_acme", role=Role.PROVIDER_MANAGER, provider=world.outside)


# Cases -------------------------------------------------------------------------------------


def test_a_case_shows_its_seats_quorum_and_tally(world, api, case):
    data = read_case(api, case, world.analyst)
    assert data == {
        "id": case.pk,
        "kind": "exit",
        "exit_request": case.exit_request_id,
        "department": "LCS",
        "status": "open",
        "opened_at": data["opened_at"],
        "closes_at": data["closes_at"],
        "decided_at": None,
        "eligible": EVERYONE_SEATED,
        "recused": ["FIN", "LCS", "TECH"],
        "recusals": [
            {"department": "FIN", "reasons": ["current_provider_host"]},
            {"department": "LCS", "reasons": ["requester"]},
            {"department": "TECH", "reasons": ["proposed_provider_host"]},
        ],
        "quorum": 3,
        "tally": {"approve": 0, "reject": 0, "abstain": 0},
        "decision_rule": "",
    }
    opened = datetime.datetime.fromisoformat(data["opened_at"])
    closes = datetime.datetime.fromisoformat(data["closes_at"])
    assert (opened, closes - opened) == (case.opened_at, datetime.timedelta(days=14))


def test_the_exit_request_names_its_case(world, api, case):
    response = api.as_user(world.manager).get(f"{API}/exit-requests/{case.exit_request_id}/")
    assert response.json()["case"] == case.pk


def test_the_tally_is_hidden_from_a_seat_until_it_has_voted(world, api, board, case):
    assert cast(api, board[0], case, "approve").status_code == 201
    # A seat that has not voted, and the requester's people, do not see the running tally.
    assert read_case(api, case, board[1])["tally"] is None
    assert read_case(api, case, world.manager)["tally"] is None
    # The seat that voted, analysts and administrators do.
    for user in (board[0], world.analyst, world.administrator):
        assert read_case(api, case, user)["tally"] == {"approve": 1, "reject": 0, "abstain": 0}
    # Once the case is decided, everyone who sees the case sees its tally.
    for voter in board[1:3]:
        assert cast(api, voter, case, "approve").status_code == 201
    assert read_case(api, case, world.manager)["tally"] == {"approve": 3, "reject": 0, "abstain": 0}


@pytest.mark.parametrize(
    ("persona", "sees"),
    [
        ("administrator", True),
        ("analyst", True),
        ("manager", True),  # the requester
        ("deputy_minister", True),
        ("other_manager", True),  # ENV shares PAY-PSOA
        ("recused_deputy_minister", True),  # deputy ministers read every case
        ("provider_manager", True),  # the PSOA runs PAY-PSOA
        ("other_provider_manager", True),  # TECHSVC would take LCS on
        ("acme_manager", False),
    ],
)
def test_who_sees_a_case(world, api, case, acme_manager, persona, sees):
    user = acme_manager if persona == "acme_manager" else getattr(world, persona)
    client = api.as_user(user)
    listed = [row["id"] for row in client.get(f"{API}/cases/").json()["results"]]
    assert listed == ([case.pk] if sees else [])
    assert client.get(f"{API}/cases/{case.pk}/").status_code == (200 if sees else 404)
    assert client.get(f"{API}/cases/{case.pk}/votes/").status_code == (200 if sees else 404)


def test_cases_are_read_only(world, api, case):
    client = api.as_user(world.administrator)
    before = snapshot()
    assert client.post(f"{API}/cases/", {}, format="json").status_code == 405
    for method in ("put", "patch", "delete"):
        response = getattr(client, method)(f"{API}/cases/{case.pk}/", {}, format="json")
        assert response.status_code == 405, method
    assert snapshot() == before


def test_signed_out_is_401(world, api, case):
    client = api.as_user(None)
    assert client.get(f"{API}/cases/").status_code == 401
    assert client.get(f"{API}/cases/{case.pk}/votes/").status_code == 401
    assert client.get(f"{API}/votes/").status_code == 401
    before = snapshot()
    assert client.post(f"{API}/cases/{case.pk}/votes/", {"choice": "approve"}).status_code == 401
    assert snapshot() == before


# The rules of the board, through the API ---------------------------------------------------


def test_first_cast_is_201_and_a_change_is_200(world, api, board, case):
    response = cast(api, board[0], case, "approve", reason="")
    assert response.status_code == 201, response.content
    data = response.json()
    assert {k: v for k, v in data.items() if k != "cast_at"} == {
        "case": case.pk,
        "department": "AGRI",
        "voter": "dm_agri",
        "cast_by": "dm_agri",
        "alternate": None,
        "choice": "approve",
        "reason": "",
    }
    first = Vote.objects.get()
    assert (first.department.code, first.voter, first.choice) == ("AGRI", board[0], "approve")

    response = cast(api, board[0], case, "reject", reason="The costs to ENV are too high.")
    assert response.status_code == 200, response.content
    assert response.json()["choice"] == "reject"
    vote = Vote.objects.get()  # still one vote for the seat, changed
    assert (vote.pk, vote.choice, vote.reason) == (
        first.pk,
        "reject",
        "The costs to ENV are too high.",
    )
    assert vote.cast_at >= first.cast_at
    assert reload(case).status == CaseStatus.OPEN


def test_quorum_is_more_than_half_of_the_eligible_seats(world, api, board, case):
    assert cast(api, board[0], case, "approve").status_code == 201
    assert cast(api, board[1], case, "approve").status_code == 201
    assert reload(case).status == CaseStatus.OPEN  # 2 of 5: no quorum yet
    assert ExitRequest.objects.get().status == ExitStatus.PENDING_BOARD
    assert cast(api, board[2], case, "approve").status_code == 201  # 3 of 5, and settled
    data = read_case(api, case, world.analyst)
    assert data["status"] == "approved" and data["decided_at"] is not None
    assert data["decision_rule"].startswith("Approved")
    request = ExitRequest.objects.get()
    assert request.status == ExitStatus.SCHEDULED
    assert Membership.objects.get(pk=world.lcs_payroll.pk).leaves_on == request.leave_on
    new = Membership.objects.get(department=world.lcs, cluster=world.pay_tech)
    assert (new.joined_on, new.usage_units) == (request.leave_on, 400)
    exit_data = api.as_user(world.manager).get(f"{API}/exit-requests/{request.pk}/").json()
    assert exit_data["status"] == "scheduled"


def test_a_tie_is_rejected(world, api, board, case):
    for voter, choice in zip(board, ["approve", "approve", "reject", "reject"], strict=False):
        assert cast(api, voter, case, choice).status_code == 201
    assert reload(case).status == CaseStatus.OPEN
    assert cast(api, board[4], case, "abstain").status_code == 201  # all voted: 2 - 2
    data = read_case(api, case, world.manager)
    assert data["status"] == "rejected"
    assert data["tally"] == {"approve": 2, "reject": 2, "abstain": 1}
    assert "tie" in data["decision_rule"]
    assert ExitRequest.objects.get().status == ExitStatus.REJECTED
    assert Membership.objects.get(pk=world.lcs_payroll.pk).leaves_on is None
    assert not Membership.objects.filter(cluster=world.pay_tech, department=world.lcs).exists()


def test_closes_early_once_the_result_cannot_change(world, api, board, case):
    for voter in board[:3]:
        assert cast(api, voter, case, "reject", reason="Stay.").status_code == 201
    case = reload(case)
    assert case.status == CaseStatus.REJECTED and case.decided_at < case.closes_at
    assert ExitRequest.objects.get().status == ExitStatus.REJECTED
    # The two undecided seats can no longer vote.
    before = snapshot()
    response = cast(api, board[3], case, "approve")
    assert response.status_code == 409
    assert response.json() == {"detail": services.CASE_CLOSED.format(status="rejected")}
    assert snapshot() == before


def test_lapses_at_closing_time_without_quorum(world, api, board, case):
    assert cast(api, board[0], case, "approve").status_code == 201
    assert cast(api, board[1], case, "approve").status_code == 201
    services.case_close_due(as_of=case.closes_at)
    data = read_case(api, case, world.manager)
    assert data["status"] == "lapsed" and data["decision_rule"].startswith("Lapsed")
    exit_request = api.as_user(world.manager).get(f"{API}/exit-requests/{case.exit_request_id}/")
    assert exit_request.json()["status"] == "lapsed"
    assert Membership.objects.get(pk=world.lcs_payroll.pk).leaves_on is None
    # The department stays and may ask again.
    response = api.as_user(world.manager).post(
        f"{API}/exit-requests/",
        {
            "department": "LCS",
            "from_cluster": "PAY-PSOA",
            "destination": "in_house",
            "reason": "cost",
            "justification": "Asking again.",
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    assert ExitRequest.objects.filter(status=ExitStatus.PENDING_BOARD).count() == 1


def test_no_vote_once_the_closing_time_has_passed(world, api, board, case):
    past = timezone.now() - datetime.timedelta(seconds=1)
    Case.objects.filter(pk=case.pk).update(
        opened_at=past - datetime.timedelta(days=14), closes_at=past
    )
    before = snapshot()
    response = cast(api, board[0], case, "approve")
    assert response.status_code == 409
    assert response.json() == {"detail": services.CASE_CLOSED.format(status="closed")}
    assert snapshot() == before


def test_withdrawing_the_request_withdraws_the_case(world, api, board, case):
    assert cast(api, board[0], case, "approve").status_code == 201
    response = api.as_user(world.manager).post(
        f"{API}/exit-requests/{case.exit_request_id}/withdraw/"
    )
    assert response.status_code == 200, response.content
    data = read_case(api, case, world.analyst)
    assert data["status"] == "withdrawn" and data["decided_at"] is not None
    assert ExitRequest.objects.get().status == ExitStatus.WITHDRAWN
    before = snapshot()
    response = cast(api, board[1], case, "approve")
    assert response.status_code == 409
    assert response.json() == {"detail": services.CASE_CLOSED.format(status="withdrawn")}
    assert snapshot() == before


# Who may vote ------------------------------------------------------------------------------


def test_a_recused_seat_is_403_with_why(world, api, board, case):
    before = snapshot()
    response = cast(api, world.recused_deputy_minister, case, "approve")
    assert response.status_code == 403
    assert response.json() == {
        "detail": services.RECUSED.format(reasons="hosts the current cluster's provider")
    }
    assert snapshot() == before


def test_the_requesters_own_deputy_minister_is_recused(world, api, board, case):
    before = snapshot()
    response = cast(api, world.deputy_minister, case, "approve")
    assert response.status_code == 403
    assert response.json() == {
        "detail": services.RECUSED.format(reasons="the requesting department")
    }
    assert snapshot() == before


@pytest.mark.parametrize(
    "persona",
    [
        "administrator",
        "analyst",
        "manager",
        "other_manager",
        "provider_manager",
        "other_provider_manager",
        "acme_manager",
    ],
)
def test_anyone_without_a_seat_is_403(world, api, board, case, acme_manager, persona):
    user = acme_manager if persona == "acme_manager" else getattr(world, persona)
    before = snapshot()
    response = cast(api, user, case, "approve")
    assert response.status_code == 403
    assert response.json() == {"detail": services.NO_SEAT}
    assert snapshot() == before


def test_a_deputy_minister_whose_department_has_no_seat_is_403(world, api, board, case):
    # Seats are fixed when the case opens: a department given a deputy minister later has none.
    late = UserFactory(username="dm_env", role=Role.DEPUTY_MINISTER, department=world.env)
    world.env.deputy_minister = late
    world.env.save()
    before = snapshot()
    response = cast(api, late, case, "approve")
    assert response.status_code == 403
    assert response.json() == {"detail": services.NO_SEAT}
    assert snapshot() == before


def test_unknown_case_is_404(world, api, board):
    response = cast(api, board[0], Case(pk=999_999), "approve")
    assert response.status_code == 404
    assert not Vote.objects.exists()


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"choice": "maybe"}, "choice", services.UNKNOWN_CHOICE),
        ({"choice": ""}, "choice", services.UNKNOWN_CHOICE),
        ({"choice": NUL}, "choice", services.UNKNOWN_CHOICE),
        ({"choice": ["approve"]}, "choice", None),
        ({"reason": "Why not."}, "choice", "required"),
        ({"choice": "reject"}, "reason", services.REJECT_NEEDS_REASON),
        ({"choice": "reject", "reason": "   "}, "reason", services.REJECT_NEEDS_REASON),
        (
            {"choice": "approve", "reason": "x" * (REASON_MAX_LENGTH + 1)},
            "reason",
            services.REASON_TOO_LONG,
        ),
        ({"choice": "reject", "reason": f"No{NUL}"}, "reason", "Null characters"),
    ],
)
def test_bad_votes_are_400_and_change_nothing(world, api, board, case, data, field, message):
    before = snapshot()
    response = api.as_user(board[0]).post(f"{API}/cases/{case.pk}/votes/", data, format="json")
    assert response.status_code == 400, response.content
    errors = response.json()
    assert field in errors, errors
    if message:
        assert any(message in m for m in errors[field]), errors
    assert snapshot() == before


def test_a_reason_of_exactly_the_limit_is_accepted(world, api, board, case):
    response = cast(api, board[0], case, "reject", reason="x" * REASON_MAX_LENGTH)
    assert response.status_code == 201, response.content
    assert len(Vote.objects.get().reason) == REASON_MAX_LENGTH


def test_a_body_that_is_not_an_object_is_400(world, api, board, case):
    response = api.as_user(board[0]).post(
        f"{API}/cases/{case.pk}/votes/", ["approve"], format="json"
    )
    assert response.status_code == 400
    assert not Vote.objects.exists()


# Votes -------------------------------------------------------------------------------------


def voters(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [row["department"] for row in response.json()["results"]]


def test_a_seat_sees_the_others_votes_once_it_has_voted(world, api, board, case):
    cast(api, board[0], case, "approve")
    cast(api, board[1], case, "reject", reason="Too costly for ENV.")
    url = f"{API}/cases/{case.pk}/votes/"
    assert voters(api.as_user(board[2]).get(url)) == []  # has not voted yet
    assert voters(api.as_user(board[2]).get(f"{API}/votes/")) == []
    assert voters(api.as_user(board[0]).get(url)) == ["AGRI", "EDUC"]
    assert voters(api.as_user(world.analyst).get(url)) == ["AGRI", "EDUC"]
    assert voters(api.as_user(world.manager).get(url)) == []  # the requester, while open
    cast(api, board[2], case, "reject", reason="Stay.")
    assert voters(api.as_user(board[2]).get(f"{API}/votes/")) == ["AGRI", "EDUC", "HLTH"]
    cast(api, board[3], case, "reject", reason="Stay.")  # 1 - 3 with one left: rejected
    assert reload(case).status == CaseStatus.REJECTED
    rows = api.as_user(world.manager).get(url).json()["results"]
    assert [(r["department"], r["voter"], r["choice"]) for r in rows] == [
        ("AGRI", "dm_agri", "approve"),
        ("EDUC", "dm_educ", "reject"),
        ("HLTH", "dm_hlth", "reject"),
        ("JAG", "dm_jag", "reject"),
    ]
    assert rows[1]["reason"] == "Too costly for ENV."


def test_votes_are_read_only(world, api, board, case):
    cast(api, board[0], case, "approve")
    before = snapshot()
    response = api.as_user(world.administrator).post(f"{API}/votes/", {}, format="json")
    assert response.status_code == 405
    assert snapshot() == before


@pytest.fixture
def two_cases(world, api, board, case):
    """The world's case (AGRI approves, EDUC rejects) and ENV's case (AGRI abstains)."""
    cast(api, board[0], case, "approve")
    cast(api, board[1], case, "reject", reason="Too costly.")
    env_request = exit_request_submit(
        actor=world.other_manager,
        department=world.env,
        from_cluster=world.pay_psoa,
        destination=Destination.PROVIDER,
        to_provider=world.outside,
        reason=Reason.STRATEGIC,
        justification="Outsourcing all back-office work.",
    )
    other = env_request.board_case
    cast(api, board[0], other, "abstain")
    return case, other


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({}, [("case", "AGRI"), ("case", "EDUC"), ("other", "AGRI")]),
        ({"case": "{case}"}, [("case", "AGRI"), ("case", "EDUC")]),
        ({"department": "AGRI"}, [("case", "AGRI"), ("other", "AGRI")]),
        ({"choice": "reject"}, [("case", "EDUC")]),
        ({"choice": "abstain", "case": "{other}"}, [("other", "AGRI")]),
        ({"cast_at_before": "2000-01-01T00:00:00Z"}, []),
    ],
)
def test_vote_filters(world, api, two_cases, params, expected):
    named = dict(zip(["case", "other"], two_cases, strict=True))
    query = {k: v.format(case=named["case"].pk, other=named["other"].pk) for k, v in params.items()}
    response = api.as_user(world.analyst).get(f"{API}/votes/", query)
    assert response.status_code == 200, response.content
    got = sorted((r["case"], r["department"]) for r in response.json()["results"])
    assert got == sorted((named[c].pk, d) for c, d in expected)


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"case": "1.5"}, "case"),
        ({"case": NUL}, "case"),
        ({"case": str(2**63)}, "case"),
        ({"department": "NOPE"}, "department"),
        ({"choice": "maybe"}, "choice"),
        ({"cast_at_after": "yesterday"}, "cast_at"),
    ],
)
def test_bad_vote_filters_are_400(world, api, params, field):
    response = api.as_user(world.analyst).get(f"{API}/votes/", params)
    assert response.status_code == 400, response.content
    assert field in response.json()


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"status": "open"}, ["case", "other"]),
        ({"status": "approved"}, []),
        ({"kind": "exit"}, ["case", "other"]),
        ({"kind": "programme"}, []),
        ({"department": "ENV"}, ["other"]),
        ({"department": "LCS"}, ["case"]),
        ({"cluster": "PAY-PSOA"}, ["case", "other"]),
        ({"exit_request": "{case_request}"}, ["case"]),
        ({"opened_at_after": "2000-01-01T00:00:00Z"}, ["case", "other"]),
        ({"opened_at_before": "2000-01-01T00:00:00Z"}, []),
        ({"closes_at_after": "{in_13_days}"}, ["case", "other"]),
        ({"closes_at_before": "{in_13_days}"}, []),
        ({"decided_at_after": "2000-01-01T00:00:00Z"}, []),
    ],
)
def test_case_filters(world, api, two_cases, params, expected):
    named = dict(zip(["case", "other"], two_cases, strict=True))
    values = {
        "case_request": named["case"].exit_request_id,
        "in_13_days": (timezone.now() + datetime.timedelta(days=13)).isoformat(),
    }
    query = {k: v.format(**values) for k, v in params.items()}
    response = api.as_user(world.analyst).get(f"{API}/cases/", query)
    assert response.status_code == 200, response.content
    got = sorted(r["id"] for r in response.json()["results"])
    assert got == sorted(named[name].pk for name in expected)


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"status": "pending"}, "status"),
        ({"kind": "vote"}, "kind"),
        ({"department": f"LCS{NUL}"}, "department"),
        ({"exit_request": "abc"}, "exit_request"),
        ({"opened_at_after": "2026-13-01T00:00"}, "opened_at"),
        ({"closes_at_before": NUL}, "closes_at"),
    ],
)
def test_bad_case_filters_are_400(world, api, params, field):
    response = api.as_user(world.analyst).get(f"{API}/cases/", params)
    assert response.status_code == 400, response.content
    assert field in response.json()


def test_cases_as_csv(world, api, two_cases):
    response = api.as_user(world.analyst).get(f"{API}/cases/", {"format": "csv"})
    assert response.status_code == 200
    rows = list(csv.DictReader(io.StringIO(response.getvalue().decode())))
    assert sorted(int(r["id"]) for r in rows) == sorted(c.pk for c in two_cases)
    first = next(r for r in rows if int(r["id"]) == two_cases[0].pk)
    assert first["eligible"] == ";".join(EVERYONE_SEATED)
    assert (first["tally.approve"], first["tally.reject"], first["quorum"]) == ("1", "1", "3")


def test_votes_as_csv(world, api, two_cases):
    response = api.as_user(world.analyst).get(f"{API}/votes/", {"format": "csv"})
    rows = list(csv.DictReader(io.StringIO(response.getvalue().decode())))
    assert list(rows[0]) == [
        "case",
        "department",
        "voter",
        "cast_by",
        "alternate",
        "choice",
        "reason",
        "cast_at",
    ]
    assert len(rows) == 3


# Query counts ------------------------------------------------------------------------------


def grow(world, board, n: int) -> None:
    """n more cases (departments sharing PAY-PSOA going in-house), each with two votes."""
    for i in range(n):
        department = DepartmentFactory(code=f"G{i:03d}", is_main=False)
        MembershipFactory(
            department=department, cluster=world.pay_psoa, joined_on=datetime.date(2025, 1, 1)
        )
        manager = UserFactory(
            username=f"mgr_g{i}", role=Role.DEPARTMENT_MANAGER, department=department
        )
        request = exit_request_submit(
            actor=manager,
            department=department,
            from_cluster=world.pay_psoa,
            destination=Destination.IN_HOUSE,
            reason=Reason.COST,
            justification="In-house.",
        )
        services.vote_cast(actor=board[0], case=request.board_case, choice="approve")
        services.vote_cast(actor=board[1], case=request.board_case, choice="abstain")


# url -> (persona, pinned count). Session sign-in costs 2 queries (session, user). A deputy
# minister's every `Case.objects.visible_to` asks first whether they hold their seat (1).
LISTS = {
    # Seats and votes are read in the page's own query (`with_seats_and_counts`).
    "/api/v1/cases/": ("board0", 5),  # seat, count, page
    "/api/v1/cases/?status=open": ("manager", 4),  # count, page, through visible_to
    "/api/v1/cases/?format=csv": ("analyst", 4),  # all cases
    "/api/v1/votes/": ("board0", 5),  # seat, count, page (department, voter joined)
    "/api/v1/votes/?format=csv": ("manager", 4),  # all rows
    "/api/v1/cases/{case}/votes/": ("board0", 7),  # seat, the case, seat, count, page
}


@pytest.mark.parametrize("url", list(LISTS))
def test_query_count_does_not_grow(world, board, case, url):
    persona, pinned = LISTS[url]
    user = board[0] if persona == "board0" else getattr(world, persona)
    services.vote_cast(actor=board[0], case=case, choice="approve")
    services.vote_cast(actor=board[1], case=case, choice="reject", reason="No.")
    url = url.format(case=case.pk)
    client = Client()
    client.force_login(user)
    small = count_queries(client, url)
    grow(world, board, 5)
    large = count_queries(client, url)
    assert small == large == pinned, (small, large)
    if "format" not in url:  # the pin is for a page that lists something
        assert client.get(url).json()["count"]
