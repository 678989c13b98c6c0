"""Report rows written fast: the plain rows (dicts) of a selector, thousands at once, as
DRF's serializer would write them, in a fraction of its time.

DRF writes each row field by field through `get_attribute` and `to_representation`, and a
`DecimalField` copies the decimal context for every figure: at a benefits statement's
twenty thousand figures that is most of the answer's time. `RowSerializer` (for
`many=True`, `RowListSerializer`) plans its fields once per list instead: each field read by
its key and written by its own `to_representation`, the common kinds (text, whole numbers,
booleans, money) by an equivalent that sets up once. A row that lacks a key goes through
DRF whole, so defaults, `allow_null` and the error read as they always do; a serializer
with a field that is not a plain keyed value (nested, related, a method) is DRF's
throughout. The output is DRF's to the character (tests/sharedsvc/test_api_rows.py).
"""

from __future__ import annotations

import decimal
from collections.abc import Callable, Iterable, Mapping
from typing import Any, cast

from django.db.models.manager import BaseManager
from rest_framework import relations, serializers
from rest_framework.settings import api_settings

Write = Callable[[Any], Any]


def _decimal_writer(field: serializers.DecimalField) -> Write | None:
    """`DecimalField.to_representation` with its context and exponent made once."""
    coerce = getattr(field, "coerce_to_string", api_settings.COERCE_DECIMAL_TO_STRING)
    if not coerce or field.localize or field.normalize_output or field.decimal_places is None:
        return None
    exponent = decimal.Decimal(".1") ** field.decimal_places
    context = decimal.getcontext().copy()
    if field.max_digits is not None:
        context.prec = field.max_digits
    rounding = field.rounding

    def write(value: Any) -> str:
        if not isinstance(value, decimal.Decimal):
            value = decimal.Decimal(str(value).strip())
        return f"{value.quantize(exponent, rounding=rounding, context=context):f}"

    return write


def _boolean_writer(field: serializers.BooleanField) -> Write:
    general = field.to_representation

    def write(value: Any) -> Any:
        if value is True or value is False:
            return value
        return general(value)

    return write


def _writer(field: serializers.Field) -> Write:
    kind = type(field)
    if kind is serializers.CharField:
        return str
    if kind is serializers.IntegerField:
        return int
    if kind is serializers.BooleanField:
        return _boolean_writer(field)  # type: ignore[arg-type]
    if kind is serializers.DecimalField:
        return _decimal_writer(field) or field.to_representation  # type: ignore[arg-type]
    return field.to_representation


def _plain(field: serializers.Field) -> bool:
    """A value read by one key and written by the field alone."""
    return len(field.source_attrs) == 1 and not isinstance(
        field, serializers.BaseSerializer | relations.RelatedField | relations.ManyRelatedField
    )


class RowListSerializer(serializers.ListSerializer):
    """Many plain rows, written as the child serializer writes each (see the module)."""

    def to_representation(self, data: Iterable[Any]) -> list[dict[str, Any]]:  # type: ignore[override]
        rows = data.all() if isinstance(data, BaseManager) else data
        child = self.child
        assert isinstance(child, serializers.Serializer)  # a RowSerializer's list
        fields = list(child._readable_fields)
        if not all(_plain(field) for field in fields):
            return [child.to_representation(row) for row in rows]
        plan = [
            (cast(str, field.field_name), field.source_attrs[0], _writer(field)) for field in fields
        ]
        written = []
        for row in rows:
            if not isinstance(row, Mapping):
                written.append(child.to_representation(row))
                continue
            try:
                written.append(
                    {
                        name: None if (value := row[key]) is None else write(value)
                        for name, key, write in plan
                    }
                )
            except KeyError:
                # A key missing: DRF's own answer (the field's default, null, or its error).
                written.append(child.to_representation(row))
        return written


class RowSerializer(serializers.Serializer):
    """A serializer of plain report rows; with `many=True`, a `RowListSerializer`."""

    class Meta:
        list_serializer_class = RowListSerializer
