"""The audit trail's CSV written by PostgreSQL (sharedsvc/api/audit_sql.py) is the file the
serializer writes, byte for byte, for a mixed trail and every filter; the gate is the
list's; and a long export holds a chunk at a time, never the whole trail."""

from __future__ import annotations

import csv
import datetime
import io
import json
from decimal import Decimal

import pghistory
import pghistory.models
import pytest
from django.core.paginator import Paginator
from django.db import connection
from django.utils import timezone

from budgets.models import CostPool
from clusters.models import Cluster, Department
from sharedsvc.api import audit_sql, copy_out, views
from sharedsvc.api.views import AUDIT_FORBIDDEN, CSVUnpaginatedMixin
from sharedsvc.audit import audit_context
from sharedsvc.models import User
from tests.factories import DepartmentFactory

EVENTS = "/api/v1/audit-events/"
AWKWARD = [
    'Finance, "Treasury"',
    "Two\nlines",
    "Carriage\rreturn",
    "=HYPERLINK(1)",
    "-12.50",
    "back\\slash \\n",
    "tab\there",
    "\x08bell\x0bvt\x0cff\x1e\x1f",
    "Québec — Santé",
    "emoji \U0001f600",
    "del\x7f",
    "",
]


@pytest.fixture
def trail(world):
    """The world's events, and more: awkward names created, renamed and deleted, decimals
    with trailing zeros, a JSON column, and actors and urls that need quoting."""
    odd = User.objects.create(username="-odd,user", role=world.analyst.role)
    departments = [
        DepartmentFactory(code=f"AWK{n:02d}", name=name) for n, name in enumerate(AWKWARD)
    ]
    with audit_context(actor=odd), pghistory.context(url='/x/?a=1,b="2"'):
        for department in departments[::2]:
            department.name = department.name + ", renamed\n"
            department.save()
    with pghistory.context(url="/line\nbreak/"):
        departments[1].delete()
    with pghistory.context(url=5):
        departments[3].name = "numeric url"
        departments[3].save()
    cluster = Cluster.objects.order_by("pk").first()
    for ratio in ("0.50", "1.00", "0.25"):
        cluster.fixed_cost_ratio = Decimal(ratio)
        cluster.save()
    pool = CostPool.objects.order_by("pk").first()
    if pool is not None:
        pool.amount = Decimal("1200.10")
        pool.save()
    with connection.cursor() as cursor:
        # A save with nothing changed: an update whose diff is null (no before, no changes).
        cursor.execute("UPDATE clusters_department SET name = name WHERE code = 'AWK00'")
    return world


def _same(body: bytes, serialised: bytes) -> bool:
    """The two files are the same (and, when not, the first lines that differ, shown)."""
    if body != serialised:
        ours, theirs = body.split(b"\r\n"), serialised.split(b"\r\n")
        differ = [(a, b) for a, b in zip(ours, theirs, strict=False) if a != b][:3]
        print(len(ours), len(theirs), *differ, sep="\n")
    return body == serialised


def both(api, user, **query) -> tuple[bytes, bytes, object, object]:
    """The file written by the database, and by the serializer, and both responses."""
    client = api.as_user(user)
    in_sql = client.get(EVENTS, {"format": "csv", **query})
    body = in_sql.getvalue() if in_sql.status_code == 200 else b""
    CSVUnpaginatedMixin.csv_in_sql = False
    try:
        serialised = client.get(EVENTS, {"format": "csv", **query})
    finally:
        CSVUnpaginatedMixin.csv_in_sql = True
    other = serialised.getvalue() if serialised.status_code == 200 else b""
    return body, other, in_sql, serialised


def test_the_database_writes_the_trail_the_serializer_writes(trail, api, monkeypatch):
    handed: list[int] = []
    lines = audit_sql.lines

    def spy(queryset, serialize, header):
        def counting(chunk):
            handed.append(len(chunk))
            return serialize(chunk)

        return lines(queryset, counting, header)

    monkeypatch.setattr(audit_sql, "lines", spy)
    body, serialised, *_ = both(api, trail.analyst)
    assert _same(body, serialised)
    rows = list(csv.DictReader(io.StringIO(body.decode())))
    assert len(rows) == pghistory.models.Events.objects.count()
    assert len({r["model"] for r in rows}) > 4
    assert {r["action"] for r in rows} == {"insert", "update", "delete"}
    # Most rows written by SQL; the awkward ones (outside ASCII, JSON columns, line
    # breaks, a url that is no string) by the serializer, and only those.
    assert 0 < sum(handed) < len(rows) / 2
    by_name = {json.loads(r["after"] or r["before"]).get("name"): r for r in rows}
    assert json.loads(by_name["Québec — Santé"]["after"])["code"] == "AWK08"
    renamed = [r for r in rows if r["actor"] == "'-odd,user"]
    assert renamed and all(r["url"] == '/x/?a=1,b="2"' for r in renamed)
    ratios = [
        json.loads(r["changes"]) for r in rows if r["model"] == "clusters.Cluster" and r["changes"]
    ]
    assert {"before": 0.5, "after": 1.0} in [c["fixed_cost_ratio"] for c in ratios if c]


@pytest.mark.parametrize(
    "query",
    [
        {"model": "clusters.Department"},
        {"model": "clusters.Cluster", "action": "update"},
        {"action": "delete"},
        {"actor": "-odd,user"},
        {"actor": "nobody"},
        {"at_after": "2000-01-01T00:00:00Z"},
        {"at_before": "2000-01-01T00:00:00Z"},
        {"model": "clusters.Department", "object_id": "__first__"},
    ],
)
def test_filters_give_the_same_file(trail, api, query):
    if query.get("object_id") == "__first__":
        query = {**query, "object_id": str(Department.objects.get(code="AWK00").pk)}
    body, serialised, *_ = both(api, trail.administrator, **query)
    assert _same(body, serialised)
    assert body == b"\r\n" or body.count(b"\r\n") >= 2


