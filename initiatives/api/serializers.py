from __future__ import annotations

from collections import Counter
from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.validators import UniqueValidator

from clusters.api.serializers import UNKNOWN_USERNAME, TextSlugRelatedField, code_of
from clusters.models import Department, Service
from initiatives.models import (
    CODE_MAX_LENGTH,
    TEXT_MAX_LENGTH,
    Answer,
    Commitment,
    Programme,
    ProgrammeStatus,
    Progress,
)
from initiatives.services import UNKNOWN_ANSWER
from sharedsvc.models import User

NAME_MAX_LENGTH: int = Programme._meta.get_field("name").max_length or 200
DUPLICATE_CODE = "There is already a programme with this code."
CODE_INVALID = "Use letters, digits, hyphens and underscores only (for example ITNOW)."
TEXT_TOO_LONG = f"Keep it to {TEXT_MAX_LENGTH} characters or fewer."
NOT_A_USERNAME = "Give a username as text."


class ProgressCountsSerializer(serializers.Serializer):
    """How many target departments are at each stage, as of today."""

    pending = serializers.IntegerField(help_text="Not answered yet.")
    committed = serializers.IntegerField(help_text="Committed, their date not passed yet.")
    joined = serializers.IntegerField(
        help_text="Members of a cluster of the service since their date or earlier."
    )
    late = serializers.IntegerField(help_text="Committed, their date passed, not joined.")
    declined = serializers.IntegerField(help_text="Declined, with a reason.")


def _progress(commitment: Commitment, today) -> str:
    joined: bool = commitment.joined_on_time  # type: ignore[attr-defined]  # with_joined()
    return commitment.progress_on(today, joined=joined)


class ProgrammeSerializer(serializers.ModelSerializer):
    """A programme, with its target departments, their progress today and its board cases."""

    # Needs `service`, `sponsor`, `proposed_by` joined, `commitments` prefetched through
    # `with_joined()` with their departments, `decisions` prefetched, and `today` in the
    # context (ProgrammeViewSet): no query per row.

    code = serializers.CharField(read_only=True, help_text="The programme's code.")
    name = serializers.CharField(read_only=True, help_text="The programme's name.")
    service: serializers.SlugRelatedField = serializers.SlugRelatedField(
        slug_field="code",
        read_only=True,
        help_text="The code of the service it pushes forward.",
    )
    sponsor: serializers.SlugRelatedField = serializers.SlugRelatedField(
        slug_field="username", read_only=True, help_text="The sponsoring deputy minister."
    )
    status = serializers.ChoiceField(
        choices=ProgrammeStatus.choices,
        read_only=True,
        help_text="proposed (before the board), active (approved), rejected or closed.",
    )
    proposed_by: serializers.SlugRelatedField = serializers.SlugRelatedField(
        slug_field="username", read_only=True, help_text="Who proposed it."
    )
    proposed_at = serializers.DateTimeField(read_only=True, help_text="When it was proposed.")
    departments = serializers.SerializerMethodField(help_text="Codes of the target departments.")
    progress = serializers.SerializerMethodField(
        help_text="How many target departments are at each stage, as of today."
    )
    cases = serializers.SerializerMethodField(
        help_text="Ids of its board cases (newest first), as far as you may read them."
    )

    class Meta:
        model = Programme
        fields = [
            "code",
            "name",
            "service",
            "sponsor",
            "goal",
            "target_on",
            "status",
            "proposed_by",
            "proposed_at",
            "departments",
            "progress",
            "cases",
        ]
        read_only_fields = fields

    def get_departments(self, programme: Programme) -> list[str]:
        return [c.department.code for c in programme.commitments.all()]

    @extend_schema_field(ProgressCountsSerializer)
    def get_progress(self, programme: Programme) -> dict[str, int]:
        today = self.context["today"]
        counts = Counter(_progress(c, today) for c in programme.commitments.all())
        return {p.value: counts.get(p.value, 0) for p in Progress}

    def get_cases(self, programme: Programme) -> list[int]:
        return [decision.case_id for decision in programme.decisions.all()]


