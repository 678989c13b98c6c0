"""The programme pages per role: the list, a programme (its answers, the late flagged, joined
against committed by month, the benefit to date), proposing one, a department's answer;
and the board's pages for a programme case. Every POST is checked in the database."""

from __future__ import annotations

import datetime
import re
import zoneinfo
from decimal import Decimal

import pytest
import time_machine
from django.conf import settings
from django.core.management import call_command
from django.test import Client

from budgets.services import chargeback_run, cost_pool_create
from clusters.models import Membership
from governance import services as board
from governance.models import Case, CaseKind, CaseStatus, Choice
from initiatives import forms, services, views
from initiatives.models import Answer, Commitment, Programme, ProgrammeStatus
from initiatives.tasks import notify_late_commitments
from notifications.models import Notification, NotificationKind
from sharedsvc.errors import Conflict, Forbidden
from sharedsvc.roles import Role
from tests.factories import DepartmentFactory, MembershipFactory, UserFactory
from tests.pages import count_queries, html, text

ZONE = zoneinfo.ZoneInfo(settings.TIME_ZONE)
TODAY = datetime.date(2026, 6, 15)
TARGET = datetime.date(2026, 12, 31)


@pytest.fixture(autouse=True)
def mid_june_2026():
    """Time is an input: the programme is proposed on 15 June 2026 (fiscal 2026-27)."""
    with time_machine.travel(datetime.datetime(2026, 6, 15, 10, tzinfo=ZONE), tick=True):
        yield


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
    body = html(response)
    match = re.search(rf'<(\w+)[^>]*id="{element_id}".*?</\1>', body, re.S)
    assert match, f"no #{element_id} on the page"
    return " ".join(re.sub(r"<[^>]+>", " ", match.group(0)).split())


def propose(world, *, departments=None, **overrides) -> Programme:
    fields = {
        "actor": world.deputy_minister,
        "code": "ITNOW",
        "name": "Desktop IT for every ministry",
        "service": world.it,
        "sponsor": world.deputy_minister,
        "goal": "Every ministry on one shared desktop service.",
        "target_on": TARGET,
        "departments": departments if departments is not None else [world.env, world.fin],
    }
    return services.programme_propose(**{**fields, **overrides})


def commitment(programme: Programme, department) -> Commitment:
    return Commitment.objects.get(programme=programme, department=department)


def case_of(programme: Programme) -> Case:
    return Case.objects.get(programme_decision__programme=programme)


def approve(world, programme: Programme) -> Case:
    """The board: LCS's and FIN's deputy ministers, no seat recused; both approve."""
    case = case_of(programme)
    for dm in (world.deputy_minister, world.recused_deputy_minister):
        board.vote_cast(actor=dm, case=case, choice=Choice.APPROVE)
    case.refresh_from_db()
    assert case.status == CaseStatus.APPROVED
    return case


PROPOSAL = {
    "code": "ITNOW",
    "name": "Desktop IT for every ministry",
    "goal": "Every ministry on one shared desktop service.",
    "target_on_day": "31",
    "target_on_month": "12",
    "target_on_year": "2026",
}


def proposal(world, **overrides) -> dict:
    data = {
        **PROPOSAL,
        "service": str(world.it.pk),
        "sponsor": str(world.deputy_minister.pk),
        "departments": [str(world.env.pk), str(world.fin.pk)],
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


# --- the list -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("persona", "offered"),
    [
        ("deputy_minister", True),
        ("administrator", True),
        ("manager", False),
        ("analyst", False),
        ("provider_manager", False),
    ],
)
def test_the_list_offers_the_proposal_form_to_whom_the_rules_allow(world, client, persona, offered):
    propose(world)
    response = signed_in(client, getattr(world, persona)).get("/programmes/")
    assert response.status_code == 200
    assert "Desktop IT for every ministry" in section(response, "programmes")
    assert ('href="/programmes/new/"' in html(response)) is offered


def test_programmes_are_in_everyones_navigation(world, client):
    for persona in ("manager", "analyst", "provider_manager", "deputy_minister"):
        response = signed_in(client, getattr(world, persona)).get("/")
        assert "/programmes/" in [item["href"] for item in response.context["nav_items"]]


# --- proposing ----------------------------------------------------------------------------------


