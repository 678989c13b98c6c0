"""Programmes through their services: proposed by administrators and deputy ministers,
put to the board as a case of kind programme (no seat recused), active only once the
board approves, one open case at a time; commitments answered by the department's
people, with their rules; progress derived on the day; the late told once."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from clusters.models import Membership
from governance import services as board
from governance.models import Case, CaseKind, CaseStatus, Choice
from initiatives import services
from initiatives.models import Answer, Commitment, Programme, ProgrammeStatus, Progress
from notifications.models import Notification, NotificationKind
from sharedsvc.errors import Conflict, Forbidden
from sharedsvc.roles import Role
from tests.factories import UserFactory


def _propose(world, **overrides) -> Programme:
    fields = {
        "actor": world.deputy_minister,
        "code": "ITNOW",
        "name": "Desktop IT for every ministry",
        "service": world.it,
        "sponsor": world.deputy_minister,
        "goal": "Every ministry on one shared desktop service.",
        "target_on": timezone.localdate() + datetime.timedelta(days=180),
        "departments": [world.env, world.fin],
    }
    return services.programme_propose(**{**fields, **overrides})


@pytest.fixture
def seated(world):
    """Deputy ministers for ENV and TECH too: four seats on the board."""
    for department in (world.env, world.tech):
        dm = UserFactory(
            username=f"dm_{department.code.lower()}",
            role=Role.DEPUTY_MINISTER,
            department=department,
        )
        department.deputy_minister = dm
        department.save()
    return world


def _approve(world, programme: Programme) -> Case:
    case = Case.objects.get(programme_decision__programme=programme, status=CaseStatus.OPEN)
    for department in ("lcs", "fin", "env"):  # three of four: the result can no longer change
        board.vote_cast(
            actor=UserFactory(username=f"dm_{department}"), case=case, choice=Choice.APPROVE
        )
    case.refresh_from_db()
    return case


def test_a_proposal_opens_a_programme_case_with_no_seat_recused(seated):
    programme = _propose(seated)
    assert programme.status == ProgrammeStatus.PROPOSED
    assert sorted(c.department.code for c in programme.commitments.all()) == ["ENV", "FIN"]
    assert set(programme.commitments.values_list("answer", flat=True)) == {Answer.PENDING}
    case = Case.objects.get(programme_decision__programme=programme)
    assert case.kind == CaseKind.PROGRAMME and case.exit_request is None
    assert case.seats.count() == 4 and not case.seats.filter(recused=True).exists()
    opened = Notification.objects.filter(kind=NotificationKind.CASE_OPENED)
    assert sorted(n.recipient.username for n in opened) == ["dm_env", "dm_fin", "dm_lcs", "dm_tech"]
    assert "Programme ITNOW: Desktop IT for every ministry" in opened.first().body


def test_the_board_approving_makes_it_active(seated):
    programme = _propose(seated)
    case = _approve(seated, programme)
    assert case.status == CaseStatus.APPROVED
    assert Programme.objects.get(pk=programme.pk).status == ProgrammeStatus.ACTIVE
    told = Notification.objects.filter(kind=NotificationKind.CASE_DECIDED)
    assert {"dm_lcs", "mgr_env", "dm_fin"} <= {n.recipient.username for n in told}


def test_a_rejection_rejects_it_and_a_lapse_leaves_it_proposed(seated):
    rejected = _propose(seated)
    case = Case.objects.get(programme_decision__programme=rejected)
    for department in ("lcs", "fin", "env"):
        board.vote_cast(
            actor=UserFactory(username=f"dm_{department}"),
            case=case,
            choice=Choice.REJECT,
            reason="Not now.",
        )
    assert Programme.objects.get(pk=rejected.pk).status == ProgrammeStatus.REJECTED

    lapsing = _propose(seated, code="PAYALL", name="Payroll for all", service=seated.payroll)
    case = Case.objects.get(programme_decision__programme=lapsing)
    board.case_close_due(as_of=case.closes_at)
    assert Case.objects.get(pk=case.pk).status == CaseStatus.LAPSED
    assert Programme.objects.get(pk=lapsing.pk).status == ProgrammeStatus.PROPOSED
    # A lapsed programme goes to the board again, with a case of its own.
    again = services.programme_to_board(actor=seated.deputy_minister, programme=lapsing)
    assert again.pk != case.pk and again.status == CaseStatus.OPEN


def test_one_open_case_at_a_time(seated):
    programme = _propose(seated)
    with pytest.raises(Conflict, match="already has an open board case"):
        services.programme_to_board(actor=seated.administrator, programme=programme)
    assert Case.objects.filter(programme_decision__programme=programme).count() == 1


def test_only_administrators_and_deputy_ministers_propose(world):
    for actor in (world.manager, world.analyst, world.provider_manager):
        with pytest.raises(Forbidden):
            _propose(world, actor=actor)
    assert not Programme.objects.exists()
    _propose(world, actor=world.administrator)
    assert Programme.objects.count() == 1


def test_a_proposal_is_refused_with_a_message_per_field(world):
    with pytest.raises(ValidationError) as refused:
        _propose(
            world,
            sponsor=world.manager,
            departments=[],
            target_on=timezone.localdate(),
        )
    assert set(refused.value.message_dict) == {"sponsor", "departments", "target_on"}
    assert not Programme.objects.exists() and not Case.objects.exists()


def test_a_department_commits_with_a_date_and_a_late_date_needs_a_reason(world):
    programme = _propose(world, departments=[world.lcs])
    commitment = programme.commitments.get()
    after = programme.target_on + datetime.timedelta(days=30)
    with pytest.raises(ValidationError) as refused:
        services.commitment_answer(
            actor=world.manager, commitment=commitment, answer=Answer.COMMITTED, join_by=after
        )
    assert "reason" in refused.value.message_dict
    with pytest.raises(ValidationError) as refused:
        services.commitment_answer(
            actor=world.manager, commitment=commitment, answer=Answer.COMMITTED
        )
    assert "join_by" in refused.value.message_dict
    assert Commitment.objects.get(pk=commitment.pk).answer == Answer.PENDING
    services.commitment_answer(
        actor=world.manager,
        commitment=commitment,
        answer=Answer.COMMITTED,
        join_by=after,
        reason="Our contract ends a month later.",
    )
    saved = Commitment.objects.get(pk=commitment.pk)
    assert (saved.answer, saved.join_by, saved.answered_by) == (
        Answer.COMMITTED,
        after,
        world.manager,
    )


def test_a_decline_needs_a_reason_and_only_the_departments_people_answer(world):
    programme = _propose(world, departments=[world.lcs])
    commitment = programme.commitments.get()
    with pytest.raises(ValidationError) as refused:
        services.commitment_answer(
            actor=world.deputy_minister, commitment=commitment, answer=Answer.DECLINED
        )
    assert "reason" in refused.value.message_dict
    for outsider in (world.other_manager, world.analyst, world.provider_manager):
        with pytest.raises(Forbidden, match="Only the managers and deputy minister of LCS"):
            services.commitment_answer(
                actor=outsider, commitment=commitment, answer=Answer.DECLINED, reason="No."
            )
    services.commitment_answer(
        actor=world.deputy_minister,
        commitment=commitment,
        answer=Answer.DECLINED,
        reason="We run our own desktops for security reasons.",
    )
    assert Commitment.objects.get(pk=commitment.pk).answer == Answer.DECLINED


def test_progress_is_pending_committed_joined_late_or_declined(world):
    today = timezone.localdate()
    programme = _propose(world, departments=[world.lcs, world.env, world.fin, world.tech])
    by_code = {c.department.code: c for c in programme.commitments.all()}
    soon = today + datetime.timedelta(days=10)
    for code in ("LCS", "ENV", "FIN"):
        services.commitment_answer(
            actor=world.administrator,
            commitment=by_code[code],
            answer=Answer.COMMITTED,
            join_by=soon,
        )
    services.commitment_answer(
        actor=world.administrator, commitment=by_code["TECH"], answer=Answer.DECLINED, reason="Own."
    )
    # LCS is already in IT-TECH (since 2025); ENV joins a cluster of IT in time; FIN does not.
    Membership.objects.create(
        department=world.env,
        cluster=world.it_tech,
        service=world.it,
        joined_on=soon,
        usage_units=10,
    )
    later = soon + datetime.timedelta(days=1)
    progress = {
        c.department.code: c.progress_on(later, joined=c.joined_on_time)
        for c in Commitment.objects.with_joined().filter(programme=programme)
    }
    assert progress == {
        "LCS": Progress.JOINED,
        "ENV": Progress.JOINED,
        "FIN": Progress.LATE,
        "TECH": Progress.DECLINED,
    }
    on_the_day = Commitment.objects.with_joined().get(pk=by_code["FIN"].pk)
    assert on_the_day.progress_on(soon, joined=on_the_day.joined_on_time) == Progress.COMMITTED


def test_the_sponsor_and_the_department_are_told_once_when_a_date_passes(seated):
    today = timezone.localdate()
    programme = _propose(seated, departments=[seated.fin])
    _approve(seated, programme)
    commitment = programme.commitments.get()
    soon = today + datetime.timedelta(days=10)
    services.commitment_answer(
        actor=seated.recused_deputy_minister,
        commitment=commitment,
        answer=Answer.COMMITTED,
        join_by=soon,
    )
    assert services.commitments_notify_late(as_of=soon) == 0  # the day itself is not late
    after = soon + datetime.timedelta(days=1)
    assert services.commitments_notify_late(as_of=after) == 1
    assert services.commitments_notify_late(as_of=after + datetime.timedelta(days=1)) == 0
    told = Notification.objects.filter(kind=NotificationKind.PROGRAMME_LATE)
    assert sorted(n.recipient.username for n in told) == ["dm_fin", "dm_lcs"]
    assert Commitment.objects.get(pk=commitment.pk).late_notified_on == after
