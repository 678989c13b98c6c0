"""The board's pages per role: the cases, a case with its vote form, the decision record.
Every vote through the form is checked in the database afterwards."""

from __future__ import annotations

import datetime
import re
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone

from clusters.models import Membership
from defection.models import Destination, Reason
from defection.services import exit_request_submit
from governance import services, views
from governance.forms import REASON_HINT
from governance.models import REASON_MAX_LENGTH, Case, CaseStatus, Vote
from sharedsvc.roles import Role
from tests.factories import DepartmentFactory, MembershipFactory, UserFactory
from tests.governance.conftest import seat_holder
from tests.pages import count_queries, html, text


def signed_in(client: Client, user) -> Client:
    client.force_login(user)
    return client


def error_summary(response) -> list[str]:
    body = html(response)
    match = re.search(r'class="govuk-error-summary".*?</ul>', body, re.S)
    assert match, "no error summary on the page"
    return [
        re.sub(r"<[^>]+>", "", item).strip()
        for item in re.findall(r"<li>(.*?)</li>", match.group(0), re.S)
    ]


def section(response, element_id: str) -> str:
    """The words of the table or list with this id."""
    body = html(response)
    match = re.search(rf'<(\w+)[^>]*id="{element_id}".*?</\1>', body, re.S)
    assert match, f"no #{element_id} on the page"
    return " ".join(re.sub(r"<[^>]+>", " ", match.group(0)).split())


def url(case: Case) -> str:
    return f"/cases/{case.pk}/"


def reload(case: Case) -> Case:
    return Case.objects.get(pk=case.pk)


def vote(user, case, choice, reason="Because."):
    return services.vote_cast(actor=user, case=case, choice=choice, reason=reason)


def post_vote(client: Client, case: Case, choice: str | None, reason: str = ""):
    data = {"reason": reason}
    if choice is not None:
        data["choice"] = choice
    return client.post(url(case), data)


# --- time left ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("delta", "expected"),
    [
        (datetime.timedelta(days=3, hours=4, minutes=20), "3 days 4 hours left"),
        (datetime.timedelta(days=1, minutes=5), "1 day left"),
        (datetime.timedelta(hours=5, minutes=10), "5 hours 10 minutes left"),
        (datetime.timedelta(hours=1), "1 hour left"),
        (datetime.timedelta(minutes=1, seconds=30), "1 minute left"),
        (datetime.timedelta(seconds=20), "1 minute left"),
        (datetime.timedelta(0), "Voting has closed"),
        (datetime.timedelta(hours=-2), "Voting has closed"),
    ],
)
def test_time_left_reads_naturally(delta, expected):
    now = timezone.now()
    assert views.time_left(now + delta, now) == expected


# --- the cases page ---------------------------------------------------------------------------


def second_case(world, board):
    """ENV asks to leave PAY-PSOA for an in-house service: LCS is eligible this time."""
    request = exit_request_submit(
        actor=world.other_manager,
        department=world.env,
        from_cluster=world.pay_psoa,
        destination=Destination.IN_HOUSE,
        reason=Reason.COST,
        justification="We can run payroll for less ourselves.",
    )
    return request.board_case


def test_cases_waiting_for_my_vote_come_first_then_open_then_decided(world, board, case, client):
    other = second_case(world, board)
    # A third case, decided: HLTH leaves PAY-PSOA in-house and three seats reject it.
    hlth = board[2].department
    MembershipFactory(department=hlth, cluster=world.pay_psoa)
    decided = exit_request_submit(
        actor=board[2],
        department=hlth,
        from_cluster=world.pay_psoa,
        destination=Destination.IN_HOUSE,
        reason=Reason.STRATEGIC,
        justification="Strategy.",
    ).board_case
    for dm in (board[0], board[1], board[3], board[4]):  # 4 of 6 eligible: settled
        vote(dm, decided, "reject", "Stay.")
    assert reload(decided).status == CaseStatus.REJECTED
    # AGRI has voted on the ENV case: it waits for AGRI's vote no more.
    vote(board[0], other, "abstain")

    response = signed_in(client, board[0]).get("/cases/")
    assert response.status_code == 200
    waiting = section(response, "waiting-table")
    assert f"Case {case.pk} LCS PSOA Payroll Technology Payroll" in waiting
    assert "13 days 23 hours left" in waiting
    assert f"Case {other.pk}" not in waiting
    assert f"Case {other.pk} ENV PSOA Payroll In-house Cost" in section(response, "open-table")
    assert f"Case {decided.pk} HLTH PSOA Payroll In-house Rejected" in section(
        response, "decided-table"
    )
    body = html(response)
    order = [body.index(f'id="{part}"') for part in ("waiting", "open", "decided")]
    assert order == sorted(order)


