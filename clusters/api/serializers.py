from __future__ import annotations

from typing import Any

from django.utils import timezone
from rest_framework import serializers

from clusters.models import (
    Alternate,
    Cluster,
    Department,
    Membership,
    MembershipStatus,
    Provider,
    Service,
    Standard,
)
from sharedsvc.api.gated import GatedFieldsMixin
from sharedsvc.models import User

UNKNOWN_CODE = "No {model} has the code “{{value}}”."
UNKNOWN_USERNAME = "No user has the username “{value}”."
NOT_A_CODE = "Give a code as text, for example LCS."


class TextSlugRelatedField(serializers.SlugRelatedField):
    """A reference by code or username: text only (a list or number is refused plainly)."""

    def run_validation(self, data=serializers.empty):
        # DRF reads "" as null for relations; here an empty reference is a mistake, not null.
        if data == "":
            self.fail("invalid")
        return super().run_validation(data)

    def get_queryset(self):
        # The one visibility gate: a body may only name what its sender may see.
        queryset = super().get_queryset()
        request = self.context.get("request")
        if request is not None and hasattr(queryset, "visible_to"):
            queryset = queryset.visible_to(request.user)
        return queryset

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


def code_of(model, **kwargs) -> serializers.SlugRelatedField:
    """An organisational object in a body, by its code (`"department": "LCS"`)."""
    return TextSlugRelatedField(
        slug_field="code",
        queryset=model.objects.all(),
        error_messages={
            "does_not_exist": UNKNOWN_CODE.format(model=model._meta.verbose_name),
            "invalid": NOT_A_CODE,
        },
        **kwargs,
    )


class DepartmentSerializer(serializers.ModelSerializer):
    deputy_minister = TextSlugRelatedField(
        slug_field="username",
        queryset=User.objects.all(),
        required=False,
        allow_null=True,
        error_messages={"does_not_exist": UNKNOWN_USERNAME, "invalid": "Give a username as text."},
    )

    class Meta:
        model = Department
        fields = ["code", "name", "is_main", "deputy_minister", "active"]


class ProviderSerializer(serializers.ModelSerializer):
    host_department = code_of(Department, required=False, allow_null=True)

    class Meta:
        model = Provider
        fields = ["code", "name", "kind", "host_department"]
        # DRF would turn the one-PSOA constraint into its own "provider with this kind
        # already exists."; the model's check (in the service) says what is wrong.
        extra_kwargs: dict[str, dict[str, Any]] = {"kind": {"validators": []}}


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
        extra_kwargs = {"capacity": {"min_value": 1}}


class MembershipSerializer(GatedFieldsMixin, serializers.ModelSerializer):
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
        # A department's baseline is its own private figure (DESIGN.md, "Who sees what"):
        # fellow members and providers see its usage, not what it used to spend.
        gated_fields = {"baseline_annual_cost": ("clusters.view_department_private", "department")}
        # `Membership.status` in SQL, for lists read from the database (sharedsvc/api/csv_sql.py).
        sql_fields = {"status": Membership.status_sql}


# Alternates on the board ---------------------------------------------------------------


class AlternateSerializer(serializers.ModelSerializer):
    """Who stands in for a seat, from `starts_on` to `ends_on` (both inclusive)."""

    department: serializers.SlugRelatedField = serializers.SlugRelatedField(
        slug_field="code", read_only=True, help_text="The seat: a main department's code."
    )
    user: serializers.SlugRelatedField = serializers.SlugRelatedField(
        slug_field="username", read_only=True, help_text="The alternate, of that department."
    )
    named_by: serializers.SlugRelatedField = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True
    )
    ended_by: serializers.SlugRelatedField = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True
    )
    status = serializers.SerializerMethodField(
        help_text="As of today: upcoming, current, past (ended), or withdrawn (ended before it "
        "started)."
    )

    class Meta:
        model = Alternate
        fields = [
            "id",
            "department",
            "user",
            "starts_on",
            "ends_on",
            "status",
            "named_by",
            "named_at",
            "ended_by",
            "ended_at",
        ]
        read_only_fields = fields

    def get_status(self, alternate: Alternate) -> str:
        return alternate.status_on(self.context.get("today") or timezone.localdate())


class AlternateInputSerializer(serializers.Serializer):
    """Name an alternate for a seat: its department's deputy minister, or an administrator."""

    department = code_of(Department, help_text="The seat: a main department's code.")
    user = TextSlugRelatedField(
        slug_field="username",
        queryset=User.objects.all(),
        error_messages={"does_not_exist": UNKNOWN_USERNAME, "invalid": "Give a username as text."},
        help_text="The alternate's username: a person of that department.",
    )
    starts_on = serializers.DateField(help_text="The first day they may vote (today or later).")
    ends_on = serializers.DateField(help_text="The last day they may vote (inclusive).")
