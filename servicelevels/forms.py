"""Forms of the service-level pages: the period chooser, and the CSV upload of returns.

An upload is checked row by row against every rule a return must meet before anything is
saved (a constant number of queries whatever the number of rows); the preview's rows are
checked again when they are confirmed, and `measurements_submit` saves them all or none.
"""

from __future__ import annotations

import csv
import datetime
import io
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Q

# The file-level messages and limits of the cost-pool upload, shared so that both uploads
# read alike.
from budgets.forms import (
    FILE_EMPTY,
    FILE_NOT_CSV,
    FILE_NOT_UTF8,
    FILE_REQUIRED,
    FILE_TOO_BIG,
    MAX_UPLOAD_BYTES,
    MAX_UPLOAD_ROWS,
    PeriodField,
)
from budgets.services import ESTIMATE_NO_NOTE
from clusters.models import Cluster, Department, Membership, Provider, Service, Standard
from defection.forms import DateInputField, date_parts
from servicelevels.models import Measurement
from sharedsvc.periods import format_period, next_month, parse_period, previous_month

# The period chooser ---------------------------------------------------------------------

MAX_MONTHS = 36
PERIOD_ORDER = "The first month must not be after the last"
PERIOD_TOO_LONG = f"Choose at most {MAX_MONTHS} months"
PERIOD_NOT_ENDED = "Choose months that have ended"


