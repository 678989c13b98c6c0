"""The board's rules, through the service functions."""

from __future__ import annotations

import datetime
import threading

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import timezone

from clusters.models import Membership
from defection.models import ExitRequest, ExitStatus
from defection.services import exit_request_withdraw
from governance import services
from governance.models import REASON_MAX_LENGTH, Case, CaseStatus, Seat, Vote
from governance.selectors import case_tally
from notifications.models import Notification, NotificationKind
from sharedsvc.errors import Conflict, Forbidden
from tests.notifications.support import celery_eager


def vote(user, case, choice, reason="Because."):
    return services.vote_cast(actor=user, case=case, choice=choice, reason=reason)


def reload(case) -> Case:
    return Case.objects.get(pk=case.pk)


def test_a_pending_request_opens_a_case_with_fixed_seats(world, case):
    assert case.status == CaseStatus.OPEN
    assert case.closes_at - case.opened_at == datetime.timedelta(days=14)
    seats = {s.department.code: (s.recused, s.recusal_reasons) for s in case.seats.all()}
    assert seats == {
        "AGRI": (False, []),
        "EDUC": (False, []),
        "HLTH": (False, []),
        "JAG": (False, []),
        "TRAN": (False, []),
        "LCS": (True, ["requester"]),
        "FIN": (True, ["current_provider_host"]),
        "TECH": (True, ["proposed_provider_host"]),
    }
    assert case_tally(case).quorum == 3  # more than half of 5


def test_recused_and_seatless_users_cannot_vote(world, board, case):
    with pytest.raises(Forbidden, match="recused"):
        vote(world.recused_deputy_minister, case, "approve")
    with pytest.raises(Forbidden, match="do not hold a seat"):
        vote(world.manager, case, "approve")
    assert not Vote.objects.exists()


def test_a_reject_needs_a_reason_and_reasons_have_a_limit(board, case):
    with pytest.raises(ValidationError, match="reason for rejecting"):
        vote(board[0], case, "reject", reason="  ")
    with pytest.raises(ValidationError, match=str(REASON_MAX_LENGTH)):
        vote(board[0], case, "approve", reason="x" * (REASON_MAX_LENGTH + 1))
    with pytest.raises(ValidationError, match="approve, reject or abstain"):
        vote(board[0], case, "maybe")
    assert not Vote.objects.exists()


def test_a_seat_may_change_its_vote(board, case):
    _, created = vote(board[0], case, "approve")
    _v, created_again = vote(board[0], case, "reject", reason="Changed my mind.")
    assert (created, created_again) == (True, False)
    assert Vote.objects.get().choice == "reject"


def test_approved_when_approvals_outnumber_rejections_and_the_exit_is_scheduled(world, board, case):
    vote(board[0], case, "approve")
    vote(board[1], case, "approve")
    assert reload(case).status == CaseStatus.OPEN  # 2 votes, quorum 3
    vote(board[2], case, "approve")  # 3 approve: 2 undecided cannot turn it
    case = reload(case)
    assert case.status == CaseStatus.APPROVED and case.decided_at is not None
    request = ExitRequest.objects.get()
    assert request.status == ExitStatus.SCHEDULED
    assert (
        Membership.objects.get(department=world.lcs, cluster=world.pay_tech).joined_on
        == request.leave_on
    )
    with pytest.raises(Conflict, match="approved"):
        vote(board[3], case, "reject")


def test_a_tie_is_rejected(world, board, case):
    vote(board[0], case, "approve")
    vote(board[1], case, "approve")
    vote(board[2], case, "reject")
    vote(board[3], case, "reject")
    vote(board[4], case, "abstain")  # every seat has voted: 2 - 2
    case = reload(case)
    assert case.status == CaseStatus.REJECTED
    assert "tie" in case.decision_rule
    assert ExitRequest.objects.get().status == ExitStatus.REJECTED
    assert Membership.objects.get(pk=world.lcs_payroll.pk).leaves_on is None


def test_abstentions_count_for_quorum_not_for_the_result(board, case):
    vote(board[0], case, "abstain")
    vote(board[1], case, "abstain")
    vote(board[2], case, "approve")
    assert reload(case).status == CaseStatus.OPEN  # 1 - 0 with 2 undecided could still turn
    vote(board[3], case, "approve")  # 2 - 0 with 1 undecided: settled
    assert reload(case).status == CaseStatus.APPROVED


def test_closes_early_when_rejection_is_certain(board, case):
    vote(board[0], case, "reject", reason="No.")
    vote(board[1], case, "reject", reason="No.")
    vote(board[2], case, "reject", reason="No.")
    assert reload(case).status == CaseStatus.REJECTED


def test_lapses_without_quorum_at_closing_time(world, board, case):
    vote(board[0], case, "approve")
    vote(board[1], case, "approve")
    assert services.case_close_due(as_of=case.closes_at - datetime.timedelta(seconds=1)) == []
    decided = services.case_close_due(as_of=case.closes_at)
    assert [c.pk for c in decided] == [case.pk]
    assert reload(case).status == CaseStatus.LAPSED
    assert ExitRequest.objects.get().status == ExitStatus.LAPSED
    assert services.case_close_due(as_of=case.closes_at) == []  # idempotent


def test_decided_by_its_votes_at_closing_time_with_quorum(board, case):
    vote(board[0], case, "approve")
    vote(board[1], case, "approve")
    vote(board[2], case, "reject", reason="No.")  # 2 - 1, two undecided: not settled
    assert reload(case).status == CaseStatus.OPEN
    services.case_close_due(as_of=case.closes_at)
    assert reload(case).status == CaseStatus.APPROVED


