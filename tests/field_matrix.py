"""The field-level half of the permission matrix: which personas see a field of a row.

Each app lists rows in `tests/<app>/matrix_fields.py` (FIELD_ROWS). A row names an API
detail URL (or a list URL and the row to pick from its results), a field, and the personas
who see its value; every other persona who can read the row gets `null` in that field.
Personas who cannot read the row at all (401/403/404) are checked by the status matrix.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from tests.personas import World

# Those who read every field of every row.
READERS = frozenset({"administrator", "analyst"})


@dataclass
class FieldRow:
    name: str
    url: Callable[[World], str]
    field: str
    seen_by: frozenset[str]
    # For a list URL: picks the row to check from `results` (None: the URL is a detail).
    pick: Callable[[World, dict[str, Any]], bool] | None = None
    # (`dataclasses.field` below: to mypy a bare `field` in this class is the str above.)
    # Personas expected to read the row at all (so a row that silently vanishes fails).
    readers: frozenset[str] = dataclasses.field(default=frozenset())
    setup: Callable[[World], Any] = dataclasses.field(default=lambda w: None)
