"""The locked requirements: a production install (requirements/runtime.txt) carries what
the application imports and no test or lint tool; the development lock pins the same
versions; every pin is hashed (pip installs them with --require-hashes)."""

from __future__ import annotations

import ast
import importlib.metadata
import re
import sys
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(settings.BASE_DIR)
REQUIREMENTS = ROOT / "requirements"
APPLICATION = [
    "sharedsvc", "notifications", "clusters", "budgets", "servicelevels", "defection",
    "governance", "initiatives", "web", "scripts",
]  # fmt: skip
# What only the tests and the tooling use: none of it may reach a production install.
TOOLS = re.compile(
    r"^(pytest(-.+)?|ruff|mypy|.+-stubs|types-.+|playwright|schemathesis|hypothesis(-.+)?"
    r"|factory-boy|faker|import-linter|time-machine|uv|coverage)$"
)
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?==(\S+?)\s*(?:;.*?)?\\?$")
REQUIREMENT = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)")


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def locked(path: Path) -> dict[str, tuple[str, int]]:
    """name -> (version, number of hashes) of a lock written by `make lock`."""
    pins: dict[str, tuple[str, int]] = {}
    current = None
    for line in path.read_text().splitlines():
        if match := PIN.match(line):
            current = canonical(match[1])
            pins[current] = (match[2], 0)
        elif line.strip().startswith("--hash=sha256:") and current:
            version, hashes = pins[current]
            pins[current] = (version, hashes + 1)
    return pins


def asked_for(path: Path) -> set[str]:
    """The names an .in file asks for itself (not through -r or -c)."""
    names = set()
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line and not line.startswith("-") and (match := REQUIREMENT.match(line)):
            names.add(canonical(match[1]))
    return names


RUNTIME = locked(REQUIREMENTS / "runtime.txt")
DEV = locked(REQUIREMENTS / "dev.txt")


def test_the_runtime_lock_holds_no_test_or_lint_tool():
    assert len(RUNTIME) > 30  # the lock was read
    assert sorted(name for name in RUNTIME if TOOLS.match(name)) == []
    # ...nor anything that only a tool of dev.in asks for.
    assert asked_for(REQUIREMENTS / "dev.in") & set(RUNTIME) == set()


@pytest.mark.parametrize("lock", ["runtime.txt", "dev.txt"])
def test_every_pin_is_hashed(lock):
    pins = locked(REQUIREMENTS / lock)
    assert pins
    assert [name for name, (_, hashes) in pins.items() if hashes == 0] == []


def test_the_development_lock_pins_the_runtime_versions():
    assert {name: DEV.get(name, ("missing", 0))[0] for name in RUNTIME} == {
        name: version for name, (version, _) in RUNTIME.items()
    }


@pytest.mark.parametrize("source", ["runtime.in", "dev.in"])
def test_each_lock_holds_what_its_source_asks_for(source):
    lock = RUNTIME if source == "runtime.in" else DEV
    assert asked_for(REQUIREMENTS / source) - set(lock) == set()


def imported_top_level_modules() -> set[str]:
    modules: set[str] = set()
    for package in APPLICATION:
        for path in (ROOT / package).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(), str(path))):
                if isinstance(node, ast.Import):
                    modules.update(alias.name.split(".")[0] for alias in node.names)
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    modules.add(node.module.split(".")[0])
    return modules


def test_what_the_application_imports_is_in_the_runtime_lock():
    own = {*APPLICATION, "tests"}
    third_party = imported_top_level_modules() - own - set(sys.stdlib_module_names)
    assert {"django", "rest_framework", "celery", "knox"} <= third_party  # the walk worked
    providers = importlib.metadata.packages_distributions()
    missing = {
        module: providers.get(module, ["(no installed distribution)"])
        for module in third_party
        if not any(canonical(dist) in RUNTIME for dist in providers.get(module, []))
    }
    assert missing == {}
