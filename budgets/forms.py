"""Forms of the money pages: budget lines, cost pools (one at a time or a CSV file) and
chargeback runs. Forms check the shape of the input; the rules are the services' (and the
database's), whose messages the views attach to the right field."""

from __future__ import annotations

import csv
import datetime
import io
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any, cast

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db.models import Q

from budgets.models import Charge, CostPool
from clusters.models import Cluster, Provider, Service
from sharedsvc.errors import Conflict
from sharedsvc.periods import (
    FISCAL_YEAR_INVALID,
    PERIOD_INVALID,
    format_period,
    month_start,
    parse_fiscal_year,
    parse_period,
)

# Messages people see (GOV.UK style: no full stop), reused by the tests.
SELECT_FISCAL_YEAR = "Select a fiscal year from the list"
ENTER_FISCAL_YEAR = "Enter a fiscal year, for example 2026-27"
SELECT_SERVICE = "Select a service"
UNKNOWN_SERVICE = "Select a service from the list"
SELECT_CLUSTER = "Select a cluster"
UNKNOWN_CLUSTER = "Select one of this provider's clusters"
ENTER_PERIOD = "Enter a month, for example 2026-04"
ENTER_AMOUNT = "Enter {what}"
AMOUNT_NOT_A_NUMBER = "Enter {what} as an amount of money, for example 12500.00"
AMOUNT_NEGATIVE = "{what} cannot be negative"
AMOUNT_DECIMALS = "Enter {what} with no more than 2 decimal places"
AMOUNT_TOO_LARGE = "Enter {what} of less than 1,000,000,000,000"

# The CSV upload of cost pools.
MAX_UPLOAD_BYTES = 1024 * 1024
MAX_UPLOAD_ROWS = 5000
CSV_COLUMNS = ("cluster", "period", "amount")
FILE_REQUIRED = "Select a CSV file to upload"
FILE_EMPTY = "The selected file is empty"
FILE_TOO_BIG = "The selected file must be smaller than 1 MB"
FILE_NOT_UTF8 = (
    "The selected file must be a CSV file saved as UTF-8 (in a spreadsheet, save it as “CSV UTF-8”)"
)
FILE_NOT_CSV = "The selected file must be a CSV file"
FILE_HEADER = "The first row of the file must name the columns cluster, period and amount"
FILE_NO_ROWS = "The file has no rows after its header: add one row for each cost pool"
FILE_TOO_MANY_ROWS = f"The file has more than {MAX_UPLOAD_ROWS:,} rows: split it into smaller files"

ROW_MESSAGE = "Row {number}: {problems}"
ROWS_LISTED = 20  # in the error summary; the table below the form lists them all
ROWS_MORE = "{count} more rows have problems: they are all listed below the form"
ROW_NO_CLUSTER = "enter a cluster code"
ROW_UNKNOWN_CLUSTER = "there is no cluster {code}"
ROW_OTHER_PROVIDER = "{code} is run by {owner}, not {provider}"
ROW_NO_PERIOD = "enter a month as YYYY-MM"
ROW_BAD_PERIOD = "“{value}” is not a month: enter it as YYYY-MM, for example 2026-04"
ROW_FUTURE_PERIOD = "{period} is in the future: enter costs for months that have begun"
ROW_NO_AMOUNT = "enter an amount"
ROW_NOT_A_NUMBER = "“{value}” is not an amount of money: enter a number such as 12500.00"
ROW_NEGATIVE = "the amount cannot be negative"
ROW_DECIMALS = "the amount has more than 2 decimal places"
ROW_TOO_LARGE = "the amount is too large"
ROW_DUPLICATE = "{code} {period} is also in row {first}: a cluster has one cost pool a month"
ROW_ALREADY_ENTERED = "{code} already has a cost pool for {period}"
ROW_ALREADY_CHARGED = "{period} has already been charged for {code}, so its cost pool cannot change"

MONEY_LIMIT = Decimal("1000000000000")  # 14 digits, 2 of them after the point


class AmountProblem(ValueError):
    pass


def parse_amount(value: str) -> Decimal:
    """'12,500.5' -> Decimal('12500.50'); anything that is not money raises AmountProblem
    with the problem's kind: 'blank', 'not_a_number', 'negative', 'decimals', 'too_large'."""
    text = (value or "").strip().replace(",", "")
    if not text:
        raise AmountProblem("blank")
    try:
        amount = Decimal(text)
    except InvalidOperation:
        raise AmountProblem("not_a_number") from None
    if not amount.is_finite():
        raise AmountProblem("not_a_number")
    if amount < 0:
        raise AmountProblem("negative")
    if amount >= MONEY_LIMIT:
        raise AmountProblem("too_large")
    cents = amount.quantize(Decimal("0.01"))
    if cents != amount:
        raise AmountProblem("decimals")
    return cents


