"""The permission matrix: role x route x method -> expected status, for every route.

A route of the project without a row fails `test_every_route_has_a_row`, so a new
endpoint or page cannot ship without its permissions written down. Rows live beside each
app's tests (`tests/<app>/matrix_rows.py`). Requests sign in with the session (token auth
has its own tests); each request runs in a savepoint that is rolled back, so rows do not
disturb each other (nor the personas of a row, who all find the row's objects as they
were made). Each persona signs in once, in a shared layer above the world
(`personas_signed_in`), and every request carries that session's cookie.
"""

from __future__ import annotations

import importlib
import json
import pkgutil
from typing import Any

import pytest
from django.conf import settings
from django.db import transaction
from django.test import Client

import tests
from tests.matrix import PERSONAS, Row
from tests.personas import World
from tests.routes import all_routes
from tests.shared import shared_fixture


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


@shared_fixture("world", name="sessions")
def personas_signed_in(world: World) -> dict[str, str]:
    """The session key of each signed-in persona, signed in once (a real sign-in: the
    session, last login and sign-in event rows) for the tests that run one after another.
    Signing in anew for every persona of every row was ~3,300 sign-ins, a third of the
    module's time. A session is never changed for the next request: each request runs in a
    savepoint that is rolled back (a sign-out, a new session key or a touch of the activity
    time with it), each test in one of its own, and each request gets a new client."""
    keys = {}
    for persona, user in world.personas().items():
        if user is not None:
            client = Client()
            client.force_login(user)
            keys[persona] = client.cookies[settings.SESSION_COOKIE_NAME].value
    return keys


def _client_as(sessions: dict[str, str], persona: str) -> Client:
    """A new client, signed in as `persona` (with its shared session) unless anonymous."""
    client = Client()
    if persona in sessions:
        client.cookies[settings.SESSION_COOKIE_NAME] = sessions[persona]
    return client


def _status_as(sessions: dict[str, str], persona: str, method: str, url: str, body: Any) -> int:
    client = _client_as(sessions, persona)
    status = 0
    try:
        with transaction.atomic():
            status = _request(client, method, url, body).status_code
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
def test_permission_matrix(world, sessions, row, method):
    """The row's objects are made once, in the test's savepoint, and every persona's
    request finds them as made: each request is rolled back."""
    expected = row.methods[method]
    url, body = row.url(world), row.body(world)
    actual = {persona: _status_as(sessions, persona, method, url, body) for persona in PERSONAS}
    assert actual == expected


def test_every_route_has_a_row():
    covered = {row.route for row in ROWS}
    # The Django admin's own views are covered by test_admin_is_for_administrators.
    missing = [r for r in all_routes() if r not in covered and not r.startswith("admin/")]
    assert missing == [], f"routes without a permission-matrix row: {missing}"


def test_admin_is_for_administrators(sessions):
    from django.contrib import admin

    urls = ["/admin/"] + [
        f"/admin/{model._meta.app_label}/{model._meta.model_name}/"
        for model in admin.site._registry
    ]
    for persona in PERSONAS:
        client = _client_as(sessions, persona)
        for url in urls:
            status = client.get(url).status_code
            expected = 200 if persona == "administrator" else 302
            assert status == expected, (persona, url, status)
