"""Alternates on the board (issue 14): a deputy minister names one person of their own
department to vote for the seat between two dates (inclusive).

The board fixture's case: LCS asks to leave PAY-PSOA for PAY-TECH; LCS, FIN and TECH are
recused; AGRI, EDUC, HLTH, JAG and TRAN vote (quorum 3). An alternate stands in for
AGRI's seat (AGRI is in no cluster, so its people read the case only through the seat).
"""

from __future__ import annotations

import datetime

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from django.utils import timezone

from clusters.models import (
    ALTERNATE_ENDS_BEFORE_START,
    ALTERNATE_HOLDS_ANOTHER,
    ALTERNATE_SEAT_TAKEN,
    Alternate,
    AlternateStatus,
    Department,
)
from clusters.rules import board_seat_departments
from clusters.services import (
    ALTERNATE_ALREADY_OVER,
    ALTERNATE_IS_DEPUTY_MINISTER,
    ALTERNATE_NOT_ACTIVE,
    ALTERNATE_NOT_OF_A_DEPARTMENT,
    ALTERNATE_OF_ANOTHER_DEPARTMENT,
    ALTERNATE_STARTS_IN_THE_PAST,
    NOT_A_SEAT,
    NOT_THE_SEATS_DEPUTY_MINISTER,
    alternate_end,
    alternate_name,
)
from defection.models import Destination, ExitRequest, ExitStatus, Reason
from defection.services import exit_request_submit
from governance import services
from governance.models import Case, CaseStatus, Vote
from governance.rules import seat_department_ids
from notifications.models import Notification, NotificationKind
from sharedsvc.errors import Conflict, Forbidden
from sharedsvc.roles import Role
from tests.factories import DepartmentFactory, MembershipFactory, UserFactory
from tests.pages import text


def today() -> datetime.date:
    return timezone.localdate()


def days(n: int) -> datetime.date:
    return today() + datetime.timedelta(days=n)


def person_of(department: Department, username: str, **fields) -> object:
    return UserFactory(
        username=username, role=Role.DEPARTMENT_MANAGER, department=department, **fields
    )


@pytest.fixture
def agri(board) -> Department:
    return board[0].department


@pytest.fixture
def stand_in(agri):
    """AGRI's chief of staff: no deputy minister, of AGRI."""
    return person_of(agri, "cos_agri", first_name="Ada", last_name="Stand")


def name(dm, department, user, start=0, end=10) -> Alternate:
    return alternate_name(
        actor=dm, department=department, user=user, starts_on=days(start), ends_on=days(end)
    )


def refusal(error: ValidationError) -> dict[str, list[str]]:
    return error.message_dict


# --- naming ---------------------------------------------------------------------------------


def test_the_deputy_minister_names_an_alternate_who_then_holds_the_seat(board, agri, stand_in):
    assert seat_department_ids(stand_in) == set()
    naming = name(board[0], agri, stand_in)
    saved = Alternate.objects.get()
    assert (saved.department, saved.user, saved.starts_on, saved.ends_on) == (
        agri,
        stand_in,
        today(),
        days(10),
    )
    assert (saved.named_by, saved.ended_at) == (board[0], None)
    assert naming.status_on(today()) == AlternateStatus.CURRENT
    assert list(board_seat_departments(stand_in)) == [agri]
    assert stand_in.has_perm("governance.add_vote")
    # The deputy minister keeps the seat too.
    assert list(board_seat_departments(board[0])) == [agri]


def test_an_upcoming_alternate_holds_no_seat_yet(board, agri, stand_in):
    name(board[0], agri, stand_in, start=3, end=5)
    assert seat_department_ids(stand_in) == set()
    assert seat_department_ids(stand_in, days(3)) == {agri.pk}
    assert seat_department_ids(stand_in, days(5)) == {agri.pk}  # the end date is inclusive
    assert seat_department_ids(stand_in, days(6)) == set()
    assert not stand_in.has_perm("governance.add_vote")


def test_an_administrator_may_name_one(world, agri, stand_in):
    name(world.administrator, agri, stand_in)
    assert Alternate.objects.get().named_by == world.administrator


@pytest.mark.parametrize("persona", ["manager", "other_manager", "deputy_minister", "analyst"])
def test_nobody_else_names_a_seats_alternate(world, board, agri, stand_in, persona):
    with pytest.raises(PermissionDenied, match=NOT_THE_SEATS_DEPUTY_MINISTER):
        name(getattr(world, persona), agri, stand_in)
    assert not Alternate.objects.exists()


