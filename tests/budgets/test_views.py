"""The money pages: a department's budget, a provider's cost pools and the chargeback,
per role, with the database checked after every write."""

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

from budgets import forms, services, views
from budgets.models import BudgetLine, Charge, ChargebackRun, CostPool, RunStatus
from sharedsvc.periods import FISCAL_YEAR_INVALID, fiscal_year_of, format_period, next_month
from tests.factories import ClusterFactory, DepartmentFactory, MembershipFactory, ServiceFactory
from tests.pages import count_queries, html

APRIL = datetime.date(2026, 4, 1)
MAY = datetime.date(2026, 5, 1)
TODAY = timezone.localdate()
THIS_MONTH = TODAY.replace(day=1)
NEXT_MONTH = next_month(THIS_MONTH)
CURRENT_FY = fiscal_year_of(TODAY)


def signed_in(client: Client, user) -> Client:
    client.force_login(user)
    return client


def charge_months(world, *months: datetime.date) -> None:
    """Pools on LCS's two clusters for each month, then the chargeback of each month.
    PAY-PSOA: 7,000.00 shared by LCS (400 units) and ENV (300); IT-TECH: 1,000.00, LCS alone."""
    for month in months:
        services.cost_pool_create(
            actor=world.provider_manager,
            cluster=world.pay_psoa,
            period=month,
            amount=Decimal("7000"),
        )
        services.cost_pool_create(
            actor=world.other_provider_manager,
            cluster=world.it_tech,
            period=month,
            amount=Decimal("1000"),
        )
        services.chargeback_run(actor=world.administrator, period=month)


def payroll_line(world, allocated: str = "10000.00", fiscal_year: str = "2026-27") -> BudgetLine:
    return services.budget_line_create(
        actor=world.manager,
        department=world.lcs,
        fiscal_year=fiscal_year,
        service=world.payroll,
        allocated=Decimal(allocated),
    )


def error_summary(response) -> list[str]:
    body = html(response)
    match = re.search(r'class="govuk-error-summary".*?</ul>', body, re.S)
    assert match, "no error summary on the page"
    return [
        re.sub(r"<[^>]+>", "", item).strip()
        for item in re.findall(r"<li>(.*?)</li>", match.group(0), re.S)
    ]


# --- the budget page: who sees it ------------------------------------------------------


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
        ("other_provider_manager", 404),
    ],
)
def test_budget_page_is_for_the_department_administrators_and_analysts(
    world, client, persona, status
):
    payroll_line(world)
    response = signed_in(client, getattr(world, persona)).get("/departments/LCS/budget/")
    assert response.status_code == status
    if status == 404:
        # Nothing of the budget leaks into the 404 page.
        assert "10,000.00" not in html(response)


def test_budget_page_of_an_unknown_department_is_404(world, client):
    assert (
        signed_in(client, world.administrator).get("/departments/NOPE/budget/").status_code == 404
    )
    assert client.get("/departments/lcs%00/budget/").status_code == 404


def test_budget_page_shows_lines_charges_and_the_chart(world, client):
    line = payroll_line(world, allocated="7000.00")
    charge_months(world, APRIL, MAY)
    # LCS pays 4,000.00 of each payroll pool (400 of 700 units) and the whole IT pool,
    # which has no line: unfunded.
    response = signed_in(client, world.manager).get("/departments/LCS/budget/?year=2026-27")
    assert response.status_code == 200
    body = html(response)

    [shown] = response.context["lines"]
    assert shown.pk == line.pk
    assert (shown.allocated, shown.charged, shown.remaining, shown.state) == (
        Decimal("7000.00"),
        Decimal("8000.00"),
        Decimal("-1000.00"),
        "overspent",
    )
    assert '<strong class="govuk-tag govuk-tag--red">Overspent</strong>' in body

    charges = response.context["charges"]
    expected = list(Charge.objects.filter(department=world.lcs).order_by("period", "cluster__name"))
    assert [c.pk for c in charges] == [c.pk for c in expected]
    assert len(expected) == 4
    assert body.count('govuk-tag--orange">Unfunded</strong>') == 2  # the two IT charges
    assert response.context["unfunded"] == Decimal("2000.00")

    # The chart: role="img" with a title and a text alternative, and the same figures
    # as a table beside it (month, charged in month, charged so far, allocation).
    assert re.search(
        r'<svg[^>]*role="img"[^>]*aria-labelledby="spending-chart-title spending-chart-desc"', body
    )
    assert '<title id="spending-chart-title">Spending against allocation, 2026-27</title>' in body
    chart = response.context["chart"]
    months = [(m.period, m.charged, m.cumulative) for m in chart.months]
    assert months[0] == (APRIL, Decimal("5000.00"), Decimal("5000.00"))
    assert months[1] == (MAY, Decimal("5000.00"), Decimal("10000.00"))
    assert len(months) == 12
    table = re.search(r'id="spending-table".*?</table>', body, re.S).group(0)
    assert (
        "Apr 2026" in table and "5,000.00" in table and "10,000.00" in table and "7,000.00" in table
    )
    # Months after the last one charged show no figure (their chargeback has not run).
    assert all(m.charged is None for m in chart.months[2:])
    assert len(chart.points) == 2
    assert table.count("No charges yet") == 10
    # No script and no external resource draws it.
    svg = re.search(r"<svg.*?</svg>", body, re.S).group(0)
    assert "<script" not in svg and "http" not in svg.replace(
        'xmlns="http://www.w3.org/2000/svg"', ""
    )


