"""Messages people see, kept as constants so tests can reuse them."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import IntegrityError, models

IN_USE = "{name} is still in use ({what}), so it cannot be deleted."
SERVER_ERROR = (
    "Sorry, something went wrong on our side and nothing was changed. If it happens again, "
    "tell the service desk this reference."
)
CONFLICT_GENERIC = "This change conflicts with existing records; nothing was saved."


class Forbidden(Exception):
    """The actor may know this exists but may not do it (HTTP 403)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class Conflict(Exception):
    """A request that conflicts with the current state of things (HTTP 409)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def constraint_message(model: type[models.Model], exc: IntegrityError) -> str:
    """The user-facing message of the database constraint that refused a write."""
    name = getattr(getattr(exc.__cause__, "diag", None), "constraint_name", None)
    for constraint in model._meta.constraints:
        if constraint.name == name:
            return str(constraint.get_violation_error_message())
    for field in model._meta.fields:
        if field.unique and name and field.column in name:
            return f"A {model._meta.verbose_name} with this {field.verbose_name} already exists."
    return CONFLICT_GENERIC


def integrity_to_validation(model: type[models.Model], exc: IntegrityError) -> ValidationError:
    return ValidationError(constraint_message(model, exc))