def test_an_alternate_from_another_department_is_refused(world, board, agri):
    with pytest.raises(ValidationError) as error:
        name(board[0], agri, world.manager)
    assert refusal(error.value) == {
        "user": [ALTERNATE_OF_ANOTHER_DEPARTMENT.format(department=agri.name)]
    }
    assert not Alternate.objects.exists()


def test_overlapping_ranges_for_one_seat_are_refused(board, agri, stand_in):
    name(board[0], agri, stand_in, start=0, end=10)
    other = person_of(agri, "dep_agri")
    with pytest.raises(ValidationError) as error:
        name(board[0], agri, other, start=10, end=20)  # 10 is in both
    assert ALTERNATE_SEAT_TAKEN in refusal(error.value)["__all__"]
    name(board[0], agri, other, start=11, end=20)  # the day after is free
    assert Alternate.objects.count() == 2


def test_nobody_holds_two_seats(world, board, agri, stand_in):
    name(board[0], agri, stand_in, start=0, end=10)
    # They move to EDUC meanwhile; EDUC's deputy minister cannot name them over those days.
    educ = board[1].department
    stand_in.department = educ
    stand_in.save()
    with pytest.raises(ValidationError) as error:
        name(board[1], educ, stand_in, start=5, end=15)
    assert ALTERNATE_HOLDS_ANOTHER in refusal(error.value)["__all__"]
    # Nor do they hold AGRI's seat any more: the seat is for a person of the department.
    assert seat_department_ids(stand_in) == set()
    assert Alternate.objects.count() == 1


def test_a_deputy_minister_cannot_be_an_alternate(world, board, agri):
    with pytest.raises(ValidationError) as error:
        name(world.deputy_minister, world.lcs, world.deputy_minister)
    assert refusal(error.value) == {"user": [ALTERNATE_IS_DEPUTY_MINISTER]}
    assert not Alternate.objects.exists()


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"start": -1}, "starts_on", ALTERNATE_STARTS_IN_THE_PAST),
        ({"start": 5, "end": 4}, "ends_on", ALTERNATE_ENDS_BEFORE_START),
    ],
)
def test_bad_dates_are_refused(board, agri, stand_in, change, field, message):
    with pytest.raises(ValidationError) as error:
        name(board[0], agri, stand_in, **change)
    assert refusal(error.value) == {field: [message]}
    assert not Alternate.objects.exists()


def test_an_inactive_person_or_one_without_a_department_is_refused(world, board, agri):
    asleep = person_of(agri, "gone_agri", is_active=False)
    with pytest.raises(ValidationError) as error:
        name(board[0], agri, asleep)
    assert refusal(error.value) == {"user": [ALTERNATE_NOT_ACTIVE]}
    with pytest.raises(ValidationError) as error:
        name(board[0], agri, world.provider_manager)
    assert refusal(error.value) == {"user": [ALTERNATE_NOT_OF_A_DEPARTMENT]}
    assert not Alternate.objects.exists()


def test_a_department_without_a_seat_has_no_alternate(world):
    small = DepartmentFactory(code="SMALL", is_main=False)
    person = person_of(small, "mgr_small")
    with pytest.raises(ValidationError) as error:
        name(world.administrator, small, person)
    assert refusal(error.value) == {"department": [NOT_A_SEAT.format(department=small.name)]}


# --- ending early -----------------------------------------------------------------------------


def test_the_deputy_minister_ends_the_range_early(board, agri, stand_in):
    with time_machine.travel(timezone.now() - datetime.timedelta(days=3)):
        name(board[0], agri, stand_in, start=0, end=10)
    alternate_end(actor=board[0], alternate=Alternate.objects.get())
    saved = Alternate.objects.get()
    assert saved.ends_on == days(-1)  # the seat is back with the deputy minister from today
    assert (saved.ended_by, saved.ended_at is not None) == (board[0], True)
    assert saved.status_on(today()) == AlternateStatus.PAST
    assert seat_department_ids(stand_in) == set()
    with pytest.raises(Conflict, match=ALTERNATE_ALREADY_OVER):
        alternate_end(actor=board[0], alternate=saved)
    # Never deleted; and the seat may have a new alternate from today.
    name(board[0], agri, person_of(agri, "dep_agri"), start=0, end=5)
    assert Alternate.objects.count() == 2


def test_ending_one_that_has_not_begun_withdraws_it(board, agri, stand_in):
    name(board[0], agri, stand_in, start=5, end=10)
    alternate_end(actor=board[0], alternate=Alternate.objects.get())
    saved = Alternate.objects.get()
    assert (saved.starts_on, saved.ends_on) == (days(5), days(4))
    assert saved.status_on(today()) == AlternateStatus.WITHDRAWN
    assert seat_department_ids(stand_in, days(5)) == set()
    name(board[0], agri, stand_in, start=5, end=10)  # the dates are free again