def test_no_vote_after_closing_time(board, case):
    past = timezone.now() - datetime.timedelta(seconds=1)
    Case.objects.filter(pk=case.pk).update(
        opened_at=past - datetime.timedelta(days=14), closes_at=past
    )
    with pytest.raises(Conflict, match="closed"):
        vote(board[0], case, "approve")
    assert not Vote.objects.exists()


def test_approval_after_the_leave_date_moves_to_the_day_after(world, board, case):
    ExitRequest.objects.filter(pk=case.exit_request_id).update(leave_on=timezone.localdate())
    for voter in board[:3]:
        vote(voter, case, "approve")
    request = ExitRequest.objects.get()
    assert request.leave_on == timezone.localdate() + datetime.timedelta(days=1)


def test_withdrawing_the_request_withdraws_the_case(world, case):
    exit_request_withdraw(actor=world.manager, exit_request=case.exit_request)
    case = reload(case)
    assert case.status == CaseStatus.WITHDRAWN
    assert ExitRequest.objects.get().status == ExitStatus.WITHDRAWN


def test_the_board_is_told_when_a_case_opens_and_parties_when_decided(
    world, board, django_capture_on_commit_callbacks
):
    from defection.models import Destination, Reason
    from defection.services import exit_request_submit

    seats = {*board, world.tech.deputy_minister}
    with celery_eager(), django_capture_on_commit_callbacks(execute=True):
        request = exit_request_submit(
            actor=world.manager,
            department=world.lcs,
            from_cluster=world.pay_psoa,
            destination=Destination.IN_HOUSE,
            reason=Reason.STRATEGIC,
            justification="We will run it ourselves.",
        )
    opened = Notification.objects.filter(subject__startswith="Board case opened")
    assert {n.recipient for n in opened} == seats
    assert {(n.kind, n.link) for n in opened} == {
        (NotificationKind.CASE_OPENED, f"/cases/{request.board_case.pk}/")
    }
    # One message per seat, To: that deputy minister alone.
    sent = [m for m in mail.outbox if m.subject.startswith("Board case opened")]
    assert sorted(m.to for m in sent) == sorted([u.email] for u in seats)
    mail.outbox.clear()
    with celery_eager(), django_capture_on_commit_callbacks(execute=True):
        # six eligible seats here (TECH is no party to an in-house move): quorum 4
        for voter in board[:4]:
            vote(voter, request.board_case, "reject", reason="Keep it shared.")
    decided = Notification.objects.filter(subject__startswith="Board decision")
    recipients = {n.recipient for n in decided}
    assert {(n.kind, n.link) for n in decided} == {
        (NotificationKind.CASE_DECIDED, f"/cases/{request.board_case.pk}/")
    }
    assert {world.manager, world.deputy_minister, world.provider_manager} <= recipients
    sent = [m for m in mail.outbox if m.subject.startswith("Board decision")]
    assert sorted(m.to for m in sent) == sorted([u.email] for u in recipients)


def test_reminders_go_once_to_undecided_seats_48_hours_before_closing(
    board, case, django_capture_on_commit_callbacks
):
    vote(board[0], case, "approve")
    early = case.closes_at - datetime.timedelta(hours=49)
    assert services.case_send_reminders(as_of=early) == 0
    due = case.closes_at - datetime.timedelta(hours=47)
    with celery_eager(), django_capture_on_commit_callbacks(execute=True):
        assert services.case_send_reminders(as_of=due) == 4
    assert services.case_send_reminders(as_of=due) == 0  # once
    reminded = [m.to for m in mail.outbox if m.subject.startswith("Reminder")]
    assert sorted(reminded) == sorted([u.email] for u in board[1:])
    rows = Notification.objects.filter(kind=NotificationKind.CASE_REMINDER)
    assert {n.recipient for n in rows} == set(board[1:])
    assert {n.link for n in rows} == {f"/cases/{case.pk}/"}
    assert Seat.objects.filter(reminded_at__isnull=False).count() == 4


@pytest.mark.django_db(transaction=True)
def test_twenty_threads_voting_at_once_decide_exactly_once() -> None:
    from defection.models import Destination, Reason
    from defection.services import exit_request_submit
    from tests.governance.conftest import seat_holder
    from tests.personas import build_world

    world = build_world()
    voters = [seat_holder(f"V{i:02d}") for i in range(20)]
    request = exit_request_submit(
        actor=world.manager,
        department=world.lcs,
        from_cluster=world.pay_psoa,
        destination=Destination.CLUSTER,
        to_cluster=world.pay_tech,
        reason=Reason.COST,
        justification="Cost.",
    )
    case = request.board_case
    barrier = threading.Barrier(len(voters))
    errors: list[str] = []

    def cast(user):
        try:
            barrier.wait()
            vote(user, case, "approve")
        except Conflict:
            errors.append("closed")  # the case was decided before this vote
        finally:
            connection.close()

    threads = [threading.Thread(target=cast, args=(u,)) for u in voters]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    case = reload(case)
    assert case.status == CaseStatus.APPROVED
    votes = Vote.objects.filter(case=case)
    assert votes.count() == len(set(votes.values_list("department_id", flat=True)))  # one per seat
    assert votes.count() + len(errors) == 20
    assert votes.count() == 11  # settled at 11 approvals of 20 eligible
    assert Membership.objects.filter(department=world.lcs, cluster=world.pay_tech).count() == 1
    assert ExitRequest.objects.get().status == ExitStatus.SCHEDULED
    import pghistory.models

    decisions = pghistory.models.Events.objects.filter(
        pgh_obj_model="governance.Case", pgh_label="update", pgh_diff__has_key="status"
    )
    assert decisions.count() == 1
