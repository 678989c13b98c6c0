"""The service-level pages per role: a provider's scorecard and returns upload (the
database checked after every upload), a department's service levels, a cluster's
performance and the overview; their query counts at two data sizes; the navigation."""

from __future__ import annotations

import datetime
import re
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from budgets import services as budget_services
from clusters.rules import WITHHELD
from defection import services as defection_services
from servicelevels import forms, services, views
from servicelevels.models import Measurement
from sharedsvc.periods import (
    fiscal_year_bounds,
    fiscal_year_of,
    format_period,
    next_month,
    previous_month,
)
from tests.factories import (
    ClusterFactory,
    DepartmentFactory,
    MembershipFactory,
    ProviderFactory,
    ServiceFactory,
    StandardFactory,
)
from tests.pages import count_queries, html, text

TODAY = timezone.localdate()
THIS_MONTH = TODAY.replace(day=1)
LAST = previous_month(THIS_MONTH)  # the last complete month


def months_back(n: int) -> datetime.date:
    """The n-th complete month before this one (1 = the last complete month)."""
    month = THIS_MONTH
    for _ in range(n):
        month = previous_month(month)
    return month


M1, M2, M3, M4 = months_back(1), months_back(2), months_back(3), months_back(4)


def signed_in(client: Client, user) -> Client:
    client.force_login(user)
    return client


def error_summary(response) -> list[str]:
    match = re.search(r'class="govuk-error-summary".*?</ul>', html(response), re.S)
    assert match, "no error summary on the page"
    return [
        re.sub(r"<[^>]+>", "", item).strip()
        for item in re.findall(r"<li>(.*?)</li>", match.group(0), re.S)
    ]


def paid_on_time(world):
    return world.payroll.standards.get(name="Paid on time")


def submit(world, department, period, value, standard=None, cluster=None, actor=None):
    return services.measurement_submit(
        actor=actor or world.provider_manager,
        standard=standard or paid_on_time(world),
        cluster=cluster or world.pay_psoa,
        department=department,
        period=period,
        value=Decimal(value),
    )


def on_time(measurement: Measurement) -> None:
    """Mark a return as made on the 5th of the next month (a test's submissions are made
    today, after the due date of any month but the last)."""
    day = next_month(measurement.period).replace(day=5)
    Measurement.objects.filter(pk=measurement.pk).update(
        submitted_at=timezone.make_aware(datetime.datetime.combine(day, datetime.time(9)))
    )


# --- the provider's scorecard ------------------------------------------------------------


@pytest.mark.parametrize(
    ("persona", "status"),
    [
        ("provider_manager", 200),
        ("administrator", 200),
        ("analyst", 200),
        ("other_provider_manager", 403),
        ("manager", 403),
        ("deputy_minister", 403),
    ],
)
def test_the_scorecard_is_for_the_providers_managers_and_readers(world, client, persona, status):
    signed_in(client, getattr(world, persona))
    response = client.get("/providers/PSOA/scorecard/")
    assert response.status_code == status
    assert ("scorecard-table" in html(response)) is (status == 200)


def test_the_scorecard_shows_met_missed_late_and_missing_by_cluster_and_month(world, client):
    # M3: LCS met on time, ENV missed on time. M2: LCS met but late, ENV's return missing.
    on_time(submit(world, world.lcs, M3, "99.9"))
    on_time(submit(world, world.env, M3, "98"))
    submit(world, world.lcs, M2, "99.6")
    response = signed_in(client, world.provider_manager).get("/providers/PSOA/scorecard/")
    assert response.status_code == 200
    grid = {row["period"]: row for row in response.context["grid"]}
    assert set(grid) == {months_back(n) for n in range(1, 13)}  # the last 12 complete months
    pay = {c["cluster"].code: c["score"] for c in grid[M3]["cells"]}["PAY-PSOA"]
    assert (pay.expected, pay.received, pay.met, pay.missed, pay.late, pay.missing) == (
        2,
        2,
        1,
        1,
        0,
        0,
    )
    assert pay.rate == Decimal("50.0")
    pay = {c["cluster"].code: c["score"] for c in grid[M2]["cells"]}["PAY-PSOA"]
    assert (pay.received, pay.met, pay.late, pay.missing) == (1, 1, 1, 1)
    total = response.context["total"]
    assert (total.met, total.missed, total.late) == (2, 1, 1)
    assert total.rate == Decimal("66.7")
    body = text(response)
    assert "1 of 2 met 1 missed" in body
    assert "1 late" in body and "1 missing" in body
    # The chart has the same figures as its table.
    chart = response.context["chart"]
    assert chart.values[chart.months.index(M3)] == Decimal("50.0")
    assert chart.values[chart.months.index(M2)] == Decimal("100.0")
    assert 'role="img" aria-labelledby="compliance-chart-title compliance-chart-desc"' in html(
        response
    )
    assert re.search(rf"{M3:%b %Y}\s*1\s*2\s*50%", body)


