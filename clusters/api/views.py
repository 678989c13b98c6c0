from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.parsers import JSONParser
from rest_framework.permissions import BasePermission
from rest_framework.response import Response

from clusters import services
from clusters.api import serializers
from clusters.filters import (
    AlternateFilter,
    ClusterFilter,
    DepartmentFilter,
    MembershipFilter,
    ProviderFilter,
    ServiceFilter,
    StandardFilter,
)
from clusters.models import (
    Alternate,
    Cluster,
    Department,
    Membership,
    Provider,
    Service,
    Standard,
)
from sharedsvc.api.views import CSVUnpaginatedMixin, ReferenceViewSet

# A code in a URL (`/api/v1/departments/LCS/`): what the models' CODE_VALIDATOR accepts,
# up to the field's 32 characters. Anything else is a 404 without touching the database.
CODE_PATTERN = "[A-Z0-9][A-Z0-9_-]{0,31}"


class DepartmentViewSet(ReferenceViewSet):
    """Departments, by code (`/departments/LCS/`). Everyone signed in reads; administrators
    write. A department still in use (members, providers, users) cannot be deleted: 409."""

    queryset = Department.objects.select_related("deputy_minister")
    serializer_class = serializers.DepartmentSerializer
    filterset_class = DepartmentFilter
    lookup_field = "code"
    lookup_value_regex = CODE_PATTERN
    create_service = services.department_create
    update_service = services.department_update
    delete_service = services.department_delete
    instance_kwarg = "department"


class ProviderViewSet(ReferenceViewSet):
    """Providers: the PSOA (exactly one), providing departments (with a host department)
    and outside firms. Everyone signed in reads; administrators write."""

    queryset = Provider.objects.select_related("host_department")
    serializer_class = serializers.ProviderSerializer
    filterset_class = ProviderFilter
    lookup_field = "code"
    lookup_value_regex = CODE_PATTERN
    create_service = services.provider_create
    update_service = services.provider_update
    delete_service = services.provider_delete
    instance_kwarg = "provider"


class ServiceViewSet(ReferenceViewSet):
    """The service catalogue. Everyone signed in reads; administrators write."""

    queryset = Service.objects.all()
    serializer_class = serializers.ServiceSerializer
    filterset_class = ServiceFilter
    lookup_field = "code"
    lookup_value_regex = CODE_PATTERN
    create_service = services.service_create
    update_service = services.service_update
    delete_service = services.service_delete
    instance_kwarg = "service"


class StandardViewSet(ReferenceViewSet):
    """Each service's operational and technical standards, by id. Everyone signed in reads;
    administrators write."""

    queryset = Standard.objects.select_related("service")
    serializer_class = serializers.StandardSerializer
    filterset_class = StandardFilter
    create_service = services.standard_create
    update_service = services.standard_update
    delete_service = services.standard_delete
    instance_kwarg = "standard"


class ClusterViewSet(ReferenceViewSet):
    """Clusters: departments buying one service from one provider. `notice_days` defaults
    to 90, or 30 for a pilot service. Everyone signed in reads; administrators write."""

    queryset = Cluster.objects.select_related("service", "provider")
    serializer_class = serializers.ClusterSerializer
    filterset_class = ClusterFilter
    lookup_field = "code"
    lookup_value_regex = CODE_PATTERN
    create_service = services.cluster_create
    update_service = services.cluster_update
    delete_service = services.cluster_delete
    instance_kwarg = "cluster"


class MembershipViewSet(ReferenceViewSet):
    """Memberships over [joined_on, leaves_on); `status` is derived from the dates. A
    department's memberships of one service never overlap (400). What you see depends on
    your role: your department's and its clusters', or your provider's clusters'."""

    queryset = Membership.objects.select_related("department", "cluster")
    serializer_class = serializers.MembershipSerializer
    filterset_class = MembershipFilter
    create_service = services.membership_create
    update_service = services.membership_update
    delete_service = services.membership_delete
    instance_kwarg = "membership"
    # A list reads what its rows show (the department's primary key is what the gate asks
    # about), not every column of the department and the cluster. Only a list: a write
    # saves the object it read, which a deferred one would do in part.
    list_fields = [
        "id",
        "department__id",
        "department__code",
        "cluster__id",
        "cluster__code",
        "joined_on",
        "leaves_on",
        "usage_units",
        "baseline_annual_cost",
    ]

    def get_queryset(self):
        queryset = super().get_queryset()
        return queryset.only(*self.list_fields) if self.action == "list" else queryset


class SignedIn(BasePermission):
    """Any active, signed-in user: the view asks the gate on the seat or naming it finds."""

    def has_permission(self, request, view) -> bool:
        user = request.user
        return bool(user and user.is_authenticated and user.is_active)


class AlternateViewSet(CSVUnpaginatedMixin, mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Alternates on the board: who stands in for a seat between two dates (inclusive).
    Administrators and analysts see every naming; a deputy minister their seat's; an
    alternate their own. The seat's deputy minister (or an administrator) names one
    (`POST`) and ends one early (`POST {id}/end/`: the seat is back with its deputy minister
    from today). Nothing is edited or deleted."""

    queryset = Alternate.objects.select_related("department", "user", "named_by", "ended_by")
    serializer_class = serializers.AlternateSerializer
    filterset_class = AlternateFilter
    parser_classes = [JSONParser]

    def get_queryset(self):
        return super().get_queryset().visible_to(self.request.user)

    def get_permissions(self):
        if self.action in ("create", "end"):
            return [SignedIn()]
        return super().get_permissions()

    @extend_schema(
        request=serializers.AlternateInputSerializer,
        responses={201: serializers.AlternateSerializer},
        description=(
            "Name an alternate: a person of the seat's department, no deputy minister, for "
            "dates from today on. 400 with the field's message (another department, "
            "overlapping dates, a person already standing in elsewhere); 403 unless you are "
            "the seat's deputy minister or an administrator."
        ),
    )
    def create(self, request, *args, **kwargs):
        data = serializers.AlternateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        if not request.user.has_perm("clusters.add_alternate", data.validated_data["department"]):
            raise PermissionDenied(services.NOT_THE_SEATS_DEPUTY_MINISTER)
        naming = services.alternate_name(actor=request.user, **data.validated_data)
        return Response(
            self.get_serializer(self.get_queryset().get(pk=naming.pk)).data,
            status=status.HTTP_201_CREATED,
        )

    @extend_schema(request=None, responses={200: serializers.AlternateSerializer})
    @action(detail=True, methods=["post"])
    def end(self, request, pk=None):
        """End the naming early: from today the seat is back with its deputy minister alone.
        409 once it has ended."""
        naming = self.get_object()
        if not request.user.has_perm("clusters.end_alternate", naming):
            raise PermissionDenied(services.NOT_THE_SEATS_DEPUTY_MINISTER)
        services.alternate_end(actor=request.user, alternate=naming)
        return Response(self.get_serializer(self.get_queryset().get(pk=naming.pk)).data)
