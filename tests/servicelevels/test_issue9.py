"""Issue 9 on the service-levels side, each finding a named test: a total over two
departments' baselines is withheld on the page and in the API (2), rights from a
membership need current membership (4), `submitted_by` may be null and the schema says so
(8), and the services check permission themselves."""

from __future__ import annotations

import csv
import datetime
import io
import re
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.test import Client

from clusters.models import Membership
from clusters.rules import WITHHELD
from servicelevels import services
from servicelevels.models import Measurement
from sharedsvc.periods import fiscal_year_bounds, fiscal_year_of, previous_month
from tests.factories import DepartmentFactory, MembershipFactory

API = "/api/v1"
D = datetime.date
FEBRUARY = D(2026, 2, 1)


def _last_fy() -> str:
    return fiscal_year_of(
        previous_month(fiscal_year_bounds(fiscal_year_of(datetime.date.today()))[0])
    )


def _page(user) -> str:
    client = Client()
    client.force_login(user)
    response = client.get("/clusters/PAY-PSOA/performance/")
    assert response.status_code == 200
    return " ".join(re.sub(r"<[^>]+>", " ", response.content.decode()).split()).replace(
        "&#x27;", "'"
    )


def _benefit_row(text: str, fiscal_year: str) -> str:
    """The words of the benefit table's row of one fiscal year."""
    start = text.index(f"{fiscal_year} (last complete)")
    return text[start : start + 400]


@pytest.fixture
def baselines(world):
    # LCS 120,000.00 and ENV 60,000.00 a year in PAY-PSOA, members all year.
    Membership.objects.filter(pk=world.lcs_payroll.pk).update(
        baseline_annual_cost=Decimal("120000")
    )
    Membership.objects.filter(pk=world.env_payroll.pk).update(baseline_annual_cost=Decimal("60000"))
    return world


# Finding 2 --------------------------------------------------------------------------------


def test_finding_2_two_member_cluster_total_is_withheld(baselines):
    w = baselines
    fy = _last_fy()
    row = _benefit_row(_page(w.manager), fy)
    # The total (180,000.00) less LCS's own would give ENV's baseline: withheld, saying why.
    assert WITHHELD in row
    assert "180,000.00" not in row and "60,000.00" not in row
    # Analysts see it whole.
    assert "180,000.00" in _benefit_row(_page(w.analyst), fy)


def test_finding_2_a_total_over_three_departments_is_shown(baselines):
    w = baselines
    third = DepartmentFactory(code="HLTH")
    MembershipFactory(department=third, cluster=w.pay_psoa, joined_on=D(2025, 4, 1))
    Membership.objects.filter(department=third).update(baseline_annual_cost=Decimal("20000"))
    row = _benefit_row(_page(w.manager), _last_fy())
    assert WITHHELD not in row
    assert "200,000.00" in row


def test_finding_2_benefits_report_withholds_small_totals(baselines, api):
    w = baselines
    fy = _last_fy()
    answer = api.as_user(w.manager).get(f"{API}/reports/benefits/?fiscal_year={fy}").json()
    assert {(r["department"], r["cluster"], r["baseline"]) for r in answer["results"]} == {
        ("LCS", "PAY-PSOA", "120000.00"),
        ("LCS", "IT-TECH", "120000.00"),  # the factory's baseline
    }
    pay = next(c for c in answer["clusters"] if c["cluster"] == "PAY-PSOA")
    assert (pay["contributors"], pay["baseline"], pay["benefit"], pay["withheld"]) == (
        2,
        None,
        None,
        WITHHELD,
    )
    assert (
        next(r for r in answer["results"] if r["cluster"] == "PAY-PSOA")["cluster_flagged"] is None
    )
    everything = api.as_user(w.analyst).get(f"{API}/reports/benefits/?fiscal_year={fy}").json()
    pay = next(c for c in everything["clusters"] if c["cluster"] == "PAY-PSOA")
    assert (pay["baseline"], pay["withheld"]) == ("180000.00", None)