@pytest.mark.parametrize("persona", ["deputy_minister", "administrator"])
def test_the_proposal_form_lists_services_sponsors_and_departments(world, client, persona):
    response = signed_in(client, getattr(world, persona)).get("/programmes/new/")
    assert response.status_code == 200
    body = html(response)
    for name in ("code", "name", "service", "sponsor", "goal", "target_on_day", "departments"):
        assert f'name="{name}"' in body
    sponsors = re.search(r'<select[^>]*name="sponsor".*?</select>', body, re.S).group(0)
    # Deputy ministers only (the rules' `initiatives.sponsor_programme`).
    assert "dm_lcs" in sponsors and "dm_fin" in sponsors
    assert "mgr_lcs" not in sponsors and "admin" not in sponsors
    assert body.count('type="checkbox"') == 4  # LCS, ENV, FIN, TECH
    assert "Desktop IT" in body and "Payroll" in body


@pytest.mark.parametrize("persona", ["manager", "analyst", "provider_manager", "other_manager"])
def test_others_may_not_propose(world, client, persona):
    signed_in(client, getattr(world, persona))
    assert client.get("/programmes/new/").status_code == 403
    assert client.post("/programmes/new/", proposal(world)).status_code == 403
    assert not Programme.objects.exists()


def test_a_proposal_through_the_form_opens_its_board_case(world, client):
    response = signed_in(client, world.deputy_minister).post("/programmes/new/", proposal(world))
    assert response.status_code == 302
    assert response["Location"] == "/programmes/ITNOW/"
    programme = Programme.objects.get()
    assert (
        programme.code,
        programme.name,
        programme.service,
        programme.sponsor,
        programme.goal,
        programme.target_on,
        programme.status,
        programme.proposed_by,
    ) == (
        "ITNOW",
        "Desktop IT for every ministry",
        world.it,
        world.deputy_minister,
        "Every ministry on one shared desktop service.",
        TARGET,
        ProgrammeStatus.PROPOSED,
        world.deputy_minister,
    )
    assert sorted(c.department.code for c in programme.commitments.all()) == ["ENV", "FIN"]
    case = case_of(programme)
    assert case.kind == CaseKind.PROGRAMME and case.status == CaseStatus.OPEN
    page = client.get(response["Location"])
    assert views.PROPOSED.format(code="ITNOW", case=case.pk) in text(page)


def test_an_empty_proposal_says_what_is_missing_and_saves_nothing(world, client):
    response = signed_in(client, world.deputy_minister).post("/programmes/new/", {})
    assert response.status_code == 400
    assert error_summary(response) == [
        forms.ENTER_CODE,
        forms.ENTER_NAME,
        forms.SELECT_SERVICE,
        forms.SELECT_SPONSOR,
        forms.ENTER_GOAL,
        forms.ENTER_TARGET_DATE,
        forms.SELECT_DEPARTMENTS,
    ]
    assert html(response).count("<title>Error: ") == 1
    assert not Programme.objects.exists() and not Case.objects.exists()


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"code": "not a slug!"}, forms.CODE_INVALID),
        ({"code": "new"}, forms.CODE_RESERVED.format(code="new")),
        ({"target_on_month": ""}, "The target date must include a month"),
        ({"target_on_day": "31", "target_on_month": "2"}, "The target date must be a real date"),
        # The service's own messages, on the field they are about:
        ({"target_on_year": "2025"}, services.TARGET_IN_THE_PAST.format(today=TODAY)),
        ({"sponsor": "999999"}, forms.SELECT_SPONSOR),
    ],
)
def test_a_bad_proposal_is_refused_with_its_message(world, client, overrides, message):
    response = signed_in(client, world.deputy_minister).post(
        "/programmes/new/", proposal(world, **overrides)
    )
    assert response.status_code == 400
    assert error_summary(response) == [message]
    assert not Programme.objects.exists() and not Case.objects.exists()


def test_a_code_already_taken_is_refused_by_the_service(world, client):
    propose(world)
    response = signed_in(client, world.administrator).post(
        "/programmes/new/", proposal(world, name="Another")
    )
    assert response.status_code == 400
    [message] = error_summary(response)
    assert "Code already exists" in message
    assert Programme.objects.count() == 1