def test_a_recused_deputy_minister_has_nothing_waiting(world, board, case, client):
    response = signed_in(client, world.deputy_minister).get("/cases/")  # LCS: the requester
    assert "No case is waiting for your vote." in text(response)
    assert f"Case {case.pk}" in section(response, "open-table")


def test_a_case_past_its_closing_time_waits_for_nobody(world, board, case, client):
    Case.objects.filter(pk=case.pk).update(
        opened_at=timezone.now() - datetime.timedelta(days=15),
        closes_at=timezone.now() - datetime.timedelta(hours=1),
    )
    response = signed_in(client, board[0]).get("/cases/")
    assert "No case is waiting for your vote." in text(response)
    assert "Voting has closed" in section(response, "open-table")


@pytest.mark.parametrize("persona", ["analyst", "administrator"])
def test_readers_see_every_case_without_a_waiting_list(world, board, case, client, persona):
    response = signed_in(client, getattr(world, persona)).get("/cases/")
    assert 'id="waiting"' not in html(response)
    assert f"Case {case.pk}" in section(response, "open-table")


def test_a_department_sees_only_the_cases_it_may_see(world, board, case, client):
    # The requester's own manager sees it; a manager of a department outside the cluster
    # does not, in the list or by address.
    assert f"Case {case.pk}" in section(
        signed_in(client, world.manager).get("/cases/"), "open-table"
    )
    stranger_dept = DepartmentFactory(code="XTRA", is_main=False)
    stranger = UserFactory(
        username="mgr_xtra", role=Role.DEPARTMENT_MANAGER, department=stranger_dept
    )
    response = signed_in(client, stranger).get("/cases/")
    assert "No case is open." in text(response)
    assert client.get(url(case)).status_code == 404
    assert client.get(f"{url(case)}decision/").status_code == 404


def test_an_unknown_case_is_404(world, client):
    assert signed_in(client, world.analyst).get("/cases/999999/").status_code == 404


# --- the case page ----------------------------------------------------------------------------


def test_the_case_page_shows_the_request_board_and_a_vote_form(world, board, case, client):
    response = signed_in(client, board[0]).get(url(case))
    assert response.status_code == 200
    words = text(response)
    assert f"Case {case.pk} Open" in words
    assert "Labour and Citizens' Services asks to leave PSOA Payroll" in words
    assert "13 days 23 hours left : voting closes on" in words
    summary = section(response, "request-summary")
    assert "Department Labour and Citizens' Services (LCS)" in summary
    assert "Leaving PSOA Payroll (Payroll, run by Public Service Operations Agency)" in summary
    assert "Destination Technology Payroll (Technology Services)" in summary
    assert "Reason Service quality" in summary
    assert f'href="/exit-requests/{case.exit_request_id}/"' in html(response)
    assert "Payroll errors every month for a year." in section(response, "justification")
    # No cost pool yet: the impact is not known, but those who stay are named.
    assert "the cost to those who stay is not known. The departments that stay: ENV." in words
    # A service-quality request shows its persistent breaches; this one has none recorded.
    assert (
        "No persistent breach of this cluster's standards is recorded for this department." in words
    )
    assert section(response, "eligible-seats").count("Ministry") == 5
    recused = section(response, "recused-seats")
    assert "Finance (FIN) Hosts the current cluster's provider" in recused
    assert "Labour and Citizens' Services (LCS) The requesting department" in recused
    assert "Technology (TECH) Hosts the proposed provider" in recused
    assert "Quorum: 3 of the 5 eligible seats must vote" in words
    body = html(response)
    assert 'name="choice"' in body and 'name="reason"' in body
    assert REASON_HINT in words
    assert "Cast my vote" in words
    assert "checked" not in body
    assert views.VOTES_HIDDEN in words


