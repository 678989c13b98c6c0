"""The annual benefits statement in the API (`reports/benefits-statement/`): the page's
tables as JSON, one table as CSV, the same figures as the page (web.statement) for each
reader, and 400 for a bad year or table."""

from __future__ import annotations

import csv
import io

from django.utils import timezone

from clusters.rules import WITHHELD
from sharedsvc.periods import FISCAL_YEAR_INVALID, last_complete_fiscal_year
from tests.pages import count_queries
from tests.web.statement_world import FY, add_more, build_statement
from web.statement import TABLES
from web.statement_api import TABLE_FOR_CSV, UNKNOWN_TABLE

URL = "/api/v1/reports/benefits-statement/"


def by(rows, key="cluster"):
    return {row[key]: row for row in rows}


def test_every_table_as_json(api, world):
    build_statement(world)
    body = api.as_user(world.analyst).get(URL, {"fiscal_year": FY}).json()
    assert (body["fiscal_year"], body["as_of"], body["complete"]) == (FY, "2026-03-31", True)
    assert {name.replace("-", "_") for name in TABLES} <= set(body)
    assert by(body["clusters"])["PAY-PSOA"]["benefit"] == "184889.04"
    assert by(body["costs"])["PAY-PSOA"]["last_cost_per_unit"] == "8.5556"
    assert by(body["costs"])["PAY-PSOA"]["first_period"] == "2025-04"
    assert by(body["compliance"])["PAY-PSOA"]["compliance_rate"] == "87.5"
    assert [r["department"] for r in body["departures"]] == ["TECH", "LCS"]
    assert by(body["departure_reasons"])[None]["departures"] == 2
    assert [d["outcome"] for d in body["decisions"]] == ["approved"]
    assert by(body["programmes"], "programme")["PAYALL"]["joined"] == 1


def test_a_department_manager_gets_what_the_page_shows(api, world):
    build_statement(world)
    body = api.as_user(world.manager).get(URL, {"fiscal_year": FY}).json()
    clusters = by(body["clusters"])
    assert (clusters["PAY-TECH"]["benefit"], clusters["PAY-TECH"]["withheld"]) == (None, WITHHELD)
    assert {row["department"] for row in body["members"]} == {"LCS"}
    assert [r["department"] for r in body["departures"]] == ["LCS"]
    assert by(body["departure_reasons"])["PAY-TECH"]["cost"] is None


def test_the_default_year_is_the_last_complete_one(api, world):
    body = api.as_user(world.manager).get(URL).json()
    assert body["fiscal_year"] == last_complete_fiscal_year(timezone.localdate())


def test_one_table_as_csv(api, world):
    build_statement(world)
    client = api.as_user(world.manager)
    response = client.get(URL, {"fiscal_year": FY, "format": "csv", "table": "clusters"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = by(csv.DictReader(io.StringIO(response.getvalue().decode())))
    assert (rows["PAY-TECH"]["benefit"], rows["PAY-TECH"]["withheld"]) == ("", WITHHELD)
    assert rows["PAY-PSOA"]["benefit"] == "184889.04"
    # The page's download is the same file.
    page = api.as_user(None)
    page.force_login(world.manager)
    assert page.get(f"/statement/{FY}/clusters.csv").content == response.getvalue()


def test_bad_queries_are_a_400(api, world):
    client = api.as_user(world.analyst)
    response = client.get(URL, {"fiscal_year": "2025-27"})
    assert (response.status_code, response.json()) == (400, {"fiscal_year": [FISCAL_YEAR_INVALID]})
    response = client.get(URL, {"table": "nothing"})
    assert (response.status_code, response.json()) == (400, {"table": [UNKNOWN_TABLE]})
    response = client.get(URL, {"format": "csv"})
    assert (response.status_code, response.json()) == (400, {"table": [TABLE_FOR_CSV]})
    assert api.as_user(None).get(URL).status_code == 401


def test_query_count_does_not_grow_with_the_data(api, world):
    build_statement(world)
    client = api.as_user(world.deputy_minister)
    small = count_queries(client, f"{URL}?fiscal_year={FY}")
    add_more(world, 4)
    assert count_queries(client, f"{URL}?fiscal_year={FY}") == small