class ProgrammeInputSerializer(serializers.Serializer):
    """Propose a programme: what `programme_propose` needs, references by code."""

    code = serializers.SlugField(
        max_length=CODE_MAX_LENGTH,
        validators=[UniqueValidator(Programme.objects.all(), message=DUPLICATE_CODE)],
        error_messages={"invalid": CODE_INVALID},
        help_text="A short code of letters, digits, hyphens and underscores (e.g. ITNOW).",
    )
    name = serializers.CharField(max_length=NAME_MAX_LENGTH, help_text="The programme's name.")
    service = code_of(Service, help_text="The code of the service it pushes forward.")
    sponsor = TextSlugRelatedField(
        slug_field="username",
        queryset=User.objects.all(),
        error_messages={"does_not_exist": UNKNOWN_USERNAME, "invalid": NOT_A_USERNAME},
        help_text="The username of the sponsoring deputy minister.",
    )
    goal = serializers.CharField(
        max_length=TEXT_MAX_LENGTH,
        error_messages={"max_length": TEXT_TOO_LONG},
        help_text="The goal, in words.",
    )
    target_on = serializers.DateField(
        help_text="After today: the date by which each target department should have joined."
    )
    departments = code_of(
        Department, many=True, help_text="Codes of the target departments (at least one)."
    )


class CommitmentSerializer(serializers.ModelSerializer):
    """A target department's answer to a programme, and its progress today."""

    # Needs `with_joined()`, `programme`, `department` and `answered_by` joined, and
    # `today` in the context (CommitmentViewSet): no query per row.

    programme: serializers.SlugRelatedField = serializers.SlugRelatedField(
        slug_field="code", read_only=True, help_text="The programme's code."
    )
    department: serializers.SlugRelatedField = serializers.SlugRelatedField(
        slug_field="code", read_only=True, help_text="The target department's code."
    )
    answer = serializers.ChoiceField(
        choices=Answer.choices,
        read_only=True,
        help_text="The department's answer: pending, committed or declined.",
    )
    answered_by: serializers.SlugRelatedField = serializers.SlugRelatedField(
        slug_field="username",
        read_only=True,
        allow_null=True,
        help_text="Who answered (null while pending).",
    )
    answered_at = serializers.DateTimeField(
        read_only=True, allow_null=True, help_text="When it answered (null while pending)."
    )
    progress = serializers.SerializerMethodField(
        help_text="Derived as of today: pending, committed, joined, late or declined."
    )

    class Meta:
        model = Commitment
        fields = [
            "programme",
            "department",
            "answer",
            "join_by",
            "reason",
            "answered_by",
            "answered_at",
            "progress",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.ChoiceField(choices=Progress.choices))
    def get_progress(self, commitment: Commitment) -> str:
        return _progress(commitment, self.context["today"])


ANSWERS = [(answer.value, answer.label) for answer in (Answer.COMMITTED, Answer.DECLINED)]


class CommitmentAnswerSerializer(serializers.Serializer):
    """A target department's answer (given again, it replaces the last one)."""

    answer = serializers.ChoiceField(
        choices=ANSWERS,
        error_messages={"invalid_choice": UNKNOWN_ANSWER},
        help_text="committed (with `join_by`) or declined (with a `reason`).",
    )
    join_by = serializers.DateField(
        required=False,
        allow_null=True,
        help_text=(
            "Committed: the date the department will have joined a cluster of the service; "
            "after the programme's target date only with a reason. Ignored for a decline."
        ),
    )
    reason = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=TEXT_MAX_LENGTH,
        error_messages={"max_length": TEXT_TOO_LONG},
        help_text="Why it declines, or why it will join after the target date.",
    )

    def to_service(self) -> dict[str, Any]:
        data = self.validated_data
        return {
            "answer": data["answer"],
            "join_by": data.get("join_by"),
            "reason": data.get("reason", ""),
        }