def test_budget_page_defaults_to_the_current_fiscal_year_and_offers_others(world, client):
    payroll_line(world, fiscal_year="2025-26")
    response = signed_in(client, world.manager).get("/departments/LCS/budget/")
    assert response.context["fiscal_year"] == CURRENT_FY
    assert response.context["lines"] == []
    choices = [value for value, _ in response.context["year_form"].fields["year"].choices]
    assert "2025-26" in choices and CURRENT_FY in choices

    response = client.get("/departments/LCS/budget/?year=2025-26")
    assert [line.fiscal_year for line in response.context["lines"]] == ["2025-26"]


def test_an_unknown_fiscal_year_is_a_form_error(world, client):
    response = signed_in(client, world.manager).get("/departments/LCS/budget/?year=nonsense")
    assert response.status_code == 400
    assert error_summary(response) == [forms.SELECT_FISCAL_YEAR]
    assert response.context["fiscal_year"] == CURRENT_FY


# --- the budget page: adding and changing lines -----------------------------------------


@pytest.mark.parametrize("persona", ["manager", "deputy_minister", "administrator"])
def test_adding_a_line_saves_exactly_what_was_entered(world, client, persona):
    user = getattr(world, persona)
    response = signed_in(client, user).post(
        "/departments/LCS/budget/",
        {"fiscal_year": "2026-27", "service": "PAY", "allocated": "12,500.50"},
    )
    assert response.status_code == 302
    assert response["Location"] == "/departments/LCS/budget/?year=2026-27"
    line = BudgetLine.objects.get()
    assert (line.department, line.fiscal_year, line.service, line.allocated) == (
        world.lcs,
        "2026-27",
        world.payroll,
        Decimal("12500.50"),
    )
    page = client.get(response["Location"])
    assert "Budget line added: Payroll, 2026-27, allocation 12,500.50" in html(page)
    assert [shown.pk for shown in page.context["lines"]] == [line.pk]


def test_a_new_line_funds_the_charges_already_made(world, client):
    charge_months(world, APRIL)
    assert Charge.objects.filter(department=world.lcs, budget_line__isnull=True).count() == 2
    signed_in(client, world.manager).post(
        "/departments/LCS/budget/", {"fiscal_year": "2026-27", "service": "IT", "allocated": "500"}
    )
    line = BudgetLine.objects.get(service=world.it)
    assert list(Charge.objects.filter(budget_line=line).values_list("amount", flat=True)) == [
        Decimal("1000.00")
    ]
    response = client.get("/departments/LCS/budget/?year=2026-27")
    [shown] = [line for line in response.context["lines"] if line.service == world.it]
    assert shown.state == "overspent"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"allocated": "-1"}, forms.AMOUNT_NEGATIVE.format(what="The allocation")),
        ({"allocated": "lots"}, forms.AMOUNT_NOT_A_NUMBER.format(what="the allocation")),
        ({"allocated": "NaN"}, forms.AMOUNT_NOT_A_NUMBER.format(what="the allocation")),
        ({"allocated": "1.005"}, forms.AMOUNT_DECIMALS.format(what="the allocation")),
        ({"allocated": "1" * 13}, forms.AMOUNT_TOO_LARGE.format(what="the allocation")),
        ({"allocated": ""}, forms.ENTER_AMOUNT.format(what="the allocation")),
        ({"fiscal_year": "2026-28"}, FISCAL_YEAR_INVALID.rstrip(".")),
        ({"fiscal_year": "2026"}, FISCAL_YEAR_INVALID.rstrip(".")),
        ({"fiscal_year": ""}, forms.ENTER_FISCAL_YEAR),
        ({"service": ""}, forms.SELECT_SERVICE),
        ({"service": "NOPE"}, forms.UNKNOWN_SERVICE),
    ],
)
def test_adding_a_bad_line_saves_nothing(world, client, data, message):
    post = {"fiscal_year": "2026-27", "service": "PAY", "allocated": "100.00", **data}
    response = signed_in(client, world.manager).post("/departments/LCS/budget/", post)
    assert response.status_code == 400
    assert error_summary(response) == [message[0].upper() + message[1:]]
    assert html(response).count('class="govuk-error-message"') == 1
    assert response.context["form"].data["allocated"] == post["allocated"]  # kept to correct
    assert not BudgetLine.objects.exists()