def test_a_scorecard_cell_is_written_as_the_template_wrote_it():
    # The grid's cells are written in Python (thousands at scale): the same tags in the same
    # order, one space apart, as the template's; an empty month of a cluster has no members.
    score = views.ScoreCell(expected=9, received=6, late=2, missing=1, met=4, missed=2)
    row = views._grid_row_html([score, None], datetime.date(2026, 1, 1))
    assert row == (
        '<td class="govuk-table__cell"><span class="app-nowrap">4 of 6 met</span><br>\n'
        '<strong class="govuk-tag govuk-tag--red">2 missed</strong>\n'
        '<strong class="govuk-tag govuk-tag--orange">2 late</strong>\n'
        '<strong class="govuk-tag govuk-tag--purple">1 missing</strong>\n'
        '<span class="govuk-body-s">2 due by 10 Feb</span></td>'
        '<td class="govuk-table__cell"><span class="govuk-hint govuk-!-margin-0">No members</span></td>'
    )
    all_met = views.ScoreCell(expected=2, received=2, met=2)
    assert "All met" in views._grid_row_html([all_met], datetime.date(2026, 1, 1))


def test_the_scorecard_lists_the_providers_persistent_breaches(world, client):
    for month in (M4, M3, M2):
        submit(world, world.lcs, month, "90")
    response = signed_in(client, world.analyst).get("/providers/PSOA/scorecard/")
    (breach,) = response.context["breaches"]
    assert (breach["standard"], breach["cluster"], breach["department"]) == (
        "Paid on time",
        "PAY-PSOA",
        "LCS",
    )
    assert f"3: {M4:%b %Y} to {M2:%b %Y} Ongoing" in text(response)
    # Another provider's scorecard does not show it.
    response = client.get("/providers/TECHSVC/scorecard/")
    assert response.context["breaches"] == []


def test_the_scorecard_period_can_be_chosen_and_a_bad_one_is_explained(world, client):
    signed_in(client, world.provider_manager)
    response = client.get(
        f"/providers/PSOA/scorecard/?start={format_period(M4)}&end={format_period(M2)}"
    )
    assert response.status_code == 200
    assert [row["period"] for row in response.context["grid"]] == [M4, M3, M2]
    response = client.get(
        f"/providers/PSOA/scorecard/?start={format_period(M2)}&end={format_period(M4)}"
    )
    assert response.status_code == 400
    assert error_summary(response) == [forms.PERIOD_ORDER]
    response = client.get(
        f"/providers/PSOA/scorecard/?start={format_period(M2)}&end={format_period(THIS_MONTH)}"
    )
    assert error_summary(response) == [forms.PERIOD_NOT_ENDED]
    response = client.get("/providers/PSOA/scorecard/?start=2020-01&end=2026-13")
    assert response.status_code == 400
    assert "Enter a month as YYYY-MM, for example 2026-04" in error_summary(response)
    assert client.get("/providers/NOPE/scorecard/").status_code == 404


# --- the upload of returns -------------------------------------------------------------------