def test_only_the_seats_deputy_minister_or_an_administrator_ends_it(world, board, agri, stand_in):
    naming = name(board[0], agri, stand_in)
    for who in (stand_in, board[1], world.manager):
        with pytest.raises(PermissionDenied, match=NOT_THE_SEATS_DEPUTY_MINISTER):
            alternate_end(actor=who, alternate=naming)
    assert Alternate.objects.get().ends_on == days(10)
    alternate_end(actor=world.administrator, alternate=naming)
    assert Alternate.objects.get().ended_by == world.administrator


# --- voting ------------------------------------------------------------------------------------


def test_the_alternate_votes_for_the_seat_and_the_vote_says_who_cast_it(
    board, agri, stand_in, case
):
    naming = name(board[0], agri, stand_in)
    _, created = services.vote_cast(actor=stand_in, case=case, choice="approve")
    assert created
    saved = Vote.objects.get()
    assert (saved.department, saved.voter, saved.cast_by, saved.alternate, saved.choice) == (
        agri,
        board[0],
        stand_in,
        naming,
        "approve",
    )
    assert saved.by_alternate


def test_the_later_vote_counts_whoever_of_the_two_casts_it(board, agri, stand_in, case):
    naming = name(board[0], agri, stand_in)
    services.vote_cast(actor=stand_in, case=case, choice="approve")
    _, created = services.vote_cast(actor=board[0], case=case, choice="reject", reason="No.")
    assert not created
    saved = Vote.objects.get()  # the seat's one vote
    assert (saved.choice, saved.cast_by, saved.alternate) == ("reject", board[0], None)
    _, created = services.vote_cast(actor=stand_in, case=case, choice="abstain")
    assert not created
    saved = Vote.objects.get()
    assert (saved.choice, saved.cast_by, saved.alternate) == ("abstain", stand_in, naming)
    assert Vote.objects.filter(case=case).count() == 1


def test_a_recused_seat_is_recused_for_its_alternate_too(world, board, case):
    fin_person = person_of(world.fin, "cos_fin")
    name(world.recused_deputy_minister, world.fin, fin_person)
    with pytest.raises(Forbidden) as refused:
        services.vote_cast(actor=fin_person, case=case, choice="approve")
    assert "recused" in refused.value.message and "hosts the current" in refused.value.message
    assert not Vote.objects.exists()


def test_no_vote_before_or_after_the_range_nor_once_ended(board, agri, stand_in, case):
    name(board[0], agri, stand_in, start=1, end=2)
    with pytest.raises(Forbidden, match=services.NO_SEAT):
        services.vote_cast(actor=stand_in, case=case, choice="approve")
    with time_machine.travel(timezone.now() + datetime.timedelta(days=1)):
        services.vote_cast(actor=stand_in, case=case, choice="approve")
    with (
        time_machine.travel(timezone.now() + datetime.timedelta(days=3)),
        pytest.raises(Forbidden, match=services.NO_SEAT),
    ):
        services.vote_cast(actor=stand_in, case=case, choice="reject", reason="No.")
    assert Vote.objects.get().choice == "approve"


def test_an_ended_alternate_votes_no_more(board, agri, stand_in, case):
    naming = name(board[0], agri, stand_in)
    alternate_end(actor=board[0], alternate=naming)
    with pytest.raises(Forbidden, match=services.NO_SEAT):
        services.vote_cast(actor=stand_in, case=case, choice="approve")
    assert not Vote.objects.exists()


def test_an_alternates_deciding_vote_schedules_the_exit(world, board, case):
    hlth = board[2].department
    person = person_of(hlth, "cos_hlth")
    name(board[2], hlth, person)
    services.vote_cast(actor=board[0], case=case, choice="approve")
    services.vote_cast(actor=board[1], case=case, choice="approve")
    services.vote_cast(actor=person, case=case, choice="approve")  # 3 of 5, none against
    case.refresh_from_db()
    assert case.status == CaseStatus.APPROVED
    assert case.exit_request.status == ExitStatus.SCHEDULED


# --- reading --------------------------------------------------------------------------------------


def test_the_alternate_reads_the_boards_cases_while_named(board, agri, stand_in, case):
    assert not Case.objects.visible_to(stand_in).exists()
    name(board[0], agri, stand_in, start=0, end=2)
    assert list(Case.objects.visible_to(stand_in)) == [case]
    with time_machine.travel(timezone.now() + datetime.timedelta(days=3)):
        assert not Case.objects.visible_to(stand_in).exists()


