from __future__ import annotations

import dataclasses
from collections import Counter
from decimal import Decimal
from typing import Any, cast

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.validators import UniqueValidator

from clusters.api.serializers import UNKNOWN_USERNAME, TextSlugRelatedField, code_of
from clusters.models import Cluster, Department, Service
from initiatives.models import (
    CODE_MAX_LENGTH,
    TEXT_MAX_LENGTH,
    Answer,
    Commitment,
    PilotDecisionKind,
    PilotEvaluation,
    PilotPlan,
    PilotStatus,
    Programme,
    ProgrammeStatus,
    Progress,
)
from initiatives.pilot_evidence import (
    BENEFIT,
    COMPLIANCE,
    COST,
    MEMBERS,
    EvidenceView,
    evidence_seen_by,
)
from initiatives.pilots import UNKNOWN_DECISION
from initiatives.services import UNKNOWN_ANSWER
from servicelevels.api.serializers import MONEY, WITHHELD_HELP
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


class ProgrammeBenefitRowSerializer(serializers.Serializer):
    """One department that joined: its baseline and benefit are its private figures, so a
    row is only for the department, analysts and administrators
    (`servicelevels.rules.sees_member_row`)."""

    department = serializers.CharField(help_text="The department's code.")
    name = serializers.CharField(help_text="The department's name.")
    baseline = serializers.DecimalField(
        help_text="Its baselines for the programme's service pro rata to its days of "
        "membership up to today.",
        **MONEY,
    )
    charged = serializers.DecimalField(
        help_text="What it has been charged for the service, up to today.", **MONEY
    )
    benefit = serializers.DecimalField(help_text="baseline - charged.", **MONEY)


class ProgrammeBenefitTotalSerializer(serializers.Serializer):
    """The total over every department that joined (not only the rows you see)."""

    baseline = serializers.DecimalField(**MONEY)
    charged = serializers.DecimalField(**MONEY)
    benefit = serializers.DecimalField(**MONEY)


class ProgrammeBenefitSerializer(serializers.Serializer):
    """The benefit to date of a programme's departments that joined, as its page shows it:
    the rows you may see and the total, withheld (null, with `withheld` saying why) where
    it would reveal another department's figures."""

    # Built from `initiatives.selectors.programme_benefit` (ProgrammeViewSet.benefit).

    programme = serializers.CharField(help_text="The programme's code.")
    service = serializers.CharField(help_text="The code of the programme's service.")
    as_of = serializers.DateField(help_text="Today: the figures run up to this day.")
    contributors = serializers.IntegerField(
        help_text="The departments that joined and have days of membership: the total's."
    )
    rows = ProgrammeBenefitRowSerializer(
        many=True,
        help_text="One per department that joined, as far as you may see its figures "
        "(your own department's; every one for analysts and administrators).",
    )
    total = ProgrammeBenefitTotalSerializer(
        allow_null=True,
        help_text="Over every department that joined; null when none has, or when withheld.",
    )
    withheld = serializers.CharField(allow_null=True, help_text=WITHHELD_HELP)


def programme_benefit_data(programme: Programme, benefit: dict[str, Any], today) -> dict[str, Any]:
    """The answer of `ProgrammeBenefitSerializer` from `selectors.programme_benefit`."""
    total = benefit["total"]
    withheld = total["withheld"] if total else None
    return {
        "programme": programme.code,
        "service": programme.service.code,
        "as_of": today,
        "contributors": total["contributors"] if total else 0,
        "rows": benefit["rows"],
        "total": None if total is None or withheld else total,
        "withheld": withheld,
    }


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


# Pilots -----------------------------------------------------------------------------------

COMPLIANCE_DIGITS = "Enter a compliance rate from 0 to 100 per cent, with at most 1 decimal place."
MAX_MEMBERS = 2147483647  # the database's positive integer