def upload(client, content: str, name: str = "returns.csv", provider: str = "PSOA"):
    return client.post(
        f"/providers/{provider}/returns/upload/",
        {"file": SimpleUploadedFile(name, content.encode(), "text/csv")},
    )


def good_csv() -> str:
    return (
        "standard,cluster,department,period,value\n"
        f"Paid on time,PAY-PSOA,LCS,{format_period(M2)},99.7\n"
        f"paid on time,PAY-PSOA,ENV,{format_period(M2)},98.25\n"
        f"Paid on time,PAY-PSOA,LCS,{format_period(M1)},99.5\n"
    )


def test_a_good_file_is_previewed_then_saved_all_at_once(world, client):
    signed_in(client, world.provider_manager)
    assert client.get("/providers/PSOA/returns/upload/").status_code == 200
    response = upload(client, good_csv())
    assert response.status_code == 200
    assert [
        (r.number, r.standard.name, r.cluster.code, r.department.code, r.period, r.value, r.met)
        for r in response.context["rows"]
    ] == [
        (2, "Paid on time", "PAY-PSOA", "LCS", M2, Decimal("99.7"), True),
        (3, "Paid on time", "PAY-PSOA", "ENV", M2, Decimal("98.25"), False),
        (4, "Paid on time", "PAY-PSOA", "LCS", M1, Decimal("99.5"), True),
    ]
    assert "Check the returns before saving" in html(response)
    assert not Measurement.objects.exists()  # the preview saves nothing

    token = response.context["token"]
    response = client.post("/providers/PSOA/returns/upload/confirm/", {"token": token})
    assert response.status_code == 302
    assert response["Location"] == "/providers/PSOA/scorecard/"
    assert sorted(
        Measurement.objects.values_list(
            "department__code", "period", "value", "submitted_by", "cluster__code"
        )
    ) == [
        ("ENV", M2, Decimal("98.2500"), world.provider_manager.pk, "PAY-PSOA"),
        ("LCS", M2, Decimal("99.7000"), world.provider_manager.pk, "PAY-PSOA"),
        ("LCS", M1, Decimal("99.5000"), world.provider_manager.pk, "PAY-PSOA"),
    ]
    assert "3 returns saved from returns.csv" in html(client.get(response["Location"]))
    # The preview is used up: confirming again saves nothing more.
    again = client.post("/providers/PSOA/returns/upload/confirm/", {"token": token})
    assert again["Location"] == "/providers/PSOA/returns/upload/"
    assert Measurement.objects.count() == 3


def test_one_bad_row_saves_nothing_and_names_the_row(world, client):
    signed_in(client, world.provider_manager)
    content = good_csv() + f"Paid on time,PAY-PSOA,TECH,{format_period(M2)},99\n"
    response = upload(client, content)
    assert response.status_code == 400
    assert error_summary(response) == [
        f"Row 5: TECH was not a member of PAY-PSOA in {format_period(M2)}"
    ]
    assert "1 row has a problem, so nothing has been saved" in html(response)
    assert not Measurement.objects.exists()
    assert "servicelevels.returns_upload.PSOA" not in client.session