def test_the_alternate_reads_the_exit_request_whole_as_the_board_does(board, agri, stand_in, case):
    request = case.exit_request
    assert not ExitRequest.objects.visible_to(stand_in).exists()
    name(board[0], agri, stand_in, start=0, end=2)
    seen = ExitRequest.objects.with_seen_whole(stand_in).get(pk=request.pk)
    assert seen.seen_whole and stand_in.has_perm("defection.view_exitrequest_whole", request)
    client = Client()
    client.force_login(stand_in)
    assert "Justification" in text(client.get(f"/cases/{case.pk}/"))
    assert client.get(f"/exit-requests/{request.pk}/").status_code == 200


def test_the_alternate_sees_the_votes_once_the_seat_has_voted(board, agri, stand_in, case):
    name(board[0], agri, stand_in)
    services.vote_cast(actor=board[1], case=case, choice="approve")
    assert not stand_in.has_perm("governance.view_case_votes", case)
    assert not Vote.objects.visible_to(stand_in).exists()
    services.vote_cast(actor=board[0], case=case, choice="approve")  # the DM, for the seat
    assert stand_in.has_perm("governance.view_case_votes", case)
    assert Vote.objects.visible_to(stand_in).count() == 2


def test_the_case_page_and_the_record_say_who_cast_it_as_alternate(
    client, board, agri, stand_in, case
):
    name(board[0], agri, stand_in)
    client.force_login(stand_in)
    page = client.get(f"/cases/{case.pk}/")
    assert page.status_code == 200
    assert "You hold this seat as alternate for the deputy minister of Ministry AGRI" in text(page)
    response = client.post(f"/cases/{case.pk}/", {"choice": "approve", "reason": ""})
    assert response.status_code == 302
    said = "Cast by Ada Stand as alternate for the deputy minister of Ministry AGRI"
    assert said in text(client.get(f"/cases/{case.pk}/"))
    for dm in board[1:3]:
        services.vote_cast(actor=dm, case=case, choice="approve")
    assert Case.objects.get(pk=case.pk).status == CaseStatus.APPROVED
    assert said in text(client.get(f"/cases/{case.pk}/decision/"))
    assert Vote.objects.get(department=agri).cast_by == stand_in


# --- notifications and reminders ----------------------------------------------------------------


def _open_case(world):
    return exit_request_submit(
        actor=world.other_manager,
        department=world.env,
        from_cluster=world.pay_psoa,
        destination=Destination.IN_HOUSE,
        reason=Reason.COST,
        justification="Cheaper in-house.",
    ).board_case


def test_the_alternate_is_told_of_a_case_opened_while_named(world, board, agri, stand_in):
    name(board[0], agri, stand_in, start=0, end=2)
    case = _open_case(world)
    told = Notification.objects.filter(kind=NotificationKind.CASE_OPENED, link=f"/cases/{case.pk}/")
    assert set(told.values_list("recipient__username", flat=True)) >= {"dm_agri", "cos_agri"}
    with time_machine.travel(timezone.now() + datetime.timedelta(days=3)):
        later = _open_case_of(world, "LATE")
    told = Notification.objects.filter(
        kind=NotificationKind.CASE_OPENED, link=f"/cases/{later.pk}/"
    )
    recipients = set(told.values_list("recipient__username", flat=True))
    assert "dm_agri" in recipients and "cos_agri" not in recipients


def _open_case_of(world, code: str) -> Case:
    department = DepartmentFactory(code=code, is_main=False)
    MembershipFactory(department=department, cluster=world.pay_psoa)
    return exit_request_submit(
        actor=world.administrator,
        department=department,
        from_cluster=world.pay_psoa,
        destination=Destination.IN_HOUSE,
        reason=Reason.COST,
        justification="In-house.",
    ).board_case


def test_reminders_go_to_the_alternate_while_named_and_not_after(world, board, agri, stand_in):
    case = _open_case(world)
    due = case.closes_at - datetime.timedelta(hours=47)
    due_day = timezone.localdate(due)
    # AGRI's alternate is named over the reminder's day; EDUC's ended the day before it.
    name(board[0], agri, stand_in, start=0, end=(due_day - today()).days)
    educ = board[1].department
    past = person_of(educ, "cos_educ")
    name(board[1], educ, past, start=0, end=(due_day - today()).days - 1)
    eligible = case.seats.filter(recused=False).count()
    assert services.case_send_reminders(as_of=due) == eligible  # every eligible seat, once
    reminded = set(
        Notification.objects.filter(kind=NotificationKind.CASE_REMINDER).values_list(
            "recipient__username", flat=True
        )
    )
    assert "cos_agri" in reminded and "dm_agri" in reminded
    assert "cos_educ" not in reminded and "dm_educ" in reminded
