"""Months (`YYYY-MM`) and fiscal years (`2026-27`), the calendar of the money side.

The fiscal year starts in settings.FISCAL_YEAR_START_MONTH (April by default): fiscal year
2026-27 runs from April 2026 to March 2027.
"""

from __future__ import annotations

import calendar
import datetime
import re

from django.conf import settings
from django.core.exceptions import ValidationError

PERIOD_RE = re.compile(r"^(\d{4})-(\d{2})$")
FISCAL_YEAR_RE = re.compile(r"^(\d{4})-(\d{2})$")

PERIOD_INVALID = "Enter a month as YYYY-MM, for example 2026-04."
FISCAL_YEAR_INVALID = "Enter a fiscal year as YYYY-YY, for example 2026-27."


def parse_period(value: str) -> datetime.date:
    """'2026-04' -> date(2026, 4, 1); anything else is a ValidationError."""
    match = PERIOD_RE.match(value.strip()) if isinstance(value, str) else None
    if not match:
        raise ValidationError(PERIOD_INVALID, code="invalid_period")
    year, month = int(match.group(1)), int(match.group(2))
    if not (1 <= month <= 12 and 1900 <= year <= 9998):
        raise ValidationError(PERIOD_INVALID, code="invalid_period")
    return datetime.date(year, month, 1)


def format_period(day: datetime.date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def month_start(day: datetime.date) -> datetime.date:
    return day.replace(day=1)


def next_month(day: datetime.date) -> datetime.date:
    return datetime.date(day.year + day.month // 12, day.month % 12 + 1, 1)


def previous_month(day: datetime.date) -> datetime.date:
    first = day.replace(day=1)
    return (first - datetime.timedelta(days=1)).replace(day=1)


def days_in_month(day: datetime.date) -> int:
    return calendar.monthrange(day.year, day.month)[1]


def fiscal_year_start_year(day: datetime.date) -> int:
    start_month = settings.FISCAL_YEAR_START_MONTH
    return day.year if day.month >= start_month else day.year - 1


def fiscal_year_label(start_year: int) -> str:
    if settings.FISCAL_YEAR_START_MONTH == 1:
        return f"{start_year:04d}-{start_year % 100:02d}"
    return f"{start_year:04d}-{(start_year + 1) % 100:02d}"


def fiscal_year_of(day: datetime.date) -> str:
    """The fiscal year a day falls in: date(2027, 3, 31) -> '2026-27' (April start)."""
    return fiscal_year_label(fiscal_year_start_year(day))


def last_complete_fiscal_year(day: datetime.date) -> str:
    """The last fiscal year that has ended by `day`: date(2027, 4, 2) -> '2026-27'."""
    return fiscal_year_label(fiscal_year_start_year(day) - 1)


def parse_fiscal_year(value: str) -> int:
    """'2026-27' -> 2026, checking that the second part follows the first."""
    match = FISCAL_YEAR_RE.match(value.strip()) if isinstance(value, str) else None
    if not match:
        raise ValidationError(FISCAL_YEAR_INVALID, code="invalid_fiscal_year")
    start = int(match.group(1))
    if fiscal_year_label(start) != value.strip() or not 1900 <= start <= 9998:
        raise ValidationError(FISCAL_YEAR_INVALID, code="invalid_fiscal_year")
    return start


def fiscal_year_bounds(value: str) -> tuple[datetime.date, datetime.date]:
    """[first day, first day of the next fiscal year) of '2026-27'."""
    start_year = parse_fiscal_year(value)
    start = datetime.date(start_year, settings.FISCAL_YEAR_START_MONTH, 1)
    return start, datetime.date(start_year + 1, settings.FISCAL_YEAR_START_MONTH, 1)


def validate_fiscal_year(value: str) -> None:
    parse_fiscal_year(value)