def test_a_sponsor_who_is_no_longer_a_deputy_minister_is_the_services_refusal(
    world, client, monkeypatch
):
    # The choices were read before the role changed: the service has the last word.
    def raising(**kwargs):
        raise services.ValidationError({"sponsor": services.SPONSOR_NOT_A_DEPUTY_MINISTER})

    monkeypatch.setattr(views, "programme_propose", raising)
    response = signed_in(client, world.deputy_minister).post("/programmes/new/", proposal(world))
    assert response.status_code == 400
    assert error_summary(response) == [services.SPONSOR_NOT_A_DEPUTY_MINISTER]


@pytest.mark.parametrize(("error", "status"), [(Forbidden, 403), (Conflict, 409)])
def test_the_services_refusals_are_shown_on_the_form_not_a_500(
    world, client, monkeypatch, error, status
):
    def raising(**kwargs):
        raise error("Refused by the service.")

    monkeypatch.setattr(views, "programme_propose", raising)
    response = signed_in(client, world.deputy_minister).post("/programmes/new/", proposal(world))
    assert response.status_code == status
    assert error_summary(response) == ["Refused by the service."]
    assert not Programme.objects.exists()


# --- the programme page -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "persona", ["manager", "other_manager", "analyst", "provider_manager", "deputy_minister"]
)
def test_every_signed_in_user_reads_the_programme(world, client, persona):
    programme = propose(world)
    response = signed_in(client, getattr(world, persona)).get("/programmes/ITNOW/")
    assert response.status_code == 200
    words = text(response)
    assert "Programme ITNOW" in words and "Desktop IT for every ministry" in words
    assert f"case {case_of(programme).pk}" in words
    assert "Environment Pending" in section(response, "departments")
    assert 'id="late-warning"' not in html(response)


def test_the_answer_link_is_for_those_the_rules_allow(world, client):
    propose(world)
    # ENV's manager answers for ENV only: one button, and one link in the table.
    page = signed_in(client, world.other_manager).get("/programmes/ITNOW/")
    assert 'href="/programmes/ITNOW/answers/ENV/"' in html(page)
    assert "Answer for Environment" in section(page, "answer-button")
    assert 'href="/programmes/ITNOW/answers/FIN/"' not in html(page)
    # An administrator answers for each, from the table.
    page = signed_in(client, world.administrator).get("/programmes/ITNOW/")
    assert 'href="/programmes/ITNOW/answers/ENV/"' in html(page)
    assert 'href="/programmes/ITNOW/answers/FIN/"' in html(page)
    assert 'id="answer-button"' not in html(page)
    # LCS is not a target: its people answer nothing; nor does an analyst.
    for user in (world.manager, world.analyst):
        assert "/answers/" not in html(signed_in(client, user).get("/programmes/ITNOW/"))


def test_the_late_are_flagged_once_their_date_has_passed(world, client):
    programme = propose(world)
    approve(world, programme)
    services.commitment_answer(
        actor=world.other_manager,
        commitment=commitment(programme, world.env),
        answer=Answer.COMMITTED,
        join_by=datetime.date(2026, 9, 30),
    )
    assert 'id="late-warning"' not in html(
        signed_in(client, world.analyst).get("/programmes/ITNOW/")
    )
    with time_machine.travel(datetime.datetime(2026, 10, 2, 10, tzinfo=ZONE), tick=True):
        # Signed in again: the session of June has expired by October.
        response = signed_in(client, world.analyst).get("/programmes/ITNOW/")
        assert views.LATE_WARNING_ONE.format(departments="Environment") in section(
            response, "late-warning"
        )
        assert "Environment Late 30 Sep 2026" in section(response, "departments")


