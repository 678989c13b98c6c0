from __future__ import annotations

from rest_framework import serializers

from clusters.models import (
    Cluster,
    Department,
    Membership,
    MembershipStatus,
    Provider,
    Service,
    Standard,
)
from sharedsvc.models import User


def code_of(model, **kwargs) -> serializers.SlugRelatedField:
    return serializers.SlugRelatedField(slug_field="code", queryset=model.objects.all(), **kwargs)


class DepartmentSerializer(serializers.ModelSerializer):
    deputy_minister = serializers.SlugRelatedField(
        slug_field="username", queryset=User.objects.all(), required=False, allow_null=True
    )

    class Meta:
        model = Department
        fields = ["code", "name", "is_main", "deputy_minister", "active"]


class ProviderSerializer(serializers.ModelSerializer):
    host_department = code_of(Department, required=False, allow_null=True)

    class Meta:
        model = Provider
        fields = ["code", "name", "kind", "host_department"]


class ServiceSerializer(serializers.ModelSerializer):
    class Meta:
        model = Service
        fields = ["code", "name", "category", "purpose", "audience", "lifecycle", "charging_unit"]


class StandardSerializer(serializers.ModelSerializer):
    service = code_of(Service)

    class Meta:
        model = Standard
        fields = ["id", "service", "name", "kind", "unit", "target", "direction"]


class ClusterSerializer(serializers.ModelSerializer):
    service = code_of(Service)
    provider = code_of(Provider)
    notice_days = serializers.IntegerField(
        min_value=0,
        max_value=3650,
        required=False,
        help_text="Defaults to 90, or 30 for a pilot service.",
    )

    class Meta:
        model = Cluster
        fields = [
            "code",
            "name",
            "service",
            "provider",
            "notice_days",
            "capacity",
            "fixed_cost_ratio",
        ]


class MembershipSerializer(serializers.ModelSerializer):
    department = code_of(Department)
    cluster = code_of(Cluster)
    status = serializers.ChoiceField(choices=MembershipStatus.choices, read_only=True)

    class Meta:
        model = Membership
        fields = [
            "id",
            "department",
            "cluster",
            "joined_on",
            "leaves_on",
            "usage_units",
            "baseline_annual_cost",
            "status",
        ]
        extra_kwargs = {"baseline_annual_cost": {"min_value": 0}, "usage_units": {"min_value": 1}}
