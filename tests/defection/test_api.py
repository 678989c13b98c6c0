"""Exit requests through the REST API (v1): who sees and gives notice, the rules of leaving
answered as 400/403/409 with nothing saved, withdrawal, filters, CSV and query counts."""

from __future__ import annotations

import csv
import datetime
import io
from decimal import Decimal
from typing import Any

import pghistory.models
import pytest
from django.test import Client
from django.utils import timezone

from budgets.models import CostPool
from clusters.models import Membership
from defection import services
from defection.api.serializers import JUSTIFICATION_TOO_LONG, UNKNOWN_DESTINATION, UNKNOWN_REASON
from defection.api.views import NOT_YOUR_DEPARTMENT
from defection.models import Destination, ExitRequest, ExitStatus, Reason
from governance.models import Case, CaseStatus, Seat, Vote
from sharedsvc.roles import Role
from tests.factories import ClusterFactory, DepartmentFactory, MembershipFactory, UserFactory
from tests.pages import count_queries

URL = "/api/v1/exit-requests/"
TODAY = timezone.localdate
NUL = "\x00"

FIELDS = [
    "id",
    "department",
    "from_cluster",
    "destination",
    "to_cluster",
    "to_provider",
    "reason",
    "justification",
    "requested_leave_on",
    "leave_on",
    "usage_units",
    "status",
    "needs_board",
    "case",
    "impact",
    "requested_on",
    "requested_by",
    "citizen_impact",
    "transition_on",
    "records_and_cases",
    "contact",
]


def day(value: datetime.date) -> str:
    return f"{value.day} {value:%B %Y}"


def snapshot() -> dict[str, Any]:
    """Everything giving or withdrawing notice could change."""
    state: dict[str, Any] = {
        model.__name__: list(model.objects.order_by("pk").values())
        for model in (ExitRequest, Membership, Case, Seat, Vote)
    }
    state["events"] = pghistory.models.Events.objects.count()
    return state


def submit(world, actor=None, **kwargs) -> ExitRequest:
    data = {
        "actor": actor or world.manager,
        "department": world.lcs,
        "from_cluster": world.pay_psoa,
        "destination": Destination.IN_HOUSE,
        "reason": Reason.COST,
        "justification": "Cheaper in-house.",
    }
    data.update(kwargs)
    return services.exit_request_submit(**data)


def body(**overrides) -> dict[str, Any]:
    data: dict[str, Any] = {
        "department": "LCS",
        "from_cluster": "PAY-PSOA",
        "destination": "cluster",
        "to_cluster": "PAY-PSOA-2",
        "reason": "cost",
        "justification": "The second PSOA cluster costs less per employee.",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not ...}


def ids(response) -> list[int]:
    assert response.status_code == 200, response.content
    return sorted(row["id"] for row in response.json()["results"])


@pytest.fixture
def psoa_payroll_2(world):
    """A second PSOA payroll cluster: moving there is the right to leave."""
    return ClusterFactory(code="PAY-PSOA-2", service=world.payroll, provider=world.psoa)


@pytest.fixture
def acme_manager(world):
    """A manager of the outside provider: involved in nothing of the world's."""
    return UserFactory(username="pm_acme", role=Role.PROVIDER_MANAGER, provider=world.outside)


# Reading ---------------------------------------------------------------------------------


