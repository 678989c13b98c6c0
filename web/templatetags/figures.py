"""Figures for long tables: what `floatformat` prints, at a thirtieth of its cost.

`floatformat` looks up the locale's separators and grouping on every call (about 12 us); a
statement with thousands of money cells spent most of its rendering there. These filters
print the same text for the site's language (en-gb: "." for decimals, "," between groups
of three; tests/web/test_figures.py compares them with `floatformat`), from a Decimal, an
int or a float; anything else is printed as `floatformat` prints it, as "".

    {% load figures %}
    {{ row.benefit|money }}         the same as |floatformat:"2g"   (1,234.50)
    {{ row.change|tenths }}         the same as |floatformat:"1"    (-3.2)
    {{ row.rate|rate }}             servicelevels/_rate.html         (95.5%, 100%, No returns)
    {{ row.period|month }}          the same as |date:"M Y"          (Apr 2025)
    {{ row.period|month:"F Y" }}    the same as |date:"F Y"          (April 2025)

`month` makes each month's label once per format and language: a table of hundreds of rows
has a few dozen months, and `date` looks up the locale's formats and month names every
time.
"""

from __future__ import annotations

import datetime
import functools
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from django import template
from django.template.defaultfilters import date
from django.utils import formats
from django.utils.translation import get_language

register = template.Library()

CENT = Decimal("0.01")
TENTH = Decimal("0.1")
NO_RETURNS = "No returns"


def _decimal(value: Any) -> Decimal | None:
    if isinstance(value, Decimal):
        return value if value.is_finite() else None
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        number = Decimal(repr(value) if isinstance(value, float) else value)
    except (InvalidOperation, ValueError):
        return None
    return number if number.is_finite() else None


def _fixed(number: Decimal, places: Decimal, grouped: bool) -> str:
    rounded = number.quantize(places, ROUND_HALF_UP)
    if not rounded:
        rounded = abs(rounded)  # floatformat prints no sign on a zero ("-0.00" is "0.00")
    return f"{rounded:,}" if grouped else f"{rounded}"


@register.filter(is_safe=True)
def money(value: Any) -> str:
    """Two decimal places, grouped in thousands: `floatformat:"2g"`."""
    number = _decimal(value)
    return "" if number is None else _fixed(number, CENT, grouped=True)


@register.filter(is_safe=True)
def tenths(value: Any) -> str:
    """One decimal place, not grouped: `floatformat:"1"`."""
    number = _decimal(value)
    return "" if number is None else _fixed(number, TENTH, grouped=False)


@register.filter(is_safe=True)
def rate(value: Any) -> str:
    """A compliance rate in per cent, as servicelevels/_rate.html prints it: one decimal
    place unless it is whole (`floatformat:"-1"`), or "No returns" for None."""
    if value is None:
        return NO_RETURNS
    number = _decimal(value)
    if number is None:
        return "%"
    if number == number.to_integral_value():
        return f"{int(number)}%"
    return f"{_fixed(number, TENTH, grouped=False)}%"


@functools.lru_cache(maxsize=1024)
def _month(day: datetime.date, form: str, language: str | None) -> str:
    return formats.date_format(day, form)


@register.filter(expects_localtime=True, is_safe=False)
def month(value: Any, form: str = "M Y") -> str:
    """A month as `date` prints it in `form` ("M Y" unless given); a datetime or anything
    else goes to `date`."""
    if type(value) is datetime.date:
        return _month(value, form, get_language())
    return date(value, form)
