"""The deputy-minister board: the seam the exit requests call (cases arrive in issue 5)."""

from __future__ import annotations

from typing import Any


def case_open(*, actor: Any, exit_request: Any) -> None:
    """Open the board case for a `pending_board` exit request."""


def case_withdraw(*, actor: Any, exit_request: Any) -> None:
    """Withdraw the open case of a withdrawn exit request."""
