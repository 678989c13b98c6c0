"""The annual benefits statement (issue 14): each table against the selectors it is built
from, what a department manager and a provider's manager see of it (their own rows, the
totals over fewer than three departments withheld), the page, its CSV tables, a bad year
and the query count at two sizes. The figures are in tests/web/statement_world.py."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest
from django.utils import timezone

from budgets.forms import SELECT_FISCAL_YEAR
from clusters.rules import WITHHELD
from governance.models import Case
from governance.subjects import subject_of
from servicelevels.rules import benefits_seen_by
from servicelevels.selectors import benefits, cluster_costs, compliance_by_cluster
from sharedsvc.periods import FISCAL_YEAR_INVALID, last_complete_fiscal_year
from tests.pages import count_queries, html, text
from tests.web.statement_world import END, FY, START, add_more, build_statement
from web.statement import TABLES, benefits_statement


def by(rows, key="cluster"):
    return {row[key]: row for row in rows}


@pytest.fixture
def statement_world(world):
    build_statement(world)
    return world


def statement_of(user):
    return benefits_statement(user, FY)["tables"]


def test_benefits_are_the_gated_benefits_report(statement_world):
    w = statement_world
    tables = statement_of(w.analyst)
    report = benefits_seen_by(w.analyst, benefits(fiscal_year=FY, today=timezone.localdate()))
    assert tables["services"] == report["services"]
    assert tables["clusters"] == report["clusters"]
    assert tables["members"] == report["members"]
    clusters = by(tables["clusters"])
    assert clusters["PAY-PSOA"]["baseline"] == Decimal("269589.04")
    assert clusters["PAY-PSOA"]["charged"] == Decimal("84700.00")
    assert clusters["PAY-PSOA"]["benefit"] == Decimal("184889.04")
    assert clusters["PAY-TECH"]["benefit"] == Decimal("90410.96")
    assert clusters["IT-TECH"]["benefit"] == Decimal("100602.74")
    assert by(tables["services"], "service")["PAY"]["contributors"] == 3


def test_cost_per_unit_first_month_against_last_and_the_year_before(statement_world):
    costs = by(statement_of(statement_world.analyst)["costs"])
    psoa = costs["PAY-PSOA"]
    rows = [r for r in cluster_costs(start=START, end=END) if r["cluster"] == "PAY-PSOA"]
    assert psoa["first_cost_per_unit"] == rows[0]["cost_per_unit"] == Decimal("10.0000")
    assert psoa["last_cost_per_unit"] == rows[-1]["cost_per_unit"] == Decimal("8.5556")
    assert psoa["months"] == 12
    assert psoa["change_in_year"] == Decimal("-14.4")
    assert psoa["average_cost_per_unit"] == Decimal("9.4111")
    assert psoa["previous_average_cost_per_unit"] is None
    assert psoa["change_on_previous_year"] is None
    tech = costs["PAY-TECH"]
    assert (tech["months"], tech["first_cost_per_unit"], tech["change_in_year"]) == (
        9,
        Decimal("10.0000"),
        Decimal("0.0"),
    )
    assert "IT-TECH" not in costs  # no pool


def test_compliance_is_the_clusters_rate(statement_world):
    w = statement_world
    compliance = by(statement_of(w.manager)["compliance"])  # public: the same for everyone
    rates = compliance_by_cluster(start=START, end=END)
    assert compliance["PAY-PSOA"]["compliance_rate"] == rates[w.pay_psoa.pk] == Decimal("87.5")
    assert compliance["PAY-TECH"]["compliance_rate"] == rates[w.pay_tech.pk] == Decimal("100.0")
    assert compliance["PAY-PSOA"]["previous_compliance_rate"] is None
    assert (
        statement_of(w.other_provider_manager)["compliance"]
        == statement_of(w.manager)["compliance"]
    )


def test_departures_decisions_and_programmes_for_an_analyst(statement_world):
    tables = statement_of(statement_world.analyst)
    assert [
        (r["department"], r["from_cluster"], r["reason"], r["status"]) for r in tables["departures"]
    ] == [
        ("TECH", "PAY-TECH", "cost", "completed"),
        ("LCS", "IT-TECH", "service_quality", "completed"),
    ]  # ENV's withdrawn notice is no departure
    reasons = by(tables["departure-reasons"])
    assert (reasons["IT-TECH"]["service_quality"], reasons["IT-TECH"]["departures"]) == (1, 1)
    assert (reasons["PAY-TECH"]["cost"], reasons["PAY-TECH"]["withheld"]) == (1, None)
    total = reasons[None]
    assert (total["departures"], total["cost"], total["service_quality"], total["strategic"]) == (
        2,
        1,
        1,
        0,
    )
    case = Case.objects.get()
    assert tables["decisions"] == [
        {
            "case": case.pk,
            "kind": "exit",
            "kind_label": "Exit request",
            "title": subject_of(case).title(case),
            "outcome": "approved",
            "outcome_label": "Approved",
            "decided_on": timezone.localdate(case.decided_at),
        }
    ]
    (programme,) = tables["programmes"]
    assert {
        k: programme[k] for k in ("programme", "joined", "committed", "late", "pending", "declined")
    } == {
        "programme": "PAYALL",
        "joined": 1,
        "committed": 1,
        "late": 0,
        "pending": 1,
        "declined": 1,
    }


def test_a_department_manager_sees_its_own_rows_and_totals_over_three(statement_world):
    w = statement_world
    tables = statement_of(w.manager)
    assert {row["department"] for row in tables["members"]} == {"LCS"}
    clusters = by(tables["clusters"])
    assert clusters["PAY-PSOA"]["benefit"] == Decimal("184889.04")  # three departments
    assert clusters["IT-TECH"]["benefit"] == Decimal("100602.74")  # its own alone
    assert clusters["PAY-TECH"]["baseline"] is None and clusters["PAY-TECH"]["benefit"] is None
    assert clusters["PAY-TECH"]["withheld"] == WITHHELD
    # Departures: its own request; TECH's is not its to see, nor its reason counted.
    assert [r["department"] for r in tables["departures"]] == ["LCS"]
    reasons = by(tables["departure-reasons"])
    assert reasons["IT-TECH"]["service_quality"] == 1
    assert reasons["PAY-TECH"]["cost"] is None and reasons["PAY-TECH"]["withheld"] == WITHHELD
    assert reasons[None]["withheld"] == WITHHELD and reasons[None]["departures"] == 2
    assert len(tables["decisions"]) == 1  # its own case

    # ENV's manager: LCS's desktops are withheld, and the case is not ENV's to read.
    other = statement_of(w.other_manager)
    assert by(other["clusters"])["IT-TECH"]["withheld"] == WITHHELD
    assert by(other["services"], "service")["IT"]["withheld"] == WITHHELD
    assert other["decisions"] == [] and other["departures"] == []


def test_providers_see_departures_as_the_gate_allows(statement_world):
    w = statement_world
    # The PSOA is TECH's destination: the request in part, without its reason.
    (row,) = statement_of(w.provider_manager)["departures"]
    assert (row["department"], row["reason"]) == ("TECH", None)
    assert by(statement_of(w.provider_manager)["departure-reasons"])["PAY-TECH"]["withheld"]
    # Technology Services runs both clusters left: it sees both whole, and every count.
    tables = statement_of(w.other_provider_manager)
    assert {r["reason"] for r in tables["departures"]} == {"cost", "service_quality"}
    assert all(row["withheld"] is None for row in tables["departure-reasons"])


def test_the_page_shows_every_table_with_its_download(client, statement_world):
    client.force_login(statement_world.manager)
    response = client.get(f"/statement/{FY}/")
    assert response.status_code == 200
    body = html(response)
    for name in TABLES:
        assert f'href="/statement/{FY}/{name}.csv"' in body
    for table in ("services", "clusters", "members", "costs", "compliance", "departures"):
        assert f'id="{table}-table"' in body
    words = text(response)
    assert "Benefits statement 2025-26" in words
    assert "184,889.04" in words and "87.5%" in words and "Withheld" in words
    assert WITHHELD in words
    assert "Print this statement" in words
    assert 'class="app-decision-record app-statement"' in body
    labels = [item["label"] for item in response.context["nav_items"]]
    assert "Statement" in labels


def test_the_statement_starts_at_the_last_complete_year(client, statement_world):
    # The chooser offers the years from the first cost pool's (2025-26) to today's.
    client.force_login(statement_world.manager)
    latest = last_complete_fiscal_year(timezone.localdate())
    response = client.get("/statement/")
    assert (response.status_code, response["Location"]) == (302, f"/statement/{latest}/")
    response = client.get(f"/statement/{latest}/?year={FY}")
    assert (response.status_code, response["Location"]) == (302, f"/statement/{FY}/")
    response = client.get(f"/statement/?year={FY}")
    assert (response.status_code, response["Location"]) == (302, f"/statement/{FY}/")


def test_a_malformed_year_is_a_400(client, world):
    client.force_login(world.manager)
    for url in ("/statement/2025-27/", "/statement/nope/"):
        response = client.get(url)
        assert response.status_code == 400
        assert FISCAL_YEAR_INVALID in text(response)
    response = client.get(f"/statement/{FY}/?year=1900-01")
    assert response.status_code == 400
    assert SELECT_FISCAL_YEAR in text(response)
    assert client.get("/statement/2025-2026/clusters.csv").status_code == 400
    assert client.get(f"/statement/{FY}/nothing.csv").status_code == 404


def read_csv(response) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(response.getvalue().decode())))


def test_each_table_as_csv(client, statement_world):
    w = statement_world
    client.force_login(w.manager)
    response = client.get(f"/statement/{FY}/clusters.csv")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert f"benefits-statement-{FY}-clusters.csv" in response["Content-Disposition"]
    rows = by(read_csv(response))
    assert rows["PAY-PSOA"]["benefit"] == "184889.04"
    assert (rows["PAY-TECH"]["benefit"], rows["PAY-TECH"]["withheld"]) == ("", WITHHELD)
    costs = by(read_csv(client.get(f"/statement/{FY}/costs.csv")))
    assert costs["PAY-PSOA"]["first_period"] == "2025-04"
    assert costs["PAY-PSOA"]["last_cost_per_unit"] == "8.5556"
    departures = read_csv(client.get(f"/statement/{FY}/departures.csv"))
    assert [(r["department"], r["reason"]) for r in departures] == [("LCS", "service_quality")]
    for name in TABLES:
        assert client.get(f"/statement/{FY}/{name}.csv").status_code == 200


def test_query_count_does_not_grow_with_the_data(client, world):
    """The page, for a deputy minister: the session and the user; the chooser's first cost
    pool; the statement: benefits (one query, and one more for the flags of the last
    complete year when that is another year), the clusters, the pools of both years,
    compliance (this year's and the year before's), the departures (the rows seen and
    every one counted), whether the deputy minister holds their seat and the decided
    cases with their subjects (`Case.objects.visible_to`), the programmes and their
    commitments counted by progress; then the navigation: the user's department, the seat
    check of "Cases" and the unread notifications. 17 (18) whatever the number of
    clusters, departures, cases and programmes."""
    client.force_login(world.deputy_minister)
    build_statement(world)
    flags = 0 if last_complete_fiscal_year(timezone.localdate()) == FY else 1
    small = count_queries(client, f"/statement/{FY}/")
    csv_small = count_queries(client, f"/statement/{FY}/decisions.csv")
    add_more(world, 4)
    assert len(statement_of(world.analyst)["decisions"]) == 5
    assert count_queries(client, f"/statement/{FY}/") == small == 17 + flags
    assert count_queries(client, f"/statement/{FY}/decisions.csv") == csv_small


def test_the_benefit_by_membership_is_shown_a_page_at_a_time(client, statement_world, monkeypatch):
    # An analyst sees every membership's row: a page of them at a time, in the report's
    # order, each page saying which rows it holds; the CSV has them all.
    monkeypatch.setattr("web.statement_views.MEMBERS_PER_PAGE", 2)
    client.force_login(statement_world.analyst)
    members = statement_of(statement_world.analyst)["members"]
    assert len(members) > 2
    pages = []
    for number in range(1, (len(members) + 1) // 2 + 1):
        response = client.get(f"/statement/{FY}/?page={number}")
        assert response.status_code == 200
        rows = [(r["department"], r["cluster"]) for r in response.context["members_page"]]
        pages.append(rows)
        words = text(response)
        first = 2 * number - 1
        last = min(2 * number, len(members))
        assert f"{first} to {last} of {len(members)}, by cluster and department" in words
        assert 'aria-label="Pages of the benefit by membership"' in html(response)
    assert [row for rows in pages for row in rows] == [
        (r["department"], r["cluster"]) for r in members
    ]
    assert len(read_csv(client.get(f"/statement/{FY}/members.csv"))) == len(members)
    # A department's few rows are one page, as before: no pages, no count.
    client.force_login(statement_world.manager)
    response = client.get(f"/statement/{FY}/")
    assert "Pages of the benefit by membership" not in html(response)
    assert "by cluster and department" not in text(response)