def test_joined_against_committed_month_by_month(world, client):
    programme = propose(world, departments=[world.env, world.fin, world.lcs])
    approve(world, programme)
    # LCS has been in the Technology Desktop cluster since April 2025: joined once it commits.
    services.commitment_answer(
        actor=world.manager,
        commitment=commitment(programme, world.lcs),
        answer=Answer.COMMITTED,
        join_by=datetime.date(2026, 7, 31),
    )
    with time_machine.travel(datetime.datetime(2026, 8, 10, 10, tzinfo=ZONE), tick=True):
        services.commitment_answer(
            actor=world.other_manager,
            commitment=commitment(programme, world.env),
            answer=Answer.COMMITTED,
            join_by=datetime.date(2026, 11, 30),
        )
        MembershipFactory(
            department=world.env, cluster=world.it_tech, joined_on=datetime.date(2026, 8, 20)
        )
        with time_machine.travel(datetime.datetime(2026, 9, 5, 10, tzinfo=ZONE), tick=True):
            response = signed_in(client, world.analyst).get("/programmes/ITNOW/")
    table = section(response, "over-time-table")
    assert table == (
        "The chart's figures Month Committed Joined "
        "Jun 2026 1 1 Jul 2026 1 1 Aug 2026 2 2 Sep 2026 2 2 "
        "Oct 2026 Not yet Nov 2026 Not yet Dec 2026 Not yet"
    )
    body = html(response)
    chart = re.search(r'<svg[^>]*role="img".*?</svg>', body, re.S).group(0)
    assert "Departments committed and joined, Desktop IT for every ministry, by month" in chart
    assert chart.count("<rect") == 4  # committed, in the months so far
    assert chart.count("<circle") == 4  # joined
    assert "By September 2026, 2 of 3 target departments had committed and 2 had joined." in chart


def test_the_benefit_to_date_follows_the_benefit_rules(world, client):
    programme = propose(world, departments=[world.env, world.lcs])
    approve(world, programme)
    services.commitment_answer(
        actor=world.manager,
        commitment=commitment(programme, world.lcs),
        answer=Answer.COMMITTED,
        join_by=datetime.date(2026, 7, 31),
    )
    # LCS's Desktop IT: 120,000.00 a year since 1 April 2025; charged 1,000.00 for May 2026.
    cost_pool_create(
        actor=world.other_provider_manager,
        cluster=world.it_tech,
        period=datetime.date(2026, 5, 1),
        amount=Decimal("1000.00"),
    )
    chargeback_run(actor=world.administrator, period=datetime.date(2026, 5, 1))
    # 2025-26 whole (120,000.00) and 75 days of 2026-27 (24,657.53).
    response = signed_in(client, world.manager).get("/programmes/ITNOW/")
    benefit = section(response, "benefit-table")
    assert "Labour and Citizens' Services 144,657.53 1,000.00 143,657.53" in benefit
    assert "143,657.53" in section(response, "benefit-total")  # LCS's own total
    # ENV's manager does not see LCS's private figures, nor a total of one department.
    response = signed_in(client, world.other_manager).get("/programmes/ITNOW/")
    benefit = section(response, "benefit-table")
    assert "144,657.53" not in benefit and "143,657.53" not in benefit
    assert "Withheld" in section(response, "benefit-withheld")
    # The analyst reads everything.
    assert "143,657.53" in section(
        signed_in(client, world.analyst).get("/programmes/ITNOW/"), "benefit-total"
    )


def test_nobody_joined_yet_says_so(world, client):
    propose(world)
    response = signed_in(client, world.analyst).get("/programmes/ITNOW/")
    assert "No target department has joined yet." in section(response, "benefit-none")


def test_an_unknown_programme_is_404(world, client):
    assert signed_in(client, world.analyst).get("/programmes/NOPE/").status_code == 404


# --- answering ----------------------------------------------------------------------------------


def answer_url(department: str = "ENV") -> str:
    return f"/programmes/ITNOW/answers/{department}/"


@pytest.mark.parametrize("persona", ["other_manager", "administrator"])
def test_the_answer_form_is_for_the_department_and_administrators(world, client, persona):
    propose(world)
    response = signed_in(client, getattr(world, persona)).get(answer_url())
    assert response.status_code == 200
    body = html(response)
    assert "Will Environment join a cluster of Desktop IT?" in text(response)
    for name in ("answer", "join_by_day", "late_reason", "decline_reason"):
        assert f'name="{name}"' in body
    assert 'id="conditional-committed"' in body and 'id="conditional-declined"' in body


@pytest.mark.parametrize(
    ("persona", "status"),
    [("manager", 403), ("analyst", 403), ("provider_manager", 403), ("deputy_minister", 403)],
)
def test_others_may_not_answer(world, client, persona, status):
    programme = propose(world)
    signed_in(client, getattr(world, persona))
    assert client.get(answer_url()).status_code == status
    response = client.post(answer_url(), {"answer": "declined", "decline_reason": "No."})
    assert response.status_code == status
    assert commitment(programme, world.env).answer == Answer.PENDING