def test_the_exit_impact_table_shows_what_those_who_stay_pay(world, board, client):
    from budgets.services import cost_pool_create

    cost_pool_create(
        actor=world.provider_manager,
        cluster=world.pay_psoa,
        period=datetime.date(2026, 4, 1),
        amount=Decimal("7000"),
    )
    request = exit_request_submit(
        actor=world.manager,
        department=world.lcs,
        from_cluster=world.pay_psoa,
        destination=Destination.PROVIDER,
        to_provider=world.outside,
        reason=Reason.COST,
        justification="Cheaper.",
    )
    response = signed_in(client, board[0]).get(url(request.board_case))
    # 7,000.00 over 700 units = 10.00 a unit; fixed ratio 1.00: ENV's 300 units pay it all.
    words = text(response)
    assert "From the April 2026 cost pool of 7,000.00 (100% of it fixed)" in words
    assert "the cost per unit goes from 10.00 to 23.3333" in words
    assert section(response, "impact-table").endswith("ENV 300 3,000.00 7,000.00 +4,000.00")
    assert "Evidence of service quality" not in words  # a cost request


def test_a_vote_through_the_form_creates_exactly_one_vote(world, board, case, client):
    response = post_vote(signed_in(client, board[0]), case, "approve", "Fair case.")
    assert response.status_code == 302 and response["Location"] == url(case)
    saved = Vote.objects.get()
    assert (saved.case, saved.department, saved.voter, saved.choice, saved.reason) == (
        case,
        board[0].department,
        board[0],
        "approve",
        "Fair case.",
    )
    page = client.get(url(case))
    words = text(page)
    assert views.VOTE_CAST.format(choice="approve") in words
    # The form now changes the vote, filled in with it.
    assert "Change my vote" in words
    assert re.search(r'value="approve" checked', html(page))
    assert ">Fair case.</textarea>" in html(page)
    # And the tally and each seat's vote are shown.
    assert "1 approve, 0 reject, 0 abstain : 1 of 5 eligible seats voted (quorum 3)." in words
    assert "Department Voter Vote Reason When AGRI dm_agri Approve Fair case." in section(
        page, "votes-table"
    )


def test_changing_a_vote_keeps_one_vote_per_seat(world, board, case, client):
    vote(board[0], case, "approve")
    response = post_vote(signed_in(client, board[0]), case, "reject", "On reflection, no.")
    assert response.status_code == 302
    saved = Vote.objects.get()
    assert (saved.choice, saved.reason) == ("reject", "On reflection, no.")
    assert views.VOTE_CHANGED.format(choice="reject") in text(client.get(url(case)))


def test_a_deciding_vote_says_so(world, board, case, client):
    vote(board[0], case, "approve")
    vote(board[1], case, "approve")
    response = post_vote(signed_in(client, board[2]), case, "approve")
    assert response.status_code == 302
    assert reload(case).status == CaseStatus.APPROVED
    words = text(client.get(url(case)))
    assert "With your vote the case is decided: approved." in words
    assert "Read the decision record" in words
    assert "This case is approved; votes closed at its decision." in words


@pytest.mark.parametrize(
    ("choice", "reason", "message"),
    [
        ("reject", "", services.REJECT_NEEDS_REASON),
        ("reject", "   ", services.REJECT_NEEDS_REASON),
        (None, "", services.UNKNOWN_CHOICE),
        ("maybe", "", services.UNKNOWN_CHOICE),
        ("approve", "x" * (REASON_MAX_LENGTH + 1), services.REASON_TOO_LONG),
    ],
)
def test_a_bad_vote_saves_nothing(world, board, case, client, choice, reason, message):
    response = post_vote(signed_in(client, board[0]), case, choice, reason)
    assert response.status_code == 400
    assert error_summary(response) == [message]
    assert html(response).count("<title>Error: ") == 1
    assert not Vote.objects.exists()


def test_a_bad_change_keeps_the_vote_as_it_was(world, board, case, client):
    vote(board[0], case, "approve", "Good.")
    response = post_vote(signed_in(client, board[0]), case, "reject", "")
    assert response.status_code == 400
    assert error_summary(response) == [services.REJECT_NEEDS_REASON]
    saved = Vote.objects.get()
    assert (saved.choice, saved.reason) == ("approve", "Good.")


