"""The gate of the board, door by door (issue 9): board rights follow the seat, one rule
for a case's votes on the page and in the API, and the destination provider reads the case
and its decision email only in part."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest

from budgets.models import CostPool
from defection.models import Destination, ExitStatus, Reason
from defection.services import SEEN_IN_PART, exit_request_submit
from governance import services, views
from governance.models import Case, CaseStatus, Vote
from notifications.models import Notification
from sharedsvc.errors import Forbidden
from sharedsvc.roles import Role
from tests.factories import UserFactory
from tests.notifications.support import celery_eager
from tests.pages import text

JUSTIFICATION = "Payroll errors every month for a year."  # the `case` fixture's


def vote(user, case, choice, reason="Because."):
    return services.vote_cast(actor=user, case=case, choice=choice, reason=reason)


def replace_deputy_minister(old):
    department = old.department
    successor = UserFactory(
        username=f"{old.username}_next", role=Role.DEPUTY_MINISTER, department=department
    )
    department.deputy_minister = successor
    department.save()
    return successor


# Finding 6: board rights follow the seat ------------------------------------------------


def test_finding_6_replaced_deputy_minister_reads_no_case(world, board, case, api, client):
    former = board[0]  # AGRI's
    successor = replace_deputy_minister(former)
    reader = api.as_user(former)
    assert reader.get("/api/v1/cases/").json()["results"] == []
    assert reader.get(f"/api/v1/cases/{case.pk}/").status_code == 404
    assert reader.get(f"/api/v1/exit-requests/{case.exit_request_id}/").status_code == 404
    assert reader.get("/api/v1/votes/").json()["results"] == []
    client.force_login(former)
    assert client.get(f"/cases/{case.pk}/").status_code == 404
    cases_page = text(client.get("/cases/"))
    assert "No case is open." in cases_page and f"Case {case.pk}" not in cases_page
    with pytest.raises(Forbidden, match="You do not hold a seat"):
        vote(former, case, "approve")
    # The seat is the department's: its new deputy minister reads the case and votes.
    assert api.as_user(successor).get(f"/api/v1/cases/{case.pk}/").status_code == 200
    vote(successor, case, "approve")
    assert list(Vote.objects.values_list("department__code", "voter__username", "choice")) == [
        ("AGRI", successor.username, "approve")
    ]


def test_a_deputy_minister_of_a_department_that_is_no_longer_main_holds_no_seat(
    world, board, case, api
):
    department = board[1].department
    department.is_main = False
    department.save()
    assert api.as_user(board[1]).get(f"/api/v1/cases/{case.pk}/").status_code == 404
    assert not board[1].has_perm("governance.add_vote")


def test_the_parties_still_read_the_case(world, board, case, api):
    for party in (world.manager, world.deputy_minister, world.provider_manager):
        assert api.as_user(party).get(f"/api/v1/cases/{case.pk}/").status_code == 200
    # The destination provider reads it too (it is a party), in part.
    assert (
        api.as_user(world.other_provider_manager).get(f"/api/v1/cases/{case.pk}/").status_code
        == 200
    )


# Finding 3: the page and the API agree on who sees the votes ---------------------------


def test_finding_3_page_and_api_agree_on_tally(world, board, api, client):
    # ENV is a member of the cluster LCS leaves, with a seat: its manager reads the case.
    env_dm = UserFactory(username="dm_env", role=Role.DEPUTY_MINISTER, department=world.env)
    world.env.deputy_minister = env_dm
    world.env.save()
    case = exit_request_submit(
        actor=world.manager,
        department=world.lcs,
        from_cluster=world.pay_psoa,
        destination=Destination.CLUSTER,
        to_cluster=world.pay_tech,
        reason=Reason.COST,
        justification="Cheaper.",
    ).board_case
    vote(env_dm, case, "approve")

    def api_tally(user):
        response = api.as_user(user).get(f"/api/v1/cases/{case.pk}/")
        assert response.status_code == 200
        return response.json()["tally"]

    def api_votes(user):
        return api.as_user(user).get(f"/api/v1/cases/{case.pk}/votes/").json()["results"]

    def page(user) -> str:
        client.force_login(user)
        response = client.get(f"/cases/{case.pk}/")
        assert response.status_code == 200
        return text(response)

    shown = "1 approve, 0 reject, 0 abstain : 1 of 6 eligible seats voted (quorum 4)."
    # The manager whose deputy minister has voted: no tally, no votes, on either door.
    manager = world.other_manager
    assert api_tally(manager) is None
    assert api_votes(manager) == []
    assert views.VOTES_HIDDEN in page(manager) and shown not in page(manager)
    # A seat that has not voted yet: hidden on both.
    assert api_tally(board[0]) is None
    assert views.VOTES_HIDDEN in page(board[0])
    # The seat that voted: shown on both.
    assert api_tally(env_dm) == {"approve": 1, "reject": 0, "abstain": 0}
    assert [v["department"] for v in api_votes(env_dm)] == ["ENV"]
    assert shown in page(env_dm)
    # Once decided, everyone who reads the case sees them on both doors.
    for dm in board[:3]:  # 1 approve, 3 reject, 2 undecided: it can no longer pass
        vote(dm, case, "reject", "Fix it first.")
    assert Case.objects.get(pk=case.pk).status == CaseStatus.REJECTED
    assert api_tally(manager) == {"approve": 1, "reject": 3, "abstain": 0}
    assert "1 approve, 3 reject, 0 abstain" in page(manager)
    assert len(api_votes(manager)) == 4


# Finding 1: the case, its page and its emails, in part for the destination provider -------


def test_finding_1_case_page_shows_the_destination_provider_no_justification_or_evidence(
    world, board, case, client
):
    client.force_login(world.other_provider_manager)
    page = client.get(f"/cases/{case.pk}/")
    assert page.status_code == 200
    words = text(page)
    assert SEEN_IN_PART in words
    assert JUSTIFICATION not in words
    assert "Exit impact" not in words
    assert "Evidence of service quality" not in words
    client.force_login(world.provider_manager)
    whole = text(client.get(f"/cases/{case.pk}/"))
    assert JUSTIFICATION in whole and "Exit impact" in whole
    assert "Evidence of service quality" in whole


def test_finding_1_decision_email_to_destination_provider_has_no_impact(
    world, board, django_capture_on_commit_callbacks, mailoutbox
):
    CostPool.objects.create(
        cluster=world.pay_psoa, period=datetime.date(2026, 3, 1), amount=Decimal("7000.00")
    )
    request = exit_request_submit(
        actor=world.manager,
        department=world.lcs,
        from_cluster=world.pay_psoa,
        destination=Destination.CLUSTER,
        to_cluster=world.pay_tech,
        reason=Reason.COST,
        justification="Technology Services quoted 20% less.",
    )
    with celery_eager(), django_capture_on_commit_callbacks(execute=True):
        for dm in board[:3]:
            vote(dm, request.board_case, "reject", "Stay shared.")
    request.refresh_from_db()
    assert request.status == ExitStatus.REJECTED
    decided = [m for m in mailoutbox if m.subject.startswith("Board decision")]
    by_reader = {address: m for m in decided for address in m.to}
    destination = by_reader[world.other_provider_manager.email]
    assert destination.to == [world.other_provider_manager.email]
    assert "Technology Services quoted 20% less." not in destination.body
    assert "Cost per unit" not in destination.body and "ENV:" not in destination.body
    assert SEEN_IN_PART in destination.body
    [row] = Notification.objects.filter(
        recipient=world.other_provider_manager, subject__startswith="Board decision"
    )
    assert row.body == destination.body.rsplit("\n\nSee ", 1)[0]
    assert "Usage: 400 (employees served)." in destination.body
    assert "Rejected" in destination.body
    # The requester and the current provider read it whole.
    for reader in (world.manager, world.provider_manager):
        body = by_reader[reader.email].body
        assert "Justification: Technology Services quoted 20% less." in body
        assert "Cost per unit, from the 2026-03 pool: 10.0000 before" in body


def test_the_board_is_told_the_whole_case_when_it_opens(
    world, board, django_capture_on_commit_callbacks, mailoutbox
):
    with celery_eager(), django_capture_on_commit_callbacks(execute=True):
        exit_request_submit(
            actor=world.manager,
            department=world.lcs,
            from_cluster=world.pay_psoa,
            destination=Destination.CLUSTER,
            to_cluster=world.pay_tech,
            reason=Reason.COST,
            justification="Cheaper at Technology Services.",
        )
    rows = Notification.objects.filter(subject__startswith="Board case opened")
    assert {n.recipient for n in rows} == set(board)
    opened = [m for m in mailoutbox if m.subject.startswith("Board case opened")]
    assert sorted(m.to for m in opened) == sorted([dm.email] for dm in board)
    for body in [m.body for m in opened] + [n.body for n in rows]:
        assert "Justification: Cheaper at Technology Services." in body