def test_every_bad_row_is_named_with_what_is_wrong(world, client):
    submit(world, world.env, M3, "99.9")  # already returned
    signed_in(client, world.provider_manager)
    rows = [
        f"Tickets resolved in 2 days,PAY-PSOA,LCS,{format_period(M2)},99",  # 2
        f"Paid on time,IT-TECH,LCS,{format_period(M2)},99",  # 3
        f"Paid on time,NOPE,LCS,{format_period(M2)},99",  # 4
        f"Paid on time,PAY-PSOA,XYZ,{format_period(M2)},99",  # 5
        "Paid on time,PAY-PSOA,LCS,last month,99",  # 6
        f"Paid on time,PAY-PSOA,LCS,{format_period(THIS_MONTH)},99",  # 7
        f"Paid on time,PAY-PSOA,LCS,{format_period(M2)},ninety",  # 8
        f"Paid on time,PAY-PSOA,LCS,{format_period(M2)},99.12345",  # 9
        f"Paid on time,PAY-PSOA,ENV,{format_period(M3)},99",  # 10
        f"Paid on time,PAY-PSOA,LCS,{format_period(M4)},99",  # 11
        f"Paid on time,PAY-PSOA,LCS,{format_period(M4)},98",  # 12
        ",,,,",  # 13: a row of empty cells is a blank line, skipped
        f",PAY-PSOA,LCS,{format_period(M2)},",  # 14
    ]
    response = upload(client, "standard,cluster,department,period,value\n" + "\n".join(rows))
    assert response.status_code == 400
    assert error_summary(response) == [
        "Row 2: Payroll has no standard “Tickets resolved in 2 days” (its standards: Paid on time)",
        "Row 3: IT-TECH is run by Technology Services, not Public Service Operations Agency",
        "Row 4: there is no cluster NOPE",
        "Row 5: there is no department XYZ",
        "Row 6: “last month” is not a month: enter it as YYYY-MM, for example 2026-04",
        f"Row 7: {format_period(THIS_MONTH)} has not ended yet: returns are for months that are over",
        "Row 8: “ninety” is not a number: enter a value such as 99.5",
        "Row 9: the value has more than 4 decimal places",
        f"Row 10: a return of Paid on time for ENV in {format_period(M3)} has already been made",
        "Row 12: this return is also in row 11: one return a standard, department and month",
        "Row 14: enter the name of a standard; enter a value",
    ]
    assert Measurement.objects.count() == 1  # only the one made before


def test_a_file_that_cannot_be_read_is_explained(world, client):
    signed_in(client, world.provider_manager)
    response = upload(client, "cluster,period,amount\nPAY-PSOA,2026-04,1\n")
    assert error_summary(response) == [forms.FILE_HEADER]
    response = client.post("/providers/PSOA/returns/upload/", {})
    assert response.status_code == 400
    assert error_summary(response) == ["Select a CSV file to upload"]
    assert not Measurement.objects.exists()


def test_rows_are_checked_again_when_confirmed(world, client):
    signed_in(client, world.provider_manager)
    response = upload(client, good_csv())
    # Someone else returns one of the rows between the preview and the confirmation.
    submit(world, world.env, M2, "99.9", actor=world.administrator)
    response = client.post(
        "/providers/PSOA/returns/upload/confirm/", {"token": response.context["token"]}
    )
    assert response.status_code == 400
    assert error_summary(response) == [
        f"Row 3: a return of Paid on time for ENV in {format_period(M2)} has already been made"
    ]
    assert list(Measurement.objects.values_list("department__code", "value")) == [
        ("ENV", Decimal("99.9000"))
    ]


@pytest.mark.parametrize(
    ("persona", "status"),
    [
        ("analyst", 403),
        ("other_provider_manager", 403),
        ("manager", 403),
    ],
)
def test_only_the_providers_managers_and_administrators_upload(world, client, persona, status):
    signed_in(client, getattr(world, persona))
    assert client.get("/providers/PSOA/returns/upload/").status_code == status
    assert upload(client, good_csv()).status_code == status
    assert not Measurement.objects.exists()


def test_an_administrator_uploads_returns_for_a_provider(world, client):
    signed_in(client, world.administrator)
    response = upload(client, good_csv())
    client.post("/providers/PSOA/returns/upload/confirm/", {"token": response.context["token"]})
    assert set(Measurement.objects.values_list("submitted_by", flat=True)) == {
        world.administrator.pk
    }


def test_a_file_going_further_back_opens_the_scorecard_on_its_months(world, client):
    old = months_back(14)
    signed_in(client, world.provider_manager)
    response = upload(
        client,
        f"standard,cluster,department,period,value\nPaid on time,PAY-PSOA,LCS,{format_period(old)},99.9\n",
    )
    response = client.post(
        "/providers/PSOA/returns/upload/confirm/", {"token": response.context["token"]}
    )
    assert response["Location"] == (
        f"/providers/PSOA/scorecard/?start={format_period(old)}&end={format_period(LAST)}"
    )
    assert client.get(response["Location"]).status_code == 200


