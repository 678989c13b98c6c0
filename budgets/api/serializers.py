from __future__ import annotations

from typing import Any

from django.db.models import Q
from rest_framework import serializers

from budgets.models import (
    BudgetLine,
    BudgetState,
    Charge,
    ChargebackRun,
    CostPool,
    InHouseEstimate,
    RunStatus,
)
from clusters.api.serializers import code_of
from clusters.models import Cluster, Department, Service
from sharedsvc.api.fields import PeriodField
from sharedsvc.api.gated import GatedFieldsMixin
from sharedsvc.models import User
from sharedsvc.periods import validate_fiscal_year

MONEY: dict[str, Any] = {"max_digits": 14, "decimal_places": 2}


class BudgetLineSerializer(serializers.ModelSerializer):
    department = code_of(Department)
    service = code_of(Service)
    fiscal_year = serializers.CharField(
        validators=[validate_fiscal_year], help_text="YYYY-YY, e.g. 2026-27."
    )
    allocated = serializers.DecimalField(min_value=0, **MONEY)
    charged = serializers.DecimalField(read_only=True, **MONEY)
    remaining = serializers.DecimalField(read_only=True, **MONEY)
    state = serializers.ChoiceField(choices=BudgetState.choices, read_only=True)

    class Meta:
        model = BudgetLine
        fields = [
            "id",
            "department",
            "fiscal_year",
            "service",
            "allocated",
            "charged",
            "remaining",
            "state",
        ]
        # The database constraint gives the message; DRF's own would pre-empt it.
        validators: list = []

    def get_fields(self):
        fields = super().get_fields()
        if self.instance is not None and not isinstance(self.instance, list | tuple):
            # A line is identified by department, year and service: only the allocation changes.
            for name in ("department", "fiscal_year", "service"):
                fields[name].read_only = True
        return fields


class CostPoolSerializer(serializers.ModelSerializer):
    cluster = code_of(Cluster)
    period = PeriodField()
    amount = serializers.DecimalField(min_value=0, **MONEY)
    entered_by: serializers.SlugRelatedField[User] = serializers.SlugRelatedField(
        slug_field="username", read_only=True
    )

    class Meta:
        model = CostPool
        fields = ["id", "cluster", "period", "amount", "entered_by", "entered_at"]
        read_only_fields = ["entered_at"]
        validators: list = []

    def get_fields(self):
        fields = super().get_fields()
        if self.instance is not None and not isinstance(self.instance, list | tuple):
            for name in ("cluster", "period"):
                fields[name].read_only = True
        return fields


# Whether a charge landed on a budget line says whether the department has one: its
# private figure, null for the provider and the fellow members who read the charge.
PRIVATE_TO_DEPARTMENT = ("clusters.view_department_private", "department")


class ChargeSerializer(GatedFieldsMixin, serializers.ModelSerializer):
    department: serializers.SlugRelatedField[Department] = serializers.SlugRelatedField(
        slug_field="code", read_only=True
    )
    cluster: serializers.SlugRelatedField[Cluster] = serializers.SlugRelatedField(
        slug_field="code", read_only=True
    )
    service = serializers.CharField(source="cluster.service.code", read_only=True)
    period = PeriodField(read_only=True)
    unfunded = serializers.BooleanField(
        read_only=True, help_text="No budget line for it; null unless you see the budget."
    )

    class Meta:
        model = Charge
        fields = [
            "id",
            "department",
            "cluster",
            "service",
            "period",
            "amount",
            "budget_line",
            "unfunded",
        ]
        read_only_fields = fields
        gated_fields = {"budget_line": PRIVATE_TO_DEPARTMENT, "unfunded": PRIVATE_TO_DEPARTMENT}
        # `Charge.unfunded` in SQL, for the CSV the database writes (sharedsvc/api/csv_sql.py).
        sql_fields = {"unfunded": Q(budget_line__isnull=True)}


class ChargebackRunSerializer(serializers.ModelSerializer):
    period = PeriodField(read_only=True)
    status = serializers.ChoiceField(choices=RunStatus.choices, read_only=True)
    requested_by: serializers.SlugRelatedField[User] = serializers.SlugRelatedField(
        slug_field="username", read_only=True
    )

    class Meta:
        model = ChargebackRun
        fields = [
            "id",
            "period",
            "status",
            "charges",
            "total",
            "unallocated",
            "requested_by",
            "requested_at",
            "started_at",
            "finished_at",
            "error",
            "recoveries",
            "recovered_at",
            "recovery_reason",
        ]
        read_only_fields = fields


class ChargebackRunInputSerializer(serializers.Serializer):
    period = PeriodField(help_text="The month to charge, YYYY-MM; it must have ended.")


class InHouseEstimateSerializer(serializers.ModelSerializer):
    """A department's dated estimate of what making a service would cost it a year (its
    private figure). Posted, it is recorded by `in_house_estimate_record`, which refuses a
    negative cost, a date after today and an empty note with a message on the field."""

    department = code_of(Department)
    service = code_of(Service)
    annual_cost = serializers.DecimalField(**MONEY)
    note = serializers.CharField(max_length=2_000, allow_blank=True, trim_whitespace=True)
    entered_by: serializers.SlugRelatedField[User] = serializers.SlugRelatedField(
        slug_field="username", read_only=True
    )

    class Meta:
        model = InHouseEstimate
        fields = [
            "id",
            "department",
            "service",
            "annual_cost",
            "estimated_on",
            "note",
            "entered_by",
            "entered_at",
        ]
        read_only_fields = ["entered_at"]
        # The service and the database constraint give the messages.
        validators: list = []
