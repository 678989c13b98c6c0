"""The vocabulary of the permission matrix: personas, expected statuses, rows.

Each app lists its routes' rows in `tests/<app>/matrix_rows.py` (ROWS); the matrix test
(`tests/test_permission_matrix.py`) runs them all and fails on any route without a row.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from tests.personas import World

PERSONAS = [
    "anonymous",
    "administrator",
    "analyst",
    "manager",
    "other_manager",
    "deputy_minister",
    "recused_deputy_minister",
    "provider_manager",
    "other_provider_manager",
    "outsider",
]
SIGNED_OUT = {"anonymous", "outsider"}  # the outsider's account is inactive


def statuses(default: int, signed_out: int, **overrides: int) -> dict[str, int]:
    """Expected status per persona: `default` for active users, `signed_out` for the rest."""
    table = {p: (signed_out if p in SIGNED_OUT else default) for p in PERSONAS}
    table.update(overrides)
    return table


PAGE = statuses(200, 302)  # pages: signed-in users read, others go to sign in
API_READ = statuses(200, 401)
ADMIN_WRITE = {"POST": 201, "PUT": 200, "PATCH": 200, "DELETE": 204}


def api_write(method: str) -> dict[str, int]:
    return statuses(403, 401, administrator=ADMIN_WRITE[method])


@dataclass
class Row:
    route: str
    url: Callable[[World], str]
    methods: dict[str, dict[str, int]]
    # The JSON body: an object, or a list of them for a write of many at once.
    body: Callable[[World], dict[str, Any] | list[dict[str, Any]]] = field(default=lambda w: {})


def reference_rows(
    plural: str,
    lookup: Callable[[World], str],
    new: Callable[[World], dict[str, Any]],
    change: dict[str, Any],
    deletable: Callable[[World], str],
    read: dict[str, int] = API_READ,
) -> list[Row]:
    base = f"/api/v1/{plural}/"
    return [
        Row(
            f"api/v1/{plural}/",
            lambda w: base,
            {"GET": API_READ, "POST": api_write("POST")},
            body=new,
        ),
        Row(
            f"api/v1/{plural}/<{'pk' if plural in ('standards', 'memberships') else 'code'}>/",
            lambda w: f"{base}{lookup(w)}/",
            {
                "GET": read,
                "PATCH": api_write("PATCH"),
                "PUT": statuses(403, 401, administrator=400),
            },
            body=lambda w: change,
        ),
        Row(
            "(delete)",
            lambda w: f"{base}{deletable(w)}/",
            {"DELETE": api_write("DELETE")},
        ),
    ]