class PilotPlanSerializer(serializers.ModelSerializer):
    """A pilot service's plan: its clusters, its dates, its criteria and its board cases."""

    # Needs `service` joined, `plan_clusters` prefetched with their clusters and
    # `evaluations` prefetched as far as the reader may read the evidence
    # (PilotPlanViewSet): no query per row.

    service: serializers.SlugRelatedField = serializers.SlugRelatedField(
        slug_field="code", read_only=True, help_text="The code of the service in pilot."
    )
    clusters = serializers.SerializerMethodField(
        help_text="Codes of the clusters that run the pilot."
    )
    min_compliance_rate = serializers.DecimalField(
        max_digits=4,
        decimal_places=1,
        read_only=True,
        help_text="Criterion: the least share of returns meeting their standard (per cent).",
    )
    max_cost_per_unit = serializers.DecimalField(
        max_digits=14,
        decimal_places=2,
        read_only=True,
        help_text="Criterion: the most a unit may cost over the pilot.",
    )
    min_members = serializers.IntegerField(
        read_only=True,
        help_text="Criterion: the fewest member departments on the day of the evaluation.",
    )
    min_benefit = serializers.DecimalField(
        max_digits=14,
        decimal_places=2,
        read_only=True,
        help_text="Criterion: the least benefit against the members' baselines over the pilot.",
    )
    status = serializers.ChoiceField(
        choices=PilotStatus.choices,
        read_only=True,
        help_text="running, under_review (with the board), live (gone live) or stopped.",
    )
    cases = serializers.SerializerMethodField(
        help_text=(
            "Ids of its board cases, one per evaluation (newest first; each evaluation's "
            "`case` in `evaluations/`), as far as you may read the pilot's evidence: empty "
            "otherwise."
        )
    )

    class Meta:
        model = PilotPlan
        fields = [
            "service",
            "clusters",
            "starts_on",
            "ends_on",
            "min_compliance_rate",
            "max_cost_per_unit",
            "min_members",
            "min_benefit",
            "status",
            "cases",
        ]
        read_only_fields = fields

    def get_clusters(self, plan: PilotPlan) -> list[str]:
        return [pc.cluster.code for pc in plan.plan_clusters.all()]

    def get_cases(self, plan: PilotPlan) -> list[int]:
        return [evaluation.case_id for evaluation in plan.evaluations.all()]


class PilotPlanInputSerializer(serializers.Serializer):
    """Plan a pilot: what `pilot_plan_create` needs, references by code. The ranges of the
    criteria are the service's to check, so that every door gives the same message."""

    service = code_of(Service, help_text="The code of the service in pilot.")
    clusters = code_of(
        Cluster, many=True, help_text="Codes of the service's clusters that run the pilot."
    )
    starts_on = serializers.DateField(help_text="The pilot's first day.")
    ends_on = serializers.DateField(
        help_text="The pilot's last day, after its first: it is evaluated from then."
    )
    min_compliance_rate = serializers.DecimalField(
        max_digits=4,
        decimal_places=1,
        error_messages={"max_digits": COMPLIANCE_DIGITS, "max_whole_digits": COMPLIANCE_DIGITS},
        help_text="The least share of returns meeting their standard, per cent (0 to 100).",
    )
    max_cost_per_unit = serializers.DecimalField(
        max_digits=14,
        decimal_places=2,
        help_text="The most a unit may cost over the pilot (more than 0).",
    )
    min_members = serializers.IntegerField(
        max_value=MAX_MEMBERS,
        help_text="The fewest member departments on the day of the evaluation (at least 1).",
    )
    min_benefit = serializers.DecimalField(
        max_digits=14,
        decimal_places=2,
        required=False,
        default=Decimal("0.00"),
        help_text="The least benefit against the members' baselines over the pilot (0 or "
        "more; 0 if left out).",
    )


class PilotCriterionSerializer(serializers.Serializer):
    """One success criterion of the pilot, against what was measured."""

    criterion = serializers.ChoiceField(
        choices=[(c, c) for c in (COMPLIANCE, COST, MEMBERS, BENEFIT)],
        help_text="compliance_rate, cost_per_unit, members or benefit.",
    )
    # A field named `label` shadows Field.label, the serializer's own: DRF's metaclass takes
    # it as a declared field, so it is what the JSON shows.
    label = serializers.CharField(help_text="The criterion in words.")  # type: ignore[assignment]
    target = serializers.CharField(help_text="The target in words, e.g. `at least 85.0%`.")
    measured = serializers.CharField(
        allow_null=True,
        help_text="What was measured (e.g. `88.9%`, `8.00`, `3`); null when nothing was, or "
        "when it is withheld from you.",
    )
    met = serializers.BooleanField(help_text="Whether the target is met.")
    behind = serializers.CharField(help_text="What the measure is made of, in words.")
    withheld = serializers.CharField(
        allow_null=True,
        help_text="Why `measured` is withheld from you (the benefit, a total over fewer than "
        "three departments), or null.",
    )


