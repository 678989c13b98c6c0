"""The port through which an exit request reaches the board.

`defection` does not import `governance`: the board reacts to exit requests, not the other
way round. The governance app registers its board here when Django starts
(`GovernanceConfig.ready`); submitting a request that needs the board, or withdrawing one
before it, calls the registered board inside the same transaction. Not a signal: a
business flow must fail loudly, and it does if no board is registered.
"""

from __future__ import annotations

from typing import Any, Protocol

from django.core.exceptions import ImproperlyConfigured

from defection.models import ExitRequest

NO_BOARD = (
    "No board is registered: an exit request that needs the board cannot be submitted. "
    "Install the governance app (it registers its board when Django starts)."
)


class Board(Protocol):
    def open_case(self, *, exit_request: ExitRequest, actor: Any) -> None:
        """Open the board case of a request that is now `pending_board`."""

    def withdraw_case(self, *, exit_request: ExitRequest, actor: Any) -> None:
        """The request was withdrawn: withdraw its open case."""


_registered: list[Board] = []


def register_board(board: Board) -> None:
    """Register the board (once; registering again replaces it)."""
    _registered[:] = [board]


def board() -> Board:
    if not _registered:
        raise ImproperlyConfigured(NO_BOARD)
    return _registered[0]