def test_a_second_line_for_the_same_year_and_service_is_refused(world, client):
    payroll_line(world, allocated="100.00")
    response = signed_in(client, world.manager).post(
        "/departments/LCS/budget/",
        {"fiscal_year": "2026-27", "service": "PAY", "allocated": "999.00"},
    )
    assert response.status_code == 400
    [message] = error_summary(response)
    assert "already has a budget line for this service and fiscal year" in message
    # The summary's link leads to the service field.
    assert 'href="#id_service"' in html(response)
    assert list(BudgetLine.objects.values_list("allocated", flat=True)) == [Decimal("100.00")]


def test_analysts_read_the_budget_without_forms_and_cannot_write(world, client):
    line = payroll_line(world)
    response = signed_in(client, world.analyst).get("/departments/LCS/budget/")
    assert response.status_code == 200
    assert response.context["form"] is None
    assert "Add a budget line" not in html(response)
    assert f"/budget/lines/{line.pk}/" not in html(response)

    post = {"fiscal_year": "2026-27", "service": "IT", "allocated": "1.00"}
    assert client.post("/departments/LCS/budget/", post).status_code == 403
    assert client.get(f"/departments/LCS/budget/lines/{line.pk}/").status_code == 403
    assert (
        client.post(f"/departments/LCS/budget/lines/{line.pk}/", {"allocated": "1"}).status_code
        == 403
    )
    assert list(BudgetLine.objects.values_list("service__code", "allocated")) == [
        ("PAY", Decimal("10000.00"))
    ]


def test_another_departments_manager_cannot_add_or_change_its_lines(world, client):
    line = payroll_line(world)
    signed_in(client, world.other_manager)
    post = {"fiscal_year": "2026-27", "service": "IT", "allocated": "1.00"}
    assert client.post("/departments/LCS/budget/", post).status_code == 404
    assert client.get(f"/departments/LCS/budget/lines/{line.pk}/").status_code == 404
    assert (
        client.post(f"/departments/LCS/budget/lines/{line.pk}/", {"allocated": "1"}).status_code
        == 404
    )
    # Nor reach LCS's line through their own department's address.
    assert client.get(f"/departments/ENV/budget/lines/{line.pk}/").status_code == 404
    assert BudgetLine.objects.get().allocated == Decimal("10000.00")
    assert BudgetLine.objects.count() == 1


@pytest.mark.parametrize("persona", ["manager", "deputy_minister", "administrator"])
def test_changing_an_allocation_saves_exactly_it(world, client, persona):
    line = payroll_line(world)
    url = f"/departments/LCS/budget/lines/{line.pk}/"
    signed_in(client, getattr(world, persona))
    page = client.get(url)
    assert page.status_code == 200
    assert page.context["form"]["allocated"].value() == Decimal("10000.00")

    response = client.post(url, {"allocated": "8000"})
    assert response.status_code == 302
    assert response["Location"] == "/departments/LCS/budget/?year=2026-27"
    line.refresh_from_db()
    assert (line.fiscal_year, line.service, line.allocated) == (
        "2026-27",
        world.payroll,
        Decimal("8000.00"),
    )
    assert "Allocation of Payroll in 2026-27 changed to 8,000.00" in html(
        client.get(response["Location"])
    )


@pytest.mark.parametrize(
    ("allocated", "message"),
    [
        ("-5", forms.AMOUNT_NEGATIVE.format(what="The allocation")),
        ("ten", "Enter the allocation as an amount of money, for example 12500.00"),
        ("", "Enter the allocation"),
    ],
)
def test_a_bad_allocation_changes_nothing(world, client, allocated, message):
    line = payroll_line(world)
    response = signed_in(client, world.manager).post(
        f"/departments/LCS/budget/lines/{line.pk}/", {"allocated": allocated}
    )
    assert response.status_code == 400
    assert error_summary(response) == [message]
    line.refresh_from_db()
    assert line.allocated == Decimal("10000.00")


def test_department_page_links_to_the_budget_for_those_who_may_read_it(world, client):
    link = 'href="/departments/LCS/budget/"'
    assert link in html(signed_in(client, world.manager).get("/departments/LCS/"))
    assert link in html(signed_in(client, world.analyst).get("/departments/LCS/"))
    assert link not in html(signed_in(client, world.other_manager).get("/departments/LCS/"))
    assert link not in html(signed_in(client, world.provider_manager).get("/departments/LCS/"))