class PilotMonthSerializer(serializers.Serializer):
    """A complete month of the pilot behind the criteria."""

    period = serializers.CharField(help_text="The month, YYYY-MM.")
    returns_met = serializers.IntegerField(help_text="Returns that met their standard.")
    returns = serializers.IntegerField(help_text="Returns made.")
    compliance_rate = serializers.CharField(
        allow_null=True, help_text="Per cent, one decimal (null without returns)."
    )
    pool = serializers.CharField(
        allow_null=True, help_text="The clusters' cost pools (null without any)."
    )
    units = serializers.IntegerField(help_text="Usage units served in clusters with a pool.")
    cost_per_unit = serializers.CharField(
        allow_null=True, help_text="The pool over the units (null without units)."
    )
    members = serializers.IntegerField(help_text="Member departments during the month.")
    baseline = serializers.CharField(
        allow_null=True,
        help_text="The members' baselines pro rata to their days; null when withheld.",
    )
    charged = serializers.CharField(
        allow_null=True, help_text="The charges on the members; null when withheld."
    )
    benefit = serializers.CharField(
        allow_null=True, help_text="The baseline less the charges; null when withheld."
    )


class PilotDepartureSerializer(serializers.Serializer):
    """A member department that left one of the pilot's clusters during the pilot."""

    department = serializers.CharField(help_text="The department's code.")
    cluster = serializers.CharField(help_text="The cluster's code.")
    left_on = serializers.DateField(help_text="The day it left.")


def _seen(serializer: serializers.Serializer, evaluation: PilotEvaluation) -> EvidenceView:
    """The evaluation's evidence as the reader may see it: worked out once per row."""
    cache: dict[int, EvidenceView] = serializer.context.setdefault("evidence_seen", {})
    if evaluation.pk not in cache:
        cache[evaluation.pk] = evidence_seen_by(
            serializer.context["request"].user, evaluation.evidence
        )
    return cache[evaluation.pk]


class PilotEvaluationSerializer(serializers.ModelSerializer):
    """An evaluation of a pilot: the decision put to the board and the evidence behind it,
    as the reader may see it (`evidence_seen_by`): the benefit and the months' baselines,
    charges and benefit are withheld, with the reason, from a department that would see a
    total over fewer than three departments."""

    # Needs `evaluated_by` joined and the request in the context: no query per row.

    decision = serializers.ChoiceField(
        choices=PilotDecisionKind.choices,
        read_only=True,
        help_text="The decision put to the board: go_live, extend or stop.",
    )
    new_ends_on = serializers.DateField(
        read_only=True, allow_null=True, help_text="Extend: the new end date (null otherwise)."
    )
    wind_down_on = serializers.DateField(
        read_only=True,
        allow_null=True,
        help_text="Stop: the day every membership of the pilot ends (null otherwise).",
    )
    as_of = serializers.DateField(read_only=True, help_text="The day the evidence was compiled.")
    all_met = serializers.BooleanField(read_only=True, help_text="Every criterion is met.")
    evaluated_by: serializers.SlugRelatedField = serializers.SlugRelatedField(
        slug_field="username",
        read_only=True,
        allow_null=True,
        help_text="The administrator who asked; null when the end date brought it.",
    )
    criteria = serializers.SerializerMethodField(help_text="Each criterion, met or not.")
    monthly = serializers.SerializerMethodField(help_text="The complete months behind them.")
    members = serializers.SerializerMethodField(
        help_text="Codes of the member departments on the day of the evaluation."
    )
    departures = serializers.SerializerMethodField(
        help_text="The departments that left during the pilot."
    )
    withheld = serializers.SerializerMethodField(
        help_text="Why the benefit and the months' baselines, charges and benefit are "
        "withheld from you, or null when you see them."
    )

    class Meta:
        model = PilotEvaluation
        fields = [
            "id",
            "case",
            "decision",
            "new_ends_on",
            "wind_down_on",
            "as_of",
            "all_met",
            "evaluated_by",
            "criteria",
            "monthly",
            "members",
            "departures",
            "withheld",
        ]
        read_only_fields = fields

    @extend_schema_field(PilotCriterionSerializer(many=True))
    def get_criteria(self, evaluation: PilotEvaluation) -> list[dict[str, Any]]:
        criteria = [{"withheld": None, **c} for c in _seen(self, evaluation).criteria]
        return cast(list[dict[str, Any]], PilotCriterionSerializer(criteria, many=True).data)

    @extend_schema_field(PilotMonthSerializer(many=True))
    def get_monthly(self, evaluation: PilotEvaluation) -> list[dict[str, Any]]:
        months = PilotMonthSerializer(_seen(self, evaluation).monthly, many=True).data
        return cast(list[dict[str, Any]], months)

    def get_members(self, evaluation: PilotEvaluation) -> list[str]:
        return list(_seen(self, evaluation).members)

    @extend_schema_field(PilotDepartureSerializer(many=True))
    def get_departures(self, evaluation: PilotEvaluation) -> list[dict[str, Any]]:
        departures = PilotDepartureSerializer(_seen(self, evaluation).departures, many=True).data
        return cast(list[dict[str, Any]], departures)

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_withheld(self, evaluation: PilotEvaluation) -> str | None:
        return _seen(self, evaluation).withheld


