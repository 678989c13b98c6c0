from __future__ import annotations

from django.db.models import Prefetch
from django.shortcuts import get_object_or_404
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.parsers import JSONParser
from rest_framework.response import Response

from clusters.api.views import CODE_PATTERN
from governance.models import Case
from initiatives import pilots, selectors, services
from initiatives.api import serializers
from initiatives.filters import (
    CommitmentFilter,
    PilotEvaluationFilter,
    PilotPlanFilter,
    ProgrammeFilter,
)
from initiatives.models import (
    Commitment,
    PilotCluster,
    PilotEvaluation,
    PilotPlan,
    PilotStatus,
    Programme,
    ProgrammeDecision,
)
from sharedsvc.api.views import CSVUnpaginatedMixin

# A programme's code in a URL: what its SlugField accepts, up to its 20 characters.
PROGRAMME_CODE_PATTERN = "[-a-zA-Z0-9_]{1,20}"

PROGRAMME_CODE = OpenApiParameter(
    "programme_code",
    str,
    OpenApiParameter.PATH,
    description="The programme's code.",
    pattern=f"^{PROGRAMME_CODE_PATTERN}$",
)

CODE = OpenApiParameter(
    "code",
    str,
    OpenApiParameter.PATH,
    description="The programme's code.",
    pattern=f"^{PROGRAMME_CODE_PATTERN}$",
)
DEPARTMENT_CODE = OpenApiParameter(
    "department_code",
    str,
    OpenApiParameter.PATH,
    description="A target department's code.",
    pattern=f"^{CODE_PATTERN}$",
)


class TodayMixin:
    """Progress is derived on a day: today, once per request, for every row."""

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "today": timezone.localdate()}  # type: ignore[misc]


@extend_schema_view(retrieve=extend_schema(parameters=[CODE]))
class ProgrammeViewSet(
    TodayMixin, CSVUnpaginatedMixin, mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet
):
    """Programmes, by code (`/programmes/ITNOW/`), with their target departments, how many
    are at each stage of progress today, and their board cases. Every signed-in user reads
    them. Administrators and deputy ministers propose one (`POST`): it goes to the board at
    once and becomes active only once the board approves. Nothing is edited or deleted here."""

    queryset = Programme.objects.select_related("service", "sponsor", "proposed_by")
    serializer_class = serializers.ProgrammeSerializer
    filterset_class = ProgrammeFilter
    parser_classes = [JSONParser]
    lookup_field = "code"
    lookup_value_regex = PROGRAMME_CODE_PATTERN
    write_permission = "initiatives.add_programme"

    def get_queryset(self):
        user = self.request.user
        return (
            super()
            .get_queryset()
            .visible_to(user)
            .prefetch_related(
                Prefetch(
                    "commitments",
                    queryset=Commitment.objects.with_joined().select_related("department"),
                ),
                # Only the case ids, of the cases this user may read: one query a page.
                Prefetch(
                    "decisions",
                    queryset=ProgrammeDecision.objects.filter(
                        case__in=Case.objects.visible_to(user)
                    ).only("id", "case_id", "programme_id"),
                ),
            )
        )

    def permission_denied(self, request, message=None, code=None):
        if message is None and request.user.is_authenticated and request.method == "POST":
            message = services.MAY_NOT_PROPOSE
        super().permission_denied(request, message=message, code=code)

    @extend_schema(
        parameters=[CODE],
        responses=serializers.ProgrammeBenefitSerializer,
        description=(
            "The benefit to date of the target departments that joined (progress `joined` "
            "today), as the programme's page shows it: per department, its baselines for the "
            "programme's service pro rata to its days of membership up to today, what it was "
            "charged for the service, and the difference; and the total over all of them. A "
            "department's row is only for its own people, analysts and administrators; the "
            "total is withheld (null, with `withheld` saying why) from a department unless at "
            "least three departments contribute or it is the department's own alone. Not "
            "paginated (one row per department that joined). As CSV, the rows you see."
        ),
    )
    @action(detail=True, methods=["get"], filterset_class=None)
    def benefit(self, request, code=None):
        # The programme's page and this answer ask the same selector (one computation).
        today = timezone.localdate()
        programme = get_object_or_404(
            Programme.objects.visible_to(request.user)
            .select_related("service")
            .prefetch_related(Prefetch("commitments", queryset=Commitment.objects.with_joined())),
            code=code,
        )
        benefit = selectors.programme_benefit(request.user, programme, today=today)
        data = serializers.programme_benefit_data(programme, benefit, today)
        if getattr(request.accepted_renderer, "format", None) == "csv":
            rows = serializers.ProgrammeBenefitRowSerializer(data["rows"], many=True)
            return Response(rows.data)
        return Response(serializers.ProgrammeBenefitSerializer(data).data)

    @extend_schema(
        request=serializers.ProgrammeInputSerializer,
        responses={201: serializers.ProgrammeSerializer},
        description=(
            "Propose a programme: a pending commitment for each target department, and a "
            "board case of kind programme. 403 (with why) unless you are an administrator or "
            "a deputy minister; 400 with messages by field for an unknown code or username, a "
            "sponsor who is not a deputy minister, an inactive target, a target date that is "
            "not after today, or a code already taken."
        ),
    )
    def create(self, request, *args, **kwargs):
        data = serializers.ProgrammeInputSerializer(
            data=request.data, context=self.get_serializer_context()
        )
        data.is_valid(raise_exception=True)
        programme = services.programme_propose(actor=request.user, **data.validated_data)
        programme = self.get_queryset().get(pk=programme.pk)
        return Response(self.get_serializer(programme).data, status=status.HTTP_201_CREATED)


