from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from notifications import services
from notifications.api import serializers
from notifications.filters import NotificationFilter
from notifications.models import Notification
from sharedsvc.api.views import CSVUnpaginatedMixin


class NotificationViewSet(CSVUnpaginatedMixin, viewsets.ReadOnlyModelViewSet):
    """Your own notifications, newest first (nobody reads another's: administrators
    neither; another's is a 404). Mark one read (`POST {id}/read/`) or all
    (`POST read-all/`)."""

    queryset = Notification.objects.select_related("recipient").order_by("-created_at", "-id")
    serializer_class = serializers.NotificationSerializer
    filterset_class = NotificationFilter
    # Every signed-in user has an inbox; the services check the rest.
    write_permission = "notifications.use_inbox"

    def get_queryset(self):
        return super().get_queryset().visible_to(self.request.user)

    @extend_schema(request=None, responses={200: serializers.NotificationSerializer})
    @action(detail=True, methods=["post"])
    def read(self, request, pk=None):
        """Mark this notification read (again: no change)."""
        notification = services.notification_mark_read(
            actor=request.user, notification=self.get_object()
        )
        return Response(self.get_serializer(notification).data)

    @extend_schema(request=None, responses={200: serializers.MarkedReadSerializer})
    @action(detail=False, methods=["post"], url_path="read-all")
    def read_all(self, request):
        """Mark every unread notification of yours read."""
        marked = services.notifications_mark_all_read(actor=request.user)
        return Response(serializers.MarkedReadSerializer({"marked": marked}).data)
