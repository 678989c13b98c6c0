"""A list's CSV written by the database (sharedsvc/api/csv_sql.py) is the file the serializer
writes, byte for byte, for every list and every reader; and the rules that gate fields in
SQL hold on exactly the rows their predicates allow."""

from __future__ import annotations

import csv
import datetime
import io
import threading

import pytest
import rules
from django.core.signals import request_finished
from django.db import close_old_connections
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone
from rest_framework.test import APIRequestFactory, force_authenticate

from budgets.models import Charge
from clusters.api.views import DepartmentViewSet
from clusters.models import Department
from defection.models import Destination, Reason
from defection.services import exit_request_submit
from sharedsvc.api import copy_out, csv_sql
from sharedsvc.api.csv_sql import Projection
from sharedsvc.api.views import CSVUnpaginatedMixin
from tests.budgets.matrix_fields import _charged as charge_april
from tests.factories import DepartmentFactory, MembershipFactory
from tests.matrix import SIGNED_OUT

FORMULA = '=HYPERLINK("http://bad.example")'


def list_views(patterns=None, prefix: str = "") -> dict[str, type]:
    """Every list with a CSV whose URL takes no argument: its path and its view class."""
    found: dict[str, type] = {}
    for entry in patterns if patterns is not None else get_resolver().url_patterns:
        if isinstance(entry, URLResolver):
            found.update(list_views(entry.url_patterns, prefix + _plain(entry.pattern)))
        elif isinstance(entry, URLPattern):
            cls = getattr(entry.callback, "cls", None)
            actions = getattr(entry.callback, "actions", None) or {}
            path = prefix + _plain(entry.pattern)
            if (
                cls is not None
                and issubclass(cls, CSVUnpaginatedMixin)
                and actions.get("get") == "list"
                and "<" not in path
                and "(" not in path
            ):
                found["/" + path] = cls
    return found


def _plain(pattern) -> str:
    return str(pattern).lstrip("^").rstrip("$")


LISTS = list_views()
AWKWARD = [
    'Finance, "Treasury"',
    "Two\nlines",
    "Carriage\rreturn",
    "-12.50",
    "+3",
    "-1e5",
    "-.5",
    "-1_000",
    "-inf",
    "+nan",
    "-1\n",
    "@SUM(A1)",
    "-",
    "=",
    "' quoted",
    "",
    " leading space",
    "Québec — Santé",
    "back\\slash \\n",
    "tab\there",
    "\x08bell\x0bvt\x0cff",
]


def test_the_lists_are_found():
    assert "/api/v1/charges/" in LISTS
    assert len(LISTS) >= 15


@pytest.fixture
def varied(world):
    """The world, with a department whose name a spreadsheet would run as a formula, a
    member of LCS's payroll cluster, and April's charges (LCS's on a budget line)."""
    odd = DepartmentFactory(code="ODD", name=FORMULA)
    MembershipFactory(department=odd, cluster=world.pay_psoa)
    # Names the csv writer must quote, and the numbers and near-numbers of the formula guard.
    for n, name in enumerate(AWKWARD):
        DepartmentFactory(code=f"AWK{n:02d}", name=name)
    charge_april(world)
    # ENV asks to leave PAY-PSOA for TECHSVC's cluster: an exit request and its case.
    exit_request_submit(
        actor=world.other_manager,
        department=world.env,
        from_cluster=world.pay_psoa,
        destination=Destination.CLUSTER,
        to_cluster=world.pay_tech,
        reason=Reason.COST,
        justification="Technology quotes less.",
        requested_leave_on=timezone.localdate() + datetime.timedelta(days=120),
    )
    return world