# --- a department's service levels ------------------------------------------------------------


@pytest.mark.parametrize(
    ("persona", "status"),
    [
        ("manager", 200),
        ("deputy_minister", 200),
        ("administrator", 200),
        ("analyst", 200),
        ("other_manager", 404),
        ("recused_deputy_minister", 404),
        ("provider_manager", 404),
    ],
)
def test_a_departments_service_levels_are_its_own(world, client, persona, status):
    signed_in(client, getattr(world, persona))
    assert client.get("/departments/LCS/service-levels/").status_code == status


def test_a_department_sees_met_missed_and_its_persistent_breach(world, client):
    for month, value in ((M4, "90"), (M3, "91"), (M2, "92")):
        submit(world, world.lcs, month, value)
    submit(world, world.env, M2, "90")  # another department's return: not on LCS's page
    it_standard = world.it.standards.get()
    submit(
        world,
        world.lcs,
        M3,
        "95",
        standard=it_standard,
        cluster=world.it_tech,
        actor=world.other_provider_manager,
    )
    response = signed_in(client, world.manager).get("/departments/LCS/service-levels/")
    assert response.status_code == 200
    groups = {g["cluster"].code: g for g in response.context["groups"]}
    assert set(groups) == {"PAY-PSOA", "IT-TECH"}
    (row,) = groups["PAY-PSOA"]["rows"]
    assert row["breach"] is True
    states = {cell["period"]: cell["state"] for cell in row["cells"]}
    assert (states[M4], states[M3], states[M2]) == ("missed", "missed", "missed")
    assert states[M1] == ("no_return" if views._due(M1) < TODAY else "not_due")
    assert row["rate"] == Decimal("0.0")
    (it_row,) = groups["IT-TECH"]["rows"]
    assert it_row["breach"] is False and it_row["rate"] == Decimal("100.0")
    body = text(response)
    assert "1 persistent breach is ongoing" in body
    assert f"Paid on time PAY-PSOA 3: {M4:%b %Y} to {M2:%b %Y} Ongoing" in body
    assert "Persistent breach" in body
    assert (
        Measurement.objects.filter(department=world.env).count() == 1
    )  # ENV's return exists, unseen
    assert "ENV" not in " ".join(
        str(c.get("value")) for g in groups.values() for r in g["rows"] for c in r["cells"]
    )


def test_a_department_without_breaches_is_told_so(world, client):
    on_time(submit(world, world.lcs, M2, "99.9"))
    response = signed_in(client, world.deputy_minister).get("/departments/LCS/service-levels/")
    assert response.context["breaches"] == []
    assert "No standard has been missed for Labour and Citizens' Services three months running" in (
        text(response)
    )


# --- a cluster's performance -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("persona", "status"),
    [
        ("manager", 200),  # LCS is a member
        ("other_manager", 200),  # so is ENV
        ("deputy_minister", 200),
        ("provider_manager", 200),
        ("administrator", 200),
        ("analyst", 200),
        # Cluster prices and compliance are public to every signed-in user.
        ("recused_deputy_minister", 200),  # FIN hosts the PSOA but is no member
        ("other_provider_manager", 200),
    ],
)
def test_a_clusters_performance_is_public_to_the_signed_in(world, client, persona, status):
    signed_in(client, getattr(world, persona))
    assert client.get("/clusters/PAY-PSOA/performance/").status_code == status