def test_a_reason_of_exactly_the_limit_is_accepted(world, board, case, client):
    response = post_vote(signed_in(client, board[0]), case, "reject", "y" * REASON_MAX_LENGTH)
    assert response.status_code == 302
    assert len(Vote.objects.get().reason) == REASON_MAX_LENGTH


def test_a_recused_deputy_minister_gets_no_form_and_a_post_is_403(world, board, case, client):
    signed_in(client, world.recused_deputy_minister)  # FIN hosts the PSOA
    page = client.get(url(case))
    assert page.status_code == 200
    message = services.RECUSED.format(reasons="hosts the current cluster's provider")
    assert message in text(page)
    assert 'name="choice"' not in html(page)
    response = post_vote(client, case, "approve")
    assert response.status_code == 403
    assert message in text(response)
    assert not Vote.objects.exists()


@pytest.mark.parametrize("persona", ["manager", "analyst", "administrator", "provider_manager"])
def test_those_without_a_seat_get_no_form_and_a_post_is_403(world, board, case, client, persona):
    signed_in(client, getattr(world, persona))
    page = client.get(url(case))
    assert page.status_code == 200
    assert services.NO_SEAT in text(page)
    assert 'name="choice"' not in html(page)
    response = post_vote(client, case, "approve")
    assert response.status_code == 403
    assert services.NO_SEAT in text(response)
    assert not Vote.objects.exists()


def test_a_deputy_minister_who_is_no_longer_in_office_has_no_seat(world, board, case, client):
    successor = UserFactory(
        username="dm_agri_2", role=Role.DEPUTY_MINISTER, department=board[0].department
    )
    board[0].department.deputy_minister = successor
    board[0].department.save()
    # Board rights follow the seat: the former deputy minister no longer even reads the
    # case (finding 6), so the vote is 404, not 403.
    response = post_vote(signed_in(client, board[0]), case, "approve")
    assert response.status_code == 404
    assert not Vote.objects.exists()


def test_voting_on_a_decided_case_is_409_with_the_message(world, board, case, client):
    for dm in board[:3]:
        vote(dm, case, "approve")
    assert reload(case).status == CaseStatus.APPROVED
    response = post_vote(signed_in(client, board[3]), case, "reject", "Too late?")
    assert response.status_code == 409
    assert "This case is approved; votes closed at its decision." in text(response)
    assert Vote.objects.filter(department=board[3].department).count() == 0


def test_voting_after_the_closing_time_is_409_even_before_the_case_is_closed(
    world, board, case, client
):
    Case.objects.filter(pk=case.pk).update(
        opened_at=timezone.now() - datetime.timedelta(days=15),
        closes_at=timezone.now() - datetime.timedelta(minutes=1),
    )
    signed_in(client, board[0])
    assert 'name="choice"' not in html(client.get(url(case)))
    response = post_vote(client, case, "approve")
    assert response.status_code == 409
    assert "This case is closed" in text(response)
    assert not Vote.objects.exists()


def test_a_case_closed_between_page_and_vote_is_409_not_500(world, board, case, client):
    """The form was shown; the request was withdrawn before it was sent."""
    from defection.services import exit_request_withdraw

    signed_in(client, board[0])
    assert 'name="choice"' in html(client.get(url(case)))
    exit_request_withdraw(actor=world.manager, exit_request=case.exit_request)
    response = post_vote(client, case, "approve")
    assert response.status_code == 409
    assert "This case is withdrawn" in text(response)
    assert not Vote.objects.exists()


def test_votes_are_hidden_from_a_seat_that_has_not_voted(world, board, case, client):
    vote(board[0], case, "reject", "Secret reason.")
    page = signed_in(client, board[1]).get(url(case))
    assert "Secret reason." not in html(page)
    assert 'id="votes-table"' not in html(page) and 'id="tally"' not in html(page)
    assert views.VOTES_HIDDEN in text(page)
    # The requester's own people do not see them while the case is open either.
    assert "Secret reason." not in html(signed_in(client, world.manager).get(url(case)))
    # Analysts read every vote.
    assert "Secret reason." in section(
        signed_in(client, world.analyst).get(url(case)), "votes-table"
    )