# --- cost pools ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("persona", "status", "forms_shown"),
    [
        ("provider_manager", 200, True),
        ("administrator", 200, True),
        ("analyst", 200, False),
        ("other_provider_manager", 403, False),
        ("manager", 403, False),
        ("deputy_minister", 403, False),
    ],
)
def test_cost_pools_page_per_role(world, client, persona, status, forms_shown):
    services.cost_pool_create(
        actor=world.provider_manager, cluster=world.pay_psoa, period=APRIL, amount=Decimal("7000")
    )
    response = signed_in(client, getattr(world, persona)).get(
        "/providers/PSOA/cost-pools/?year=2026-27"
    )
    assert response.status_code == status
    if status == 200:
        assert [p.cluster.code for p in response.context["pools"]] == ["PAY-PSOA"]
        assert "7,000.00" in html(response)
        assert (response.context["form"] is not None) is forms_shown
        assert ("Enter a cost pool" in html(response)) is forms_shown


def test_a_provider_manager_sees_only_their_own_clusters_pools(world, client):
    services.cost_pool_create(
        actor=world.other_provider_manager,
        cluster=world.it_tech,
        period=APRIL,
        amount=Decimal("1000"),
    )
    response = signed_in(client, world.provider_manager).get(
        "/providers/PSOA/cost-pools/?year=2026-27"
    )
    assert response.context["pools"] == []
    # The form offers only PSOA's clusters.
    assert [code for code, _ in response.context["form"].fields["cluster"].choices] == [
        "",
        "PAY-PSOA",
    ]


def test_entering_a_pool_saves_exactly_what_was_entered(world, client):
    response = signed_in(client, world.provider_manager).post(
        "/providers/PSOA/cost-pools/",
        {"cluster": "PAY-PSOA", "period": "2026-04", "amount": "125000.25"},
    )
    assert response.status_code == 302
    assert response["Location"] == "/providers/PSOA/cost-pools/?year=2026-27"
    pool = CostPool.objects.get()
    assert (pool.cluster, pool.period, pool.amount, pool.entered_by) == (
        world.pay_psoa,
        APRIL,
        Decimal("125000.25"),
        world.provider_manager,
    )
    assert "Cost pool saved: PSOA Payroll, 2026-04, 125,000.25" in html(
        client.get(response["Location"])
    )


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"amount": "-1"}, "The amount cannot be negative"),
        ({"amount": "abc"}, "Enter the amount as an amount of money, for example 12500.00"),
        ({"period": "2026-13"}, "Enter a month as YYYY-MM, for example 2026-04"),
        ({"period": "April"}, "Enter a month as YYYY-MM, for example 2026-04"),
        (
            {"period": format_period(NEXT_MONTH)},
            services.PERIOD_IN_FUTURE.format(period=format_period(NEXT_MONTH)),
        ),
        ({"cluster": "IT-TECH"}, forms.UNKNOWN_CLUSTER),  # another provider's cluster
        ({"cluster": ""}, forms.SELECT_CLUSTER),
    ],
)
def test_entering_a_bad_pool_saves_nothing(world, client, data, message):
    post = {"cluster": "PAY-PSOA", "period": "2026-04", "amount": "100", **data}
    response = signed_in(client, world.provider_manager).post("/providers/PSOA/cost-pools/", post)
    assert response.status_code == 400
    assert error_summary(response) == [message]
    assert not CostPool.objects.exists()


def test_a_second_pool_for_a_month_and_a_charged_month_are_refused(world, client):
    charge_months(world, APRIL)
    signed_in(client, world.provider_manager)
    response = client.post(
        "/providers/PSOA/cost-pools/", {"cluster": "PAY-PSOA", "period": "2026-04", "amount": "1"}
    )
    assert response.status_code == 400
    assert error_summary(response) == [services.POOL_ALREADY_CHARGED.format(period="2026-04")]
    services.cost_pool_create(
        actor=world.provider_manager, cluster=world.pay_psoa, period=MAY, amount=Decimal("5")
    )
    response = client.post(
        "/providers/PSOA/cost-pools/", {"cluster": "PAY-PSOA", "period": "2026-05", "amount": "1"}
    )
    assert response.status_code == 400
    assert error_summary(response) == ["This cluster already has a cost pool for this month."]
    assert sorted(
        CostPool.objects.filter(cluster=world.pay_psoa).values_list("period", "amount")
    ) == [
        (APRIL, Decimal("7000.00")),
        (MAY, Decimal("5.00")),
    ]


@pytest.mark.parametrize("persona", ["analyst", "other_provider_manager", "manager"])
def test_only_the_providers_managers_and_administrators_enter_pools(world, client, persona):
    signed_in(client, getattr(world, persona))
    post = {"cluster": "PAY-PSOA", "period": "2026-04", "amount": "1"}
    assert client.post("/providers/PSOA/cost-pools/", post).status_code == 403
    csv_file = SimpleUploadedFile("pools.csv", b"cluster,period,amount\nPAY-PSOA,2026-04,1\n")
    assert client.post("/providers/PSOA/cost-pools/upload/", {"file": csv_file}).status_code == 403
    assert client.get("/providers/PSOA/cost-pools/upload/").status_code == 403
    assert (
        client.post("/providers/PSOA/cost-pools/upload/confirm/", {"token": "x"}).status_code == 403
    )
    assert not CostPool.objects.exists()


