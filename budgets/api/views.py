from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.exceptions import PermissionDenied
from rest_framework.parsers import JSONParser
from rest_framework.permissions import SAFE_METHODS
from rest_framework.response import Response

from budgets import services
from budgets.api import serializers
from budgets.filters import (
    BudgetLineFilter,
    ChargebackRunFilter,
    ChargeFilter,
    CostPoolFilter,
    InHouseEstimateFilter,
)
from budgets.models import BudgetLine, Charge, ChargebackRun, CostPool, InHouseEstimate
from sharedsvc.api.views import CSVUnpaginatedMixin, ReferenceViewSet

NOT_YOUR_DEPARTMENT = "You may only manage the budget lines of your own department."
NOT_YOUR_CLUSTER = "You may only enter cost pools for your own provider's clusters."
NO_BUDGETS_FOR_ROLE = "Budget lines belong to departments; your role cannot see them."
RUNS_FOR_ADMINISTRATORS = "Only administrators start and follow chargeback runs."
NO_ESTIMATES_FOR_ROLE = "In-house estimates belong to departments; your role cannot see them."


class ObjectRoleMixin:
    """Writes checked against the object they touch: the line's department, the pool's cluster."""

    read_permission: str | None = None
    read_denied: str = ""
    denied_message: str = ""

    def permission_target(self, data_or_instance):
        raise NotImplementedError

    def check_permissions(self, request) -> None:
        super().check_permissions(request)  # type: ignore[misc]
        perm = self.read_permission
        if request.method in SAFE_METHODS and perm and not request.user.has_perm(perm):
            raise PermissionDenied(self.read_denied)

    def _require(self, action: str, target) -> None:
        model = self.queryset.model  # type: ignore[attr-defined]
        perm = f"{model._meta.app_label}.{action}_{model._meta.model_name}"
        if not self.request.user.has_perm(perm, target):  # type: ignore[attr-defined]
            raise PermissionDenied(self.denied_message)

    def perform_create(self, serializer) -> None:
        self._require("add", self.permission_target(serializer.validated_data))
        super().perform_create(serializer)  # type: ignore[misc]

    def perform_update(self, serializer) -> None:
        self._require("change", self.permission_target(serializer.instance))
        super().perform_update(serializer)  # type: ignore[misc]

    def perform_destroy(self, instance) -> None:
        self._require("delete", self.permission_target(instance))
        super().perform_destroy(instance)  # type: ignore[misc]


class BudgetLineViewSet(ObjectRoleMixin, ReferenceViewSet):
    """Customer-held budget lines: the department's own people and administrators write;
    another department's line does not exist for you (404); providers see none (403)."""

    queryset = BudgetLine.objects.select_related("department", "service")
    serializer_class = serializers.BudgetLineSerializer
    filterset_class = BudgetLineFilter
    read_permission = "budgets.view_budgetline"
    read_denied = NO_BUDGETS_FOR_ROLE
    denied_message = NOT_YOUR_DEPARTMENT
    create_service = services.budget_line_create
    update_service = services.budget_line_update
    delete_service = services.budget_line_delete
    instance_kwarg = "budget_line"

    def get_queryset(self):
        return super().get_queryset().with_charged()

    def permission_target(self, data_or_instance):
        if isinstance(data_or_instance, dict):
            return data_or_instance.get("department")
        return data_or_instance.department

    def perform_create(self, serializer) -> None:
        super().perform_create(serializer)
        # Re-read with `charged` annotated, as the list shows it.
        serializer.instance = self.get_queryset().get(pk=serializer.instance.pk)

    def perform_update(self, serializer) -> None:
        super().perform_update(serializer)
        serializer.instance = self.get_queryset().get(pk=serializer.instance.pk)


