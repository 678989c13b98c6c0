from __future__ import annotations

from django.db.models import Prefetch
from django.shortcuts import get_object_or_404
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.exceptions import PermissionDenied
from rest_framework.parsers import JSONParser
from rest_framework.response import Response

from clusters.api.views import CODE_PATTERN
from governance.models import Case
from initiatives import services
from initiatives.api import serializers
from initiatives.filters import CommitmentFilter, ProgrammeFilter
from initiatives.models import Commitment, Programme, ProgrammeDecision
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
