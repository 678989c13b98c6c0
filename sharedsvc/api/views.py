"""API base classes and the audit-event endpoint."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

import django_filters
import pghistory.models
from django.db.models import BigIntegerField, OuterRef, Subquery
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast
from rest_framework import serializers, viewsets

from sharedsvc.models import User


class CSVUnpaginatedMixin:
    """`?format=csv` gives the whole filtered list in one file, not one page of it."""

    def paginate_queryset(self, queryset):
        if getattr(self.request.accepted_renderer, "format", None) == "csv":  # type: ignore[attr-defined]
            return None
        return super().paginate_queryset(queryset)  # type: ignore[misc]


class ReferenceViewSet(CSVUnpaginatedMixin, viewsets.ModelViewSet):
    """A ModelViewSet whose writes go through the app's service functions.

    Subclasses name the services; the queryset passes through the model's
    `visible_to(user)` gate on every request.
    """

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


class AuditEventSerializer(serializers.Serializer):
    id = serializers.CharField(source="pgh_slug")
    model = serializers.CharField(source="pgh_obj_model")
    object_id = serializers.CharField(source="pgh_obj_id", allow_null=True)
    action = serializers.CharField(source="pgh_label")
    at = serializers.DateTimeField(source="pgh_created_at")
    actor = serializers.CharField(allow_null=True)
    url = serializers.SerializerMethodField()
    after = serializers.JSONField(source="pgh_data")
    changes = serializers.JSONField(source="pgh_diff", allow_null=True)

    def get_url(self, event) -> str | None:
        return (event.pgh_context or {}).get("url")


class AuditEventFilter(django_filters.FilterSet):
    model = django_filters.CharFilter(
        field_name="pgh_obj_model", help_text="e.g. clusters.Membership"
    )
    object_id = django_filters.CharFilter(field_name="pgh_obj_id")
    action = django_filters.ChoiceFilter(
        field_name="pgh_label",
        choices=[("insert", "insert"), ("update", "update"), ("delete", "delete")],
    )
    at = django_filters.IsoDateTimeFromToRangeFilter(field_name="pgh_created_at")


class AuditEventViewSet(CSVUnpaginatedMixin, viewsets.ReadOnlyModelViewSet):
    """Who changed what, when, before and after: append-only, for analysts and administrators."""

    serializer_class = AuditEventSerializer
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
        return pghistory.models.Events.objects.annotate(actor=Subquery(actor)).order_by(
            "-pgh_created_at", "-pgh_id"
        )

    def check_permissions(self, request) -> None:
        super().check_permissions(request)
        if not request.user.has_perm("sharedsvc.view_audit"):
            self.permission_denied(
                request, message="Only analysts and administrators read the audit trail."
            )