class MoneyField(forms.CharField):
    """An amount of money: digits with up to 2 decimal places, commas allowed, not negative."""

    def __init__(self, *, what: str, **kwargs: Any) -> None:
        self.what = what
        kwargs.setdefault("error_messages", {"required": ENTER_AMOUNT.format(what=what)})
        super().__init__(**kwargs)

    def clean(self, value: Any) -> Decimal:
        text = super().clean(value)
        messages = {
            "not_a_number": AMOUNT_NOT_A_NUMBER,
            "negative": AMOUNT_NEGATIVE,
            "decimals": AMOUNT_DECIMALS,
            "too_large": AMOUNT_TOO_LARGE,
            "blank": ENTER_AMOUNT,
        }
        try:
            return parse_amount(text)
        except AmountProblem as problem:
            message = messages[str(problem)].format(what=self.what)
            raise ValidationError(message[0].upper() + message[1:], code=str(problem)) from None

    def widget_attrs(self, widget: forms.Widget) -> dict[str, Any]:
        return {**super().widget_attrs(widget), "inputmode": "decimal", "spellcheck": "false"}


class PeriodField(forms.CharField):
    """A month as YYYY-MM, cleaned to its first day."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("error_messages", {"required": ENTER_PERIOD})
        kwargs.setdefault("help_text", "As YYYY-MM, for example 2026-04.")
        super().__init__(**kwargs)

    def clean(self, value: Any) -> datetime.date:
        text = super().clean(value)
        try:
            return parse_period(text)
        except ValidationError:
            raise ValidationError(PERIOD_INVALID.rstrip("."), code="invalid_period") from None


def attach_service_error(form: forms.Form, error: ValidationError | Conflict, field: str) -> None:
    """Put a service's refusal on the form: on the field it names when the form has it,
    otherwise on `field` (so the error summary links to something the user can change)."""
    if isinstance(error, Conflict):
        form.add_error(field, error.message)
        return
    if hasattr(error, "error_dict"):
        for name, errors in error.error_dict.items():
            target = name if name in form.fields and name != NON_FIELD_ERRORS else field
            for message in ValidationError(errors).messages:
                form.add_error(target, message)
        return
    for message in error.messages:
        form.add_error(field, message)


# Budget lines -------------------------------------------------------------------------


class FiscalYearForm(forms.Form):
    """The fiscal-year chooser of a page (GET, so bookmarkable)."""

    year = forms.ChoiceField(
        label="Fiscal year", error_messages={"invalid_choice": SELECT_FISCAL_YEAR}
    )

    def __init__(self, *args: Any, years: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["year"]).choices = [(year, year) for year in years]


class BudgetLineAddForm(forms.Form):
    fiscal_year = forms.CharField(
        label="Fiscal year",
        help_text="For example 2026-27 (April 2026 to March 2027).",
        error_messages={"required": ENTER_FISCAL_YEAR},
    )
    service = forms.ChoiceField(
        label="Service",
        error_messages={"required": SELECT_SERVICE, "invalid_choice": UNKNOWN_SERVICE},
    )
    allocated = MoneyField(what="the allocation", label="Allocation")

    def __init__(self, *args: Any, services: list[Service], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Choices are the services the user may see: a code is checked against them,
        # never looked up raw.
        self.services = {service.code: service for service in services}
        cast(forms.ChoiceField, self.fields["service"]).choices = [
            ("", "Choose a service"),
            *((service.code, service.name) for service in services),
        ]

    def clean_service(self) -> Service:
        return self.services[self.cleaned_data["service"]]

    def clean_fiscal_year(self) -> str:
        value = self.cleaned_data["fiscal_year"].strip()
        try:
            parse_fiscal_year(value)
        except ValidationError:
            raise ValidationError(FISCAL_YEAR_INVALID.rstrip("."), code="invalid") from None
        return value


class BudgetLineChangeForm(forms.Form):
    allocated = MoneyField(what="the allocation", label="Allocation")


# Cost pools ---------------------------------------------------------------------------


class CostPoolForm(forms.Form):
    cluster = forms.ChoiceField(
        label="Cluster",
        error_messages={"required": SELECT_CLUSTER, "invalid_choice": UNKNOWN_CLUSTER},
    )
    period = PeriodField(label="Month")
    amount = MoneyField(what="the amount", label="Amount")

    def __init__(self, *args: Any, clusters: list[Cluster], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.clusters = {cluster.code: cluster for cluster in clusters}
        cast(forms.ChoiceField, self.fields["cluster"]).choices = [
            ("", "Choose a cluster"),
            *((c.code, f"{c.name} ({c.code})") for c in clusters),
        ]

    def clean_cluster(self) -> Cluster:
        return self.clusters[self.cleaned_data["cluster"]]


@dataclass
class PoolRow:
    """A row of an upload that is ready to be saved."""

    number: int
    cluster: Cluster
    period: datetime.date
    amount: Decimal

    def as_data(self) -> dict[str, Any]:
        return {"cluster": self.cluster, "period": self.period, "amount": self.amount}

    def as_stored(self) -> list[Any]:
        return [self.number, self.cluster.code, format_period(self.period), str(self.amount)]


@dataclass
class RowProblem:
    """A row of an upload that cannot be saved, and why."""

    number: int
    values: list[str]
    problems: list[str]

    @property
    def message(self) -> str:
        return ROW_MESSAGE.format(number=self.number, problems="; ".join(self.problems))


def check_pool_rows(
    *,
    user: Any,
    provider: Provider,
    records: list[list[Any]],
    today: datetime.date,
) -> tuple[list[PoolRow], list[RowProblem]]:
    """Check rows `[number, cluster, period, amount]` of an upload against every rule a
    pool must meet, before anything is saved (3 queries, whatever the number of rows:
    the clusters named, the pools already entered and the months already charged)."""
    codes = {str(r[1]).strip().upper() for r in records if str(r[1]).strip()}
    clusters = {
        c.code: c
        for c in Cluster.objects.visible_to(user).filter(code__in=codes).select_related("provider")
    }
    current_month = month_start(today)
    parsed: list[tuple[int, list[str], Cluster | None, datetime.date | None, Decimal | None]] = []
    problems: list[RowProblem] = []
    for number, code_raw, period_raw, amount_raw in records:
        values = [str(code_raw), str(period_raw), str(amount_raw)]
        found: list[str] = []
        code = values[0].strip().upper()
        cluster = clusters.get(code)
        if not code:
            found.append(ROW_NO_CLUSTER)
        elif cluster is None:
            found.append(ROW_UNKNOWN_CLUSTER.format(code=code))
        elif cluster.provider_id != provider.pk or not user.has_perm(
            "budgets.add_costpool", cluster
        ):
            found.append(
                ROW_OTHER_PROVIDER.format(
                    code=code, owner=cluster.provider.name, provider=provider.name
                )
            )
            cluster = None
        period: datetime.date | None = None
        if not values[1].strip():
            found.append(ROW_NO_PERIOD)
        else:
            try:
                period = parse_period(values[1])
            except ValidationError:
                found.append(ROW_BAD_PERIOD.format(value=values[1].strip()))
            else:
                if period > current_month:
                    found.append(ROW_FUTURE_PERIOD.format(period=format_period(period)))
                    period = None
        amount: Decimal | None = None
        try:
            amount = parse_amount(values[2])
        except AmountProblem as problem:
            found.append(
                {
                    "blank": ROW_NO_AMOUNT,
                    "not_a_number": ROW_NOT_A_NUMBER.format(value=values[2].strip()),
                    "negative": ROW_NEGATIVE,
                    "decimals": ROW_DECIMALS,
                    "too_large": ROW_TOO_LARGE,
                }[str(problem)]
            )
        if found:
            problems.append(RowProblem(number=number, values=values, problems=found))
        parsed.append((number, values, cluster, period, amount))

    # Pairs named twice in the file, entered already, or charged already.
    pairs = {(c.pk, p) for _, _, c, p, _ in parsed if c is not None and p is not None}
    existing: set[tuple[int, datetime.date]] = set()
    charged: set[tuple[int, datetime.date]] = set()
    if pairs:
        wanted = Q(cluster_id__in={c for c, _ in pairs}, period__in={p for _, p in pairs})
        existing = set(
            CostPool.objects.visible_to(user).filter(wanted).values_list("cluster_id", "period")
        )
        charged = set(Charge.objects.filter(wanted).values_list("cluster_id", "period").distinct())
    by_number = {problem.number: problem for problem in problems}
    first_row: dict[tuple[int, datetime.date], int] = {}
    rows: list[PoolRow] = []
    for number, values, cluster, period, amount in parsed:
        if cluster is None or period is None:
            continue
        pair = (cluster.pk, period)
        found = []
        if pair in first_row:
            found.append(
                ROW_DUPLICATE.format(
                    code=cluster.code, period=format_period(period), first=first_row[pair]
                )
            )
        else:
            first_row[pair] = number
        if pair in charged:
            found.append(
                ROW_ALREADY_CHARGED.format(code=cluster.code, period=format_period(period))
            )
        elif pair in existing:
            found.append(
                ROW_ALREADY_ENTERED.format(code=cluster.code, period=format_period(period))
            )
        if found:
            if number in by_number:
                by_number[number].problems.extend(found)
            else:
                by_number[number] = RowProblem(number=number, values=values, problems=found)
        elif number not in by_number and amount is not None:
            rows.append(PoolRow(number=number, cluster=cluster, period=period, amount=amount))
    return rows, sorted(by_number.values(), key=lambda p: p.number)


def read_pool_csv(data: bytes) -> list[list[Any]]:
    """The records of an uploaded CSV file as `[row number, cluster, period, amount]`,
    counting the header as row 1 as a spreadsheet does. A file that cannot be read raises
    ValidationError with a message for the person who uploaded it."""
    if not data.strip():
        raise ValidationError(FILE_EMPTY, code="empty")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ValidationError(FILE_NOT_UTF8, code="encoding") from None
    if "\x00" in text:
        raise ValidationError(FILE_NOT_CSV, code="not_csv")
    try:
        table = list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error:
        raise ValidationError(FILE_NOT_CSV, code="not_csv") from None
    numbered = [(i + 1, row) for i, row in enumerate(table) if any(cell.strip() for cell in row)]
    if not numbered:
        raise ValidationError(FILE_EMPTY, code="empty")
    header = [cell.strip().lower() for cell in numbered[0][1]]
    if not set(CSV_COLUMNS) <= set(header):
        raise ValidationError(FILE_HEADER, code="header")
    where = [header.index(column) for column in CSV_COLUMNS]
    body = numbered[1:]
    if not body:
        raise ValidationError(FILE_NO_ROWS, code="no_rows")
    if len(body) > MAX_UPLOAD_ROWS:
        raise ValidationError(FILE_TOO_MANY_ROWS, code="too_many_rows")
    return [[number, *(row[i] if i < len(row) else "" for i in where)] for number, row in body]


class CostPoolUploadForm(forms.Form):
    """A CSV file of cost pools, checked row by row before anything is saved; or, with
    `stored`, the rows of a preview checked again when they are confirmed (things may have
    changed in between: another pool entered, a month charged)."""

    file = forms.FileField(
        label="Upload a CSV file",
        help_text="Columns cluster, period and amount, for example PAY-PSOA,2026-04,125000.00. "
        "Up to 1 MB and 5,000 rows.",
        error_messages={"required": FILE_REQUIRED, "empty": FILE_EMPTY, "invalid": FILE_REQUIRED},
    )

    def __init__(
        self,
        *args: Any,
        user: Any,
        provider: Provider,
        today: datetime.date,
        stored: list[list[Any]] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.user, self.provider, self.today, self.stored = user, provider, today, stored
        if stored is not None:
            self.fields["file"].required = False
        self.rows: list[PoolRow] = []
        self.problems: list[RowProblem] = []

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        if self.stored is not None:
            records = self.stored
        else:
            if upload.size > MAX_UPLOAD_BYTES:
                raise ValidationError(FILE_TOO_BIG, code="too_big")
            records = read_pool_csv(upload.read(MAX_UPLOAD_BYTES + 1))
        self.rows, self.problems = check_pool_rows(
            user=self.user, provider=self.provider, records=records, today=self.today
        )
        if self.problems:
            messages = [problem.message for problem in self.problems[:ROWS_LISTED]]
            if len(self.problems) > ROWS_LISTED:
                messages.append(ROWS_MORE.format(count=len(self.problems) - ROWS_LISTED))
            raise ValidationError(messages)
        return upload


# Chargeback ---------------------------------------------------------------------------


class ChargebackRunForm(forms.Form):
    period = PeriodField(
        label="Month to charge",
        help_text="A month that has ended, as YYYY-MM, for example 2026-04.",
    )