def test_fields_of_a_request_before_the_board(world, api):
    CostPool.objects.create(
        cluster=world.pay_psoa, period=datetime.date(2026, 3, 1), amount=Decimal("7000.00")
    )
    request = submit(world, destination=Destination.PROVIDER, to_provider=world.outside)
    response = api.as_user(world.analyst).get(f"{URL}{request.pk}/")
    assert response.status_code == 200, response.content
    data = response.json()
    assert list(data) == FIELDS
    earliest = TODAY() + datetime.timedelta(days=90)
    assert {k: v for k, v in data.items() if k != "impact"} == {
        "id": request.pk,
        "department": "LCS",
        "from_cluster": "PAY-PSOA",
        "destination": "provider",
        "to_cluster": None,
        "to_provider": "ACME",
        "reason": "cost",
        "justification": "Cheaper in-house.",
        "requested_leave_on": None,
        "leave_on": earliest.isoformat(),
        "usage_units": 400,
        "status": "pending_board",
        "needs_board": True,
        "case": request.board_case.pk,
        "requested_on": TODAY().isoformat(),
        "requested_by": "mgr_lcs",
        # No plan: payroll does not serve citizens.
        "citizen_impact": "",
        "transition_on": None,
        "records_and_cases": "",
        "contact": "",
    }
    # 700 units, 7,000: 10 a unit; with f = 1 the whole pool falls on ENV's 300 units.
    impact = data["impact"]
    assert list(impact)[:4] == ["period", "unit_cost_before", "unit_cost_after", "members"]
    assert list(impact["members"][0])[:3] == ["department", "before", "after"]
    assert (impact["period"], impact["unit_cost_before"], impact["unit_cost_after"]) == (
        "2026-03",
        "10.0000",
        "23.3333",
    )
    assert [(m["department"], m["before"], m["after"]) for m in impact["members"]] == [
        ("ENV", "3000.00", "7000.00")
    ]


def test_a_right_to_leave_move_has_no_case(world, api, psoa_payroll_2):
    request = submit(world, destination=Destination.CLUSTER, to_cluster=psoa_payroll_2)
    data = api.as_user(world.manager).get(f"{URL}{request.pk}/").json()
    assert (data["status"], data["case"], data["to_cluster"]) == ("scheduled", None, "PAY-PSOA-2")
    assert data["needs_board"] is False


def test_a_scheduled_request_whose_date_has_come_reads_and_filters_as_completed(
    world, api, psoa_payroll_2
):
    request = submit(world, destination=Destination.CLUSTER, to_cluster=psoa_payroll_2)
    pending = submit(world, from_cluster=world.it_tech)
    ExitRequest.objects.filter(pk=request.pk).update(leave_on=TODAY())
    assert ExitRequest.objects.get(pk=request.pk).status == ExitStatus.SCHEDULED  # not yet run
    client = api.as_user(world.analyst)
    assert client.get(f"{URL}{request.pk}/").json()["status"] == "completed"
    assert ids(client.get(URL, {"status": "completed"})) == [request.pk]
    assert ids(client.get(URL, {"status": "scheduled"})) == []
    assert ids(client.get(URL, {"status": "pending_board"})) == [pending.pk]


@pytest.mark.parametrize(
    ("persona", "sees"),
    [
        ("administrator", {"board", "env_move", "lone_move"}),
        ("analyst", {"board", "env_move", "lone_move"}),
        # LCS's people: their own request, and ENV's (they share PAY-PSOA, they bear the cost)
        ("manager", {"board", "env_move"}),
        ("deputy_minister", {"board", "env_move"}),
        ("other_manager", {"board", "env_move"}),  # ENV's own, and LCS's from their cluster
        ("recused_deputy_minister", {"board"}),  # FIN's DM: only what went to the board
        ("provider_manager", {"board", "env_move", "lone_move"}),  # the PSOA runs them all
        ("other_provider_manager", {"board"}),  # TECHSVC is the proposed provider
    ],
)
def test_who_sees_which_request(world, api, psoa_payroll_2, persona, sees):
    psoa_it = ClusterFactory(code="IT-PSOA", service=world.it, provider=world.psoa)
    psoa_it_2 = ClusterFactory(code="IT-PSOA-2", service=world.it, provider=world.psoa)
    lone = DepartmentFactory(code="LONE", is_main=False)
    MembershipFactory(department=lone, cluster=psoa_it, joined_on=datetime.date(2025, 1, 1))
    requests = {
        "board": submit(world, destination=Destination.CLUSTER, to_cluster=world.pay_tech),
        "env_move": submit(
            world,
            actor=world.other_manager,
            department=world.env,
            destination=Destination.CLUSTER,
            to_cluster=psoa_payroll_2,
        ),
        "lone_move": submit(
            world,
            actor=world.administrator,
            department=lone,
            from_cluster=psoa_it,
            destination=Destination.CLUSTER,
            to_cluster=psoa_it_2,
        ),
    }
    client = api.as_user(getattr(world, persona))
    assert ids(client.get(URL)) == sorted(requests[name].pk for name in sees)
    for name, request in requests.items():
        status = client.get(f"{URL}{request.pk}/").status_code
        assert status == (200 if name in sees else 404), (name, status)


