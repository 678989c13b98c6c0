"""Fields of a row that only some readers may see (the field-level half of the gate).

A serializer lists them in `Meta.gated_fields`: each field name maps to the permission
that shows it and the attribute of the row that the permission is asked about
("" for the row itself). For a reader without that permission the field is `null`: the key
stays, so every row and every CSV has the same columns, and the schema says the field
may be null (`sharedsvc.api.schema.AutoSchema`).

    class Meta:
        gated_fields = {"baseline_annual_cost": ("clusters.view_department_private", "department")}

The permissions are the apps' `rules.py` predicates; they must not query the database per
row (annotate the queryset instead), so a list stays at a constant number of queries.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rest_framework import serializers
from rest_framework.fields import Field, SkipField
from rest_framework.relations import PKOnlyObject, RelatedField


def gate_object(instance: Any, path: str) -> Any:
    obj = instance
    for part in filter(None, path.split(".")):
        obj = getattr(obj, part)
    return obj


def _plain_attribute(field: Field) -> str | None:
    """The attribute a field reads from the row, when reading it is a bare `getattr`.

    True of a field whose source is one attribute and whose `get_attribute` is DRF's own
    (a `RelatedField` too, unless it answers with the primary key alone): for a model
    instance DRF's `get_attribute` is then `getattr` with a check for callables and for
    missing attributes, which `_read` keeps by handing those cases back to DRF.
    """
    if len(field.source_attrs) != 1:
        return None
    get_attribute = type(field).get_attribute
    if get_attribute is Field.get_attribute:
        return field.source_attrs[0]
    if (
        isinstance(field, RelatedField)
        and get_attribute is RelatedField.get_attribute
        and not field.use_pk_only_optimization()
    ):
        return field.source_attrs[0]
    return None


_MISSING = object()


class GatedFieldsMixin(serializers.ModelSerializer):
    """For a ModelSerializer: its `Meta.gated_fields` sit beside its `Meta.fields`.

    Its rows are read as DRF's `Serializer.to_representation` reads them, with a shorter
    path for a field that is one plain attribute of the row (`_plain_attribute`): a page of
    50 memberships reads 400 fields, and DRF's general path for each was a quarter of the
    list's time (bench/api_lists.py). Same fields, same order, same values.
    """

    def _read_plan(self) -> list[tuple[str, Field, str | None]]:
        plan = self.__dict__.get("_read_plan_cache")
        if plan is None:
            plan = [
                (field.field_name, field, _plain_attribute(field))
                for field in self._readable_fields
            ]
            self.__dict__["_read_plan_cache"] = plan
        return plan

    def _read(self, instance: Any) -> dict[str, Any]:
        if isinstance(instance, Mapping):
            return super().to_representation(instance)
        ret: dict[str, Any] = {}
        for name, field, attr in self._read_plan():
            attribute: Any = _MISSING
            if attr is not None:
                try:
                    attribute = getattr(instance, attr)
                except Exception:  # DRF's path below says what such an error means
                    attribute = _MISSING
                else:
                    if callable(attribute):
                        attribute = _MISSING
            if attribute is _MISSING:
                try:
                    attribute = field.get_attribute(instance)
                except SkipField:
                    continue
            check_for_none = attribute.pk if isinstance(attribute, PKOnlyObject) else attribute
            ret[name] = None if check_for_none is None else field.to_representation(attribute)
        return ret

    def to_representation(self, instance: Any) -> Any:
        data = self._read(instance)
        gated: dict[str, tuple[str, str]] = getattr(self.Meta, "gated_fields", {})
        request = self.context.get("request")
        user = getattr(request, "user", None)
        for name, (perm, path) in gated.items():
            if name in data and not (user is not None and self._may(user, perm, instance, path)):
                data[name] = None
        return data

    def _may(self, user: Any, perm: str, instance: Any, path: str) -> bool:
        """`user.has_perm(perm, obj)`, asked once per object of a list: a page of 50
        memberships names a handful of departments, and the answer is the same for each
        row of one (the rules look at the object and the reader, never at the row)."""
        obj = gate_object(instance, path)
        # An object without a primary key (unsaved, or not a model) is its own key.
        pk = getattr(obj, "pk", None)
        key = (perm, type(obj), pk if pk is not None else id(obj))
        # One memo per serializer tree: a list's child is shared by its rows, and a new
        # request builds a new serializer.
        owner = self.parent if isinstance(self.parent, serializers.ListSerializer) else self
        memo: dict[tuple[Any, ...], bool] = owner.__dict__.setdefault("_gate_memo", {})
        if key not in memo:
            memo[key] = user.has_perm(perm, obj)
        return memo[key]