@extend_schema_view(
    list=extend_schema(parameters=[PROGRAMME_CODE]),
    retrieve=extend_schema(parameters=[PROGRAMME_CODE, DEPARTMENT_CODE]),
)
class CommitmentViewSet(
    TodayMixin,
    CSVUnpaginatedMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """A programme's target departments, each with its answer and its progress as of today
    (`/programmes/ITNOW/commitments/LCS/`). Whoever reads the programme reads them. The
    department's managers and deputy minister (and administrators) answer for it with
    `PUT`; answering again replaces the answer."""

    queryset = Commitment.objects.all()
    serializer_class = serializers.CommitmentSerializer
    filterset_class = CommitmentFilter
    parser_classes = [JSONParser]
    lookup_field = "department__code"
    lookup_url_kwarg = "department_code"
    lookup_value_regex = CODE_PATTERN
    # Everyone with a role reaches the door; who answers for which department is the rule
    # `initiatives.answer_commitment` on the commitment itself (asked below and by the service).
    write_permission = "sharedsvc.use_service"

    def get_programme(self) -> Programme:
        if not hasattr(self, "_programme"):
            self._programme = get_object_or_404(
                Programme.objects.visible_to(self.request.user), code=self.kwargs["programme_code"]
            )
        return self._programme

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # the schema generator has no programme
            return Commitment.objects.none()
        return (
            Commitment.objects.visible_to(self.request.user)
            .filter(programme=self.get_programme())
            .with_joined()
            .select_related("programme", "department", "answered_by")
        )

    @extend_schema(
        parameters=[PROGRAMME_CODE, DEPARTMENT_CODE],
        request=serializers.CommitmentAnswerSerializer,
        responses={200: serializers.CommitmentSerializer},
        description=(
            "Answer for a target department: `committed` with `join_by` (a date after the "
            "programme's target date needs a `reason`), or `declined` with a `reason`. 403 "
            "(with why) unless you answer for that department; 409 once the programme is "
            "rejected or closed; 400 with messages by field."
        ),
    )
    def update(self, request, *args, **kwargs):
        commitment = self.get_object()
        if not request.user.has_perm("initiatives.answer_commitment", commitment):
            raise PermissionDenied(services.MAY_NOT_ANSWER.format(code=commitment.department.code))
        data = serializers.CommitmentAnswerSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.commitment_answer(actor=request.user, commitment=commitment, **data.to_service())
        return Response(self.get_serializer(self.get_queryset().get(pk=commitment.pk)).data)


# Pilots -----------------------------------------------------------------------------------

SERVICE_CODE = OpenApiParameter(
    "service_code",
    str,
    OpenApiParameter.PATH,
    description="The code of the service in pilot.",
    pattern=f"^{CODE_PATTERN}$",
)


NO_EVIDENCE_SO_FAR = (
    "The pilot of {service} is decided ({status}): there is no evidence so far; its evaluations "
    "(evaluations/) keep the evidence it was decided on."
)


def _visible_evaluations(user):
    """The evaluations of the pilots whose evidence this user reads."""
    return PilotEvaluation.objects.filter(plan__in=PilotPlan.objects.evidence_visible_to(user))


@extend_schema_view(retrieve=extend_schema(parameters=[SERVICE_CODE]))
class PilotPlanViewSet(CSVUnpaginatedMixin, mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Pilot plans, by their service's code (`/pilot-plans/MAIL/`): the clusters that run
    the pilot, its dates, its success criteria, its status and its board cases. Every
    signed-in user reads the plans (like the catalogue); the cases are listed only to those
    who read the pilot's evidence (the board, analysts, administrators, the providers and
    member departments of its clusters). Administrators plan one (`POST`). Nothing is
    edited or deleted here: an approved decision of the board changes a plan."""

    queryset = PilotPlan.objects.select_related("service")
    serializer_class = serializers.PilotPlanSerializer
    filterset_class = PilotPlanFilter
    parser_classes = [JSONParser]
    lookup_field = "service__code"
    lookup_url_kwarg = "service_code"
    lookup_value_regex = CODE_PATTERN
    write_permission = "initiatives.add_pilotplan"

    def get_queryset(self):
        user = self.request.user
        return (
            super()
            .get_queryset()
            .visible_to(user)
            .prefetch_related(
                Prefetch("plan_clusters", queryset=PilotCluster.objects.select_related("cluster")),
                # Only the case ids, of the pilots whose evidence this user reads: one query.
                Prefetch(
                    "evaluations",
                    queryset=_visible_evaluations(user).only("id", "case_id", "plan_id"),
                ),
            )
        )

    def permission_denied(self, request, message=None, code=None):
        if message is None and request.user.is_authenticated and request.method == "POST":
            message = pilots.MAY_NOT_PLAN
        super().permission_denied(request, message=message, code=code)

    @extend_schema(
        parameters=[SERVICE_CODE],
        responses=serializers.PilotEvidenceSerializer,
        description=(
            "The evidence so far, compiled today, as the pilot's page shows it (\"Evidence "
            'so far"): each criterion against what was measured, the complete months behind '
            "it, the members today and the departures, in the shape of an evaluation's "
            "evidence (`evaluations/`). The benefit and the months' baselines, charges and "
            "benefit are withheld (null, with `withheld` saying why) where they would reveal "
            "another department's figures. Only while the pilot is running or with the "
            "board: once decided, 404, and its evaluations keep the evidence it was decided "
            "on. 404 too for whoever does not read the pilot's evidence "
            "(`initiatives.view_pilot_evidence`: the board, analysts, administrators, the "
            "providers and member departments of its clusters): the page simply leaves the "
            "section out for them, so the plan itself stays public. As CSV, the months."
        ),
    )
    @action(detail=True, methods=["get"], filterset_class=None)
    def evidence(self, request, service_code=None):
        plan = get_object_or_404(
            PilotPlan.objects.evidence_visible_to(request.user).select_related("service"),
            service__code=service_code,
        )
        # The pilot's page and this answer ask the same selector (one computation).
        evidence = selectors.pilot_evidence_so_far(request.user, plan, today=timezone.localdate())
        if evidence is None:
            raise NotFound(
                NO_EVIDENCE_SO_FAR.format(
                    service=plan.service.name, status=PilotStatus(plan.status).label.lower()
                )
            )
        if getattr(request.accepted_renderer, "format", None) == "csv":
            return Response(serializers.PilotMonthSerializer(evidence.monthly, many=True).data)
        body = serializers.PilotEvidenceSerializer(evidence, context={"service": plan.service.code})
        return Response(body.data)

    @extend_schema(
        request=serializers.PilotPlanInputSerializer,
        responses={201: serializers.PilotPlanSerializer},
        description=(
            "Plan the pilot of a service in pilot: its clusters, its dates and its criteria. "
            "403 (with why) unless you are an administrator; 400 with messages by field for an "
            "unknown code, a service that is not in pilot or has a plan already, clusters of "
            "another service, an end before the start, or a criterion out of range "
            "(compliance rate 0 to 100, cost per unit more than 0, at least 1 member, benefit "
            "0 or more)."
        ),
    )
    def create(self, request, *args, **kwargs):
        data = serializers.PilotPlanInputSerializer(
            data=request.data, context=self.get_serializer_context()
        )
        data.is_valid(raise_exception=True)
        plan = pilots.pilot_plan_create(actor=request.user, **data.validated_data)
        plan = self.get_queryset().get(pk=plan.pk)
        return Response(self.get_serializer(plan).data, status=status.HTTP_201_CREATED)


@extend_schema_view(list=extend_schema(parameters=[SERVICE_CODE]))
class PilotEvaluationViewSet(CSVUnpaginatedMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    """A pilot's evaluations, newest first (`/pilot-plans/MAIL/evaluations/`): the decision
    put to the board, its case, and the evidence against each criterion with the months
    behind it, as you may see it (the benefit and the months' baselines, charges and benefit
    withheld, with why, where they would reveal another department's figures).

    Who reads the evidence (`initiatives.view_pilot_evidence`): the board, analysts,
    administrators, the providers and the member departments of the pilot's clusters. Anyone
    else gets an empty list, not a 404: the plan is public (`/pilot-plans/MAIL/` answers
    every signed-in user), so a 404 here would deny what the plan shows; an empty list says
    only that there is nothing they may read, as the plan's `cases` does.

    As CSV, one row per evaluation: the flat fields, the members' codes, and each
    criterion's target, measured and met as columns (`criteria.benefit.measured`); the
    months and the departures only in JSON.

    Administrators ask for an evaluation (`POST`) before the end date or after the board
    turned a decision down; from the end date, the daily job asks by itself."""

    queryset = PilotEvaluation.objects.all()
    serializer_class = serializers.PilotEvaluationSerializer
    filterset_class = PilotEvaluationFilter
    parser_classes = [JSONParser]
    write_permission = "initiatives.evaluate_pilot"

    def get_plan(self) -> PilotPlan:
        if not hasattr(self, "_plan"):
            self._plan = get_object_or_404(
                PilotPlan.objects.visible_to(self.request.user).select_related("service"),
                service__code=self.kwargs["service_code"],
            )
        return self._plan

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # the schema generator has no plan
            return PilotEvaluation.objects.none()
        return (
            _visible_evaluations(self.request.user)
            .filter(plan=self.get_plan())
            .select_related("evaluated_by")
        )

    def get_serializer_class(self):
        if getattr(getattr(self.request, "accepted_renderer", None), "format", None) == "csv":
            return serializers.PilotEvaluationCSVSerializer
        return super().get_serializer_class()

    def permission_denied(self, request, message=None, code=None):
        if message is None and request.user.is_authenticated and request.method == "POST":
            message = pilots.MAY_NOT_EVALUATE
        super().permission_denied(request, message=message, code=code)

    @extend_schema(
        parameters=[SERVICE_CODE],
        request=serializers.PilotEvaluationInputSerializer,
        responses={201: serializers.PilotEvaluationSerializer},
        description=(
            "Compile the evidence today and put a decision to the board (a case of kind "
            "pilot): the `decision` given, or, left out, go live when every criterion is met "
            "and stop otherwise. Extend needs `new_ends_on` (after the current end and "
            "today); stop takes `wind_down_on` (at least the clusters' notice after the "
            "board's decision; left out, the earliest such day). 403 (with why) unless you "
            "are an administrator; 409 when the pilot is already with the board, live or "
            "stopped; 400 with messages by field."
        ),
    )
    def create(self, request, *args, **kwargs):
        plan = self.get_plan()
        data = serializers.PilotEvaluationInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        evaluation = pilots.pilot_evaluate(actor=request.user, plan=plan, **data.to_service())
        evaluation = self.get_queryset().get(pk=evaluation.pk)
        return Response(self.get_serializer(evaluation).data, status=status.HTTP_201_CREATED)