def test_an_outside_provider_manager_sees_nothing_of_others(world, api, acme_manager):
    request = submit(world, destination=Destination.CLUSTER, to_cluster=world.pay_tech)
    client = api.as_user(acme_manager)
    assert ids(client.get(URL)) == []
    response = client.get(f"{URL}{request.pk}/")
    assert response.status_code == 404 and response.json()["detail"]


def test_signed_out_is_401(world, api):
    request = submit(world)
    client = api.as_user(None)
    assert client.get(URL).status_code == 401
    assert client.get(f"{URL}{request.pk}/").status_code == 401


# Filters and CSV -------------------------------------------------------------------------


@pytest.fixture
def three_requests(world, psoa_payroll_2):
    move = submit(
        world,
        destination=Destination.CLUSTER,
        to_cluster=psoa_payroll_2,
        reason=Reason.SERVICE_QUALITY,
        requested_leave_on=TODAY() + datetime.timedelta(days=120),
    )
    in_house = submit(world, from_cluster=world.it_tech)
    env = submit(
        world,
        actor=world.other_manager,
        department=world.env,
        destination=Destination.CLUSTER,
        to_cluster=world.pay_tech,
        reason=Reason.STRATEGIC,
    )
    return move, in_house, env


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"department": "LCS"}, ["move", "in_house"]),
        ({"department": "ENV"}, ["env"]),
        ({"cluster": "PAY-PSOA"}, ["move", "env"]),
        ({"from_cluster": "IT-TECH"}, ["in_house"]),
        ({"to_cluster": "PAY-TECH"}, ["env"]),
        ({"to_cluster": "PAY-PSOA-2"}, ["move"]),
        ({"to_provider": "ACME"}, []),
        ({"destination": "in_house"}, ["in_house"]),
        ({"reason": "strategic"}, ["env"]),
        ({"status": "scheduled"}, ["move"]),
        ({"status": "pending_board"}, ["in_house", "env"]),
        ({"needs_board": "false"}, ["move"]),
        ({"leave_on_after": (TODAY() + datetime.timedelta(days=100)).isoformat()}, ["move"]),
        (
            {"leave_on_before": (TODAY() + datetime.timedelta(days=100)).isoformat()},
            ["in_house", "env"],
        ),
        ({"requested_on_after": TODAY().isoformat()}, ["move", "in_house", "env"]),
        ({"requested_on_before": "2020-01-01"}, []),
    ],
)
def test_filters(world, api, three_requests, params, expected):
    named = dict(zip(["move", "in_house", "env"], three_requests, strict=True))
    response = api.as_user(world.analyst).get(URL, params)
    assert ids(response) == sorted(named[name].pk for name in expected)


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"department": "NOPE"}, "department"),
        ({"cluster": f"PAY-PSOA{NUL}"}, "cluster"),
        ({"to_provider": NUL}, "to_provider"),
        ({"status": "gone"}, "status"),
        ({"status": NUL}, "status"),
        ({"destination": "moon"}, "destination"),
        ({"reason": "whim"}, "reason"),
        ({"leave_on_after": "2026-02-30"}, "leave_on"),
        ({"leave_on_before": NUL}, "leave_on"),
        ({"needs_board": "maybe"}, "needs_board"),
    ],
)
def test_bad_filters_are_400(world, api, params, field):
    response = api.as_user(world.analyst).get(URL, params)
    assert response.status_code == 400, response.content
    assert field in response.json()


def test_csv_is_the_whole_filtered_list_with_the_impact_flattened(world, api, three_requests):
    response = api.as_user(world.analyst).get(URL, {"format": "csv", "department": "LCS"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.getvalue().decode())))
    assert sorted(int(r["id"]) for r in rows) == sorted(r.pk for r in three_requests[:2])
    assert {"status", "case", "impact.period", "impact.unit_cost_before", "impact.members"} <= set(
        rows[0]
    )


# Giving notice ---------------------------------------------------------------------------