def test_cost_per_unit_compliance_and_a_negative_benefit(world, client):
    # PAY-PSOA: LCS 400 units + ENV 300 units. Pools of 7,000.00 → 10.00 per employee.
    budget_services.cost_pool_create(
        actor=world.provider_manager, cluster=world.pay_psoa, period=M3, amount=Decimal("7000")
    )
    budget_services.cost_pool_create(
        actor=world.provider_manager, cluster=world.pay_psoa, period=M2, amount=Decimal("8400")
    )
    submit(world, world.lcs, M2, "99.9")
    submit(world, world.env, M2, "90")
    # The last complete fiscal year: charges far above the baselines (120,000.00 a year each).
    last_fy = fiscal_year_of(previous_month(fiscal_year_bounds(fiscal_year_of(TODAY))[0]))
    fy_start, _ = fiscal_year_bounds(last_fy)
    budget_services.cost_pool_create(
        actor=world.provider_manager,
        cluster=world.pay_psoa,
        period=fy_start,
        amount=Decimal("500000"),
    )
    budget_services.chargeback_run(actor=world.administrator, period=fy_start)

    response = signed_in(client, world.manager).get("/clusters/PAY-PSOA/performance/")
    assert response.status_code == 200
    rows = {row["period"]: row for row in response.context["rows"]}
    assert rows[M3]["cost_per_unit"] == Decimal("10.0000")
    assert rows[M2]["cost_per_unit"] == Decimal("12.0000")
    assert rows[M4]["cost_per_unit"] is None
    assert (rows[M2]["met"], rows[M2]["total"], rows[M2]["rate"]) == (1, 2, Decimal("50.0"))
    cost_chart = response.context["cost_chart"]
    assert cost_chart.values == [r["cost_per_unit"] for r in response.context["rows"]]
    # A point per month with a cost: M3, M2, and the last fiscal year's first month when it
    # falls inside the twelve months shown (early in a fiscal year, it does).
    assert len(cost_chart.points) == 2 + (fy_start in rows)
    body = text(response)
    assert f"{M2:%b %Y} 8,400.00 700 12.00" in body
    assert f"{M2:%b %Y} 1 2 50%" in body

    # A member of a two-member cluster: the total would give away ENV's baseline.
    (_, last) = response.context["benefits"]
    assert last["fiscal_year"] == last_fy
    assert last["figures"]["charged"] == Decimal("500000.00")
    assert (last["figures"]["baseline"], last["figures"]["benefit"]) == (None, None)
    assert WITHHELD in body
    assert "Negative benefit" not in body

    response = signed_in(client, world.analyst).get("/clusters/PAY-PSOA/performance/")
    (_, last) = response.context["benefits"]
    assert last["figures"]["benefit"] == Decimal("240000.00") - Decimal("500000.00")
    assert last["figures"]["flagged"] is True
    assert "Negative benefit" in text(response)


# --- the overview ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("persona", "status"),
    [
        ("administrator", 200),
        ("analyst", 200),
        ("manager", 403),
        ("deputy_minister", 403),
        ("provider_manager", 403),
    ],
)
def test_the_overview_is_for_administrators_and_analysts(world, client, persona, status):
    signed_in(client, getattr(world, persona))
    assert client.get("/overview/").status_code == status


def overview_order(response) -> list[str]:
    return [row["cluster"].code for row in response.context["rows"]]