class PilotEvidenceSerializer(serializers.Serializer):
    """A pilot's evidence so far, compiled today, as you may see it (`evidence_seen_by`):
    the shape of an evaluation's evidence, the benefit and the months' baselines, charges
    and benefit withheld, with why, where they would reveal another department's figures."""

    # Serializes an `EvidenceView` (`initiatives.selectors.pilot_evidence_so_far`).

    service = serializers.SerializerMethodField(help_text="The code of the service in pilot.")
    as_of = serializers.DateField(help_text="Today: the day the evidence is compiled.")
    all_met = serializers.BooleanField(help_text="Every criterion is met.")
    criteria = PilotCriterionSerializer(many=True, help_text="Each criterion, met or not.")
    monthly = PilotMonthSerializer(many=True, help_text="The complete months behind them.")
    members = serializers.ListField(
        child=serializers.CharField(), help_text="Codes of the member departments today."
    )
    departures = PilotDepartureSerializer(
        many=True, help_text="The departments that left during the pilot."
    )
    withheld = serializers.CharField(
        allow_null=True,
        help_text="Why the benefit and the months' baselines, charges and benefit are "
        "withheld from you, or null when you see them.",
    )

    def get_service(self, evidence: EvidenceView) -> str:
        return self.context["service"]

    def to_representation(self, instance: EvidenceView) -> dict[str, Any]:
        criteria = [{"withheld": None, **c} for c in instance.criteria]
        return super().to_representation(dataclasses.replace(instance, criteria=criteria))


class PilotEvaluationCSVSerializer(PilotEvaluationSerializer):
    """An evaluation as one CSV row: the flat fields, the members' codes (`;` between),
    and each criterion's target, measured and met as columns (`criteria.benefit.measured`);
    the months and the departures are left out (they are lists of records: read them in
    JSON)."""

    criteria = serializers.SerializerMethodField()

    class Meta(PilotEvaluationSerializer.Meta):
        fields = [
            "id",
            "case",
            "decision",
            "new_ends_on",
            "wind_down_on",
            "as_of",
            "all_met",
            "evaluated_by",
            "withheld",
            "members",
            "criteria",
        ]
        read_only_fields = fields

    def get_criteria(self, evaluation: PilotEvaluation) -> dict[str, dict[str, Any]]:  # type: ignore[override]
        return {
            c["criterion"]: {"target": c["target"], "measured": c["measured"], "met": c["met"]}
            for c in _seen(self, evaluation).criteria
        }


class PilotEvaluationInputSerializer(serializers.Serializer):
    """Ask for a pilot's evaluation: the evidence is compiled today and the decision goes to
    the board."""

    decision = serializers.ChoiceField(
        choices=PilotDecisionKind.choices,
        required=False,
        allow_null=True,
        error_messages={"invalid_choice": UNKNOWN_DECISION},
        help_text="go_live, extend or stop; left out (or null), the evidence decides: go live "
        "when every criterion is met, stop otherwise.",
    )
    new_ends_on = serializers.DateField(
        required=False,
        allow_null=True,
        help_text="Extend: the new end date, after the current one and after today.",
    )
    wind_down_on = serializers.DateField(
        required=False,
        allow_null=True,
        help_text="Stop: the day every membership of the pilot ends, at least the clusters' "
        "notice after the board's decision (left out: the earliest such day).",
    )

    def to_service(self) -> dict[str, Any]:
        data = self.validated_data
        return {
            "decision": data.get("decision"),
            "new_ends_on": data.get("new_ends_on"),
            "wind_down_on": data.get("wind_down_on"),
        }
