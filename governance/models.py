"""The deputy-minister board: a case per exit request that needs it, seats and votes."""

from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.aggregates import JSONBAgg
from django.db import models
from django.db.models import (
    BooleanField,
    Count,
    Exists,
    ExpressionWrapper,
    JSONField,
    OuterRef,
    Q,
    Subquery,
)
from django.db.models.functions import JSONObject

from clusters.models import Alternate, Department
from clusters.rules import board_seat_departments, holds_board_seat
from defection.models import EVERY_ROW, NO_ROW, ExitRequest, exit_request_whole_condition
from governance.subjects import registered_kinds, subject_for, subject_of
from sharedsvc.audit import tracked

REASON_MAX_LENGTH = 2000


class CaseStatus(models.TextChoices):
    OPEN = "open", "Open"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"
    LAPSED = "lapsed", "Lapsed"
    WITHDRAWN = "withdrawn", "Withdrawn"


class CaseKind(models.TextChoices):
    """What the board is asked: an exit request, a programme, or a pilot's future."""

    EXIT = "exit", "Exit request"
    PROGRAMME = "programme", "Programme"
    PILOT = "pilot", "Pilot decision"


class Choice(models.TextChoices):
    APPROVE = "approve", "Approve"
    REJECT = "reject", "Reject"
    ABSTAIN = "abstain", "Abstain"


def board_condition(user) -> Q:
    """The user holds a board seat today (`clusters.rules.board_seat_departments`: the
    seat's deputy minister, or its alternate while named), as a `Q` that compiles to one
    EXISTS in a WHERE or an annotation."""
    if not (user and user.is_authenticated and user.is_active and user.acts_for_department):
        return NO_ROW
    return Q(Exists(board_seat_departments(user)))


class CaseQuerySet(models.QuerySet):
    def visible_to(self, user) -> CaseQuerySet:
        """Each kind of case is seen by whom its subject says (`governance.subjects`). An
        exit case is seen with its exit request (`ExitRequest.objects.visible_to`): the
        board's seat holders (the seat, not the role), the parties (the department, the
        current and the proposed provider), the cluster's current members, analysts and
        administrators."""
        if not (user and user.is_authenticated and user.is_active):
            return self.none()
        # Analysts and administrators read every case: each subject's condition would say
        # so too, but only after joins to every kind's subject that PostgreSQL must make.
        if user.reads_everything:
            return self.all()
        # The board reads every case: whoever holds a seat today, its deputy minister or
        # its alternate. A deputy minister is asked first, on their own (1 query): holding
        # their seat, they need no condition at all (as one SQL condition over every kind
        # of case it cost their pages more to build and compile than all of its queries
        # took). Anyone else who may hold a seat, as an alternate, is asked within the
        # query (an EXISTS, evaluated once, not per row), so a department's people pay no
        # query for the rare alternate.
        if user.is_deputy_minister:
            if holds_board_seat(user):
                return self.all()
            condition = NO_ROW
        else:
            condition = board_condition(user)
        for kind in registered_kinds():
            condition |= Q(kind=kind) & subject_for(kind).visible(user)
        return self.filter(condition)

    def with_votes_shown(self, user) -> CaseQuerySet:
        """`votes_shown`: may this user see the other seats' votes and the tally? Read by
        `governance.view_case_votes` (no query per row)."""
        return self.annotate(
            votes_shown=ExpressionWrapper(votes_shown_condition(user), output_field=BooleanField())
        )

    def with_seats_and_counts(self) -> CaseQuerySet:
        """`seat_list` (each seat, by department code: the code, recused, and why) and
        `vote_counts` (the votes of each choice): what a case's record in the API reads,
        in the query itself, not as a seat or a vote object each (`case_tally`)."""
        seats = JSONBAgg(
            JSONObject(code="department__code", recused="recused", reasons="recusal_reasons"),
            order_by="department__code",
        )
        counts = JSONObject(
            **{choice: Count("pk", filter=Q(choice=choice)) for choice in Choice.values}
        )
        return self.annotate(
            seat_list=_per_case(Seat, seats),
            vote_counts=_per_case(Vote, counts),
        )

    def with_seat_of(self, user) -> CaseQuerySet:
        """`user_seat_department_id`: the department of the seat this user holds on the case
        today (None without one), so a page finds the user's seat without another query."""
        departments = (
            board_seat_departments(user)
            if user and user.is_authenticated and user.acts_for_department
            else Department.objects.none()
        )
        return self.annotate(
            user_seat_department_id=Subquery(
                Seat.objects.filter(case_id=OuterRef("pk"), department__in=departments).values(
                    "department_id"
                )[:1]
            )
        )

    def with_request_seen_whole(self, user) -> CaseQuerySet:
        """`request_seen_whole`: may this user read the case's request whole (its
        justification, impact and evidence)? See `defection.view_exitrequest_whole`."""
        return self.annotate(
            request_seen_whole=ExpressionWrapper(
                exit_request_whole_condition(user, prefix="exit_request__"),
                output_field=BooleanField(),
            )
        )


def _per_case(model: type[models.Model], aggregate) -> Subquery:
    """One aggregate of a case's rows of `model` (its seats, its votes), as a JSON value of
    the case's own query."""
    rows = (
        model.objects.filter(case_id=OuterRef("pk"))  # type: ignore[attr-defined]
        .order_by()
        .values("case_id")
        .annotate(value=aggregate)
        .values("value")
    )
    return Subquery(rows, output_field=JSONField())


