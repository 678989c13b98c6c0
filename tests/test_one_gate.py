"""The one gate (issue 9): no Python outside the rules and models modules asks a user's
role, and the import contracts that keep the apps in layers hold.

The search is the one the issue names as its "done when": role branches in Python outside
`*/rules.py`, `*/models.py`, `sharedsvc/roles.py` and `sharedsvc/users.py` (tests,
migrations, demo and management commands excluded).
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ROLE_BRANCH = re.compile(
    r"is_provider_manager|is_deputy_minister|is_administrator|is_analyst|reads_everything"
    r"|acts_for_department|\.role\b"
)
EXCLUDED_DIRS = {"tests", "migrations", ".venv", "node_modules", "bench", ".data"}
ALLOWED = re.compile(
    r"^([a-z_]+/rules\.py|[a-z_]+/models\.py|sharedsvc/roles\.py|sharedsvc/users\.py)$"
)


def _python_files():
    for path in ROOT.rglob("*.py"):
        relative = path.relative_to(ROOT)
        if EXCLUDED_DIRS & set(relative.parts):
            continue
        name = relative.as_posix()
        if ALLOWED.match(name) or name.endswith("demo.py") or "/management/commands/" in name:
            continue
        yield name, path


def test_no_role_branches_outside_the_gate():
    found = [
        f"{name}:{number}: {line.strip()}"
        for name, path in _python_files()
        for number, line in enumerate(path.read_text().splitlines(), start=1)
        if ROLE_BRANCH.search(line)
    ]
    assert found == []


def test_the_search_finds_a_role_branch(tmp_path):
    # The pattern itself must catch what it is for, or the test above proves nothing.
    for line in ("if user.is_provider_manager:", "user.role == 'analyst'", "u.reads_everything"):
        assert ROLE_BRANCH.search(line)
    assert not ROLE_BRANCH.search("user.has_perm('clusters.view_cluster_members', cluster)")


def test_import_contracts_hold():
    lint_imports = Path(sys.executable).parent / "lint-imports"
    result = subprocess.run(  # noqa: S603 (our own tool, fixed arguments)
        [str(lint_imports), "--no-cache"], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert "0 broken" in result.stdout
