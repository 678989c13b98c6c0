"""The permission matrix: role x route x method -> expected status, for every route.

A route of the project without a row fails `test_every_route_has_a_row`, so a new
endpoint or page cannot ship without its permissions written down. Rows live beside each
app's tests (`tests/<app>/matrix_rows.py`). Requests sign in with the session (token auth
has its own tests); each request runs in a savepoint that is rolled back, so rows do not
disturb each other.
"""

from __future__ import annotations

import importlib
import json
import pkgutil
from typing import Any

import pytest
from django.db import transaction
from django.test import Client

import tests
from tests.matrix import PERSONAS, Row
from tests.personas import World
from tests.routes import all_routes


def collect_rows() -> list[Row]:
    """Rows from every `tests/<app>/matrix_rows*.py` module."""
    rows: list[Row] = []
    for package in pkgutil.iter_modules(tests.__path__):
        if not package.ispkg:
            continue
        app = importlib.import_module(f"tests.{package.name}")
        for module in pkgutil.iter_modules(app.__path__):
            if module.name.startswith("matrix_rows"):
                rows.extend(importlib.import_module(f"tests.{package.name}.{module.name}").ROWS)
    return rows


ROWS = collect_rows()


def _request(client: Client, method: str, url: str, body: dict[str, Any] | list[dict[str, Any]]):
    if method in ("GET", "DELETE"):
        return client.generic(method, url)
    return client.generic(method, url, data=json.dumps(body), content_type="application/json")


class _Rollback(Exception):
    pass


def _status_as(world: World, persona: str, method: str, row: Row) -> int:
    user = world.personas()[persona]
    client = Client()
    if user is not None:
        client.force_login(user)
    status = 0
    try:
        with transaction.atomic():
            response = _request(client, method, row.url(world), row.body(world))
            status = response.status_code
            raise _Rollback
    except _Rollback:
        pass
    return status


CASES = [(row, method) for row in ROWS for method in row.methods]


@pytest.mark.parametrize(
    ("row", "method"),
    CASES,
    ids=[f"{method} {row.route or '/'} #{i}" for i, (row, method) in enumerate(CASES)],
)
def test_permission_matrix(world, row, method):
    expected = row.methods[method]
    actual = {persona: _status_as(world, persona, method, row) for persona in PERSONAS}
    assert actual == expected


def test_every_route_has_a_row():
    covered = {row.route for row in ROWS}
    # The Django admin's own views are covered by test_admin_is_for_administrators.
    missing = [r for r in all_routes() if r not in covered and not r.startswith("admin/")]
    assert missing == [], f"routes without a permission-matrix row: {missing}"


def test_admin_is_for_administrators(world):
    from django.contrib import admin

    urls = ["/admin/"] + [
        f"/admin/{model._meta.app_label}/{model._meta.model_name}/"
        for model in admin.site._registry
    ]
    for persona in PERSONAS:
        user = world.personas()[persona]
        client = Client()
        if user is not None:
            client.force_login(user)
        for url in urls:
            status = client.get(url).status_code
            expected = 200 if persona == "administrator" else 302
            assert status == expected, (persona, url, status)