@tracked()
class Case(models.Model):
    """A question to the board: an exit request (a department leaving to a provider other
    than the PSOA), a programme, or a pilot's future. What it is about, and what its
    decision does, is its subject's (`governance.subjects`)."""

    kind = models.CharField(max_length=16, choices=CaseKind.choices, default=CaseKind.EXIT)
    exit_request = models.OneToOneField(
        ExitRequest,
        on_delete=models.PROTECT,
        related_name="board_case",
        null=True,
        blank=True,
        help_text="The exit request of a case of kind exit; none for the other kinds.",
    )
    status = models.CharField(max_length=16, choices=CaseStatus.choices, default=CaseStatus.OPEN)
    opened_at = models.DateTimeField()
    closes_at = models.DateTimeField()
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_rule = models.TextField(blank=True, help_text="The rule that decided it, in words.")

    objects = CaseQuerySet.as_manager()

    class Meta:
        ordering = ["-opened_at", "-id"]
        constraints = [
            models.CheckConstraint(
                name="case_closes_after_opening",
                condition=Q(closes_at__gt=models.F("opened_at")),
                violation_error_message="A case closes after it opens.",
            ),
            models.CheckConstraint(
                name="case_exit_request_iff_exit",
                condition=(Q(kind=CaseKind.EXIT) & Q(exit_request__isnull=False))
                | (~Q(kind=CaseKind.EXIT) & Q(exit_request__isnull=True)),
                violation_error_message="An exit case has its exit request; no other case has one.",
            ),
            models.CheckConstraint(
                name="case_decided_iff_closed",
                condition=(Q(status=CaseStatus.OPEN) & Q(decided_at__isnull=True))
                | (~Q(status=CaseStatus.OPEN) & Q(decided_at__isnull=False)),
                violation_error_message="A closed case has a decision time; an open one has none.",
            ),
        ]

    def __str__(self) -> str:
        return f"Case {self.pk}: {subject_of(self).title(self)}"

    @property
    def is_open(self) -> bool:
        return self.status == CaseStatus.OPEN


class RecusalReason(models.TextChoices):
    REQUESTER = "requester", "The requesting department"
    CURRENT_PROVIDER_HOST = "current_provider_host", "Hosts the current cluster's provider"
    PROPOSED_PROVIDER_HOST = "proposed_provider_host", "Hosts the proposed provider"
    PILOT_PROVIDER_HOST = "pilot_provider_host", "Hosts the pilot's provider"


@tracked()
class Seat(models.Model):
    """A main department's seat on one case, fixed when the case opens."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="seats")
    department = models.ForeignKey(Department, on_delete=models.PROTECT, related_name="seats")
    recused = models.BooleanField(default=False)
    recusal_reasons = models.JSONField(
        default=list, blank=True, help_text="Why the seat is recused."
    )
    reminded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["department__code"]
        constraints = [
            models.UniqueConstraint(fields=["case", "department"], name="seat_one_per_department"),
        ]

    def __str__(self) -> str:
        return f"{self.department.code} on case {self.case_id}"

    @property
    def eligible(self) -> bool:
        return not self.recused


def votes_shown_condition(user) -> Q:
    """The one rule for the votes of a case (each seat's vote and the tally), as a `Q` on
    cases. Once a case is decided, whoever sees the case sees its votes. While it is open
    they are seen by analysts and administrators, and by a seat holder once their own seat
    has voted (so no seat is swayed by the others before it votes). Nobody else sees them
    early: not the department's managers, even once their deputy minister has voted, nor
    the providers or members."""
    if not (user and user.is_authenticated and user.is_active):
        return NO_ROW
    if user.reads_everything:
        return EVERY_ROW
    condition = ~Q(status=CaseStatus.OPEN)
    if user.acts_for_department:  # a seat's deputy minister or its alternate
        condition |= Q(
            Exists(
                Vote.objects.filter(
                    case_id=OuterRef("pk"), department__in=board_seat_departments(user)
                )
            )
        )
    return condition


class VoteQuerySet(models.QuerySet):
    def visible_to(self, user) -> models.QuerySet:
        """A case's votes are seen together or not at all, by those `votes_shown_condition`
        names among those who see the case."""
        if not (user and user.is_authenticated and user.is_active):
            return self.none()
        return self.filter(
            case__in=Case.objects.visible_to(user).filter(votes_shown_condition(user))
        )


@tracked()
class Vote(models.Model):
    """A seat's vote on a case, changeable until the case closes."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="votes")
    seat = models.OneToOneField(Seat, on_delete=models.CASCADE, related_name="vote")
    department = models.ForeignKey(Department, on_delete=models.PROTECT, related_name="votes")
    voter = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="votes",
        help_text="Whose vote it is: the seat's deputy minister when it was cast (the caster "
        "when the seat had none).",
    )
    cast_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="votes_cast",
        help_text="Who cast it: the deputy minister, or the seat's alternate.",
    )
    alternate = models.ForeignKey(
        Alternate,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="votes",
        help_text="The naming under which an alternate cast it; none for the deputy minister.",
    )
    choice = models.CharField(max_length=8, choices=Choice.choices)
    reason = models.TextField(blank=True, max_length=REASON_MAX_LENGTH)
    cast_at = models.DateTimeField()

    objects = VoteQuerySet.as_manager()

    class Meta:
        ordering = ["department__code"]
        constraints = [
            models.UniqueConstraint(
                fields=["case", "department"],
                name="vote_one_per_seat",
                violation_error_message="This seat has already voted; change its vote instead.",
            ),
            models.CheckConstraint(
                name="vote_reject_needs_reason",
                condition=~Q(choice=Choice.REJECT) | ~Q(reason=""),
                violation_error_message="A vote to reject needs a reason.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.department.code}: {self.choice} on case {self.case_id}"

    @property
    def by_alternate(self) -> bool:
        return self.alternate_id is not None
