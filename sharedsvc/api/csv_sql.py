"""A list's CSV with its cells written by PostgreSQL: the fast path of `?format=csv`; and
a JSON page's values read the same way (`Projection.values`).

Through the serializer a row costs about 48 µs: model instances with their related rows,
then DRF's fields one by one. PostgreSQL's own COPY of the same columns costs about 2 µs.
For a list whose serializer is flat, this asks the database for each cell as the text the
serializer would have written, and Python only hands the rows to the csv writer.

The projection is read from the serializer, never written a second time:

- a field backed by a model column (through foreign keys, as its `source` says) is that
  column, cast to the API's text of its type (`_TEXT_OF`);
- a field of our own says how in SQL itself, with `as_sql_text(expression)`
  (`sharedsvc.api.fields.PeriodField`);
- a field that is not a column (a model property) is named in the serializer's
  `Meta.sql_fields` as the expression that computes it;
- a gated field (`Meta.gated_fields`) is kept where the reader may see it, by the queryset
  form of the same rule (`register_condition`), and null elsewhere.

When every cell is SQL's, PostgreSQL writes each whole line (quoting and the formula guard
included) and Python joins them; a cell that needs the field's own Python (a time in the
reader's zone) is finished per row in Python instead.

A serializer with anything else (a method field, a nested record, a list) has no
projection, and its list streams through the serializer (`stream_csv`). A test compares
the two files for every list and every role, so the projection cannot drift from the
serializer without a failing test.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator
from functools import partial
from itertools import islice
from typing import Any

from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.db.models import Case, ExpressionWrapper, F, Func, Q, Value, When
from django.db.models.functions import Cast, Concat
from rest_framework import serializers
from rest_framework.settings import api_settings

from sharedsvc.api.copy_out import copy_out
from sharedsvc.api.renderers import CHUNK, FORMULA_START, NUMBER, _safe

TEXT: models.TextField = models.TextField()
# A cell the csv writer quotes; and one that needs a second look (quoted, or guarded).
QUOTED = '[",\r\n]'
SPECIAL = f"{FORMULA_START}|{QUOTED}"
# Characters that make a spreadsheet read a cell as a formula (`renderers._safe`).
FORMULA_STARTS = ("=", "+", "-", "@")

# perm -> form(user, pk_lookup) -> Q: the rule of a gated field as a condition on the rows,
# given the lookup from a row to the primary key of the object the rule is asked about.
_CONDITIONS: dict[str, Callable[[Any, str], Q]] = {}


def register_condition(perm: str, form: Callable[[Any, str], Q]) -> None:
    """Register the queryset form of a rule that gates fields (`gated.GatedFieldsMixin`).

    The app that defines the rule registers its form beside it (e.g. clusters/rules.py);
    a test checks, for each role, that the form holds on exactly the rows the rule allows.
    """
    _CONDITIONS[perm] = form


def condition_for(perm: str, user: Any, path: str) -> Q | None:
    form = _CONDITIONS.get(perm)
    if form is None:
        return None
    return form(user, f"{path.replace('.', '__')}__pk" if path else "pk")


def _is_iso(format_setting: Any) -> bool:
    return format_setting in (None, api_settings.DATE_FORMAT) and api_settings.DATE_FORMAT in (
        None,
        "iso-8601",
    )


def _text_of(field: serializers.Field, column: models.Field, expression: Any) -> Any | None:
    """The SQL text of `column` as `field.to_representation` writes it, or None."""
    as_sql_text = getattr(field, "as_sql_text", None)
    if as_sql_text is not None:
        return as_sql_text(expression)
    if isinstance(field, serializers.BooleanField):
        if isinstance(expression, Q):
            true, false = expression, ~expression
        else:
            true, false = Q(**{expression.name: True}), Q(**{expression.name: False})
        return Case(
            When(true, then=Value("True")),
            When(false, then=Value("False")),
            default=Value(None),
            output_field=TEXT,
        )
    if isinstance(field, serializers.DecimalField):
        same_scale = getattr(column, "decimal_places", None) == field.decimal_places
        coerce = getattr(field, "coerce_to_string", api_settings.COERCE_DECIMAL_TO_STRING)
        as_text = coerce and not field.localize and not field.normalize_output
        return Cast(expression, TEXT) if same_scale and as_text else None
    if isinstance(field, serializers.DateField) and not isinstance(
        field, serializers.DateTimeField
    ):
        if not _is_iso(getattr(field, "format", None)) or not isinstance(column, models.DateField):
            return None
        return models.Func(expression, Value("YYYY-MM-DD"), function="to_char", output_field=TEXT)
    if isinstance(field, serializers.IntegerField | serializers.PrimaryKeyRelatedField):
        return Cast(expression, TEXT)
    if isinstance(
        field, serializers.ChoiceField | serializers.CharField | serializers.SlugRelatedField
    ):
        if isinstance(column, models.CharField | models.TextField):
            return expression
        if isinstance(column, models.IntegerField | models.AutoField):
            return Cast(expression, TEXT)
    return None


def _column(
    model: type[models.Model], parts: list[str], annotations: dict[str, Any]
) -> tuple[str, models.Field] | None:
    """The lookup and the column of a dotted `source` through to-one relations (or an
    annotation of the list's queryset)."""
    if len(parts) == 1 and parts[0] in annotations:
        return parts[0], annotations[parts[0]].output_field
    lookups: list[str] = []
    for index, part in enumerate(parts):
        try:
            column = model._meta.pk if part == "pk" else model._meta.get_field(part)
        except FieldDoesNotExist:
            return None
        lookups.append(column.name if part == "pk" else part)
        if index == len(parts) - 1:
            return "__".join(lookups), column  # type: ignore[return-value]
        if not (column.many_to_one or column.one_to_one) or column.related_model is None:
            return None
        model = column.related_model  # type: ignore[assignment]
    return None


class Column:
    """One cell of each row: an SQL expression, and how Python finishes it.

    `expression` gives the API's text of the cell, or (when `formatter` is set) the raw value
    that the serializer field's own `to_representation` turns into it; `free_text` cells are
    guarded against spreadsheet formulas.

    `value` is the cell's value in the API's JSON, in SQL, of the type `value_field` (a number
    stays a number there); None where the field has no such form. A cell that Python finishes
    is its raw value in both."""

    def __init__(
        self,
        expression: Any,
        output_field: models.Field,
        formatter: Callable[[Any], Any] | None = None,
        free_text: bool = False,
        value: tuple[Any, models.Field] | None = None,
    ) -> None:
        self.expression = expression
        self.output_field = output_field
        self.formatter = formatter
        self.free_text = free_text
        self.value = (expression, output_field) if formatter is not None else value

    def cell(self) -> Any:
        """The cell as the csv writer writes it, in SQL, for `concat` (which writes null as
        empty): free text guarded against formulas (`renderers._safe`) and quoted where it
        holds a comma, a quote or a line break (the writer's minimal quoting). Only for a
        column SQL formats whole; the others (ints, decimals, dates, booleans, months)
        never hold those characters. One match tells the common cell from the rest."""
        text = self.expression
        if not self.free_text:
            return text
        guarded = Case(
            When(
                Q(_regex(text, FORMULA_START)) & ~Q(_regex(text, NUMBER)),
                then=Concat(Value("'"), text, output_field=TEXT),
            ),
            default=text,
            output_field=TEXT,
        )
        quoted = Case(
            When(
                _regex(guarded, QUOTED),
                then=Concat(
                    Value('"'),
                    Func(guarded, Value('"'), Value('""'), function="replace", output_field=TEXT),
                    Value('"'),
                    output_field=TEXT,
                ),
            ),
            default=guarded,
            output_field=TEXT,
        )
        return Case(When(_regex(text, SPECIAL), then=quoted), default=text, output_field=TEXT)

    def gated(self, condition: Q) -> Column:
        """Shown on the rows where `condition` holds, null elsewhere."""
        if not condition:
            return self  # the empty condition holds on every row

        def kept(expression: Any, output_field: models.Field) -> Any:
            return Case(
                When(condition, then=expression), default=Value(None), output_field=output_field
            )

        column = Column(
            kept(self.expression, self.output_field),
            self.output_field,
            self.formatter,
            self.free_text,
        )
        if self.value is not None and self.formatter is None:
            column.value = (kept(*self.value), self.value[1])
        return column


def _regex(text: Any, pattern: str) -> Any:
    """`text ~ pattern`, a condition (PostgreSQL's regular expression match)."""
    return ExpressionWrapper(
        Func(text, Value(pattern), template="(%(expressions)s)", arg_joiner=" ~ "),
        output_field=models.BooleanField(),
    )


UNSUPPORTED = (
    serializers.SerializerMethodField,
    serializers.BaseSerializer,
    serializers.ListField,
    serializers.DictField,
    serializers.JSONField,
    serializers.ManyRelatedField,
)


def _column_of(
    model: type[models.Model],
    name: str,
    field: serializers.Field,
    sql_fields: dict[str, Any],
    annotations: dict[str, Any],
) -> Column | None:
    """One field of the serializer as a column, or None when it has no SQL form."""
    if name in sql_fields:
        return _computed(field, sql_fields[name])
    if isinstance(field, UNSUPPORTED) or not isinstance(field.source, str) or field.source == "*":
        return None
    parts = field.source.split(".")
    if isinstance(field, serializers.SlugRelatedField):
        parts = [*parts, field.slug_field]
    found = _column(model, parts, annotations)
    if found is None:
        return None
    lookup, column = found
    free_text = isinstance(column, models.CharField | models.TextField)
    if isinstance(field, serializers.RelatedField):
        # A reference: by primary key or slug, never a whole object.
        if isinstance(field, serializers.PrimaryKeyRelatedField) and (
            field.pk_field is not None or not column.is_relation or not column.concrete
        ):
            return None
        text = _text_of(field, column, F(lookup))
        if text is None:
            return None
        # DRF answers with the primary key or the slug itself (a number stays one).
        target = column.target_field if column.is_relation else column  # type: ignore[attr-defined]
        return Column(text, TEXT, free_text=free_text, value=(F(lookup), target))
    if column.is_relation:
        return None
    text = _text_of(field, column, F(lookup))
    if text is not None:
        return Column(text, TEXT, free_text=free_text, value=_value_of(field, column, lookup, text))
    # Anything else (a time with its zone, a computed decimal): the raw value, finished by
    # the field itself, as the serializer would.
    return Column(F(lookup), column, formatter=field.to_representation, free_text=True)


def _computed(field: serializers.Field, form: Any) -> Column | None:
    """A field the model computes in Python, by its SQL form in the serializer's
    `Meta.sql_fields`: a condition (`Q`) for a boolean, or for a text field a function of
    no arguments giving its expression (called for each list, so a form that depends on
    today reads today)."""
    if isinstance(form, Q):
        if not isinstance(field, serializers.BooleanField):
            return None
        value = ExpressionWrapper(form, output_field=models.BooleanField())
        return Column(
            _text_of(field, models.BooleanField(), form),
            TEXT,
            value=(value, models.BooleanField()),
        )
    if callable(form) and type(field) in (serializers.CharField, serializers.ChoiceField):
        expression = form()
        return Column(expression, TEXT, free_text=True, value=(expression, TEXT))
    return None


def _value_of(
    field: serializers.Field, column: models.Field, lookup: str, text: Any
) -> tuple[Any, models.Field] | None:
    """The JSON value of a column whose API text is `text`: the number or boolean itself,
    or the text for what the API writes as a string (text, dates, months, decimals)."""
    if isinstance(field, serializers.BooleanField):
        return (F(lookup), column) if isinstance(column, models.BooleanField) else None
    if isinstance(field, serializers.IntegerField):
        return (F(lookup), column)
    if isinstance(field, serializers.ChoiceField) and not isinstance(
        column, models.CharField | models.TextField
    ):
        return None  # an integer choice is answered as the number
    return (text, TEXT)


Planned = Column | Callable[[], Column | None]
# (serializer class, model, the queryset's annotations) -> each readable field and its
# column before the reader's gates (or how to make it, for a form that reads today); None
# for a serializer with a field of no SQL form. Building a ModelSerializer's fields and
# their columns cost a page of 50 memberships as much as its two queries.
_PLANS: dict[tuple[Any, ...], list[tuple[str, Planned]] | None] = {}


def _plan(
    child: serializers.BaseSerializer, model: type[models.Model], annotations: dict[str, Any]
) -> list[tuple[str, Planned]] | None:
    """The fields' columns of a list serializer, the same for every list of its class over
    the same annotations (a list's serializer has no instance to change its fields)."""
    key = (
        type(child),
        model,
        tuple((name, type(a.output_field)) for name, a in annotations.items()),
    )
    if key in _PLANS:
        return _PLANS[key]
    sql_fields: dict[str, Any] = getattr(getattr(child, "Meta", None), "sql_fields", {})
    plan: list[tuple[str, Planned]] | None = []
    # The fields of a serializer of its own, so the plan holds no request.
    for name, field in type(child)().fields.items():  # type: ignore[attr-defined]
        if field.write_only:
            continue
        form = sql_fields.get(name)
        if form is not None and not isinstance(form, Q) and callable(form):
            planned: Planned | None = partial(_computed, field, form)
        else:
            planned = _column_of(model, name, field, sql_fields, annotations)
        if planned is None:
            plan = None
            break
        plan.append((name, planned))  # type: ignore[union-attr]
    _PLANS[key] = plan
    return plan


class Projection:
    """The cells of a list's CSV as SQL: a header and one column per field."""

    def __init__(self, header: list[str], columns: list[Column]) -> None:
        self.header = header
        self.columns = columns

    @classmethod
    def of(
        cls, serializer: serializers.BaseSerializer, user: Any, queryset: models.QuerySet
    ) -> Projection | None:
        """The projection of a list serializer for this reader, or None when one of its
        fields has no SQL form (the list then goes through the serializer)."""
        child = getattr(serializer, "child", serializer)
        meta = getattr(child, "Meta", None)
        model = getattr(meta, "model", None)
        if model is None or model is not queryset.model:
            return None
        plan = _plan(child, model, queryset.query.annotations)
        if plan is None:
            return None
        gated: dict[str, tuple[str, str]] = getattr(meta, "gated_fields", {})
        header: list[str] = []
        columns: list[Column] = []
        for name, planned in plan:
            column = planned() if callable(planned) else planned
            if column is None:
                return None
            if name in gated:
                perm, path = gated[name]
                condition = condition_for(perm, user, path)
                if condition is None:
                    return None
                column = column.gated(condition)
            header.append(name)
            columns.append(column)
        return cls(header, columns)

    def sql_lines(self, queryset: models.QuerySet) -> Iterator[bytes] | None:
        """The rows as whole CSV lines written by PostgreSQL and read through COPY, in
        chunks, when every cell can be (no cell finished by Python); None otherwise."""
        if len(self.columns) < 2 or any(c.formatter is not None for c in self.columns):
            return None
        parts: list[Any] = []
        for column in self.columns:
            parts += [column.cell(), Value(",")]
        line = Func(*parts[:-1], function="concat", output_field=TEXT)
        return copy_out(queryset.annotate(csv_line=line).values_list("csv_line", flat=True))

    @property
    def has_values(self) -> bool:
        """Whether every field has its JSON value in SQL (`values`)."""
        return all(column.value is not None for column in self.columns)

    def values(self, queryset: models.QuerySet) -> models.QuerySet:
        """The rows as tuples of their JSON values, in the list's order: a page is a slice of
        it, and `records` turns the page into the API's records."""
        aliases = {f"json_{index}": column.value[0] for index, column in enumerate(self.columns)}  # type: ignore[index]
        return queryset.annotate(**aliases).values_list(*aliases)

    def records(self, rows: Any) -> list[dict[str, Any]]:
        """The API's records of rows read through `values`, as the serializer writes them."""
        header = self.header
        formatted = [(i, c.formatter) for i, c in enumerate(self.columns) if c.formatter]
        if not formatted:
            return [dict(zip(header, row, strict=True)) for row in rows]
        records = []
        for row in rows:
            cells = list(row)
            for index, formatter in formatted:
                if cells[index] is not None:
                    cells[index] = formatter(cells[index])
            records.append(dict(zip(header, cells, strict=True)))
        return records

    def rows(self, queryset: models.QuerySet) -> Iterator[tuple[Any, ...]]:
        aliases = {f"csv_{index}": column.expression for index, column in enumerate(self.columns)}
        return queryset.annotate(**aliases).values_list(*aliases).iterator(chunk_size=CHUNK)

    def lines(self, queryset: models.QuerySet) -> Iterator[str | bytes]:
        """The file, a chunk of lines at a time; the first item (empty) once the first
        chunk has been read, as `stream_csv` does."""
        whole = self.sql_lines(queryset)
        if whole is not None:
            yield from _joined(whole, self.header)
            return
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        rows = self.rows(queryset)
        finish = _finisher(self.columns)
        first = True
        while True:
            chunk = list(islice(rows, CHUNK))
            if first:
                yield ""
                # As the serializer's stream writes it: a list without rows has no header.
                writer.writerow(self.header if chunk else [])
                first = False
            if not chunk:
                break
            writer.writerows(chunk if finish is None else map(finish, chunk))
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
        if buffer.tell():
            yield buffer.getvalue()


def _joined(chunks: Iterator[bytes], header: list[str]) -> Iterator[bytes]:
    """The lines PostgreSQL wrote, a chunk at a time, under the header."""
    first = next(chunks, None)
    yield b""
    if first is None:
        yield b"\r\n"  # as the serializer's stream writes a list without rows
        return
    buffer = io.StringIO()
    csv.writer(buffer).writerow(header)
    yield buffer.getvalue().encode() + first
    yield from chunks


def _finisher(columns: list[Column]) -> Callable[[tuple[Any, ...]], Any] | None:
    """What Python does to a row the database wrote: the fields' own formatting where SQL
    has none, and the formula guard on free text. None when there is nothing to do."""
    formatted = [(i, c.formatter) for i, c in enumerate(columns) if c.formatter is not None]
    guarded = [i for i, c in enumerate(columns) if c.free_text]
    if not formatted and not guarded:
        return None

    def finish(row: tuple[Any, ...]) -> Any:
        cells: list[Any] | None = None
        for index, formatter in formatted:
            if row[index] is not None:
                cells = cells or list(row)
                cells[index] = formatter(row[index])
        for index in guarded:
            value = (cells or row)[index]
            if isinstance(value, str) and value.startswith(FORMULA_STARTS):
                cells = cells or list(row)
                cells[index] = _safe(value)
        return row if cells is None else cells

    return finish