class PeriodRangeForm(forms.Form):
    """The months a page shows (GET, so bookmarkable): `from` and `to`, both included."""

    start = PeriodField(label="From", help_text="As YYYY-MM, for example 2025-12.")
    end = PeriodField(label="To", help_text="As YYYY-MM, for example 2026-11.")

    def __init__(self, *args: Any, today: datetime.date, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.today = today

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("start"), data.get("end")
        if start is None or end is None:
            return data
        if start > end:
            self.add_error("start", PERIOD_ORDER)
        elif next_month(end) > self.today:
            self.add_error("end", PERIOD_NOT_ENDED)
        elif months_between(start, next_month(end)) > MAX_MONTHS:
            self.add_error("start", PERIOD_TOO_LONG)
        return data


def months_between(start: datetime.date, end: datetime.date) -> int:
    """How many months in [start, end)."""
    return (end.year - start.year) * 12 + end.month - start.month


def default_range(today: datetime.date, months: int) -> tuple[datetime.date, datetime.date]:
    """The last `months` complete months as [first month, month after the last)."""
    end = today.replace(day=1)
    start = end
    for _ in range(months):
        start = previous_month(start)
    return start, end


def choose_range(
    data: Any, *, today: datetime.date, months: int
) -> tuple[PeriodRangeForm, datetime.date, datetime.date, bool]:
    """The form, [start, end) and whether the asked range was valid (the default else)."""
    start, end = default_range(today, months)
    if "start" in data or "end" in data:
        form = PeriodRangeForm(data, today=today)
        if form.is_valid():
            return form, form.cleaned_data["start"], next_month(form.cleaned_data["end"]), True
        return form, start, end, False
    initial = {"start": format_period(start), "end": format_period(previous_month(end))}
    return PeriodRangeForm(initial=initial, today=today), start, end, True


# The CSV upload of returns -----------------------------------------------------------

CSV_COLUMNS = ("standard", "cluster", "department", "period", "value")
FILE_HEADER = (
    "The first row of the file must name the columns standard, cluster, department, "
    "period and value"
)
FILE_NO_ROWS = "The file has no rows after its header: add one row for each return"
FILE_TOO_MANY_ROWS = f"The file has more than {MAX_UPLOAD_ROWS:,} rows: split it into smaller files"

ROW_MESSAGE = "Row {number}: {problems}"
ROWS_LISTED = 20  # in the error summary; the table below the form lists them all
ROWS_MORE = "{count} more rows have problems: they are all listed below the form"
ROW_NO_CLUSTER = "enter a cluster code"
ROW_UNKNOWN_CLUSTER = "there is no cluster {code}"
ROW_OTHER_PROVIDER = "{code} is run by {owner}, not {provider}"
ROW_NO_STANDARD = "enter the name of a standard"
ROW_UNKNOWN_STANDARD = "{service} has no standard “{name}” (its standards: {names})"
ROW_NO_DEPARTMENT = "enter a department code"
ROW_UNKNOWN_DEPARTMENT = "there is no department {code}"
ROW_NOT_A_MEMBER = "{department} was not a member of {cluster} in {period}"
ROW_NO_PERIOD = "enter a month as YYYY-MM"
ROW_BAD_PERIOD = "“{value}” is not a month: enter it as YYYY-MM, for example 2026-04"
ROW_NOT_ENDED = "{period} has not ended yet: returns are for months that are over"
ROW_NO_VALUE = "enter a value"
ROW_NOT_A_NUMBER = "“{value}” is not a number: enter a value such as 99.5"
ROW_DECIMALS = "the value has more than 4 decimal places"
ROW_TOO_LARGE = "the value is too large"
ROW_DUPLICATE = "this return is also in row {first}: one return a standard, department and month"
ROW_ALREADY_RETURNED = "a return of {standard} for {department} in {period} has already been made"

VALUE_LIMIT = Decimal("10000000000")  # 14 digits, 4 of them after the point


def plain(value: Decimal) -> str:
    """A measured value or target without trailing zeros: 99.5000 -> 99.5, 100.0000 -> 100."""
    return format(value.normalize(), "f")


@dataclass
class ReturnRow:
    """A row of an upload that is ready to be saved."""

    number: int
    standard: Standard
    cluster: Cluster
    department: Department
    period: datetime.date
    value: Decimal

    @property
    def met(self) -> bool:
        return self.standard.is_met(self.value)

    @property
    def value_display(self) -> str:
        return plain(self.value)

    def as_data(self) -> dict[str, Any]:
        return {
            "standard": self.standard,
            "cluster": self.cluster,
            "department": self.department,
            "period": self.period,
            "value": self.value,
        }

    def as_stored(self) -> list[Any]:
        return [
            self.number,
            self.standard.name,
            self.cluster.code,
            self.department.code,
            format_period(self.period),
            str(self.value),
        ]


@dataclass
class RowProblem:
    """A row of an upload that cannot be saved, and why."""

    number: int
    values: list[str]
    problems: list[str]

    @property
    def message(self) -> str:
        return ROW_MESSAGE.format(number=self.number, problems="; ".join(self.problems))


def parse_value(text: str) -> Decimal:
    """A measured value: a number with up to 4 decimal places (ValidationError with the
    row's wording otherwise)."""
    text = (text or "").strip().replace(",", "")
    if not text:
        raise ValidationError(ROW_NO_VALUE)
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise ValidationError(ROW_NOT_A_NUMBER.format(value=text)) from None
    if not value.is_finite():
        raise ValidationError(ROW_NOT_A_NUMBER.format(value=text))
    if abs(value) >= VALUE_LIMIT:
        raise ValidationError(ROW_TOO_LARGE)
    if value != value.quantize(Decimal("0.0001")):
        raise ValidationError(ROW_DECIMALS)
    return value


def read_csv(data: bytes, *, columns: tuple[str, ...], header_message: str) -> list[list[Any]]:
    """The records of an uploaded CSV file as `[row number, *columns]`, counting the header
    as row 1 as a spreadsheet does. A file that cannot be read raises ValidationError with
    a message for the person who uploaded it."""
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
    if not set(columns) <= set(header):
        raise ValidationError(header_message, code="header")
    where = [header.index(column) for column in columns]
    body = numbered[1:]
    if not body:
        raise ValidationError(FILE_NO_ROWS, code="no_rows")
    if len(body) > MAX_UPLOAD_ROWS:
        raise ValidationError(FILE_TOO_MANY_ROWS, code="too_many_rows")
    return [[number, *(row[i] if i < len(row) else "" for i in where)] for number, row in body]


def _was_member(memberships: list[Membership], period: datetime.date) -> bool:
    after = next_month(period)
    return any(
        m.joined_on < after and (m.leaves_on is None or m.leaves_on > period) for m in memberships
    )


def check_return_rows(
    *,
    user: Any,
    provider: Provider,
    records: list[list[Any]],
    today: datetime.date,
) -> tuple[list[ReturnRow], list[RowProblem]]:
    """Check rows `[number, standard, cluster, department, period, value]` against every
    rule a return must meet, before anything is saved (5 queries, whatever the number of
    rows: the clusters, their standards, the departments, their memberships and the
    returns already made)."""
    cluster_codes = {str(r[2]).strip().upper() for r in records if str(r[2]).strip()}
    clusters = {
        c.code: c
        for c in Cluster.objects.visible_to(user)
        .filter(code__in=cluster_codes)
        .select_related("provider", "service")
    }
    standards: dict[int, dict[str, Standard]] = {}
    for standard in Standard.objects.visible_to(user).filter(
        service_id__in={c.service_id for c in clusters.values()}
    ):
        standards.setdefault(standard.service_id, {})[standard.name.casefold()] = standard
    department_codes = {str(r[3]).strip().upper() for r in records if str(r[3]).strip()}
    departments = {
        d.code: d for d in Department.objects.visible_to(user).filter(code__in=department_codes)
    }
    memberships: dict[tuple[int, int], list[Membership]] = {}
    for membership in Membership.objects.filter(
        cluster_id__in={c.pk for c in clusters.values() if c.provider_id == provider.pk},
        department_id__in={d.pk for d in departments.values()},
    ):
        memberships.setdefault((membership.cluster_id, membership.department_id), []).append(
            membership
        )

    problems: dict[int, RowProblem] = {}
    candidates: list[ReturnRow] = []
    raw: dict[int, list[str]] = {}
    for number, standard_raw, cluster_raw, department_raw, period_raw, value_raw in records:
        values = [
            str(v) for v in (standard_raw, cluster_raw, department_raw, period_raw, value_raw)
        ]
        found: list[str] = []

        code = values[1].strip().upper()
        cluster = clusters.get(code)
        if not code:
            found.append(ROW_NO_CLUSTER)
        elif cluster is None:
            found.append(ROW_UNKNOWN_CLUSTER.format(code=code))
        elif cluster.provider_id != provider.pk:
            found.append(
                ROW_OTHER_PROVIDER.format(
                    code=code, owner=cluster.provider.name, provider=provider.name
                )
            )
            cluster = None

        name = " ".join(values[0].split())
        standard = None
        if not name:
            found.append(ROW_NO_STANDARD)
        elif cluster is not None:
            own = standards.get(cluster.service_id, {})
            standard = own.get(name.casefold())
            if standard is None:
                found.append(
                    ROW_UNKNOWN_STANDARD.format(
                        service=cluster.service.name,
                        name=name,
                        names=", ".join(sorted(s.name for s in own.values())) or "none",
                    )
                )

        department_code = values[2].strip().upper()
        department = departments.get(department_code)
        if not department_code:
            found.append(ROW_NO_DEPARTMENT)
        elif department is None:
            found.append(ROW_UNKNOWN_DEPARTMENT.format(code=department_code))

        period: datetime.date | None = None
        if not values[3].strip():
            found.append(ROW_NO_PERIOD)
        else:
            try:
                period = parse_period(values[3])
            except ValidationError:
                found.append(ROW_BAD_PERIOD.format(value=values[3].strip()))
            else:
                if next_month(period) > today:
                    found.append(ROW_NOT_ENDED.format(period=format_period(period)))
                    period = None

        if (
            cluster is not None
            and department is not None
            and period is not None
            and not _was_member(memberships.get((cluster.pk, department.pk), []), period)
        ):
            found.append(
                ROW_NOT_A_MEMBER.format(
                    department=department.code, cluster=cluster.code, period=format_period(period)
                )
            )

        value: Decimal | None = None
        try:
            value = parse_value(values[4])
        except ValidationError as error:
            found.extend(error.messages)

        raw[number] = values
        if found:
            problems[number] = RowProblem(number=number, values=values, problems=found)
        elif standard and cluster and department and period and value is not None:
            candidates.append(
                ReturnRow(
                    number=number,
                    standard=standard,
                    cluster=cluster,
                    department=department,
                    period=period,
                    value=value,
                )
            )

    # Returns named twice in the file, or made already.
    existing: set[tuple[int, int, int, datetime.date]] = set()
    if candidates:
        wanted = Q(
            standard_id__in={r.standard.pk for r in candidates},
            cluster_id__in={r.cluster.pk for r in candidates},
            department_id__in={r.department.pk for r in candidates},
            period__in={r.period for r in candidates},
        )
        existing = set(
            Measurement.objects.filter(wanted).values_list(
                "standard_id", "cluster_id", "department_id", "period"
            )
        )
    first_row: dict[tuple[int, int, int, datetime.date], int] = {}
    rows: list[ReturnRow] = []
    for row in candidates:
        key = (row.standard.pk, row.cluster.pk, row.department.pk, row.period)
        found = []
        if key in first_row:
            found.append(ROW_DUPLICATE.format(first=first_row[key]))
        else:
            first_row[key] = row.number
        if key in existing:
            found.append(
                ROW_ALREADY_RETURNED.format(
                    standard=row.standard.name,
                    department=row.department.code,
                    period=format_period(row.period),
                )
            )
        if found:
            problems[row.number] = RowProblem(
                number=row.number, values=raw[row.number], problems=found
            )
        else:
            rows.append(row)
    return rows, sorted(problems.values(), key=lambda p: p.number)


class ReturnsUploadForm(forms.Form):
    """A CSV file of returns, checked row by row before anything is saved; or, with
    `stored`, the rows of a preview checked again when they are confirmed (another return
    may have been made in between)."""

    file = forms.FileField(
        label="Upload a CSV file",
        help_text="Columns standard, cluster, department, period and value, for example "
        "Paid on time,PAY-PSOA,LCS,2026-10,99.7. Up to 1 MB and 5,000 rows.",
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
        self.rows: list[ReturnRow] = []
        self.problems: list[RowProblem] = []

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        if self.stored is not None:
            records = self.stored
        else:
            if upload.size > MAX_UPLOAD_BYTES:
                raise ValidationError(FILE_TOO_BIG, code="too_big")
            records = read_csv(
                upload.read(MAX_UPLOAD_BYTES + 1), columns=CSV_COLUMNS, header_message=FILE_HEADER
            )
        self.rows, self.problems = check_return_rows(
            user=self.user, provider=self.provider, records=records, today=self.today
        )
        if self.problems:
            messages = [problem.message for problem in self.problems[:ROWS_LISTED]]
            if len(self.problems) > ROWS_LISTED:
                messages.append(ROWS_MORE.format(count=len(self.problems) - ROWS_LISTED))
            raise ValidationError(messages)
        return upload


# Make or buy: a newer in-house estimate ------------------------------------------------

SELECT_SERVICE = "Select the service the estimate is for"
ENTER_ANNUAL_COST = "Enter what making the service would cost a year, for example 250000"
ENTER_ESTIMATED_ON = "Enter the date of the estimate"
ENTER_NOTE = ESTIMATE_NO_NOTE  # the service's own, so both doors say the same
NOTE_TOO_LONG = "Keep the note to 2,000 characters or fewer"


class InHouseEstimateForm(forms.Form):
    """A department's newer estimate of what making one of its services would cost it a
    year. The shape of the answers only: `in_house_estimate_record` says whether they
    stand (no negative cost, no date after today, a note), with the messages put on the
    field they name."""

    service = forms.ChoiceField(
        label="Service",
        error_messages={"required": SELECT_SERVICE, "invalid_choice": SELECT_SERVICE},
    )
    annual_cost = forms.DecimalField(
        label="Annual cost in-house",
        max_digits=14,
        decimal_places=2,
        error_messages={
            "required": ENTER_ANNUAL_COST,
            "invalid": ENTER_ANNUAL_COST,
            "max_digits": ENTER_ANNUAL_COST,
            "max_decimal_places": ENTER_ANNUAL_COST,
            "max_whole_digits": ENTER_ANNUAL_COST,
        },
    )
    estimated_on = DateInputField(label="Date of the estimate", what="The estimate date")
    note = forms.CharField(
        label="How the estimate was made",
        widget=forms.Textarea,
        max_length=2_000,
        error_messages={"required": ENTER_NOTE, "max_length": NOTE_TOO_LONG},
    )

    def __init__(self, *args: Any, services: list[tuple[str, str]], **kwargs: Any) -> None:
        """`services`: (code, name) of the department's current services, the choices."""
        super().__init__(*args, **kwargs)
        field = self.fields["service"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [("", "Select a service"), *services]

    def clean_estimated_on(self) -> datetime.date:
        day = self.cleaned_data.get("estimated_on")
        if day is None:
            raise ValidationError(ENTER_ESTIMATED_ON)
        return day

    def clean_service(self) -> Service:
        try:
            return Service.objects.get(code=self.cleaned_data["service"])
        except Service.DoesNotExist:
            raise ValidationError(SELECT_SERVICE) from None

    @property
    def estimated_on_parts(self) -> list[str]:
        return date_parts(self["estimated_on"])
