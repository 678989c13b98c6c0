"""Field-level permissions, persona by persona (rows in `tests/<app>/matrix_fields.py`).

For each row and persona: the persona reads the row through the API with a token; if they
read it, the field is non-null exactly when the persona is in `seen_by`. The personas the
row names as `readers` must read it, so a rule cannot pass by hiding the whole row.
"""

from __future__ import annotations

import importlib
import pkgutil

import pytest

import tests
from tests.field_matrix import FieldRow
from tests.matrix import PERSONAS, SIGNED_OUT


def collect_rows() -> list[FieldRow]:
    rows: list[FieldRow] = []
    for package in pkgutil.iter_modules(tests.__path__):
        if not package.ispkg:
            continue
        app = importlib.import_module(f"tests.{package.name}")
        for module in pkgutil.iter_modules(app.__path__):
            if module.name.startswith("matrix_fields"):
                rows.extend(
                    importlib.import_module(f"tests.{package.name}.{module.name}").FIELD_ROWS
                )
    return rows


ROWS = collect_rows()


def test_there_are_field_rows():
    assert len(ROWS) >= 5


@pytest.mark.parametrize("row", ROWS, ids=[row.name for row in ROWS])
def test_field_matrix(world, api, row: FieldRow):
    row.setup(world)
    seen: dict[str, bool | None] = {}
    for persona in PERSONAS:
        if persona in SIGNED_OUT:
            continue
        client = api.as_user(world.personas()[persona])
        response = client.get(row.url(world))
        if response.status_code != 200:
            seen[persona] = None
            continue
        body = response.json()
        if row.pick is not None:
            matches = [r for r in body["results"] if row.pick(world, r)]
            if not matches:
                seen[persona] = None
                continue
            body = matches[0]
        assert row.field in body, f"{persona}: {row.field} missing from {sorted(body)}"
        seen[persona] = body[row.field] is not None
    readers = {p for p, v in seen.items() if v is not None}
    assert row.readers <= readers, f"should read the row: {sorted(row.readers - readers)}"
    expected = {p: (p in row.seen_by) for p in readers}
    actual = {p: bool(seen[p]) for p in readers}
    assert actual == expected