def test_the_database_writes_the_file_the_serializer_writes(varied, api, monkeypatch):
    """Every list, as every signed-in persona, in one world (built once: it is the cost)."""
    projected: list[bool] = []
    of = Projection.of.__func__  # type: ignore[attr-defined]

    def spy(cls, *args):
        found = of(cls, *args)
        projected.append(found is not None)
        return found

    monkeypatch.setattr(Projection, "of", classmethod(spy))
    rows: dict[str, int] = dict.fromkeys(LISTS, 0)
    compared = 0
    for path in sorted(LISTS):
        for persona, user in varied.personas().items():
            if persona in SIGNED_OUT:
                continue
            client = api.as_user(user)
            projected.clear()
            in_sql = client.get(path, {"format": "csv"})
            body = in_sql.getvalue() if in_sql.status_code == 200 else b""
            if not any(projected):
                continue  # the serializer wrote it: nothing to compare with
            monkeypatch.setattr(CSVUnpaginatedMixin, "csv_in_sql", False)
            serialised = client.get(path, {"format": "csv"})
            monkeypatch.setattr(CSVUnpaginatedMixin, "csv_in_sql", True)
            assert in_sql.status_code == serialised.status_code == 200, (path, persona)
            assert body == serialised.getvalue(), f"{path} as {persona}"
            compared += 1
            rows[path] += max(0, len(body.decode().splitlines()) - 1)
    assert compared >= 8 * 8
    # A list the world leaves empty for everyone would compare nothing.
    assert all(rows[path] > 0 for path in WITH_ROWS if path in PROJECTED), rows


# The lists written by the database whose files the world fills, so that comparing them
# compares rows.
PROJECTED = {
    "/api/v1/departments/",
    "/api/v1/providers/",
    "/api/v1/services/",
    "/api/v1/clusters/",
    "/api/v1/charges/",
    "/api/v1/memberships/",
}
# The lists the world fills.
WITH_ROWS = {
    "/api/v1/departments/",
    "/api/v1/providers/",
    "/api/v1/services/",
    "/api/v1/clusters/",
    "/api/v1/memberships/",
    "/api/v1/budget-lines/",
    "/api/v1/charges/",
    "/api/v1/exit-requests/",
    "/api/v1/cases/",
}


def test_most_lists_are_written_by_the_database(world, api, monkeypatch):
    """The fast path is taken where it should be: a refactor that loses it fails here."""
    projected: list[str] = []
    lines = Projection.lines

    def spy(self, queryset):
        projected.append(queryset.model._meta.label)
        return lines(self, queryset)

    monkeypatch.setattr(Projection, "lines", spy)
    whole: list[str] = []
    sql_lines = Projection.sql_lines

    def spy_whole(self, queryset):
        found = sql_lines(self, queryset)
        if found is not None:
            whole.append(queryset.model._meta.label)
        return found

    monkeypatch.setattr(Projection, "sql_lines", spy_whole)
    client = api.as_user(world.analyst)
    for path in LISTS:
        client.get(path, {"format": "csv"}).getvalue()  # read to its end: it closes
    assert {
        "budgets.Charge",
        "budgets.CostPool",
        "clusters.Department",
        "clusters.Cluster",
        "clusters.Membership",
        "clusters.Service",
        "governance.Vote",
    } <= set(projected)
    # Lists without a time in them: each line written whole by PostgreSQL.
    assert {"budgets.Charge", "clusters.Department", "clusters.Service"} <= set(whole)


def test_a_formula_in_a_name_is_quoted_by_the_database_path(varied, api):
    body = api.as_user(varied.analyst).get("/api/v1/departments/", {"format": "csv"}).getvalue()
    rows = {r["code"]: r for r in csv.DictReader(io.StringIO(body.decode()))}
    assert rows["ODD"]["name"] == "'" + FORMULA
    assert Department.objects.get(code="ODD").name == FORMULA
    by_name = {r["code"]: r["name"] for r in rows.values()}
    names = [by_name[f"AWK{n:02d}"] for n in range(len(AWKWARD))]
    # Numbers stay numbers; anything else that a spreadsheet would run is quoted.
    assert names[3:7] == ["-12.50", "+3", "-1e5", "-.5"]
    assert names[7:14] == ["'-1_000", "'-inf", "'+nan", "'-1\n", "'@SUM(A1)", "'-", "'="]
    assert names[:3] == AWKWARD[:3]
    assert names[14:] == AWKWARD[14:]


