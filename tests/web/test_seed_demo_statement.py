"""manage.py seed_demo: a published statement for the last complete fiscal year (2025-26
when the demo is seeded in 2026-27), with figures in every table, read as an analyst; and
the demo's programme of that year is made once."""

from __future__ import annotations

from django.utils import timezone

from initiatives.models import Programme
from sharedsvc.models import User
from sharedsvc.periods import last_complete_fiscal_year
from tests.web.test_seed_demo import seed
from web.statement import TABLES, benefits_statement


def test_the_last_complete_year_has_a_statement_with_every_table(db):
    seed()
    seed()  # idempotent: the year's programme is not made twice
    assert Programme.objects.filter(code="HRALL").count() == 1
    year = last_complete_fiscal_year(timezone.localdate())
    tables = benefits_statement(User.objects.get(username="analyst"), year)["tables"]
    assert {name for name, rows in tables.items() if not rows} == set(), year
    assert set(tables) == set(TABLES)
    (programme,) = [row for row in tables["programmes"] if row["programme"] == "HRALL"]
    assert (programme["joined"], programme["declined"], programme["pending"]) == (2, 1, 1)
    assert any(row["kind"] == "programme" for row in tables["decisions"])
