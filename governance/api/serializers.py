from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from governance.models import (
    REASON_MAX_LENGTH,
    Case,
    CaseKind,
    CaseStatus,
    Choice,
    RecusalReason,
    Vote,
)
from governance.selectors import Tally, case_tally
from governance.services import REASON_TOO_LONG, UNKNOWN_CHOICE
from sharedsvc.api.gated import GatedFieldsMixin

TALLY_SCHEMA = {
    "type": "object",
    "nullable": True,
    "description": (
        "Votes so far. Null while the case is open and you may not see its votes yet: "
        "a seat holder sees them once their seat has voted, analysts and administrators "
        "always, everyone else once the case is decided."
    ),
    "properties": {
        "approve": {"type": "integer"},
        "reject": {"type": "integer"},
        "abstain": {"type": "integer"},
    },
    "required": ["approve", "reject", "abstain"],
}


class RecusalSerializer(serializers.Serializer):
    department = serializers.CharField(help_text="A department code.")
    reasons = serializers.ListField(child=serializers.ChoiceField(choices=RecusalReason.choices))


class CaseSerializer(GatedFieldsMixin, serializers.ModelSerializer):
    """A board case. Needs `with_seats_and_counts()` (or `seats` with their departments and
    `votes` prefetched), and `with_votes_shown(user)`: the tally is gated by
    `governance.view_case_votes`."""

    kind = serializers.ChoiceField(
        choices=CaseKind.choices,
        read_only=True,
        help_text="What the board is asked: an exit request, a programme or a pilot's future.",
    )
    department = serializers.CharField(
        source="exit_request.department.code",
        read_only=True,
        allow_null=True,
        default=None,
        help_text="The department that asks to leave (exit cases; null for the others).",
    )
    status = serializers.ChoiceField(choices=CaseStatus.choices, read_only=True)
    eligible = serializers.SerializerMethodField(help_text="Codes of the seats that vote.")
    recused = serializers.SerializerMethodField(help_text="Codes of the recused seats.")
    recusals = serializers.SerializerMethodField(help_text="Each recused seat and why.")
    quorum = serializers.SerializerMethodField(
        help_text="Votes needed: more than half of the eligible seats."
    )
    tally = serializers.SerializerMethodField()

    class Meta:
        model = Case
        fields = [
            "id",
            "kind",
            "exit_request",
            "department",
            "status",
            "opened_at",
            "closes_at",
            "decided_at",
            "eligible",
            "recused",
            "recusals",
            "quorum",
            "tally",
            "decision_rule",
        ]
        read_only_fields = fields
        gated_fields = {"tally": ("governance.view_case_votes", "")}

    @staticmethod
    def _seats(case: Case) -> list[dict[str, Any]]:
        """Each seat by department code: as read `with_seats_and_counts()`, or from the
        prefetched seats."""
        if "seat_list" in case.__dict__:
            return case.seat_list or []  # type: ignore[attr-defined]
        return [
            {"code": s.department.code, "recused": s.recused, "reasons": s.recusal_reasons}
            for s in case.seats.all()
        ]

    def get_eligible(self, case: Case) -> list[str]:
        return [seat["code"] for seat in self._seats(case) if not seat["recused"]]

    def get_recused(self, case: Case) -> list[str]:
        return [seat["code"] for seat in self._seats(case) if seat["recused"]]

    @extend_schema_field(RecusalSerializer(many=True))
    def get_recusals(self, case: Case) -> list[dict]:
        return [
            {"department": seat["code"], "reasons": list(seat["reasons"])}
            for seat in self._seats(case)
            if seat["recused"]
        ]

    def _tally(self, case: Case) -> Tally:
        # Counted once a case for both `quorum` and `tally`.
        tally = case.__dict__.get("_api_tally")
        if tally is None:
            tally = case.__dict__["_api_tally"] = case_tally(case)
        return tally

    def get_quorum(self, case: Case) -> int:
        return self._tally(case).quorum

    @extend_schema_field(TALLY_SCHEMA)
    def get_tally(self, case: Case) -> dict[str, int] | None:
        return self._tally(case).as_dict()


class VoteSerializer(serializers.ModelSerializer):
    department: serializers.SlugRelatedField = serializers.SlugRelatedField(
        slug_field="code", read_only=True
    )
    voter: serializers.SlugRelatedField = serializers.SlugRelatedField(
        slug_field="username",
        read_only=True,
        help_text="Whose vote it is: the seat's deputy minister when it was cast.",
    )
    cast_by: serializers.SlugRelatedField = serializers.SlugRelatedField(
        slug_field="username",
        read_only=True,
        help_text="Who cast it: the deputy minister, or the seat's alternate.",
    )
    alternate: serializers.PrimaryKeyRelatedField = serializers.PrimaryKeyRelatedField(
        read_only=True,
        allow_null=True,
        help_text="The alternate's naming (`alternates/{id}/`) when an alternate cast it; null "
        "when the deputy minister did.",
    )
    choice = serializers.ChoiceField(choices=Choice.choices, read_only=True)

    class Meta:
        model = Vote
        fields = [
            "case",
            "department",
            "voter",
            "cast_by",
            "alternate",
            "choice",
            "reason",
            "cast_at",
        ]
        read_only_fields = fields


class VoteInputSerializer(serializers.Serializer):
    """Cast or change your seat's vote."""

    choice = serializers.ChoiceField(
        choices=Choice.choices, error_messages={"invalid_choice": UNKNOWN_CHOICE}
    )
    reason = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=REASON_MAX_LENGTH,
        error_messages={"max_length": REASON_TOO_LONG},
        help_text="Required for a reject.",
    )