def test_a_department_not_named_is_404(world, client):
    propose(world)
    assert signed_in(client, world.manager).get(answer_url("LCS")).status_code == 404


def test_committing_through_the_form(world, client):
    programme = propose(world)
    response = signed_in(client, world.other_manager).post(
        answer_url(),
        {"answer": "committed", "join_by_day": "30", "join_by_month": "9", "join_by_year": "2026"},
    )
    assert response.status_code == 302 and response["Location"] == "/programmes/ITNOW/"
    saved = commitment(programme, world.env)
    assert (saved.answer, saved.join_by, saved.reason, saved.answered_by) == (
        Answer.COMMITTED,
        datetime.date(2026, 9, 30),
        "",
        world.other_manager,
    )
    page = client.get("/programmes/ITNOW/")
    assert views.ANSWERED_COMMITTED.format(department="Environment", date="30 September 2026") in (
        text(page)
    )
    assert "Environment Committed 30 Sep 2026" in section(page, "departments")
    # The form again: filled in with the answer, to change it.
    again = client.get(answer_url())
    assert re.search(r'value="committed" checked', html(again))
    assert 'value="30"' in html(again)


def test_declining_through_the_form(world, client):
    programme = propose(world)
    response = signed_in(client, world.administrator).post(
        answer_url("FIN"),
        {"answer": "declined", "decline_reason": "We run desktops for the PSOA."},
    )
    assert response.status_code == 302
    saved = commitment(programme, world.fin)
    assert (saved.answer, saved.join_by, saved.reason) == (
        Answer.DECLINED,
        None,
        "We run desktops for the PSOA.",
    )
    assert views.ANSWERED_DECLINED.format(department="Finance") in text(
        client.get("/programmes/ITNOW/")
    )


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({}, forms.SELECT_ANSWER),
        ({"answer": "maybe"}, forms.SELECT_ANSWER),
        ({"answer": "committed"}, services.JOIN_BY_NEEDED.format(service="Desktop IT")),
        (
            {"answer": "committed", "join_by_day": "31", "join_by_month": "4"},
            "The date to join must include a year",
        ),
        (
            {
                "answer": "committed",
                "join_by_day": "31",
                "join_by_month": "3",
                "join_by_year": "2027",
            },
            services.LATE_NEEDS_REASON.format(target=TARGET),
        ),
        ({"answer": "declined", "decline_reason": "  "}, services.DECLINE_NEEDS_REASON),
        (
            {"answer": "declined", "decline_reason": "x" * 2001},
            forms.REASON_TOO_LONG,
        ),
    ],
)
def test_a_bad_answer_saves_nothing(world, client, data, message):
    programme = propose(world)
    response = signed_in(client, world.other_manager).post(answer_url(), data)
    assert response.status_code == 400
    assert error_summary(response) == [message]
    saved = commitment(programme, world.env)
    assert (saved.answer, saved.join_by, saved.answered_at) == (Answer.PENDING, None, None)


def test_a_late_date_with_its_reason_is_accepted(world, client):
    programme = propose(world)
    response = signed_in(client, world.other_manager).post(
        answer_url(),
        {
            "answer": "committed",
            "join_by_day": "31",
            "join_by_month": "3",
            "join_by_year": "2027",
            "late_reason": "Our contract ends in March.",
            "decline_reason": "ignored",
        },
    )
    assert response.status_code == 302
    saved = commitment(programme, world.env)
    assert (saved.join_by, saved.reason) == (
        datetime.date(2027, 3, 31),
        "Our contract ends in March.",
    )


def test_a_rejected_programme_takes_no_answer(world, client):
    programme = propose(world)
    case = case_of(programme)
    for dm in (world.deputy_minister, world.recused_deputy_minister):
        board.vote_cast(actor=dm, case=case, choice=Choice.REJECT, reason="Not now.")
    assert Programme.objects.get().status == ProgrammeStatus.REJECTED
    signed_in(client, world.other_manager)
    message = views.NOT_ANSWERABLE.format(code="ITNOW", status="rejected")
    page = client.get(answer_url())
    assert page.status_code == 409 and message in text(page)
    assert 'name="answer"' not in html(page)
    response = client.post(answer_url(), {"answer": "declined", "decline_reason": "No."})
    assert response.status_code == 409
    assert commitment(programme, world.env).answer == Answer.PENDING
    assert "/answers/" not in html(client.get("/programmes/ITNOW/"))