@pytest.mark.parametrize("persona", ["manager", "deputy_minister", "administrator"])
def test_the_departments_people_and_administrators_give_notice(world, api, psoa_payroll_2, persona):
    response = api.as_user(getattr(world, persona)).post(URL, body(), format="json")
    assert response.status_code == 201, response.content
    data = response.json()
    request = ExitRequest.objects.get()
    earliest = TODAY() + datetime.timedelta(days=90)
    assert data["id"] == request.pk and data["status"] == "scheduled" and data["case"] is None
    assert data["requested_by"] == getattr(world, persona).username
    # The right to leave: scheduled at once, the old membership ends and the new one begins.
    assert (request.status, request.leave_on, request.requested_by) == (
        ExitStatus.SCHEDULED,
        earliest,
        getattr(world, persona),
    )
    assert Membership.objects.get(pk=world.lcs_payroll.pk).leaves_on == earliest
    new = Membership.objects.get(department=world.lcs, cluster=psoa_payroll_2)
    assert (new.joined_on, new.usage_units) == (earliest, 400)
    assert not Case.objects.exists()


def test_notice_to_another_provider_opens_a_case(world, api):
    response = api.as_user(world.deputy_minister).post(
        URL,
        body(
            to_cluster="PAY-TECH",
            requested_leave_on=(TODAY() + datetime.timedelta(days=95)).isoformat(),
        ),
        format="json",
    )
    assert response.status_code == 201, response.content
    data = response.json()
    case = Case.objects.get()
    assert (data["status"], data["case"]) == ("pending_board", case.pk)
    assert data["requested_leave_on"] == (TODAY() + datetime.timedelta(days=95)).isoformat()
    assert case.exit_request_id == data["id"] and case.status == CaseStatus.OPEN
    assert Membership.objects.get(pk=world.lcs_payroll.pk).leaves_on is None  # the board decides


@pytest.mark.parametrize(
    "persona",
    [
        "other_manager",  # ENV's manager, for LCS
        "recused_deputy_minister",  # FIN's deputy minister, for LCS
        "analyst",
        "provider_manager",
        "other_provider_manager",
    ],
)
def test_no_one_else_gives_a_departments_notice(world, api, psoa_payroll_2, persona):
    before = snapshot()
    response = api.as_user(getattr(world, persona)).post(URL, body(), format="json")
    assert response.status_code == 403, response.content
    assert response.json()["detail"] == NOT_YOUR_DEPARTMENT
    assert snapshot() == before


def test_signed_out_cannot_give_notice(world, api, psoa_payroll_2):
    before = snapshot()
    assert api.as_user(None).post(URL, body(), format="json").status_code == 401
    assert snapshot() == before


LONG = "J" * 10_001


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"to_cluster": "IT-TECH"}, "to_cluster", "offers Desktop IT, not Payroll"),
        ({"to_cluster": "PAY-PSOA"}, "to_cluster", services.SAME_CLUSTER),
        ({"to_cluster": "NOPE"}, "to_cluster", "No cluster has the code"),
        (
            {"destination": "provider", "to_cluster": ..., "to_provider": "NOPE"},
            "to_provider",
            "No provider has the code",
        ),
        (
            {"destination": "provider", "to_cluster": ..., "to_provider": "PSOA"},
            "to_provider",
            services.PSOA_AS_PROVIDER,
        ),
        ({"destination": "provider"}, "to_provider", services.NEEDS_PROVIDER),
        ({"destination": "in_house"}, "to_cluster", services.NOT_FOR_IN_HOUSE),
        ({"to_cluster": None}, "to_cluster", services.NEEDS_CLUSTER),
        ({"from_cluster": "PAY-TECH", "to_cluster": "PAY-PSOA"}, "from_cluster", "not a member"),
        ({"from_cluster": "NOPE"}, "from_cluster", "No cluster has the code"),
        ({"department": "NOPE"}, "department", "No department has the code"),
        ({"department": f"LCS{NUL}"}, "department", None),
        ({"destination": "moon"}, "destination", UNKNOWN_DESTINATION),
        ({"reason": "whim"}, "reason", UNKNOWN_REASON),
        ({"reason": ...}, "reason", "required"),
        ({"justification": f"Cheaper{NUL}"}, "justification", "Null characters"),
        ({"justification": LONG}, "justification", JUSTIFICATION_TOO_LONG),
        ({"justification": ""}, "justification", None),
        ({"justification": ["a"]}, "justification", None),
        ({"requested_leave_on": "2026-02-30"}, "requested_leave_on", None),
        ({"requested_leave_on": f"2030-01-01{NUL}"}, "requested_leave_on", None),
        ({"to_cluster": 7}, "to_cluster", None),
    ],
)
def test_bad_notice_is_400_with_field_messages_and_nothing_saved(
    world, api, psoa_payroll_2, overrides, field, message
):
    before = snapshot()
    response = api.as_user(world.manager).post(URL, body(**overrides), format="json")
    assert response.status_code == 400, response.content
    errors = response.json()
    assert field in errors, errors
    if message:
        assert any(message in m for m in errors[field]), errors
    assert snapshot() == before