# --- the CSV upload -------------------------------------------------------------------------


def upload(client, content: bytes | str, name: str = "pools.csv", provider: str = "PSOA"):
    data = content.encode() if isinstance(content, str) else content
    return client.post(
        f"/providers/{provider}/cost-pools/upload/",
        {"file": SimpleUploadedFile(name, data, "text/csv")},
    )


GOOD_CSV = 'cluster,period,amount\nPAY-PSOA,2026-04,7000.00\nPAY-PSOA,2026-05,"7,100.50"\nPAY-PSOA,2026-06,7200\n'


def test_an_upload_is_previewed_then_saved_when_confirmed(world, client):
    signed_in(client, world.provider_manager)
    response = upload(client, GOOD_CSV)
    assert response.status_code == 200
    assert [(r.number, r.cluster.code, r.period, r.amount) for r in response.context["rows"]] == [
        (2, "PAY-PSOA", APRIL, Decimal("7000.00")),
        (3, "PAY-PSOA", MAY, Decimal("7100.50")),
        (4, "PAY-PSOA", datetime.date(2026, 6, 1), Decimal("7200.00")),
    ]
    body = html(response)
    assert "Check the cost pools before saving" in body and "21,300.50" in body
    assert not CostPool.objects.exists()  # nothing saved by the preview

    token = response.context["token"]
    response = client.post("/providers/PSOA/cost-pools/upload/confirm/", {"token": token})
    assert response.status_code == 302
    assert response["Location"] == "/providers/PSOA/cost-pools/?year=2026-27"
    assert sorted(
        CostPool.objects.values_list("cluster__code", "period", "amount", "entered_by")
    ) == [
        ("PAY-PSOA", APRIL, Decimal("7000.00"), world.provider_manager.pk),
        ("PAY-PSOA", MAY, Decimal("7100.50"), world.provider_manager.pk),
        ("PAY-PSOA", datetime.date(2026, 6, 1), Decimal("7200.00"), world.provider_manager.pk),
    ]
    assert "3 cost pools saved from pools.csv" in html(client.get(response["Location"]))
    # The preview is used up: confirming again saves nothing more.
    again = client.post("/providers/PSOA/cost-pools/upload/confirm/", {"token": token})
    assert again.status_code == 302
    assert again["Location"] == "/providers/PSOA/cost-pools/upload/"
    assert CostPool.objects.count() == 3


def test_one_bad_row_saves_nothing_and_names_the_row(world, client):
    signed_in(client, world.provider_manager)
    response = upload(client, "cluster,period,amount\nPAY-PSOA,2026-04,7000\nPAY-PSOA,2026-05,-3\n")
    assert response.status_code == 400
    assert error_summary(response) == ["Row 3: the amount cannot be negative"]
    assert "1 row has a problem, so nothing has been saved" in html(response)
    assert not CostPool.objects.exists()
    assert "budgets.cost_pool_upload.PSOA" not in client.session


def test_every_kind_of_bad_row_has_its_own_message(world, client):
    charge_months(world, APRIL)  # PAY-PSOA 2026-04 is entered and charged
    services.cost_pool_create(
        actor=world.provider_manager, cluster=world.pay_psoa, period=MAY, amount=Decimal("1")
    )
    future = format_period(NEXT_MONTH)
    rows = [
        "NOPE,2026-06,1",  # 2
        "IT-TECH,2026-06,1",  # 3
        "PAY-PSOA,2026-6,1",  # 4
        f"PAY-PSOA,{future},1",  # 5
        "PAY-PSOA,2026-07,-1",  # 6
        "PAY-PSOA,2026-08,abc",  # 7
        "PAY-PSOA,2026-09,1",  # 8
        "PAY-PSOA,2026-09,2",  # 9
        "PAY-PSOA,2026-05,1",  # 10
        "PAY-PSOA,2026-04,1",  # 11
        ",,",  # 12
        "PAY-PSOA,2026-10,1.234",  # 13
    ]
    response = upload(
        signed_in(client, world.provider_manager), "cluster,period,amount\n" + "\n".join(rows)
    )
    assert response.status_code == 400
    assert error_summary(response) == [
        "Row 2: there is no cluster NOPE",
        "Row 3: IT-TECH is run by Technology Services, not Public Service Operations Agency",
        "Row 4: “2026-6” is not a month: enter it as YYYY-MM, for example 2026-04",
        f"Row 5: {future} is in the future: enter costs for months that have begun",
        "Row 6: the amount cannot be negative",
        "Row 7: “abc” is not an amount of money: enter a number such as 12500.00",
        "Row 9: PAY-PSOA 2026-09 is also in row 8: a cluster has one cost pool a month",
        "Row 10: PAY-PSOA already has a cost pool for 2026-05",
        "Row 11: 2026-04 has already been charged for PAY-PSOA, so its cost pool cannot change",
        "Row 13: the amount has more than 2 decimal places",
    ]
    # A blank row is skipped, not an error; the good row 8 is not saved either.
    assert sorted(CostPool.objects.values_list("cluster__code", "period")) == [
        ("IT-TECH", APRIL),
        ("PAY-PSOA", APRIL),
        ("PAY-PSOA", MAY),
    ]