def test_a_conflict_from_the_service_is_409_on_the_form(world, client, monkeypatch):
    programme = propose(world)

    def raising(**kwargs):
        raise Conflict("Closed a moment ago.")

    monkeypatch.setattr(views, "commitment_answer_service", raising)
    response = signed_in(client, world.other_manager).post(
        answer_url(), {"answer": "declined", "decline_reason": "No."}
    )
    assert response.status_code == 409
    assert error_summary(response) == ["Closed a moment ago."]
    assert commitment(programme, world.env).answer == Answer.PENDING


# --- the board's pages for a programme case -----------------------------------------------------


def test_the_case_page_of_a_programme_shows_the_programme_and_a_vote_form(world, client):
    programme = propose(world)
    services.commitment_answer(
        actor=world.other_manager,
        commitment=commitment(programme, world.env),
        answer=Answer.DECLINED,
        reason="We have just renewed our desktops.",
    )
    case = case_of(programme)
    response = signed_in(client, world.recused_deputy_minister).get(f"/cases/{case.pk}/")
    assert response.status_code == 200
    words = text(response)
    assert "Make programme ITNOW active (Desktop IT for every ministry)" in words
    summary = section(response, "programme-summary")
    assert "Programme Desktop IT for every ministry (ITNOW)" in summary
    assert "Service Desktop IT" in summary
    assert "Sponsor dm_lcs" in summary
    assert "Goal Every ministry on one shared desktop service." in summary
    assert "Target date 31 December 2026" in summary
    assert 'href="/programmes/ITNOW/"' in html(response)
    answers = section(response, "programme-answers")
    assert "Environment (ENV) Declined" in answers
    assert "We have just renewed our desktops." in answers
    assert "Finance (FIN) Pending" in answers
    assert "No seat is recused." in words
    assert 'name="choice"' in html(response)  # FIN's seat votes on a programme
    assert "The request" not in words and "Exit impact" not in words


def test_the_case_list_names_a_programme_case_by_its_title(world, client):
    programme = propose(world)
    response = signed_in(client, world.deputy_minister).get("/cases/")
    assert response.status_code == 200
    waiting = section(response, "waiting-table")
    assert f"Case {case_of(programme).pk} Make programme ITNOW active" in waiting
    approve(world, programme)
    decided = section(client.get("/cases/"), "decided-table")
    assert "Make programme ITNOW active (Desktop IT for every ministry) Approved" in decided


def test_the_decision_record_of_a_programme_case(world, client):
    programme = propose(world)
    case = approve(world, programme)
    response = signed_in(client, world.analyst).get(f"/cases/{case.pk}/decision/")
    assert response.status_code == 200
    words = text(response)
    assert (
        "The board was asked to decide: Make programme ITNOW active (Desktop IT for every ministry)."
        in words
    )
    assert "Approved" in section(response, "outcome")
    assert "Notice given" not in section(response, "dates")
    assert "Status Active" in section(response, "programme-summary")
    assert "Finance (FIN) Pending" in section(response, "programme-answers")
    assert "LCS dm_lcs Approve" in section(response, "votes-table")


def more_programmes(world, n: int, prefix: str) -> list[Programme]:
    """n more programmes, each with a new target department that commits."""
    made = []
    for i in range(n):
        department = DepartmentFactory(code=f"{prefix}{i:02d}", is_main=False)
        manager = UserFactory(
            username=f"mgr_{prefix.lower()}{i}",
            role=Role.DEPARTMENT_MANAGER,
            department=department,
        )
        programme = propose(world, code=f"{prefix}{i:02d}", departments=[department, world.env])
        services.commitment_answer(
            actor=manager,
            commitment=commitment(programme, department),
            answer=Answer.COMMITTED,
            join_by=datetime.date(2026, 10, 1),
        )
        made.append(programme)
    return made


