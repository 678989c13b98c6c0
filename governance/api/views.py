from __future__ import annotations

from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.parsers import JSONParser
from rest_framework.response import Response

from governance import services
from governance.api import serializers
from governance.filters import CaseFilter, VoteFilter
from governance.models import Case, Vote
from sharedsvc.api.views import CSVUnpaginatedMixin


class CaseViewSet(CSVUnpaginatedMixin, viewsets.ReadOnlyModelViewSet):
    """The board's cases, with their eligible and recused seats, quorum and tally. Deputy
    ministers who hold a seat, analysts and administrators read every case; others those of
    the exit requests they may see. The tally of an open case is null until you may see its
    votes. Nobody writes a case: votes decide it."""

    # The seats' lists and the tally are read in the case's own query, not as a seat or a
    # vote object each: a page of cases of 13 seats was 200 objects.
    queryset = Case.objects.select_related("exit_request__department").with_seats_and_counts()
    serializer_class = serializers.CaseSerializer
    filterset_class = CaseFilter

    def get_queryset(self):
        user = self.request.user
        return super().get_queryset().visible_to(user).with_votes_shown(user)


def _votes(user):
    return Vote.objects.visible_to(user).select_related("department", "voter", "cast_by")


CASE_PK = OpenApiParameter(
    "case_pk", OpenApiTypes.INT, OpenApiParameter.PATH, description="The case's id."
)


@extend_schema_view(list=extend_schema(parameters=[CASE_PK]))
class CaseVoteViewSet(CSVUnpaginatedMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    """A case's votes, as far as you may see them (a deputy minister sees the other seats'
    votes on an open case once their own seat has voted). `POST` casts or changes the vote
    of the seat you hold, as its deputy minister or as its alternate while named: 201 for
    the seat's first vote, 200 for a change (whoever of the two votes later)."""

    queryset = Vote.objects.all()
    serializer_class = serializers.VoteSerializer
    parser_classes = [JSONParser]
    write_permission = "governance.add_vote"

    def permission_denied(self, request, message=None, code=None):
        if message is None and request.user.is_authenticated and request.method == "POST":
            message = services.NO_SEAT
        super().permission_denied(request, message=message, code=code)

    def get_case(self) -> Case:
        return get_object_or_404(
            Case.objects.visible_to(self.request.user), pk=self.kwargs["case_pk"]
        )

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # the schema generator has no case
            return Vote.objects.none()
        return _votes(self.request.user).filter(case=self.get_case())

    @extend_schema(
        parameters=[CASE_PK],
        request=serializers.VoteInputSerializer,
        responses={
            200: serializers.VoteSerializer,
            201: serializers.VoteSerializer,
        },
        description=(
            "Cast (201) or change (200) your seat's vote. A reject needs a reason (at most "
            "2,000 characters). 403 without an eligible seat (with why), 409 once the case "
            "is closed."
        ),
    )
    def create(self, request, *args, **kwargs):
        case = self.get_case()
        data = serializers.VoteInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        vote, created = services.vote_cast(
            actor=request.user,
            case=case,
            choice=data.validated_data["choice"],
            reason=data.validated_data.get("reason", ""),
        )
        vote = _votes(request.user).get(pk=vote.pk)
        return Response(
            self.get_serializer(vote).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )


class VoteViewSet(CSVUnpaginatedMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    """Every vote you may see (read only): seats' votes on closed cases, and on open cases
    once your own seat has voted (analysts and administrators see all)."""

    queryset = Vote.objects.all()
    serializer_class = serializers.VoteSerializer
    filterset_class = VoteFilter

    def get_queryset(self):
        return _votes(self.request.user)