def test_a_date_inside_the_notice_period_names_the_earliest_date(world, api, psoa_payroll_2):
    earliest = TODAY() + datetime.timedelta(days=90)
    before = snapshot()
    response = api.as_user(world.manager).post(
        URL,
        body(requested_leave_on=(earliest - datetime.timedelta(days=1)).isoformat()),
        format="json",
    )
    assert response.status_code == 400, response.content
    assert response.json() == {
        "requested_leave_on": [services.TOO_EARLY.format(earliest=day(earliest), days=90)]
    }
    assert snapshot() == before


def test_a_membership_already_leaving_is_refused(world, api, psoa_payroll_2):
    leaves = TODAY() + datetime.timedelta(days=30)
    Membership.objects.filter(pk=world.lcs_payroll.pk).update(leaves_on=leaves)
    before = snapshot()
    response = api.as_user(world.manager).post(URL, body(), format="json")
    assert response.status_code == 400, response.content
    assert response.json()["from_cluster"] == [
        services.ALREADY_LEAVING.format(department="LCS", cluster="PAY-PSOA", date=day(leaves))
    ]
    assert snapshot() == before


def test_one_open_request_per_membership(world, api, psoa_payroll_2):
    submit(world)  # in-house, before the board
    before = snapshot()
    response = api.as_user(world.manager).post(URL, body(), format="json")
    assert response.status_code == 400, response.content
    assert response.json()["from_cluster"] == [
        services.OPEN_REQUEST_EXISTS.format(department="LCS", cluster="PAY-PSOA")
    ]
    assert snapshot() == before


def test_a_body_that_is_not_an_object_is_400(world, api):
    response = api.as_user(world.manager).post(URL, ["LCS"], format="json")
    assert response.status_code == 400
    assert not ExitRequest.objects.exists()


@pytest.mark.parametrize("method", ["put", "patch", "delete"])
def test_requests_are_never_edited_or_deleted(world, api, method):
    request = submit(world)
    before = snapshot()
    response = getattr(api.as_user(world.administrator), method)(
        f"{URL}{request.pk}/", {"justification": "Changed."}, format="json"
    )
    assert response.status_code == 405, response.content
    assert snapshot() == before


# Withdrawing -----------------------------------------------------------------------------


def withdraw(client, request):
    return client.post(f"{URL}{request.pk}/withdraw/")


def test_withdraw_undoes_a_scheduled_move(world, api, psoa_payroll_2):
    request = submit(world, destination=Destination.CLUSTER, to_cluster=psoa_payroll_2)
    response = withdraw(api.as_user(world.manager), request)
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "withdrawn" and response.json()["id"] == request.pk
    request.refresh_from_db()
    assert request.status == ExitStatus.WITHDRAWN and request.new_membership is None
    assert Membership.objects.get(pk=world.lcs_payroll.pk).leaves_on is None
    assert not Membership.objects.filter(cluster=psoa_payroll_2).exists()


def test_withdraw_a_request_before_the_board_withdraws_its_case(world, api):
    request = submit(world)
    response = withdraw(api.as_user(world.deputy_minister), request)
    assert response.status_code == 200, response.content
    assert response.json()["case"] == request.board_case.pk
    assert ExitRequest.objects.get(pk=request.pk).status == ExitStatus.WITHDRAWN
    case = Case.objects.get(pk=request.board_case.pk)
    assert case.status == CaseStatus.WITHDRAWN and case.decided_at is not None