def test_finding_2_provider_manager_sees_no_baselines(baselines, api):
    w = baselines
    client = api.as_user(w.provider_manager)
    answer = client.get(f"{API}/reports/benefits/?provider=PSOA").json()
    assert answer["results"] == []
    assert [(c["cluster"], c["baseline"], c["benefit"]) for c in answer["clusters"]] == [
        ("PAY-PSOA", None, None)
    ]
    table = client.get(f"{API}/reports/benefits/?provider=PSOA&format=csv")
    assert list(csv.DictReader(io.StringIO(table.content.decode()))) == []
    assert "120000" not in table.content.decode()


# Finding 4 --------------------------------------------------------------------------------


def _return(world, department, value="99.9") -> Measurement:
    return services.measurement_submit(
        actor=world.provider_manager,
        standard=world.payroll.standards.get(),
        cluster=world.pay_psoa,
        department=department,
        period=FEBRUARY,
        value=Decimal(value),
    )


def test_finding_4_a_former_member_reads_only_its_own_measurements(world, api):
    own, fellow = _return(world, world.env), _return(world, world.lcs)
    Membership.objects.filter(pk=world.env_payroll.pk).update(
        leaves_on=datetime.date.today() - datetime.timedelta(days=1)
    )
    client = api.as_user(world.other_manager)  # ENV, which has left PAY-PSOA
    ids = [r["id"] for r in client.get(f"{API}/measurements/").json()["results"]]
    assert ids == [own.pk]
    assert client.get(f"{API}/measurements/{fellow.pk}/").status_code == 404
    # Nor the cluster's members in the reports.
    assert client.get(f"{API}/reports/self-preference/").json()["results"] == []


def test_finding_4_a_future_member_is_an_outsider(world, api):
    fellow = _return(world, world.lcs)
    MembershipFactory(
        department=world.fin,
        cluster=world.pay_psoa,
        joined_on=datetime.date.today() + datetime.timedelta(days=31),
    )
    client = api.as_user(world.recused_deputy_minister)  # FIN's
    assert client.get(f"{API}/measurements/{fellow.pk}/").status_code == 404
    # A current member reads it.
    assert (
        api.as_user(world.other_manager).get(f"{API}/measurements/{fellow.pk}/").status_code == 200
    )


# Finding 8 --------------------------------------------------------------------------------


def test_finding_8_submitted_by_may_be_null_and_the_schema_says_so(world, api, client):
    by_system = services.measurement_submit(
        actor=None,
        standard=world.payroll.standards.get(),
        cluster=world.pay_psoa,
        department=world.lcs,
        period=FEBRUARY,
        value=Decimal("99.9"),
    )
    body = api.as_user(world.manager).get(f"{API}/measurements/{by_system.pk}/").json()
    assert (body["id"], body["submitted_by"]) == (by_system.pk, None)
    client.force_login(world.analyst)
    schema = client.get("/api/v1/schema/", {"format": "json"}).json()
    field = schema["components"]["schemas"]["Measurement"]["properties"]["submitted_by"]
    assert (field["type"], field.get("nullable")) == ("string", True)


# Services check permission themselves -------------------------------------------------------


def test_services_refuse_a_return_from_another_provider(world):
    with pytest.raises(PermissionDenied):
        services.measurement_submit(
            actor=world.other_provider_manager,
            standard=world.payroll.standards.get(),
            cluster=world.pay_psoa,
            department=world.lcs,
            period=FEBRUARY,
            value=Decimal("1"),
        )
    with pytest.raises(PermissionDenied):
        services.measurements_submit(
            actor=world.manager,
            rows=[
                {
                    "standard": world.payroll.standards.get(),
                    "cluster": world.pay_psoa,
                    "department": world.lcs,
                    "period": FEBRUARY,
                    "value": Decimal("1"),
                }
            ],
        )
    assert not Measurement.objects.exists()
    saved = _return(world, world.lcs)
    with pytest.raises(PermissionDenied):
        services.measurement_update(
            actor=world.other_provider_manager, measurement=saved, value=Decimal("1")
        )
    saved.refresh_from_db()
    assert saved.value == Decimal("99.9")