def test_the_case_page_of_a_programme_runs_the_same_queries_at_two_sizes(world, client):
    # session, user, the voter's department (navigation), the seats the user holds (for the
    # navigation's "Cases" link), the case with its programme, its seats, the votes the
    # user may see, the programme's commitments, the header's unread notifications; the
    # seat asked first for the case and for its votes (`Case.objects.visible_to`)
    pinned = 11
    small = propose(world)
    big = propose(world, code="BIG", departments=[world.env, world.fin, world.lcs, world.tech])
    for department in [DepartmentFactory(code=f"QT{i}", is_main=False) for i in range(8)]:
        Commitment.objects.create(programme=big, department=department)
    signed_in(client, world.deputy_minister)
    assert count_queries(client, f"/cases/{case_of(small).pk}/") == pinned
    assert count_queries(client, f"/cases/{case_of(big).pk}/") == pinned
    # The decision record: session, user, the case with its programme, its seats, its
    # votes, the commitments, the navigation's department and seats, unread
    for programme in (small, big):
        approve(world, programme)
    assert count_queries(client, f"/cases/{case_of(small).pk}/decision/") == pinned
    assert count_queries(client, f"/cases/{case_of(big).pk}/decision/") == pinned


def test_the_case_list_with_programme_cases_runs_the_same_queries_at_two_sizes(world, client):
    # session, user, the seats the user holds (the page's and the navigation's), the cases
    # with their programmes or requests, the navigation's department, unread
    propose(world)
    signed_in(client, world.analyst)
    small = count_queries(client, "/cases/")
    more_programmes(world, 4, "QP")
    large = count_queries(client, "/cases/")
    assert small == large
    assert Case.objects.filter(kind=CaseKind.PROGRAMME).count() == 5


# --- the late job ---------------------------------------------------------------------------------


def test_the_late_job_tells_the_sponsor_and_the_department_once(world, client):
    programme = propose(world)
    approve(world, programme)
    services.commitment_answer(
        actor=world.other_manager,
        commitment=commitment(programme, world.env),
        answer=Answer.COMMITTED,
        join_by=datetime.date(2026, 9, 30),
    )
    assert notify_late_commitments() == 0
    with time_machine.travel(datetime.datetime(2026, 10, 1, 0, 30, tzinfo=ZONE), tick=True):
        assert notify_late_commitments() == 1
        assert notify_late_commitments() == 0
    late = Notification.objects.filter(kind=NotificationKind.PROGRAMME_LATE)
    assert sorted(n.recipient.username for n in late) == ["dm_lcs", "mgr_env"]
    assert commitment(programme, world.env).late_notified_on == datetime.date(2026, 10, 1)


def test_the_late_command_takes_a_date(world, capsys):
    programme = propose(world)
    approve(world, programme)
    services.commitment_answer(
        actor=world.other_manager,
        commitment=commitment(programme, world.env),
        answer=Answer.COMMITTED,
        join_by=datetime.date(2026, 9, 30),
    )
    call_command("notify_late_commitments", "--as-of", "2026-10-02")
    assert "1 late commitment(s) told." in capsys.readouterr().out
    call_command("notify_late_commitments", "--as-of", "2026-10-03")
    assert "0 late commitment(s) told." in capsys.readouterr().out


def test_the_late_job_is_scheduled_in_beat(settings):
    tasks = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert "initiatives.tasks.notify_late_commitments" in tasks


def test_a_membership_joined_in_time_is_not_late(world, client):
    programme = propose(world)
    approve(world, programme)
    services.commitment_answer(
        actor=world.other_manager,
        commitment=commitment(programme, world.env),
        answer=Answer.COMMITTED,
        join_by=datetime.date(2026, 9, 30),
    )
    Membership.objects.create(
        department=world.env,
        cluster=world.it_tech,
        service=world.it,
        joined_on=datetime.date(2026, 9, 1),
        usage_units=50,
        baseline_annual_cost=Decimal("60000.00"),
    )
    with time_machine.travel(datetime.datetime(2026, 10, 2, 10, tzinfo=ZONE), tick=True):
        response = signed_in(client, world.analyst).get("/programmes/ITNOW/")
        assert "Environment Joined" in section(response, "departments")
        assert 'id="late-warning"' not in html(response)
        assert notify_late_commitments() == 0