def test_withdrawing_twice_is_a_conflict(world, api):
    request = submit(world)
    client = api.as_user(world.manager)
    assert withdraw(client, request).status_code == 200
    before = snapshot()
    response = withdraw(client, request)
    assert response.status_code == 409
    assert response.json() == {"detail": services.CANNOT_WITHDRAW.format(status="withdrawn")}
    assert snapshot() == before


def test_too_late_to_withdraw_once_the_date_has_come(world, api, psoa_payroll_2):
    request = submit(world, destination=Destination.CLUSTER, to_cluster=psoa_payroll_2)
    ExitRequest.objects.filter(pk=request.pk).update(leave_on=TODAY())
    before = snapshot()
    response = withdraw(api.as_user(world.manager), request)
    assert response.status_code == 409
    assert response.json() == {"detail": services.TOO_LATE_TO_WITHDRAW.format(date=day(TODAY()))}
    assert snapshot() == before


@pytest.mark.parametrize(
    ("persona", "status"),
    [
        ("other_manager", 403),  # sees it (shares the cluster), may not act for LCS
        ("recused_deputy_minister", 403),  # reads the board's requests
        ("analyst", 403),
        ("provider_manager", 403),
        ("other_provider_manager", 404),  # not involved: does not even see it
    ],
)
def test_no_one_else_withdraws(world, api, persona, status):
    request = submit(world)
    before = snapshot()
    response = withdraw(api.as_user(getattr(world, persona)), request)
    assert response.status_code == status, response.content
    if status == 403:
        assert response.json()["detail"] == NOT_YOUR_DEPARTMENT
    assert snapshot() == before


def test_withdraw_signed_out_is_401_and_unknown_is_404(world, api):
    request = submit(world)
    before = snapshot()
    assert withdraw(api.as_user(None), request).status_code == 401
    assert api.as_user(world.manager).post(f"{URL}999999/withdraw/").status_code == 404
    assert snapshot() == before


def test_withdraw_is_a_post(world, api):
    request = submit(world)
    assert api.as_user(world.manager).get(f"{URL}{request.pk}/withdraw/").status_code == 405


# Query counts ----------------------------------------------------------------------------


def grow(world, n: int) -> None:
    """n more departments sharing PAY-PSOA with LCS, each asking the board to go in-house
    (so each has a case, seats and an impact), and n moves of LCS's own."""
    for i in range(n):
        department = DepartmentFactory(code=f"G{i:03d}")
        dm = UserFactory(username=f"dm_g{i}", role=Role.DEPUTY_MINISTER, department=department)
        department.deputy_minister = dm
        department.save()
        MembershipFactory(
            department=department,
            cluster=world.pay_psoa,
            joined_on=datetime.date(2025, 1, 1),
            usage_units=10 + i,
        )
        submit(world, actor=dm, department=department)
        service_cluster = ClusterFactory(code=f"GC{i:03d}", provider=world.psoa)
        other = ClusterFactory(
            code=f"GD{i:03d}", provider=world.psoa, service=service_cluster.service
        )
        MembershipFactory(
            department=world.lcs, cluster=service_cluster, joined_on=datetime.date(2025, 1, 1)
        )
        submit(
            world,
            from_cluster=service_cluster,
            destination=Destination.CLUSTER,
            to_cluster=other,
        )


# url -> (persona, pinned count): session + user, then the list.
LISTS = {
    f"{URL}": ("manager", 4),  # count, page (department, clusters, requester, case joined)
    f"{URL}?status=pending_board": ("analyst", 4),  # count, page (status as of today)
    f"{URL}?format=csv": ("manager", 4),  # all rows at once
    f"{URL}?department=LCS&cluster=PAY-PSOA": ("analyst", 6),  # 2 code lookups, count, page
}


@pytest.mark.parametrize("url", list(LISTS))
def test_query_count_does_not_grow(world, url):
    persona, pinned = LISTS[url]
    submit(world)
    client = Client()
    client.force_login(getattr(world, persona))
    small = count_queries(client, url)
    grow(world, 5)
    large = count_queries(client, url)
    assert small == large == pinned, (small, large)


def test_the_detail_is_one_query(world):
    request = submit(world)
    client = Client()
    client.force_login(world.manager)
    assert count_queries(client, f"{URL}{request.pk}/") == 3  # session, user, the request