class CostPoolViewSet(ObjectRoleMixin, ReferenceViewSet):
    """What each cluster cost in a month, entered by its provider's managers."""

    queryset = CostPool.objects.select_related("cluster", "entered_by")
    serializer_class = serializers.CostPoolSerializer
    filterset_class = CostPoolFilter
    denied_message = NOT_YOUR_CLUSTER
    create_service = services.cost_pool_create
    update_service = services.cost_pool_update
    delete_service = services.cost_pool_delete
    instance_kwarg = "cost_pool"

    def permission_target(self, data_or_instance):
        if isinstance(data_or_instance, dict):
            return data_or_instance.get("cluster")
        return data_or_instance.cluster


class ChargeViewSet(CSVUnpaginatedMixin, viewsets.ReadOnlyModelViewSet):
    """Charges made by the chargeback (read only)."""

    # Only what the rows show (the department's primary key is what the gate asks about):
    # the department's, the cluster's and the service's other columns are not read.
    queryset = Charge.objects.select_related("department", "cluster__service").only(
        "id",
        "period",
        "amount",
        "budget_line",
        "department__id",
        "department__code",
        "cluster__id",
        "cluster__code",
        "cluster__service__id",
        "cluster__service__code",
    )
    serializer_class = serializers.ChargeSerializer
    filterset_class = ChargeFilter

    def get_queryset(self):
        return super().get_queryset().visible_to(self.request.user)


class ChargebackRunViewSet(
    CSVUnpaginatedMixin, mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet
):
    """Chargeback runs: `POST {"period": "2026-04"}` queues one; follow its status here."""

    queryset = ChargebackRun.objects.select_related("requested_by")
    serializer_class = serializers.ChargebackRunSerializer
    filterset_class = ChargebackRunFilter
    write_permission = "budgets.add_chargebackrun"

    def get_queryset(self):
        return super().get_queryset().visible_to(self.request.user)

    def check_permissions(self, request) -> None:
        super().check_permissions(request)
        if not request.user.has_perm("budgets.view_chargebackrun"):
            raise PermissionDenied(RUNS_FOR_ADMINISTRATORS)

    @extend_schema(
        request=serializers.ChargebackRunInputSerializer,
        responses={201: serializers.ChargebackRunSerializer},
    )
    def create(self, request, *args, **kwargs):
        data = serializers.ChargebackRunInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        run = services.chargeback_request(actor=request.user, period=data.validated_data["period"])
        return Response(self.get_serializer(run).data, status=status.HTTP_201_CREATED)


class InHouseEstimateViewSet(
    CSVUnpaginatedMixin, mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet
):
    """Departments' dated estimates of what making a service in-house would cost them a
    year: the newest on or before a day is `make_cost` in `reports/make-or-buy/`. A
    department's own figures: its people, analysts and administrators read them (another
    department's do not exist for you: 404; a provider's managers: 403); its managers and
    deputy minister, and administrators, record them (`POST`); none is changed or deleted,
    a newer estimate takes over."""

    queryset = InHouseEstimate.objects.select_related("department", "service", "entered_by")
    serializer_class = serializers.InHouseEstimateSerializer
    filterset_class = InHouseEstimateFilter
    parser_classes = [JSONParser]

    def get_queryset(self):
        return super().get_queryset().visible_to(self.request.user)

    def check_permissions(self, request) -> None:
        super().check_permissions(request)
        if not request.user.has_perm("budgets.view_inhouseestimate"):
            raise PermissionDenied(NO_ESTIMATES_FOR_ROLE)

    @extend_schema(responses={201: serializers.InHouseEstimateSerializer})
    def create(self, request, *args, **kwargs):
        data = self.get_serializer(data=request.data)
        data.is_valid(raise_exception=True)
        department = data.validated_data["department"]
        if not request.user.has_perm("budgets.add_inhouseestimate", department):
            raise PermissionDenied(services.NOT_YOUR_ESTIMATE)
        estimate = services.in_house_estimate_record(actor=request.user, **data.validated_data)
        return Response(
            self.get_serializer(self.get_queryset().get(pk=estimate.pk)).data,
            status=status.HTTP_201_CREATED,
        )
