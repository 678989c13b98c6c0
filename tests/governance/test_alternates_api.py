"""Alternates through the REST API (v1): `alternates/` to list, filter and export (who sees
which), `POST` to name one with every refusal's message, `alternates/{id}/end/` to end one
early, and a vote cast by an alternate with its `cast_by`; the database checked after each
write."""

from __future__ import annotations

import csv
import datetime
import io

import pytest
from django.utils import timezone

from clusters.models import (
    ALTERNATE_ENDS_BEFORE_START,
    ALTERNATE_SEAT_TAKEN,
    Alternate,
)
from clusters.services import (
    ALTERNATE_ALREADY_OVER,
    ALTERNATE_OF_ANOTHER_DEPARTMENT,
    NOT_THE_SEATS_DEPUTY_MINISTER,
    alternate_name,
)
from governance.models import Vote
from sharedsvc.roles import Role
from tests.factories import UserFactory
from tests.pages import count_queries

API = "/api/v1/alternates/"


def days(n: int) -> datetime.date:
    return timezone.localdate() + datetime.timedelta(days=n)


@pytest.fixture
def agri(board):
    return board[0].department


@pytest.fixture
def stand_in(agri):
    return UserFactory(username="cos_agri", role=Role.DEPARTMENT_MANAGER, department=agri)


def body(department: str, user: str, start: int = 0, end: int = 10) -> dict:
    return {
        "department": department,
        "user": user,
        "starts_on": days(start).isoformat(),
        "ends_on": days(end).isoformat(),
    }


def test_the_deputy_minister_names_an_alternate(api, board, agri, stand_in):
    response = api.as_user(board[0]).post(API, body("AGRI", "cos_agri"), format="json")
    assert response.status_code == 201, response.content
    data = response.json()
    saved = Alternate.objects.get()
    assert data == {
        "id": saved.pk,
        "department": "AGRI",
        "user": "cos_agri",
        "starts_on": days(0).isoformat(),
        "ends_on": days(10).isoformat(),
        "status": "current",
        "named_by": "dm_agri",
        "named_at": data["named_at"],
        "ended_by": None,
        "ended_at": None,
    }
    assert (saved.department, saved.user, saved.named_by) == (agri, stand_in, board[0])


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            {"user": "mgr_lcs"},
            {"user": [ALTERNATE_OF_ANOTHER_DEPARTMENT.format(department="Ministry AGRI")]},
        ),
        (
            {"ends_on": days(-5).isoformat(), "starts_on": days(0).isoformat()},
            {"ends_on": [ALTERNATE_ENDS_BEFORE_START]},
        ),
        ({"user": "nobody"}, {"user": ["No user has the username “nobody”."]}),
    ],
)
def test_bad_input_is_refused_with_a_message(api, board, stand_in, change, expected):
    response = api.as_user(board[0]).post(
        API, {**body("AGRI", "cos_agri"), **change}, format="json"
    )
    assert response.status_code == 400
    assert response.json() == expected
    assert not Alternate.objects.exists()


def test_overlapping_ranges_are_refused(api, board, agri, stand_in):
    alternate_name(
        actor=board[0], department=agri, user=stand_in, starts_on=days(0), ends_on=days(10)
    )
    UserFactory(username="dep_agri", role=Role.DEPARTMENT_MANAGER, department=agri)
    response = api.as_user(board[0]).post(
        API, body("AGRI", "dep_agri", start=5, end=15), format="json"
    )
    assert response.status_code == 400
    assert ALTERNATE_SEAT_TAKEN in str(response.json())
    assert Alternate.objects.count() == 1


@pytest.mark.parametrize("persona", ["manager", "deputy_minister", "analyst", "provider_manager"])
def test_only_the_seats_deputy_minister_or_an_administrator_names(
    api, world, board, stand_in, persona
):
    response = api.as_user(getattr(world, persona)).post(
        API, body("AGRI", "cos_agri"), format="json"
    )
    assert response.status_code == 403
    assert response.json() == {"detail": NOT_THE_SEATS_DEPUTY_MINISTER}
    assert not Alternate.objects.exists()
    response = api.as_user(world.administrator).post(API, body("AGRI", "cos_agri"), format="json")
    assert response.status_code == 201
    assert Alternate.objects.get().named_by == world.administrator


def test_who_sees_which(api, world, board, agri, stand_in):
    mine = alternate_name(
        actor=board[0], department=agri, user=stand_in, starts_on=days(0), ends_on=days(10)
    )
    educ = board[1].department
    UserFactory(username="cos_educ", role=Role.DEPARTMENT_MANAGER, department=educ)
    alternate_name(
        actor=board[1],
        department=educ,
        user=educ.users.get(username="cos_educ"),
        starts_on=days(1),
        ends_on=days(2),
    )

    def ids(user) -> list[int]:
        response = api.as_user(user).get(API)
        assert response.status_code == 200
        return sorted(row["id"] for row in response.json()["results"])

    both = sorted(Alternate.objects.values_list("pk", flat=True))
    assert ids(world.administrator) == both
    assert ids(world.analyst) == both
    assert ids(board[0]) == [mine.pk]  # the seat's deputy minister: their seat's
    assert ids(stand_in) == [mine.pk]  # the alternate: their own
    assert ids(world.manager) == []
    assert ids(world.provider_manager) == []
    assert api.as_user(world.manager).get(f"{API}{mine.pk}/").status_code == 404


