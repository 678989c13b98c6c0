"""Data many tests stand on, built once and shared through savepoints.

Like Django's `TestCase.setUpTestData` (and zope's test layers): a fixture made with
`shared_fixture` builds its rows once, in a transaction (or savepoint) of its own that
stays open while the tests that use it run one after another; each test's own `db`
transaction nests inside it as a savepoint and is rolled back as before, so every test
starts from exactly the rows the fixture made and sees nothing another test wrote. Each
test gets its own deep copy of the Python objects (as `setUpTestData`'s `TestData` does),
so a test that changes an object in memory does not change it for the next.

The layers form a stack on the worker's connection: `world` at the bottom, a module's
heavier fixture (built on a copy of the world) above it. Before each test, the layers it
does not use are rolled back (so a test that does not ask for the world finds an empty
database, as before), and the missing ones are built. A test that cannot run inside
them gets the fixture built for it alone, as before: a transactional test (its rows are
committed and flushed), one marked `django_db` (the marker opens the test's transaction
before any fixture could), or one that asks for `db` before the shared fixture.
"""

from __future__ import annotations

import copy
import inspect
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.db import connection, transaction

_BUILD = "_shared_build"
_REQUIRES = "_shared_requires"
# Fixtures with which a test runs outside the layers (committed rows, its own flush).
_TRANSACTIONAL = {
    "transactional_db",
    "live_server",
    "django_db_reset_sequences",
    "django_db_serialized_rollback",
}


@dataclass
class _Layer:
    build: Callable[..., Any]
    atomic: Any
    # Every shared value as of this layer (its own and the copies it was built on), by
    # builder: what each test of the layer gets a deep copy of.
    values: dict[Callable[..., Any], Any]


_stack: list[_Layer] = []
_blocker: Any = None


def shared_fixture(*requires: str, name: str | None = None):
    """Make `build(**requires)` a function-scoped fixture (named `name`, or as the
    function) whose value is built once for the tests that run one after another (see the
    module's docstring). `requires` names the shared fixtures it is built on, passed as
    keyword arguments."""

    def decorate(build: Callable[..., Any]):
        def fixture(request, db, **lower):
            values = getattr(request.node, "_shared_values", None)
            if values is not None and build in values:
                return values[build]
            return build(**lower)

        params = [
            inspect.Parameter(name, inspect.Parameter.POSITIONAL_OR_KEYWORD)
            for name in ("request", "db", *requires)
        ]
        fixture.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
        fixture.__name__ = name or build.__name__
        fixture.__doc__ = build.__doc__
        setattr(fixture, _BUILD, build)
        setattr(fixture, _REQUIRES, requires)
        return pytest.fixture(name=fixture.__name__)(fixture)

    return decorate


def _definition(item, name: str):
    info = getattr(item, "_fixtureinfo", None)
    definitions = info.name2fixturedefs.get(name) if info is not None else None
    return definitions[-1].func if definitions else None


def wanted(item) -> list[tuple[Callable[..., Any], dict[str, Callable[..., Any]]]]:
    """The layers `item` runs in, lowest first: (builder, {argument: builder it takes})."""
    names = getattr(item, "fixturenames", ())
    if item.get_closest_marker("django_db") or _TRANSACTIONAL & set(names):
        return []
    found: list[tuple[Callable[..., Any], dict[str, Callable[..., Any]]]] = []

    def add(name: str) -> Callable[..., Any] | None:
        func = _definition(item, name)
        build = getattr(func, _BUILD, None)
        if build is None:
            return None
        if all(build is not b for b, _ in found):
            lower = {r: add(r) for r in getattr(func, _REQUIRES)}
            found.append((build, lower))  # type: ignore[arg-type]
        return build

    for name in names:
        add(name)
    return found


def _unwind(depth: int) -> None:
    """Roll back the layers above `depth`."""
    if len(_stack) <= depth:
        return
    with _blocker.unblock():
        try:
            while len(_stack) > depth:
                layer = _stack.pop()
                transaction.set_rollback(True)
                layer.atomic.__exit__(None, None, None)
        except Exception:
            # A test left the connection unusable (closed it, say): start afresh.
            _stack.clear()
            connection.in_atomic_block = False
            connection.savepoint_ids = []
            connection.atomic_blocks = []
            connection.needs_rollback = False
            connection.close()


def before(item) -> None:
    """Before a test's fixtures: roll back the layers it does not run in."""
    builds = [build for build, _ in wanted(item)]
    depth = 0
    while depth < len(_stack) and depth < len(builds) and _stack[depth].build is builds[depth]:
        depth += 1
    _unwind(depth)


def finish() -> None:
    _unwind(0)


def enter(request, blocker) -> None:
    """Build the layers the test runs in that are missing; hand it copies of them all."""
    global _blocker
    layers = wanted(request.node)
    if not layers:
        return
    _blocker = blocker
    if len(connection.atomic_blocks) != len(_stack):
        return  # the test's own transaction is already open: it builds for itself
    with blocker.unblock():
        for build, lower in layers[len(_stack) :]:
            values = copy.deepcopy(_stack[-1].values) if _stack else {}
            atomic = transaction.atomic()
            atomic.__enter__()
            try:
                values[build] = build(**{name: values[b] for name, b in lower.items()})
            except BaseException:
                transaction.set_rollback(True)
                atomic.__exit__(*sys.exc_info())
                raise
            _stack.append(_Layer(build, atomic, values))
    request.node._shared_values = copy.deepcopy(_stack[-1].values)