def test_many_bad_rows_are_all_listed(world, client):
    rows = "\n".join(f"NOPE{i},2026-04,1" for i in range(30))
    response = upload(signed_in(client, world.provider_manager), "cluster,period,amount\n" + rows)
    assert response.status_code == 400
    summary = error_summary(response)
    assert len(summary) == forms.ROWS_LISTED + 1
    assert summary[-1] == forms.ROWS_MORE.format(count=10)
    assert len(response.context["problems"]) == 30
    assert response.context["problems"][-1].message == "Row 31: there is no cluster NOPE29"
    table = re.search(r'id="upload-problems-table".*?</table>', html(response), re.S).group(0)
    assert table.count("<tr") == 31  # the header and every bad row
    assert "There is no cluster NOPE29" in table


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", forms.FILE_EMPTY),
        (b"\n\n  \n", forms.FILE_EMPTY),
        ("cluster,period,amount\nPAY-PSOA,2026-04,1\n".encode("utf-16"), forms.FILE_NOT_UTF8),
        (b"\xff\xfe\x00garbage\x00", forms.FILE_NOT_UTF8),
        (b"cluster,period,amount\nPAY\x00,2026-04,1\n", forms.FILE_NOT_CSV),
        (b"\x89PNG\r\n\x1a\n", forms.FILE_NOT_UTF8),
        (b"code,month,cost\nPAY-PSOA,2026-04,1\n", forms.FILE_HEADER),
        (b"cluster,period,amount\n", forms.FILE_NO_ROWS),
        (
            b"cluster,period,amount\n" + b"PAY-PSOA,2026-04,1\n" * (forms.MAX_UPLOAD_ROWS + 1),
            forms.FILE_TOO_MANY_ROWS,
        ),
        (b"cluster,period,amount\n" + b"x" * forms.MAX_UPLOAD_BYTES, forms.FILE_TOO_BIG),
    ],
    ids=[
        "empty",
        "blank",
        "utf16",
        "binary",
        "nul",
        "png",
        "header",
        "no-rows",
        "too-many-rows",
        "too-big",
    ],
)
def test_a_file_that_cannot_be_read_gets_a_message(world, client, content, message):
    response = upload(signed_in(client, world.provider_manager), content)
    assert response.status_code == 400
    assert error_summary(response) == [message]
    assert not CostPool.objects.exists()


def test_no_file_at_all_gets_a_message(world, client):
    response = signed_in(client, world.provider_manager).post(
        "/providers/PSOA/cost-pools/upload/", {}
    )
    assert response.status_code == 400
    assert error_summary(response) == [forms.FILE_REQUIRED]


def test_a_header_in_another_order_with_a_bom_and_extra_columns_is_read(world, client):
    content = "\ufeffAmount,Cluster,Notes,Period\r\n1500,pay-psoa,first,2026-04\r\n"
    response = upload(signed_in(client, world.provider_manager), content.encode("utf-8"))
    assert response.status_code == 200, error_summary(response)
    [row] = response.context["rows"]
    assert (row.cluster.code, row.period, row.amount) == ("PAY-PSOA", APRIL, Decimal("1500.00"))


def test_confirming_checks_the_rows_again(world, client):
    signed_in(client, world.provider_manager)
    token = upload(client, GOOD_CSV).context["token"]
    # Between the preview and the confirmation, someone enters one of the months.
    services.cost_pool_create(
        actor=world.administrator, cluster=world.pay_psoa, period=MAY, amount=Decimal("1")
    )
    response = client.post("/providers/PSOA/cost-pools/upload/confirm/", {"token": token})
    assert response.status_code == 400
    assert error_summary(response) == ["Row 3: PAY-PSOA already has a cost pool for 2026-05"]
    assert list(CostPool.objects.values_list("period", "amount")) == [(MAY, Decimal("1.00"))]