def test_everyone_who_sees_a_decided_case_sees_its_votes(world, board, case, client):
    vote(board[0], case, "reject", "Fix it first.")
    for dm in board[1:3]:  # 3 of 5 reject: settled
        vote(dm, case, "reject", "No.")
    assert reload(case).status == CaseStatus.REJECTED
    page = signed_in(client, world.manager).get(url(case))
    assert "Fix it first." in section(page, "votes-table")
    assert "0 approve, 3 reject, 0 abstain" in text(page)


# --- the decision record ----------------------------------------------------------------------


def test_an_open_case_has_no_decision_record_yet(world, board, case, client):
    response = signed_in(client, board[0]).get(f"{url(case)}decision/")
    assert response.status_code == 404
    assert f"There is no decision record yet: case {case.pk} is open" in text(response)


def test_the_decision_record_has_the_request_votes_outcome_rule_and_dates(
    world, board, case, client
):
    vote(board[0], case, "approve", "Evidence is clear.")
    vote(board[1], case, "reject", "Give the PSOA a chance.")
    vote(board[2], case, "approve", "Agreed.")
    vote(board[3], case, "approve")
    case = reload(case)
    assert case.status == CaseStatus.APPROVED
    response = signed_in(client, world.analyst).get(f"{url(case)}decision/")
    assert response.status_code == 200
    words = text(response)
    assert f"Decision record: case {case.pk}" in words
    assert (
        "Labour and Citizens' Services (LCS) asked to leave PSOA Payroll for Technology Payroll"
        in words
    )
    assert "Approved" in section(response, "outcome")
    assert case.decision_rule in words
    assert case.decision_rule.startswith("Approved: approve votes outnumber reject votes.")
    votes = section(response, "votes-table")
    assert "AGRI dm_agri Approve Evidence is clear." in votes
    assert "EDUC dm_educ Reject Give the PSOA a chance." in votes
    assert "JAG dm_jag Approve Because." in votes
    assert "Did not vote: Ministry TRAN (TRAN)." in words
    dates = section(response, "dates")
    assert f"Decided {timezone.localtime(case.decided_at):%-d %B %Y, %H:%M}" in dates
    assert "Case opened" in dates and "Notice given" in dates
    assert "Payroll errors every month for a year." in words
    assert "Finance (FIN) Hosts the current cluster's provider" in words
    assert f"The department leaves on {case.exit_request.leave_on:%-d %B %Y}." in words


def test_a_lapsed_case_says_the_department_stays(world, board, case, client):
    vote(board[0], case, "approve")
    services.case_close_due(as_of=case.closes_at)
    case = reload(case)
    assert case.status == CaseStatus.LAPSED
    words = text(signed_in(client, board[4]).get(f"{url(case)}decision/"))
    assert "Lapsed: no quorum by the closing time." in words
    assert "The department stays in PSOA Payroll. It may ask again." in words


# --- navigation ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("persona", "shown"),
    [
        ("deputy_minister", True),
        ("analyst", True),
        ("administrator", True),
        ("manager", False),
        ("provider_manager", False),
    ],
)
def test_cases_are_in_the_navigation_of_the_board_and_readers(world, client, persona, shown):
    response = signed_in(client, getattr(world, persona)).get("/")
    hrefs = [item["href"] for item in response.context["nav_items"]]
    assert ("/cases/" in hrefs) is shown


# --- query counts ---------------------------------------------------------------------------------


def board_of(n: int, prefix: str) -> list:
    return [seat_holder(f"{prefix}{i:02d}") for i in range(n)]


def decided_case_with_votes(world, voters: list, code: str) -> Case:
    """A department of the PSOA payroll cluster asks to go in-house; every seat votes."""
    department = DepartmentFactory(code=code, is_main=False)
    MembershipFactory(department=department, cluster=world.pay_psoa)
    case = exit_request_submit(
        actor=world.administrator,
        department=department,
        from_cluster=world.pay_psoa,
        destination=Destination.IN_HOUSE,
        reason=Reason.SERVICE_QUALITY,
        justification="Errors.",
    ).board_case
    for dm in voters:
        if reload(case).is_open:
            vote(dm, case, "reject", "Stay.")
    return case