def test_the_charges_gated_cells_follow_the_reader(varied, api):
    """A department manager's export shows whether a charge is funded for their own
    department's charges only (`clusters.view_department_private`)."""
    world = varied
    body = api.as_user(world.manager).get("/api/v1/charges/", {"format": "csv"}).getvalue()
    rows = list(csv.DictReader(io.StringIO(body.decode())))
    visible = Charge.objects.visible_to(world.manager)
    assert len(rows) == visible.count() > 0
    departments = {row["department"] for row in rows}
    assert world.manager.department.code in departments
    for row in rows:
        own = row["department"] == world.manager.department.code
        assert (row["unfunded"] != "") == own, row
    assert {row["department"] for row in rows} > {world.manager.department.code}


@pytest.mark.parametrize("perm", sorted(csv_sql._CONDITIONS))
def test_each_condition_holds_where_its_rule_allows(world, perm):
    for persona, user in world.personas().items():
        by_rule = {d.pk for d in Department.objects.all() if rules.has_perm(perm, user, d)}
        by_condition = set(
            Department.objects.filter(csv_sql.condition_for(perm, user, "")).values_list(
                "pk", flat=True
            )
        )
        assert by_condition == by_rule, persona


def test_a_download_left_half_read_stops_its_copy(varied, monkeypatch):
    """A client that goes away mid-file: the COPY's thread stops, nothing else is held, and
    the connection serves the next query."""
    monkeypatch.setattr(copy_out, "CHUNK_BYTES", 64)
    monkeypatch.setattr(copy_out, "WAITING", 1)
    for n in range(60):
        DepartmentFactory(code=f"MANY{n:02d}")
    threads = threading.active_count()
    # Straight to the view, as a server calls it (the test client would close the
    # connection of the test's transaction when the answer closes).
    request = APIRequestFactory().get("/api/v1/departments/", {"format": "csv"})
    force_authenticate(request, user=varied.analyst)
    response = DepartmentViewSet.as_view({"get": "list"})(request)
    pieces = iter(response.streaming_content)
    first = next(pieces) + next(pieces)
    assert first.startswith(b"code,name,")
    copying = [t for t in threading.enumerate() if t.name == "csv-copy"]
    assert len(copying) == 1 and threading.active_count() == threads + 1  # waiting for us
    # Django would take the test transaction's connection for a broken one and close it.
    request_finished.disconnect(close_old_connections)
    try:
        response.close()
    finally:
        request_finished.connect(close_old_connections)
    assert not copying[0].is_alive()
    assert threading.active_count() == threads
    assert Department.objects.filter(code__startswith="MANY").count() == 60


def test_a_copy_that_fails_raises_in_the_reader(db):
    """An error in the query reaches the view as Django's database error (answered as
    JSON by the API's handler), not lost in the thread."""
    from django.db import DataError, transaction
    from django.db.models.expressions import RawSQL

    DepartmentFactory(code="ZERO")
    failing = Department.objects.annotate(line=RawSQL("(1 / (id - id))::text", [])).values_list(
        "line", flat=True
    )
    with pytest.raises(DataError), transaction.atomic():
        list(copy_out.copy_out(failing))
    assert Department.objects.filter(code="ZERO").exists()
    assert not [t for t in threading.enumerate() if t.name == "csv-copy"]


def test_a_list_no_row_can_meet_is_an_empty_file(varied, api):
    """A filter on a private figure the reader may not see is a condition no row meets
    (`pk__in=[]`): Django writes no SQL for it, and the file is empty, not a 500."""
    response = api.as_user(varied.provider_manager).get(
        "/api/v1/charges/", {"format": "csv", "unfunded": "true"}
    )
    assert response.status_code == 200
    assert response.getvalue() == b"\r\n"
    assert list(copy_out.copy_out(Department.objects.none().values_list("code", flat=True))) == []
    assert Charge.objects.filter(department=varied.lcs).exists()