def test_confirming_with_a_wrong_or_missing_token_saves_nothing(world, client):
    signed_in(client, world.provider_manager)
    upload(client, GOOD_CSV)
    for data in ({"token": "forged"}, {}):
        response = client.post("/providers/PSOA/cost-pools/upload/confirm/", data)
        assert response.status_code == 302
        assert views.UPLOAD_EXPIRED in html(client.get(response["Location"]))
    assert not CostPool.objects.exists()
    assert client.get("/providers/PSOA/cost-pools/upload/confirm/").status_code == 405


def test_a_preview_of_one_provider_cannot_be_confirmed_for_another(world, client):
    signed_in(client, world.administrator)
    token = upload(client, GOOD_CSV).context["token"]
    response = client.post("/providers/TECHSVC/cost-pools/upload/confirm/", {"token": token})
    assert response.status_code == 302
    assert not CostPool.objects.exists()


def test_an_administrator_uploads_for_a_provider_but_not_its_neighbours_clusters(world, client):
    signed_in(client, world.administrator)
    response = upload(client, "cluster,period,amount\nIT-TECH,2026-04,1\n")
    assert error_summary(response) == [
        "Row 2: IT-TECH is run by Technology Services, not Public Service Operations Agency"
    ]
    response = upload(client, "cluster,period,amount\nIT-TECH,2026-04,1\n", provider="TECHSVC")
    assert response.status_code == 200
    client.post(
        "/providers/TECHSVC/cost-pools/upload/confirm/", {"token": response.context["token"]}
    )
    assert list(CostPool.objects.values_list("cluster__code", "entered_by")) == [
        ("IT-TECH", world.administrator.pk)
    ]


# --- the chargeback -----------------------------------------------------------------------


def in_progress(body: str) -> bool:
    """Whether the page marks a run in progress (which the poller keeps refreshing)."""
    return bool(re.search(r"<(dl|table)[^>]* data-in-progress", body))


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
def test_chargeback_page_is_for_administrators_and_analysts(world, client, persona, status):
    run = services.chargeback_run(actor=world.administrator, period=APRIL)
    signed_in(client, getattr(world, persona))
    response = client.get("/chargeback/")
    assert response.status_code == status
    assert client.get(f"/chargeback/runs/{run.pk}/").status_code == status
    if status == 200:
        assert [r.pk for r in response.context["runs"]] == [run.pk]
        assert (response.context["form"] is not None) is (persona == "administrator")


def test_an_administrator_starts_a_run_and_follows_it_until_done(world, client):
    services.cost_pool_create(
        actor=world.provider_manager, cluster=world.pay_psoa, period=APRIL, amount=Decimal("7000")
    )
    signed_in(client, world.administrator)
    response = client.post("/chargeback/", {"period": "2026-04"})
    assert response.status_code == 302
    run = ChargebackRun.objects.get()
    assert (run.period, run.status, run.requested_by) == (
        APRIL,
        RunStatus.QUEUED,
        world.administrator,
    )
    assert response["Location"] == f"/chargeback/runs/{run.pk}/"

    page = client.get(response["Location"])
    body = html(page)
    assert "Chargeback of 2026-04 started" in body
    assert in_progress(body) and "Refresh the status" in body
    assert f'data-poll-url="/chargeback/runs/{run.pk}/"' in body
    # The polled fragment: the status alone, not the page.
    fragment = client.get(response["Location"], headers={"HX-Request": "true"})
    assert "<html" not in html(fragment) and "Queued" in html(fragment)
    assert "HX-Request" in fragment["Vary"]
    listing = client.get("/chargeback/", headers={"HX-Request": "true"})
    assert in_progress(html(listing)) and "<html" not in html(listing)

    services.chargeback_execute(run_id=run.pk)  # what the worker does
    fragment = html(client.get(response["Location"], headers={"HX-Request": "true"}))
    assert "Done" in fragment and not in_progress(fragment)
    assert "7,000.00" in fragment
    listing = html(client.get("/chargeback/"))
    assert not in_progress(listing) and "Done" in listing
    assert Charge.objects.filter(run=run).count() == 2


@pytest.mark.parametrize(
    ("period", "message"),
    [
        (
            format_period(THIS_MONTH),
            services.PERIOD_NOT_ENDED.format(period=format_period(THIS_MONTH)),
        ),
        (
            format_period(NEXT_MONTH),
            services.PERIOD_NOT_ENDED.format(period=format_period(NEXT_MONTH)),
        ),
        ("2026-4", "Enter a month as YYYY-MM, for example 2026-04"),
        ("", forms.ENTER_PERIOD),
    ],
)
def test_a_month_that_has_not_ended_or_a_bad_month_starts_nothing(world, client, period, message):
    response = signed_in(client, world.administrator).post("/chargeback/", {"period": period})
    assert response.status_code == 400
    assert error_summary(response) == [message]
    assert not ChargebackRun.objects.exists()


def test_analysts_cannot_start_a_run(world, client):
    response = signed_in(client, world.analyst).post("/chargeback/", {"period": "2026-04"})
    assert response.status_code == 403
    assert not ChargebackRun.objects.exists()


