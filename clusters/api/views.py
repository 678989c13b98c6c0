from __future__ import annotations

from clusters import services
from clusters.api import serializers
from clusters.filters import (
    ClusterFilter,
    DepartmentFilter,
    MembershipFilter,
    ProviderFilter,
    ServiceFilter,
    StandardFilter,
)
from clusters.models import Cluster, Department, Membership, Provider, Service, Standard
from sharedsvc.api.views import ReferenceViewSet

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
