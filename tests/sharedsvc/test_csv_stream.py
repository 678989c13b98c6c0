"""A list's CSV streams: a chunk of rows at a time from a server-side cursor, never the whole
list in memory, and the same file the whole list rendered at once would be."""

from __future__ import annotations

import csv
import io

import pytest

from clusters.api.views import MembershipViewSet
from clusters.models import Membership
from sharedsvc.api import renderers, views
from sharedsvc.api.renderers import CSVRenderer, flatten
from tests.factories import DepartmentFactory, MembershipFactory

MEMBERSHIPS = "/api/v1/memberships/"
CHUNK = 4


@pytest.fixture
def crowded(world):
    """Twenty more departments in LCS's payroll cluster: 22 memberships the LCS manager
    reads, of which only LCS's shows its baseline (each department's is private)."""
    for n in range(20):
        MembershipFactory(department=DepartmentFactory(code=f"Y{n:02d}"), cluster=world.pay_psoa)
    return world


@pytest.fixture
def small_chunks(monkeypatch):
    monkeypatch.setattr(renderers, "LOOK_AHEAD", CHUNK)
    monkeypatch.setattr(renderers, "CHUNK", CHUNK)
    monkeypatch.setattr(views, "CHUNK", CHUNK)
    # The serializer's stream (the database writes the memberships' file otherwise).
    monkeypatch.setattr(views.CSVUnpaginatedMixin, "csv_in_sql", False)
    serialised: list[int] = []
    get_serializer = MembershipViewSet.get_serializer

    def spy(self, *args, **kwargs):
        if args and kwargs.get("many"):
            serialised.append(len(args[0]))
        return get_serializer(self, *args, **kwargs)

    monkeypatch.setattr(MembershipViewSet, "get_serializer", spy)
    return serialised


def test_a_long_export_is_serialised_a_chunk_at_a_time(crowded, small_chunks, api):
    response = api.as_user(crowded.manager).get(MEMBERSHIPS, {"format": "csv"})
    assert response.status_code == 200
    assert response.streaming
    assert small_chunks == [CHUNK]  # the first chunk, read before the answer went out
    pieces = list(response.streaming_content)
    rows = list(csv.DictReader(io.StringIO(b"".join(pieces).decode())))
    visible = Membership.objects.visible_to(crowded.manager)
    assert len(rows) == visible.count() >= 22
    # Never more than a chunk of rows serialised at once, and one piece sent per chunk.
    assert max(small_chunks) == CHUNK
    assert sum(small_chunks) == len(rows)
    assert len(pieces) == -(-len(rows) // CHUNK)  # the header rides with the first


def test_the_streamed_file_is_the_whole_list_rendered_at_once(crowded, small_chunks, api):
    client = api.as_user(crowded.manager)
    streamed = client.get(MEMBERSHIPS, {"format": "csv"}).getvalue()
    records = client.get(MEMBERSHIPS, {"page_size": "500"}).json()["results"]
    assert streamed == CSVRenderer().render(records)
    # The gate answered per row across chunks: only LCS's own baseline is shown.
    rows = list(csv.DictReader(io.StringIO(streamed.decode())))
    shown = {r["department"] for r in rows if r["baseline_annual_cost"]}
    assert shown == {crowded.lcs.code}
    assert {r["department"] for r in rows} >= {"LCS", "ENV", "Y00", "Y19"}


def test_a_key_the_header_lacks_goes_into_its_ancestors_column():
    writer = renderers.CSVWriter(["id", "decision"])
    line = writer.line(flatten({"id": 1, "decision": {"case": 7, "status": "approved"}}))
    assert line == '1,"{""case"": 7, ""status"": ""approved""}"\r\n'


def test_cells_a_spreadsheet_would_run_are_still_quoted():
    writer = renderers.CSVWriter(["name", "amount"])
    assert writer.line({"name": "=HYPERLINK(1)", "amount": "-12.50"}) == "'=HYPERLINK(1),-12.50\r\n"