def test_an_unknown_run_is_404(world, client):
    assert signed_in(client, world.administrator).get("/chargeback/runs/999999/").status_code == 404


# --- navigation ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("persona", "present", "absent"),
    [
        ("manager", ["/departments/LCS/budget/"], ["/chargeback/", "/cost-pools/"]),
        ("provider_manager", ["/providers/PSOA/cost-pools/"], ["/chargeback/", "/budget/"]),
        ("administrator", ["/chargeback/"], ["/cost-pools/", "/budget/"]),
        ("analyst", ["/chargeback/"], ["/cost-pools/", "/budget/"]),
    ],
)
def test_navigation_leads_each_role_to_its_money_page(world, client, persona, present, absent):
    response = signed_in(client, getattr(world, persona)).get("/")
    hrefs = [item["href"] for item in response.context["nav_items"]]
    for href in present:
        assert href in hrefs
    for part in absent:
        assert not any(part in href for href in hrefs)


# --- query counts ------------------------------------------------------------------------------


def grow(world, n: int) -> None:
    """n more departments in LCS's payroll cluster; n more PSOA clusters (each of its own
    service) that LCS belongs to, with pools for three months, charged; n more budget lines
    of LCS and others; n more runs (one per month charged)."""
    months = (datetime.date(2026, 6, 1), datetime.date(2026, 7, 1), datetime.date(2026, 8, 1))
    joined = datetime.date(2025, 4, 1)
    for i in range(n):
        dept = DepartmentFactory(code=f"Q{i:03d}")
        service = ServiceFactory(code=f"QS{i:03d}")
        MembershipFactory(department=dept, cluster=world.pay_psoa, joined_on=joined)
        cluster = ClusterFactory(code=f"QC{i:03d}", service=service, provider=world.psoa)
        MembershipFactory(department=world.lcs, cluster=cluster, joined_on=joined)
        MembershipFactory(department=dept, cluster=cluster, joined_on=joined)
        for month in months:
            services.cost_pool_create(
                actor=world.provider_manager, cluster=cluster, period=month, amount=Decimal("100")
            )
        for department in (dept, world.lcs):
            services.budget_line_create(
                actor=world.administrator,
                department=department,
                fiscal_year="2026-27",
                service=service,
                allocated=Decimal("1"),
            )
    for month in months:
        services.chargeback_run(actor=world.administrator, period=month)


# Session sign-in costs 2 queries (session, user), the page header 1 more for everyone
# (the count of unread notifications) and 1 more for a department's or provider's people
# (their department or provider); then the page itself.
PAGES = {
    # + department, the years (lines, charge span), services (form), lines, charges
    "/departments/LCS/budget/?year=2026-27": ("manager", 4 + 6),
    # + department, line
    "/departments/LCS/budget/lines/{line}/": ("manager", 4 + 2),
    # + provider, the years (first pool), clusters, pools
    "/providers/PSOA/cost-pools/?year=2026-27": ("provider_manager", 4 + 4),
    "/providers/PSOA/cost-pools/upload/": ("provider_manager", 4 + 1),  # + provider
    "/chargeback/": ("administrator", 3 + 1),  # + runs
    "/chargeback/runs/{run}/": ("administrator", 3 + 1),  # + run
}


@pytest.mark.parametrize("url", list(PAGES))
def test_query_counts_do_not_grow(world, url):
    persona, pinned = PAGES[url]
    line = payroll_line(world)
    services.cost_pool_create(
        actor=world.provider_manager, cluster=world.pay_psoa, period=APRIL, amount=Decimal("7000")
    )
    run = services.chargeback_run(actor=world.administrator, period=APRIL)
    url = url.format(line=line.pk, run=run.pk)
    client = Client()
    client.force_login(getattr(world, persona))
    small = count_queries(client, url)
    grow(world, 4)
    large = count_queries(client, url)
    assert small == large, f"{url}: {small} queries with little data, {large} with more"
    assert small == pinned, f"{url}: {small} queries, pinned at {pinned}"


def test_upload_checks_rows_in_a_constant_number_of_queries(world, client):
    signed_in(client, world.provider_manager)

    def queries_for(rows: int) -> int:
        months = [datetime.date(2020 + i // 12, i % 12 + 1, 1) for i in range(rows)]
        content = "cluster,period,amount\n" + "".join(
            f"PAY-PSOA,{format_period(m)},1\n" for m in months
        )
        with CaptureQueriesContext(connection) as ctx:
            response = upload(client, content)
        assert response.status_code == 200, error_summary(response)
        return len(ctx.captured_queries)

    # session, user, provider, then the clusters named, pools entered, months charged,
    # and the session saved with the preview (read, update).
    assert queries_for(2) == queries_for(60)
