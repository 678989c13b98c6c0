"""Shared plumbing for the service functions of every app: validate, save, audit."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, TypeVar

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.db.models import Model, ProtectedError, RestrictedError

from sharedsvc.audit import audit_context
from sharedsvc.errors import IN_USE, Conflict, integrity_to_validation

M = TypeVar("M", bound=Model)

NOT_ALLOWED = "You may not do this."


def require_permission(actor: Any, perm: str, obj: Any = None, message: str = NOT_ALLOWED) -> None:
    """Services check permission themselves, so a new door cannot forget: a user `actor`
    must hold `perm` (an app's `rules.py` permission) on `obj`. `actor=None` is the system
    itself (the periodic jobs, the demo and the management commands run by an operator).
    """
    if actor is not None and not actor.has_perm(perm, obj):
        raise PermissionDenied(message)


def validated_save(instance: M, *, actor: Any, exclude: Iterable[str] = ()) -> M:
    """Run every model and database-constraint check, then save, naming the actor.

    The database constraints stay the last word: a race that slips past `full_clean`
    becomes the same ValidationError instead of a 500.
    """
    with transaction.atomic(), audit_context(actor=actor):
        instance.full_clean(exclude=list(exclude))
        try:
            with transaction.atomic():
                instance.save()
        except IntegrityError as exc:
            raise integrity_to_validation(type(instance), exc) from exc
    return instance


def model_create(model: type[M], *, actor: Any, data: Mapping[str, Any]) -> M:
    return validated_save(model(**data), actor=actor)


def model_update(instance: M, *, actor: Any, data: Mapping[str, Any]) -> M:
    for name, value in data.items():
        setattr(instance, name, value)
    return validated_save(instance, actor=actor)


def model_delete(instance: Model, *, actor: Any) -> None:
    try:
        with transaction.atomic(), audit_context(actor=actor):
            instance.delete()
    except (ProtectedError, RestrictedError) as exc:
        blockers = (
            exc.protected_objects if isinstance(exc, ProtectedError) else exc.restricted_objects
        )
        what = sorted({str(obj._meta.verbose_name_plural) for obj in blockers})
        raise Conflict(IN_USE.format(name=str(instance), what=", ".join(what))) from exc
