"""API base classes and the audit-event endpoint."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any, ClassVar

import django_filters
import pghistory.models
from django.apps import apps
from django.db import transaction
from django.db.models import BigIntegerField, OuterRef, QuerySet, Subquery
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast
from django.http import Http404, StreamingHttpResponse
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers, viewsets
from rest_framework.decorators import api_view, permission_classes
from rest_framework.parsers import JSONParser
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.schemas.inspectors import ViewInspector

from sharedsvc.api import audit_sql
from sharedsvc.api.csv_sql import Projection
from sharedsvc.api.filters import DateTimeFromToRangeFilter, FilterSet
from sharedsvc.api.gated import GatedFieldsMixin
from sharedsvc.api.pagination import Pagination
from sharedsvc.api.renderers import CHUNK, stream_csv
from sharedsvc.api.schema import AutoSchema
from sharedsvc.models import User


@extend_schema(exclude=True)
@api_view(["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"])
@permission_classes([AllowAny])
def not_found(request, *args, **kwargs):
    """Any URL under /api/v1/ that names no resource: a JSON 404 like every other."""
    raise Http404


class CSVUnpaginatedMixin:
    """`?format=csv` gives the whole filtered list in one file, not one page of it, streamed:
    the rows come from a server-side cursor and are serialised a chunk at a time, so an
    export of a million charges holds a thousand of them at once (`stream_csv`).

    Also gives the view the schema generator that documents CSV answers and the
    contract's errors (sharedsvc/api/schema.py).
    """

    schema: ViewInspector | None = AutoSchema()
    # Let the database write the cells where the serializer allows (`csv_sql`); a test
    # turns it off to compare the two files.
    csv_in_sql: ClassVar[bool] = True
    # The same for a JSON page's records (`_json_list`).
    json_in_sql: ClassVar[bool] = True

    def _csv(self) -> bool:
        return getattr(self.request.accepted_renderer, "format", None) == "csv"  # type: ignore[attr-defined]

    def paginate_queryset(self, queryset):
        if self._csv():
            validate = getattr(self.paginator, "validate_query", None)  # type: ignore[attr-defined]
            if validate is not None:
                validate(self.request)  # type: ignore[attr-defined]
            return None
        return super().paginate_queryset(queryset)  # type: ignore[misc]

    def list(self, request, *args, **kwargs):
        if not self._csv():
            return self._json_list()
        queryset = self.filter_queryset(self.get_queryset())  # type: ignore[attr-defined]
        self.paginate_queryset(queryset)
        lines = self._csv_lines(queryset)
        # Read the first chunk here: a query that fails is still answered as JSON.
        next(lines)
        return StreamingHttpResponse(lines, content_type="text/csv; charset=utf-8")

    def _json_list(self) -> Response:
        """DRF's list, with a page of a flat serializer's records read as values from the
        database (`Projection.values`), not as model instances through each field: the
        same records (a test compares the two for every list and reader) at a fraction
        of the cost."""
        queryset = self.filter_queryset(self.get_queryset())  # type: ignore[attr-defined]
        serializer = self.get_serializer(many=True)  # type: ignore[attr-defined]
        projection = (
            Projection.of(serializer, self.request.user, queryset)  # type: ignore[attr-defined]
            if self.json_in_sql and isinstance(queryset, QuerySet) and _plain_records(serializer)
            else None
        )
        if projection is not None and not projection.has_values:
            projection = None
        rows = (
            queryset if projection is None else _CountedPlain(projection.values(queryset), queryset)
        )
        page = self.paginate_queryset(rows)
        chosen = rows if page is None else page
        if projection is not None:
            data = projection.records(chosen)
        else:
            data = self.get_serializer(chosen, many=True).data  # type: ignore[attr-defined]
        if page is None:
            return Response(data)
        return self.get_paginated_response(data)  # type: ignore[attr-defined]

    def _csv_lines(self, queryset) -> Iterator[bytes]:
        # In a transaction, so the server-side cursor need not be WITH HOLD: outside one,
        # PostgreSQL materialises a holdable cursor's whole result before the first row
        # (3.8 s for a million charges). Closing the stream ends the transaction.
        with transaction.atomic(using=getattr(queryset, "db", None)):
            projection = (
                Projection.of(self.get_serializer(many=True), self.request.user, queryset)  # type: ignore[attr-defined]
                if self.csv_in_sql and isinstance(queryset, QuerySet)
                else None
            )
            if projection is not None:
                # Every cell written by the database, as the serializer would write it.
                lines = projection.lines(queryset)
            else:
                rows = (
                    queryset.iterator(chunk_size=CHUNK)
                    if isinstance(queryset, QuerySet)
                    else queryset
                )
                serialize = lambda chunk: self.get_serializer(chunk, many=True).data  # type: ignore[attr-defined]  # noqa: E731
                lines = stream_csv(iter(rows), serialize)
            for line in lines:
                yield line if isinstance(line, bytes) else line.encode("utf-8")


class _CountedPlain:
    """A list's values, paginated, counted as the list itself: the values' joins (to the
    codes a row shows) are not the count's, and PostgreSQL would make every one of them."""

    def __init__(self, values: QuerySet, plain: QuerySet) -> None:
        self.values = values
        self.plain = plain
        self.ordered = values.ordered

    def count(self) -> int:
        return self.plain.count()

    def __getitem__(self, key):
        return self.values[key]

    def __iter__(self):
        return iter(self.values)


