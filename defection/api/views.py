from __future__ import annotations

from django.db.models import F
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.parsers import JSONParser
from rest_framework.permissions import BasePermission
from rest_framework.response import Response

from defection import services
from defection.api import serializers
from defection.filters import ExitRequestFilter
from defection.models import ExitRequest
from sharedsvc.api.views import CSVUnpaginatedMixin

NOT_YOUR_DEPARTMENT = (
    "Only the department's own managers and its deputy minister (or an administrator) "
    "may give or withdraw its notice."
)


class SignedIn(BasePermission):
    """Any active, signed-in user: the view decides the rest on the object it finds."""

    def has_permission(self, request, view) -> bool:
        user = request.user
        return bool(user and user.is_authenticated and user.is_active)


class ExitRequestViewSet(
    CSVUnpaginatedMixin, mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet
):
    """Exit requests (notice to leave a cluster). You see your department's, those of the
    clusters your department is a member of today, those of your provider's clusters, those
    before the board while you hold a seat, and (in part: no justification, no impact) those
    of departments moving to your provider. The department's managers and its deputy minister give notice
    (`POST`) and withdraw it (`POST {id}/withdraw/`); nothing is edited or deleted."""

    queryset = ExitRequest.objects.select_related(
        "department", "membership", "from_cluster", "to_cluster", "to_provider", "requested_by"
    )
    serializer_class = serializers.ExitRequestSerializer
    filterset_class = ExitRequestFilter
    parser_classes = [JSONParser]

    def get_queryset(self):
        return (
            super()
            .get_queryset()
            .visible_to(self.request.user)
            .with_current_status()
            .with_seen_whole(self.request.user)
            .annotate(case_id=F("board_case__id"))
        )

    def get_permissions(self):
        if self.action == "withdraw":
            # Who may not even see the request gets a 404 (from get_object), not a 403.
            return [SignedIn()]
        return super().get_permissions()

    def permission_denied(self, request, message=None, code=None):
        if message is None and request.user.is_authenticated and self.action == "create":
            message = NOT_YOUR_DEPARTMENT
        super().permission_denied(request, message=message, code=code)

    def _reread(self, instance: ExitRequest) -> ExitRequest:
        """As the list shows it: current status and case id annotated."""
        return self.get_queryset().get(pk=instance.pk)

    @extend_schema(
        request=serializers.ExitRequestInputSerializer,
        responses={201: serializers.ExitRequestSerializer},
    )
    def create(self, request, *args, **kwargs):
        data = serializers.ExitRequestInputSerializer(
            data=request.data, context=self.get_serializer_context()
        )
        data.is_valid(raise_exception=True)
        if not request.user.has_perm(
            "defection.add_exitrequest", data.validated_data["department"]
        ):
            raise PermissionDenied(NOT_YOUR_DEPARTMENT)
        exit_request = services.exit_request_submit(actor=request.user, **data.validated_data)
        return Response(
            self.get_serializer(self._reread(exit_request)).data, status=status.HTTP_201_CREATED
        )

    @extend_schema(request=None, responses={200: serializers.ExitRequestSerializer})
    @action(detail=True, methods=["post"])
    def withdraw(self, request, pk=None):
        """Withdraw the notice before the leave date: a scheduled move is undone and an open
        board case withdrawn. 409 once it can no longer be withdrawn."""
        exit_request = self.get_object()
        if not request.user.has_perm("defection.withdraw_exitrequest", exit_request.department):
            raise PermissionDenied(NOT_YOUR_DEPARTMENT)
        services.exit_request_withdraw(actor=request.user, exit_request=exit_request)
        return Response(self.get_serializer(self._reread(exit_request)).data)
