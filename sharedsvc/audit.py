"""The audit trail: append-only events written by database triggers (django-pghistory).

Every tracked model records an event on insert, update and delete, with a snapshot of the
row. The request middleware and `audit_context(actor=...)` in services attach who did it.
Event tables carry a trigger that refuses UPDATE and DELETE (PGHISTORY_APPEND_ONLY).
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Any

import pghistory


def tracked(*, exclude: list[str] | None = None) -> Any:
    """Class decorator: audit every insert, update and delete of the model."""
    return pghistory.track(
        pghistory.InsertEvent(),
        pghistory.UpdateEvent(),
        pghistory.DeleteEvent(),
        exclude=exclude,
    )


def audit_context(*, actor: Any, **extra: Any) -> AbstractContextManager:
    """Name the actor of every change made inside the block (services call this)."""
    user_id = actor.pk if actor is not None and getattr(actor, "pk", None) else None
    return pghistory.context(user=user_id, **extra)