def test_a_time_zone_other_than_the_servers(trail, api, settings):
    settings.TIME_ZONE = "Asia/Kolkata"
    timezone.deactivate()
    body, serialised, *_ = both(api, trail.analyst, model="clusters.Department")
    assert _same(body, serialised) and b"+05:30," in body
    settings.TIME_ZONE = "UTC"
    body, serialised, *_ = both(api, trail.analyst, model="clusters.Department")
    assert _same(body, serialised) and b"Z," in body


@pytest.mark.parametrize(
    ("persona", "status"),
    [
        ("administrator", 200),
        ("analyst", 200),
        ("manager", 403),
        ("provider_manager", 403),
        ("deputy_minister", 403),
        ("outsider", 401),
        ("anonymous", 401),
    ],
)
def test_the_gate_is_the_lists(trail, api, persona, status, monkeypatch):
    ran: list[str] = []
    monkeypatch.setattr(audit_sql, "copy_out_sql", lambda *a, **k: ran.append("copy") or iter([]))
    user = trail.personas()[persona]
    response = api.as_user(user).get(EVENTS, {"format": "csv"})
    assert response.status_code == status
    if status == 200:
        assert response.getvalue() == b"\r\n"  # read to its end: it closes
    if status == 403:
        assert response.json()["detail"] == AUDIT_FORBIDDEN
    # Only a reader of the trail gets as far as the query.
    assert ran == (["copy"] if status == 200 else [])


def test_an_unknown_shape_of_queryset_goes_through_the_serializer(world):
    events = pghistory.models.Events.objects.order_by(*audit_sql.ORDER)
    assert audit_sql.supported(events)
    assert not audit_sql.supported(events.order_by("-pgh_created_at", "-pgh_id"))
    assert not audit_sql.supported(events.filter(pgh_data__name="x"))
    assert not audit_sql.supported(events.tracks(world.lcs))
    assert not audit_sql.supported(Department.objects.all())


def test_a_long_export_holds_a_chunk_at_a_time(trail, monkeypatch):
    """The trail comes from one COPY, handed over in chunks of a few rows: the reader holds
    at most WAITING of them, whatever the trail's length (as test_csv_sql's stream)."""
    from django.core.signals import request_finished
    from django.db import close_old_connections
    from rest_framework.test import APIRequestFactory, force_authenticate

    from sharedsvc.api.views import AuditEventViewSet

    monkeypatch.setattr(copy_out, "CHUNK_BYTES", 256)
    monkeypatch.setattr(copy_out, "WAITING", 1)
    total = pghistory.models.Events.objects.count()
    request = APIRequestFactory().get(EVENTS, {"format": "csv"})
    force_authenticate(request, user=trail.analyst)
    response = AuditEventViewSet.as_view({"get": "list"})(request)
    pieces = iter(response.streaming_content)
    first = next(pieces) + next(pieces)
    assert first.startswith(b"id,model,object_id,action,at,actor,url,before,after,changes\r\n")
    # The first piece holds a few rows of the trail, not the trail.
    assert 0 < first.count(b"\r\n") < total / 4
    sizes = [len(piece) for piece in pieces]
    assert len(sizes) > 10
    # Each piece a chunk of rows: a little over CHUNK_BYTES (a row's line at most, or the
    # serializer's of the rows handed to it), never the file.
    assert max(sizes) < 8 * 1024
    request_finished.disconnect(close_old_connections)
    try:
        response.close()
    finally:
        request_finished.connect(close_old_connections)


def test_an_export_of_many_events_is_the_serializers(world, api):
    """A few hundred events in one transaction (one time): the order within it is the
    event's, and the file is still the serializer's."""
    with audit_context(actor=world.administrator):
        for n in range(150):
            DepartmentFactory(code=f"MANY{n:03d}", name=f'Many {n}, "{n}"')
        Department.objects.filter(code__startswith="MANY").update(active=False, name="Mass, update")
    body, serialised, *_ = both(api, world.analyst, at_after=_an_hour_ago())
    assert _same(body, serialised)
    assert body.count(b"\r\n") > 300


def _an_hour_ago() -> str:
    return (timezone.now() - datetime.timedelta(hours=1)).isoformat()


# The JSON pages ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "query",
    [
        {},
        {"model": "clusters.Department", "action": "update"},
        {"actor": "-odd,user"},
        {"at_before": "2000-01-01T00:00:00Z"},
    ],
)
def test_the_pages_are_the_pages_of_the_view(trail, api, monkeypatch, query):
    """Each page's events (keys from the union, then the events whole) are the page that
    pghistory's view alone gives, and so is the count, page after page."""
    client = api.as_user(trail.analyst)

    def pages() -> list[dict]:
        found, number = [], 1
        while True:
            response = client.get(EVENTS, {"page_size": "7", "page": str(number), **query})
            assert response.status_code == 200, response.content
            found.append(response.json())
            if not response.json()["next"]:
                return found
            number += 1

    ours = pages()
    monkeypatch.setattr(views.AuditEventPagination, "django_paginator_class", Paginator)
    assert ours == pages()
    if not query:
        assert len(ours) > 3 and ours[0]["count"] == pghistory.models.Events.objects.count()


def test_a_page_past_the_end_is_still_a_404(trail, api):
    response = api.as_user(trail.analyst).get(EVENTS, {"page": "999"})
    assert response.status_code == 404
