"""A JSON page whose records are read as values from the database (`Projection.values`,
`CSVUnpaginatedMixin._json_list`) is the page the serializer writes, byte for byte, for
every list and every reader; and it is taken where it should be."""

from __future__ import annotations

import datetime

import pytest
import time_machine
from django.utils import timezone

from budgets.models import Charge
from clusters.models import Membership, MembershipStatus
from sharedsvc.api.csv_sql import Projection
from sharedsvc.api.views import CSVUnpaginatedMixin
from tests.factories import MembershipFactory
from tests.matrix import SIGNED_OUT
from tests.sharedsvc.test_csv_sql import LISTS, varied  # noqa: F401  (the fixture)

# Each list as one whole page, and as a later page of a few rows.
PAGES = [{"page_size": 1000}, {"page": 2, "page_size": 3}]


def _both(client, path, params, monkeypatch):
    in_sql = client.get(path, params)
    monkeypatch.setattr(CSVUnpaginatedMixin, "json_in_sql", False)
    try:
        serialised = client.get(path, params)
    finally:
        monkeypatch.setattr(CSVUnpaginatedMixin, "json_in_sql", True)
    return in_sql, serialised


def test_the_database_reads_the_page_the_serializer_writes(varied, api, monkeypatch):  # noqa: F811
    """Every list, as every signed-in persona, whole and a page into it."""
    taken: list[str] = []
    records = Projection.records

    def spy(self, rows):
        found = records(self, rows)
        taken.append(path)
        return found

    monkeypatch.setattr(Projection, "records", spy)
    compared: dict[str, int] = dict.fromkeys(LISTS, 0)
    for path in sorted(LISTS):
        for persona, user in varied.personas().items():
            if persona in SIGNED_OUT:
                continue
            client = api.as_user(user)
            for params in PAGES:
                taken.clear()
                in_sql, serialised = _both(client, path, params, monkeypatch)
                assert in_sql.status_code == serialised.status_code, (path, persona, params)
                assert in_sql.content == serialised.content, f"{path} {params} as {persona}"
                if taken and in_sql.status_code == 200:
                    compared[path] += len(in_sql.json()["results"])
    # The lists read from the database, each compared on rows (not only on empty pages).
    assert {path for path, rows in compared.items() if rows} >= {
        "/api/v1/departments/",
        "/api/v1/clusters/",
        "/api/v1/memberships/",
        "/api/v1/charges/",
        "/api/v1/cost-pools/",
    }


def test_a_membership_status_is_read_as_of_today(world, api):
    """`Membership.status_sql` is `status_on(today)`: each of its four answers, at the edges
    (a membership joined today is active; one that leaves today has left)."""
    noon = datetime.datetime(2026, 6, 15, 12, tzinfo=timezone.get_current_timezone())
    with time_machine.travel(noon, tick=False):
        _statuses_read_on_the_day(world, api)


def _statuses_read_on_the_day(world, api) -> None:
    today = timezone.localdate()
    assert today == datetime.date(2026, 6, 15)
    cases = {
        "JOINING": (today + datetime.timedelta(days=1), None),
        "ACTIVE": (today, None),
        "LEAVING": (today - datetime.timedelta(days=30), today + datetime.timedelta(days=1)),
        "LEFT": (today - datetime.timedelta(days=30), today),
    }
    made = {
        name: MembershipFactory(joined_on=joined, leaves_on=leaves)
        for name, (joined, leaves) in cases.items()
    }
    records = {
        r["id"]: r
        for r in api.as_user(world.analyst)
        .get("/api/v1/memberships/", {"page_size": 1000})
        .json()["results"]
    }
    for name, membership in made.items():
        assert membership.status == MembershipStatus[name]
        assert records[membership.pk]["status"] == MembershipStatus[name].value, name
    assert {
        m.pk: m.status for m in Membership.objects.filter(pk__in=[m.pk for m in made.values()])
    } == {m.pk: MembershipStatus[n] for n, m in made.items()}


def test_a_page_is_counted_without_the_joins_of_its_rows(varied, api):  # noqa: F811
    """The count of a page read as values is the list's own (`_CountedPlain`): no join to the
    codes its rows show."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        body = api.as_user(varied.analyst).get("/api/v1/charges/", {"page_size": 2}).json()
    counts = [q["sql"] for q in queries if "COUNT(*)" in q["sql"]]
    assert len(counts) == 1 and "JOIN" not in counts[0]
    assert body["count"] == Charge.objects.count() > 2
    assert len(body["results"]) == 2


@pytest.mark.parametrize("path", ["/api/v1/cases/", "/api/v1/exit-requests/"])
def test_a_list_with_nested_records_goes_through_its_serializer(varied, api, monkeypatch, path):  # noqa: F811
    """A serializer with method fields has no projection: its page is written by it."""
    called: list[bool] = []
    records = Projection.records
    monkeypatch.setattr(
        Projection, "records", lambda self, rows: called.append(True) or records(self, rows)
    )
    response = api.as_user(varied.analyst).get(path)
    assert response.status_code == 200 and response.json()["count"] > 0
    assert called == []