def open_cases(world, n: int, prefix: str) -> list[Case]:
    cases = []
    for i in range(n):
        department = DepartmentFactory(code=f"{prefix}{i:02d}", is_main=False)
        MembershipFactory(department=department, cluster=world.pay_psoa)
        cases.append(
            exit_request_submit(
                actor=world.administrator,
                department=department,
                from_cluster=world.pay_psoa,
                destination=Destination.PROVIDER,
                to_provider=world.outside,
                reason=Reason.COST,
                justification="Cost.",
            ).board_case
        )
    return cases


def test_the_cases_page_runs_the_same_queries_at_two_sizes(world, board, case, client):
    # session, user, the user's department (navigation), the seats the user holds today
    # (asked twice: by the navigation's "Cases" link and by the page, each through the
    # gate, the second first asked on its own: `Case.objects.visible_to`), the cases with
    # my seat and vote annotated, the header's unread notifications
    pinned = 8
    signed_in(client, board[0])
    small = count_queries(client, "/cases/")
    open_cases(world, 4, "QO")
    decided_case_with_votes(world, board, "QD1")
    decided_case_with_votes(world, board, "QD2")
    vote(board[0], Case.objects.filter(status=CaseStatus.OPEN).first(), "abstain")
    large = count_queries(client, "/cases/")
    assert (small, large) == (pinned, pinned)
    assert Case.objects.count() == 7
    # The readers' page: session, user, the cases, the header's unread notifications.
    signed_in(client, world.analyst)
    assert count_queries(client, "/cases/") == 4


@pytest.mark.parametrize("persona", ["voter", "analyst"])
def test_the_case_page_runs_the_same_queries_at_two_sizes(world, board, client, persona):
    # session, user, (the voter's department for navigation, and the seats it holds for
    # the navigation's "Cases" link), the case with its request, its seats, the votes the
    # user may see, the persistent breaches (evidence), the header's unread notifications;
    # the voter's seat asked first for the case and for its votes (`Case.objects.visible_to`)
    pinned = {"voter": 11, "analyst": 7}[persona]
    small_case = decided_case_with_votes(world, [], "QS")
    vote(board[0], small_case, "approve")
    big_board = board_of(12, "QB")
    big_case = decided_case_with_votes(world, [], "QL")
    Membership.objects.filter(department__code="QL").update(usage_units=50)
    for dm in [board[0], *big_board[:6]]:
        vote(dm, big_case, "abstain")
    assert reload(big_case).is_open and big_case.votes.count() == 7
    user = board[0] if persona == "voter" else world.analyst
    signed_in(client, user)
    small = count_queries(client, url(small_case))
    large = count_queries(client, url(big_case))
    assert (small, large) == (pinned, pinned)
    assert "7 of 19 eligible seats voted" in text(client.get(url(big_case)))


def test_the_decision_record_runs_the_same_queries_at_two_sizes(world, board, client):
    # session, user, the case with its request, its seats, its votes, the header's unread
    # notifications
    pinned = 6
    small_case = decided_case_with_votes(world, board, "QS")
    big_case = decided_case_with_votes(world, [*board, *board_of(10, "QB")], "QL")
    assert Vote.objects.filter(case=big_case).count() > Vote.objects.filter(case=small_case).count()
    signed_in(client, world.analyst)
    assert count_queries(client, f"{url(small_case)}decision/") == pinned
    assert count_queries(client, f"{url(big_case)}decision/") == pinned


def test_a_service_quality_case_shows_the_persistent_breaches_as_evidence(
    world, board, case, client
):
    import datetime
    from decimal import Decimal

    from servicelevels.services import measurement_submit

    standard = world.payroll.standards.get(name="Paid on time")
    for month in (1, 2, 3):
        measurement_submit(
            actor=world.provider_manager,
            standard=standard,
            cluster=world.pay_psoa,
            department=world.lcs,
            period=datetime.date(2026, month, 1),
            value=Decimal("97"),
        )
    client.force_login(board[0])
    evidence = section(client.get(url(case)), "evidence-list")
    assert (
        "Paid on time : missed 3 months running, January 2026 to March 2026 (still missed)."
        in evidence
    )
