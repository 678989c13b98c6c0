"""The annual benefits statement's pages: `/statement/` (the last complete fiscal year),
`/statement/2025-26/` (the printable page, with a fiscal-year chooser) and
`/statement/2025-26/<table>.csv` (each table as CSV). Everyone signed in reads the statement
of what they may see: `web.statement` asks the gate for each figure.
"""

from __future__ import annotations

from typing import Any, cast

from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Min
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone

from budgets.forms import FiscalYearForm
from budgets.models import CostPool
from clusters.rules import WITHHELD
from sharedsvc.models import User
from sharedsvc.periods import (
    FISCAL_YEAR_INVALID,
    fiscal_year_label,
    fiscal_year_of,
    fiscal_year_start_year,
    last_complete_fiscal_year,
    validate_fiscal_year,
)
from web.statement import TABLES, benefits_statement
from web.statement_api import csv_bytes, table_data

app_name = "statement"

# The benefit by membership is shown a page at a time (an analyst's is one row per
# membership, thousands at scale); its CSV download holds every row.
MEMBERS_PER_PAGE = 100


def statement_years(today) -> list[str]:
    """The fiscal years a reader may choose, the latest first: from the first with a cost
    pool (cluster prices are public) to the current one (one query)."""
    first = CostPool.objects.aggregate(first=Min("period"))["first"] or today
    return [
        fiscal_year_label(year)
        for year in range(fiscal_year_start_year(today), fiscal_year_start_year(first) - 1, -1)
    ]


def _year_url(fiscal_year: str) -> str:
    return reverse("statement:year", args=[fiscal_year])


def _bad_year(request: HttpRequest, fiscal_year: str) -> HttpResponse:
    today = timezone.localdate()
    latest = last_complete_fiscal_year(today)
    return render(
        request,
        "statement/bad_year.html",
        {
            "asked": fiscal_year,
            "message": FISCAL_YEAR_INVALID,
            "latest": latest,
            "year_form": FiscalYearForm(initial={"year": latest}, years=statement_years(today)),
        },
        status=400,
    )


@login_required
def statement_index(request: HttpRequest) -> HttpResponse:
    """The statement of the last complete fiscal year, or of the one chosen (`?year=`)."""
    if "year" in request.GET:
        return statement_page(request, last_complete_fiscal_year(timezone.localdate()))
    return redirect(_year_url(last_complete_fiscal_year(timezone.localdate())))


@login_required
def statement_page(request: HttpRequest, fiscal_year: str) -> HttpResponse:
    """The statement of a fiscal year, printable as it is (the decision record's print
    styles). A year chosen in the form (`?year=`) is its own page; a malformed one is 400."""
    try:
        validate_fiscal_year(fiscal_year)
    except ValidationError:
        return _bad_year(request, fiscal_year)
    today = timezone.localdate()
    years = statement_years(today)
    if fiscal_year not in years:
        years.append(fiscal_year)
    status = 200
    if "year" in request.GET:
        year_form = FiscalYearForm(request.GET, years=years)
        if year_form.is_valid():
            return redirect(_year_url(year_form.cleaned_data["year"]))
        status = 400
    else:
        year_form = FiscalYearForm(initial={"year": fiscal_year}, years=years)
    statement = benefits_statement(cast(User, request.user), fiscal_year, today=today)
    tables = statement["tables"]
    downloads = [
        {"name": name, "title": title, "href": reverse("statement:csv", args=[fiscal_year, name])}
        for name, title in TABLES.items()
    ]
    members_page = Paginator(tables["members"], MEMBERS_PER_PAGE).get_page(request.GET.get("page"))
    context: dict[str, Any] = {
        "statement": statement,
        "members_page": members_page,
        "year": statement["year"],
        "tables": {name.replace("-", "_"): rows for name, rows in tables.items()},
        "downloads": {item["name"].replace("-", "_"): item for item in downloads},
        "download_list": downloads,
        "year_form": year_form,
        "form": year_form,
        # The tables with a withheld total, to say why under each.
        "withheld": {
            name.replace("-", "_"): any(row.get("withheld") for row in tables[name])
            for name in ("services", "clusters", "departure-reasons")
        },
        "withheld_message": WITHHELD,
        "current_year": fiscal_year_of(today),
        "api_url": f"{reverse('report-benefits-statement')}?fiscal_year={fiscal_year}",
    }
    return render(request, "statement/statement.html", context, status=status)


@login_required
def statement_csv(request: HttpRequest, fiscal_year: str, table: str) -> HttpResponse:
    """One table of the statement as CSV, the columns of the API's (`?format=csv`)."""
    if table not in TABLES:
        raise Http404("No such table.")
    try:
        validate_fiscal_year(fiscal_year)
    except ValidationError:
        return HttpResponse(
            FISCAL_YEAR_INVALID, status=400, content_type="text/plain; charset=utf-8"
        )
    statement = benefits_statement(cast(User, request.user), fiscal_year)
    response = HttpResponse(
        csv_bytes(table_data(statement, table)), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = (
        f'attachment; filename="benefits-statement-{fiscal_year}-{table}.csv"'
    )
    return response


urlpatterns = [
    path("", statement_index, name="index"),
    path("<str:fiscal_year>/", statement_page, name="year"),
    path("<str:fiscal_year>/<slug:table>.csv", statement_csv, name="csv"),
]
