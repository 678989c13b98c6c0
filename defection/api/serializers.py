from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from clusters.api.serializers import code_of
from clusters.models import Cluster, Department, Provider
from defection.models import PLAN_MAX_LENGTH, Destination, ExitRequest, ExitStatus, Reason
from defection.services import PLAN_TOO_LONG
from sharedsvc.api.gated import GatedFieldsMixin

JUSTIFICATION_MAX_LENGTH: int = ExitRequest._meta.get_field("justification").max_length or 10_000
UNKNOWN_DESTINATION = "Choose cluster, provider or in_house."
UNKNOWN_REASON = "Choose cost, service_quality, strategic or other."
JUSTIFICATION_TOO_LONG = (
    f"Keep the justification to {JUSTIFICATION_MAX_LENGTH} characters or fewer."
)

MONEY_OR_NULL = {"type": "string", "format": "decimal", "nullable": True}

IMPACT_SCHEMA = {
    "type": "object",
    "nullable": True,
    "description": (
        "What the departure costs those who stay, from the cluster's latest cost pool at "
        "submission. Values are null where there is no cost pool yet or nobody remains."
    ),
    "properties": {
        "period": {"type": "string", "nullable": True, "example": "2026-04"},
        "pool": MONEY_OR_NULL,
        "pool_after": MONEY_OR_NULL,
        "fixed_cost_ratio": {"type": "string", "format": "decimal"},
        "units_before": {"type": "integer", "nullable": True},
        "units_after": {"type": "integer", "nullable": True},
        "unit_cost_before": MONEY_OR_NULL,
        "unit_cost_after": MONEY_OR_NULL,
        "members": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "department": {"type": "string"},
                    "usage_units": {"type": "integer"},
                    "before": MONEY_OR_NULL,
                    "after": MONEY_OR_NULL,
                },
                "required": ["department", "before", "after"],
            },
        },
    },
    "required": ["period", "unit_cost_before", "unit_cost_after", "members"],
}


# The contract's keys first, then the working the service keeps with them.
IMPACT_ORDER = [
    "period",
    "unit_cost_before",
    "unit_cost_after",
    "members",
    "pool",
    "pool_after",
    "fixed_cost_ratio",
    "units_before",
    "units_after",
]
MEMBER_ORDER = ["department", "before", "after", "usage_units"]


def _ordered(value: dict, order: list[str]) -> dict:
    # jsonb keeps keys in its own order (shortest first); give them back in a readable one.
    result = {key: value[key] for key in order if key in value}
    result.update({key: item for key, item in value.items() if key not in result})
    return result


@extend_schema_field(IMPACT_SCHEMA)
class ImpactField(serializers.JSONField):
    """The stored exit impact, as the service computed it."""

    def to_representation(self, value):
        if not isinstance(value, dict):
            return value
        impact = _ordered(value, IMPACT_ORDER)
        if isinstance(impact.get("members"), list):
            impact["members"] = [
                _ordered(m, MEMBER_ORDER) if isinstance(m, dict) else m for m in impact["members"]
            ]
        return impact


# Seen whole by the department, the cluster's current members, its provider, the board
# and readers; the destination provider reads these as null.
WHOLE = ("defection.view_exitrequest_whole", "")


class ExitRequestSerializer(GatedFieldsMixin, serializers.ModelSerializer):
    """An exit request. `justification` and `impact` are null for a reader who sees the
    request only in part (the destination provider). Needs `with_seen_whole(user)`."""

    department: serializers.SlugRelatedField = serializers.SlugRelatedField(
        slug_field="code", read_only=True
    )
    from_cluster: serializers.SlugRelatedField = serializers.SlugRelatedField(
        slug_field="code", read_only=True
    )
    to_cluster: serializers.SlugRelatedField = serializers.SlugRelatedField(
        slug_field="code", read_only=True, allow_null=True
    )
    to_provider: serializers.SlugRelatedField = serializers.SlugRelatedField(
        slug_field="code", read_only=True, allow_null=True
    )
    status = serializers.ChoiceField(
        source="current_status",
        choices=ExitStatus.choices,
        read_only=True,
        help_text="As of today: a scheduled request whose leave date has come is completed.",
    )
    case = serializers.IntegerField(
        source="case_id",
        read_only=True,
        allow_null=True,
        help_text="The board case's id, or null when the request did not go to the board.",
    )
    impact = ImpactField(read_only=True)
    usage_units = serializers.IntegerField(
        source="membership.usage_units",
        read_only=True,
        help_text="The leaving department's usage in the cluster it leaves.",
    )
    requested_by: serializers.SlugRelatedField = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True
    )

    class Meta:
        model = ExitRequest
        fields = [
            "id",
            "department",
            "from_cluster",
            "destination",
            "to_cluster",
            "to_provider",
            "reason",
            "justification",
            "requested_leave_on",
            "leave_on",
            "usage_units",
            "status",
            "needs_board",
            "case",
            "impact",
            "requested_on",
            "requested_by",
            "citizen_impact",
            "transition_on",
            "records_and_cases",
            "contact",
        ]
        read_only_fields = fields
        gated_fields = {"justification": WHOLE, "impact": WHOLE}


class ExitRequestInputSerializer(serializers.Serializer):
    """Give notice: what `exit_request_submit` needs, organisational objects by code."""

    department = code_of(Department, help_text="The department that leaves.")
    from_cluster = code_of(Cluster, help_text="The cluster it leaves (it must be a member today).")
    destination = serializers.ChoiceField(
        choices=Destination.choices, error_messages={"invalid_choice": UNKNOWN_DESTINATION}
    )
    to_cluster = code_of(
        Cluster,
        required=False,
        allow_null=True,
        help_text="For destination `cluster`: a cluster of the same service.",
    )
    to_provider = code_of(
        Provider,
        required=False,
        allow_null=True,
        help_text="For destination `provider`: a provider other than the PSOA.",
    )
    reason = serializers.ChoiceField(
        choices=Reason.choices, error_messages={"invalid_choice": UNKNOWN_REASON}
    )
    justification = serializers.CharField(
        max_length=JUSTIFICATION_MAX_LENGTH,
        error_messages={"max_length": JUSTIFICATION_TOO_LONG},
    )
    requested_leave_on = serializers.DateField(
        required=False,
        allow_null=True,
        help_text="No earlier than today plus the cluster's notice period; none means that date.",
    )
    # The citizen-continuity plan: required, all four parts, when the service serves
    # citizens (purpose `customer` or audience `external`); ignored otherwise.
    citizen_impact = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=PLAN_MAX_LENGTH,
        error_messages={"max_length": PLAN_TOO_LONG},
        help_text="For a service for citizens: what citizens will notice.",
    )
    transition_on = serializers.DateField(
        required=False,
        allow_null=True,
        help_text="For a service for citizens: the day citizens move, from today to the leave date.",
    )
    records_and_cases = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=PLAN_MAX_LENGTH,
        error_messages={"max_length": PLAN_TOO_LONG},
        help_text="For a service for citizens: how their records and open cases move.",
    )
    contact = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=PLAN_MAX_LENGTH,
        error_messages={"max_length": PLAN_TOO_LONG},
        help_text="For a service for citizens: who answers their questions during the move.",
    )
