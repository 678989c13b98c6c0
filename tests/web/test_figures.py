"""The figures filters print what `floatformat` (and servicelevels/_rate.html, and `date`
for months) print, at a fraction of the cost: compared on edge cases and on random amounts."""

from __future__ import annotations

import datetime
import random
from decimal import Decimal

import pytest
from django.template import Context, Template
from django.template.defaultfilters import date, floatformat
from django.utils import timezone, translation

from web.templatetags.figures import money, month, rate, tenths

EDGES = [
    Decimal("0"),
    Decimal("-0"),
    Decimal("-0.004"),
    Decimal("-0.005"),
    Decimal("0.005"),
    Decimal("99.995"),
    Decimal("99.96"),
    Decimal("100.0"),
    Decimal("1234567.891"),
    Decimal("-1234567.895"),
    Decimal("1E+3"),
    Decimal("12.3400"),
    0,
    12,
    -5,
    1.5,
    2.675,
    -0.0,
    "3.14159",
    "abc",
    "",
    None,
]


def amounts() -> list[object]:
    rng = random.Random(15)
    return EDGES + [
        Decimal(rng.randint(-(10**9), 10**9)) / Decimal(10 ** rng.randint(0, 5)) for _ in range(500)
    ]


@pytest.mark.parametrize(("mine", "arg"), [(money, "2g"), (tenths, "1")])
def test_the_filters_print_what_floatformat_prints(mine, arg):
    for value in amounts():
        assert mine(value) == floatformat(value, arg), value


def test_rate_prints_what_the_rate_template_prints():
    template = Template('{% include "servicelevels/_rate.html" with rate=r %}')
    for value in amounts():
        if value is None or isinstance(value, Decimal | int | float):
            assert rate(value) == template.render(Context({"r": value})), value
    assert rate(None) == "No returns"
    assert (rate(Decimal("87.5")), rate(Decimal("100.0"))) == ("87.5%", "100%")


def test_month_prints_what_the_date_filter_prints():
    days = [datetime.date(2024, 1, 1) + datetime.timedelta(days=n) for n in range(0, 800, 13)]
    for language in ("en-gb", "fr"):
        with translation.override(language):
            for day in days:
                assert month(day) == date(day, "M Y"), (language, day)
                assert month(day, "F Y") == date(day, "F Y"), (language, day)
    moment = timezone.now()
    assert month(moment) == date(moment, "M Y")
    assert month(None) == date(None, "M Y") == ""