def test_the_overview_sorts_by_each_column_with_aria_sort(world, client):
    # PAY-TECH: TECH is the host and a member; IT-TECH costs 2.00 a device, PAY-PSOA 10.00.
    budget_services.cost_pool_create(
        actor=world.provider_manager, cluster=world.pay_psoa, period=M2, amount=Decimal("7000")
    )
    budget_services.cost_pool_create(
        actor=world.other_provider_manager,
        cluster=world.it_tech,
        period=M2,
        amount=Decimal("700"),
    )
    submit(world, world.lcs, M2, "99.9")
    submit(world, world.env, M2, "90")
    defection_services.exit_request_submit(
        actor=world.other_manager,
        department=world.env,
        from_cluster=world.pay_psoa,
        destination="in_house",
        reason="service_quality",
        justification="Late pay runs.",
    )
    signed_in(client, world.analyst)
    response = client.get("/overview/")
    # By name: PSOA Payroll, Technology Desktop, Technology Payroll.
    assert overview_order(response) == ["PAY-PSOA", "IT-TECH", "PAY-TECH"]
    rows = {row["cluster"].code: row for row in response.context["rows"]}
    assert rows["PAY-PSOA"]["cost_per_unit"] == Decimal("10.0000")
    assert rows["IT-TECH"]["cost_per_unit"] == Decimal("2.0000")
    assert rows["PAY-PSOA"]["compliance"] == Decimal("50.0")
    assert rows["PAY-PSOA"]["departures"] == 1
    assert rows["PAY-TECH"]["preference"]["host_department"] == "TECH"
    assert rows["PAY-PSOA"]["preference"] is None  # FIN hosts the PSOA but is no member
    assert 'aria-sort="ascending"' in html(response)

    response = client.get("/overview/?sort=cost")
    assert overview_order(response) == ["IT-TECH", "PAY-PSOA", "PAY-TECH"]  # no pool: last
    response = client.get("/overview/?sort=-cost")
    assert overview_order(response) == ["PAY-PSOA", "IT-TECH", "PAY-TECH"]
    assert re.search(
        r'aria-sort="descending">\s*<a class="govuk-link" href="\?sort=cost">', html(response)
    )
    response = client.get("/overview/?sort=-departures")
    assert overview_order(response)[0] == "PAY-PSOA"
    response = client.get("/overview/?sort=-compliance")
    assert overview_order(response)[0] == "PAY-PSOA"
    response = client.get("/overview/?sort=provider")
    assert overview_order(response) == ["PAY-PSOA", "IT-TECH", "PAY-TECH"]
    # An unknown column sorts by name.
    response = client.get("/overview/?sort=nonsense")
    assert overview_order(response) == ["PAY-PSOA", "IT-TECH", "PAY-TECH"]
    for key in views.OVERVIEW_SORT_KEYS:
        assert client.get(f"/overview/?sort=-{key}").status_code == 200


# --- navigation --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("persona", "label", "href"),
    [
        ("provider_manager", "Scorecard", "/providers/PSOA/scorecard/"),
        ("manager", "Service levels", "/departments/LCS/service-levels/"),
        ("deputy_minister", "Service levels", "/departments/LCS/service-levels/"),
        ("analyst", "Overview", "/overview/"),
        ("administrator", "Overview", "/overview/"),
    ],
)
def test_navigation_offers_each_role_its_page(world, client, persona, label, href):
    signed_in(client, getattr(world, persona))
    items = {item["label"]: item for item in client.get(href).context["nav_items"]}
    assert items[label]["href"] == href
    assert items[label]["current"] is True


def test_navigation_does_not_offer_others_pages(world, client):
    signed_in(client, world.manager)
    labels = {item["label"] for item in client.get("/").context["nav_items"]}
    assert not {"Scorecard", "Overview"} & labels


# --- query counts ------------------------------------------------------------------------------


def grow(world, n: int) -> None:
    """n more clusters of the PSOA with members, standards, returns, pools and breaches,
    some of them about LCS."""
    for i in range(n):
        department = DepartmentFactory(code=f"Q{i:03d}")
        service = ServiceFactory(code=f"QS{i:03d}")
        standard = StandardFactory(service=service, name=f"Extra {i}")
        StandardFactory(service=service, name=f"Other {i}")
        cluster = ClusterFactory(code=f"QC{i:03d}", service=service, provider=world.psoa)
        MembershipFactory(department=department, cluster=cluster)
        MembershipFactory(department=world.lcs, cluster=cluster)
        for month in (M4, M3, M2):
            for member in (department, world.lcs):
                submit(world, member, month, "90", standard=standard, cluster=cluster)
        budget_services.cost_pool_create(
            actor=world.provider_manager, cluster=cluster, period=M2, amount=Decimal("1000")
        )
        ProviderFactory(code=f"QP{i:03d}")
    for month in (M4, M3, M2):
        submit(world, world.lcs, month, "90")