def test_filters_and_csv(api, world, board, agri, stand_in):
    alternate_name(
        actor=board[0], department=agri, user=stand_in, starts_on=days(0), ends_on=days(3)
    )
    educ = board[1].department
    other = UserFactory(username="cos_educ", role=Role.DEPARTMENT_MANAGER, department=educ)
    alternate_name(actor=board[1], department=educ, user=other, starts_on=days(5), ends_on=days(9))
    reader = api.as_user(world.analyst)

    def users(query: str) -> list[str]:
        response = reader.get(f"{API}?{query}")
        assert response.status_code == 200, response.getvalue()
        return sorted(row["user"] for row in response.json()["results"])

    assert users("department=AGRI") == ["cos_agri"]
    assert users("user=cos_educ") == ["cos_educ"]
    assert users(f"active_on={days(1).isoformat()}") == ["cos_agri"]
    assert users(f"active_on={days(6).isoformat()}") == ["cos_educ"]
    assert users(f"active_on={days(4).isoformat()}") == []
    assert reader.get(f"{API}?department=NOPE").status_code == 400
    response = reader.get(f"{API}?format=csv")
    assert response.status_code == 200
    rows = list(csv.DictReader(io.StringIO(response.getvalue().decode())))
    assert sorted(row["user"] for row in rows) == ["cos_agri", "cos_educ"]
    assert list(rows[0])[:5] == ["id", "department", "user", "starts_on", "ends_on"]


def test_end_early(api, world, board, agri, stand_in):
    naming = alternate_name(
        actor=board[0], department=agri, user=stand_in, starts_on=days(0), ends_on=days(10)
    )
    for who, status in ((stand_in, 403), (board[1], 404), (world.manager, 404)):
        assert api.as_user(who).post(f"{API}{naming.pk}/end/").status_code == status
    assert Alternate.objects.get().ended_at is None
    response = api.as_user(board[0]).post(f"{API}{naming.pk}/end/")
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "withdrawn"  # it began today: it holds no day now
    saved = Alternate.objects.get()
    assert (saved.ends_on, saved.ended_by) == (days(-1), board[0])
    again = api.as_user(board[0]).post(f"{API}{naming.pk}/end/")
    assert again.status_code == 409
    assert again.json() == {"detail": ALTERNATE_ALREADY_OVER}


def test_a_vote_cast_by_an_alternate_shows_cast_by(api, board, agri, stand_in, case):
    naming = alternate_name(
        actor=board[0], department=agri, user=stand_in, starts_on=days(0), ends_on=days(10)
    )
    response = api.as_user(stand_in).post(
        f"/api/v1/cases/{case.pk}/votes/", {"choice": "approve"}, format="json"
    )
    assert response.status_code == 201, response.content
    data = response.json()
    assert (data["department"], data["voter"], data["cast_by"], data["alternate"]) == (
        "AGRI",
        "dm_agri",
        "cos_agri",
        naming.pk,
    )
    # The deputy minister votes later: that vote counts (200, the seat's one vote).
    response = api.as_user(board[0]).post(
        f"/api/v1/cases/{case.pk}/votes/", {"choice": "reject", "reason": "No."}, format="json"
    )
    assert response.status_code == 200
    assert (response.json()["cast_by"], response.json()["alternate"]) == ("dm_agri", None)
    assert Vote.objects.get().cast_by == board[0]
    listed = api.as_user(stand_in).get(f"/api/v1/votes/?case={case.pk}").json()["results"]
    assert [(v["department"], v["cast_by"]) for v in listed] == [("AGRI", "dm_agri")]


def test_the_list_runs_the_same_queries_at_two_sizes(api, world, board, agri):
    # the token (with its user), the count, the page (seats and people joined)
    pinned = 3
    client = api.as_user(world.analyst)
    people = [
        UserFactory(username=f"alt{i}", role=Role.DEPARTMENT_MANAGER, department=agri)
        for i in range(6)
    ]
    alternate_name(
        actor=board[0], department=agri, user=people[0], starts_on=days(0), ends_on=days(1)
    )
    small = count_queries(client, API)
    for i, person in enumerate(people[1:], start=1):
        alternate_name(
            actor=world.administrator,
            department=agri,
            user=person,
            starts_on=days(2 * i),
            ends_on=days(2 * i + 1),
        )
    large = count_queries(client, API)
    assert Alternate.objects.count() == 6
    assert (small, large) == (pinned, pinned)
