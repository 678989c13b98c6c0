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

from typing import Any

from rest_framework import serializers


def gate_object(instance: Any, path: str) -> Any:
    obj = instance
    for part in filter(None, path.split(".")):
        obj = getattr(obj, part)
    return obj


class GatedFieldsMixin(serializers.ModelSerializer):
    """For a ModelSerializer: its `Meta.gated_fields` sit beside its `Meta.fields`."""

    def to_representation(self, instance: Any) -> Any:
        data = super().to_representation(instance)
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