def _plain_records(serializer) -> bool:
    """Whether a list serializer's records are its fields' values and nothing more: no
    `to_representation` of its own, on the list or on the row, beyond the gated fields'."""
    child = getattr(serializer, "child", None)
    return (
        type(serializer).to_representation is serializers.ListSerializer.to_representation
        and child is not None
        and type(child).to_representation
        in (serializers.Serializer.to_representation, GatedFieldsMixin.to_representation)
    )


class ReferenceViewSet(CSVUnpaginatedMixin, viewsets.ModelViewSet):
    """A ModelViewSet whose writes go through the app's service functions.

    Subclasses name the services; the queryset passes through the model's
    `visible_to(user)` gate on every request.
    """

    # The contract is JSON; one parser means one way for a body to be read.
    parser_classes = [JSONParser]
    create_service: ClassVar[Callable[..., Any]]
    update_service: ClassVar[Callable[..., Any]]
    delete_service: ClassVar[Callable[..., Any]]
    instance_kwarg: ClassVar[str]

    def get_queryset(self):
        return super().get_queryset().visible_to(self.request.user)  # type: ignore[attr-defined]

    def perform_create(self, serializer) -> None:
        serializer.instance = type(self).create_service(
            actor=self.request.user, **serializer.validated_data
        )

    def perform_update(self, serializer) -> None:
        serializer.instance = type(self).update_service(
            actor=self.request.user,
            **{self.instance_kwarg: serializer.instance},
            **serializer.validated_data,
        )

    def perform_destroy(self, instance) -> None:
        type(self).delete_service(actor=self.request.user, **{self.instance_kwarg: instance})


AUDIT_ACTIONS = [("insert", "insert"), ("update", "update"), ("delete", "delete")]
AUDIT_FORBIDDEN = "Only analysts and administrators read the audit trail."


def tracked_models() -> list[tuple[str, str]]:
    """The models with an audit trail, as `app_label.Model` (the `model` filter's choices)."""
    labels = {
        tracked._meta.label
        for model in apps.get_models()
        if issubclass(model, pghistory.models.Event)
        and (tracked := getattr(model, "pgh_tracked_model", None)) is not None
    }
    return [(label, label) for label in sorted(labels)]