# url -> (persona, pinned count). The navigation of a department's or provider's people
# reads their department or provider (1 query: "nav"); the header counts the user's
# unread notifications (1 query: "unread").
PAGES = {
    # session, user, provider, clusters, scorecard, breaches, nav, unread
    "/providers/PSOA/scorecard/": ("provider_manager", 8),
    # session, user, provider, clusters, standards, nav, unread
    "/providers/PSOA/returns/upload/": ("provider_manager", 7),
    # session, user, department, memberships, standards, returns, breaches, nav, unread
    "/departments/LCS/service-levels/": ("manager", 9),
    # session, user, cluster, costs, compliance, benefits (2 for this fiscal year, 1 for
    # the last complete one), nav, unread; no membership check: prices are public
    "/clusters/PAY-PSOA/performance/": ("manager", 10),
    # session, user, clusters, latest costs, compliance, benefits, self-preference,
    # departures, the make-or-buy quarters, unread
    "/overview/": ("analyst", 10),
}


@pytest.mark.parametrize("url", list(PAGES))
def test_query_count_does_not_grow(world, url):
    persona, pinned = PAGES[url]
    client = signed_in(Client(), getattr(world, persona))
    small = count_queries(client, url)
    grow(world, 4)
    large = count_queries(client, url)
    assert small == large, f"{url}: {small} queries with little data, {large} with more"
    assert small == pinned


def test_the_upload_checks_any_number_of_rows_in_the_same_queries(world, client):
    signed_in(client, world.provider_manager)
    small = "standard,cluster,department,period,value\n" + (
        f"Paid on time,PAY-PSOA,LCS,{format_period(M2)},99\n"
    )
    large = "standard,cluster,department,period,value\n" + "".join(
        f"Paid on time,PAY-PSOA,{dept},{format_period(months_back(n))},99\n"
        for dept in ("LCS", "ENV")
        for n in range(1, 10)
    )
    with CaptureQueriesContext(connection) as one:
        assert upload(client, small).status_code == 200
    with CaptureQueriesContext(connection) as many:
        assert upload(client, large).status_code == 200
    # session, user, provider, clusters, standards, departments, memberships, existing
    # returns, session save
    assert len(one.captured_queries) == len(many.captured_queries)


# --- links from the organisation's pages ----------------------------------------------------


def alternatives_list(response) -> dict[str, str]:
    found = re.search(r'id="alternatives-list".*?</dl>', html(response), re.S)
    assert found, "no list of alternatives on the page"
    keys = re.findall(r'<dt class="govuk-summary-list__key">(.*?)</dt>', found.group(0), re.S)
    values = re.findall(r'<dd class="govuk-summary-list__value">(.*?)</dd>', found.group(0), re.S)
    return {k.strip(): " ".join(v.split()) for k, v in zip(keys, values, strict=True)}


def test_the_department_page_counts_viable_alternatives_and_links_service_levels(world, client):
    # PAY-PSOA's payroll could move to PAY-TECH (no capacity limit); IT has no other cluster.
    response = signed_in(client, world.manager).get("/departments/LCS/")
    assert alternatives_list(response) == {
        "PSOA Payroll": "1 viable alternative",
        "Technology Desktop": "0 viable alternatives",
    }
    assert 'href="/departments/LCS/service-levels/"' in html(response)
    # A full cluster is no alternative.
    world.pay_tech.capacity = 250  # TECH uses 200: no room for LCS's 400
    world.pay_tech.save()
    response = client.get("/departments/LCS/")
    assert alternatives_list(response)["PSOA Payroll"] == "0 viable alternatives"
    # Another department's manager sees neither the count nor the link.
    response = signed_in(Client(), world.other_manager).get("/departments/LCS/")
    assert "alternatives-list" not in html(response)
    assert "/departments/LCS/service-levels/" not in html(response)


@pytest.mark.parametrize(
    ("persona", "linked"),
    [
        ("manager", True),
        ("provider_manager", True),
        ("analyst", True),
        ("other_provider_manager", False),
    ],
)
def test_the_cluster_page_links_its_performance_for_those_who_may_see_it(
    world, client, persona, linked
):
    response = signed_in(client, getattr(world, persona)).get("/clusters/PAY-PSOA/")
    assert ('href="/clusters/PAY-PSOA/performance/"' in html(response)) is linked