class AuditEventSerializer(serializers.Serializer):
    """One change: who, when, what, and the record before and after it."""

    id = serializers.CharField(source="pgh_slug", help_text="e.g. clusters.DepartmentEvent:12")
    model = serializers.CharField(source="pgh_obj_model", help_text="e.g. clusters.Department")
    object_id = serializers.CharField(source="pgh_obj_id", allow_null=True)
    action = serializers.ChoiceField(source="pgh_label", choices=AUDIT_ACTIONS)
    at = serializers.DateTimeField(source="pgh_created_at")
    actor = serializers.CharField(
        allow_null=True, help_text="Username of who made the change; null for system changes."
    )
    url = serializers.SerializerMethodField(help_text="The request that made the change.")
    before = serializers.SerializerMethodField(
        help_text="The record before the change (null for an insert, or if unknown)."
    )
    after = serializers.SerializerMethodField(
        help_text="The record after the change (null for a delete)."
    )
    changes = serializers.SerializerMethodField(
        help_text="For an update: each changed field with its value before and after."
    )

    # In a CSV these are one cell each, as JSON: their keys differ from model to model and
    # from change to change, so as columns (`after.amount`, `changes.name.before`) they
    # would not fit a header read from the file's first rows, and values would be lost.
    JSON_IN_CSV = ("before", "after", "changes")

    def to_representation(self, instance) -> dict[str, Any]:
        data = super().to_representation(instance)
        request = self.context.get("request")
        if getattr(getattr(request, "accepted_renderer", None), "format", None) == "csv":
            for name in self.JSON_IN_CSV:
                if data.get(name) is not None:
                    data[name] = json.dumps(data[name], sort_keys=True, default=str)
        return data

    def get_url(self, event) -> str | None:
        return (event.pgh_context or {}).get("url")

    @extend_schema_field({"type": "object", "additionalProperties": True, "nullable": True})
    def get_before(self, event) -> dict[str, Any] | None:
        if event.pgh_label == "delete":
            # A delete event's snapshot is the row as it was when deleted.
            return event.pgh_data
        if event.pgh_label == "update" and event.pgh_diff is not None:
            # pgh_diff holds [old, new] for every field that changed since the last event.
            old = {field: pair[0] for field, pair in event.pgh_diff.items()}
            return {**(event.pgh_data or {}), **old}
        return None

    @extend_schema_field({"type": "object", "additionalProperties": True, "nullable": True})
    def get_after(self, event) -> dict[str, Any] | None:
        return None if event.pgh_label == "delete" else event.pgh_data

    @extend_schema_field(
        {
            "type": "object",
            "nullable": True,
            "additionalProperties": {
                "type": "object",
                "properties": {"before": {}, "after": {}},
                "required": ["before", "after"],
            },
        }
    )
    def get_changes(self, event) -> dict[str, dict[str, Any]] | None:
        if event.pgh_label != "update" or not event.pgh_diff:
            return None
        return {
            field: {"before": pair[0], "after": pair[1]}
            for field, pair in sorted(event.pgh_diff.items())
        }


class AuditEventFilter(FilterSet):
    model = django_filters.ChoiceFilter(
        field_name="pgh_obj_model", choices=tracked_models, help_text="e.g. clusters.Membership"
    )
    object_id = django_filters.CharFilter(field_name="pgh_obj_id")
    action = django_filters.ChoiceFilter(field_name="pgh_label", choices=AUDIT_ACTIONS)
    actor = django_filters.CharFilter(field_name="actor", help_text="A username.")
    at = DateTimeFromToRangeFilter(field_name="pgh_created_at")


class AuditEventPagination(Pagination):
    django_paginator_class = audit_sql.TrailPaginator


class AuditEventViewSet(CSVUnpaginatedMixin, viewsets.ReadOnlyModelViewSet):
    """Who changed what, when, before and after: append-only, for analysts and administrators."""

    serializer_class = AuditEventSerializer
    pagination_class = AuditEventPagination
    filterset_class = AuditEventFilter
    write_permission = "sharedsvc.view_audit"
    lookup_value_regex = "[^/]+"

    def get_queryset(self):
        user = self.request.user
        if not user.has_perm("sharedsvc.view_audit"):
            return pghistory.models.Events.objects.none()
        actor = User.objects.filter(
            pk=Cast(KeyTextTransform("user", OuterRef("pgh_context")), BigIntegerField())
        ).values("username")[:1]
        # Events of one transaction share a time, and event ids are per table: the model
        # breaks the tie, so the order (and so the pages) are the same every time.
        return pghistory.models.Events.objects.annotate(actor=Subquery(actor)).order_by(
            *audit_sql.ORDER
        )

    def check_permissions(self, request) -> None:
        super().check_permissions(request)
        if not request.user.has_perm("sharedsvc.view_audit"):
            self.permission_denied(request, message=AUDIT_FORBIDDEN)

    def _csv_lines(self, queryset) -> Iterator[bytes]:
        # The trail written by PostgreSQL as it streams (`audit_sql`), from the same
        # gated and filtered queryset; anything else goes through the serializer.
        if not (self.csv_in_sql and audit_sql.supported(queryset)):
            yield from super()._csv_lines(queryset)
            return
        serializer: Any = self.get_serializer()
        header = [name for name, field in serializer.fields.items() if not field.write_only]
        serialize = lambda chunk: self.get_serializer(chunk, many=True).data  # noqa: E731
        with transaction.atomic(using=queryset.db):
            yield from audit_sql.lines(queryset, serialize, header)
