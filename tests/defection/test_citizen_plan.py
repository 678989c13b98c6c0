"""Leaving a service for citizens (issue 14): the exit needs a citizen-continuity plan, all
four parts, refused with a message for each one missing; the plan is kept and shown with
the request, on the board's case and in its decision record, in the API and in the
notifications; a move to a PSOA cluster is still the department's right, and every deputy
minister is told, with the plan; such clusters default to 180 days' notice."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.utils import timezone
from knox.models import AuthToken
from rest_framework.test import APIClient

from clusters.models import CITIZEN_NOTICE_DAYS, Audience, Lifecycle, Purpose
from clusters.services import cluster_create, default_notice_days
from defection import services
from defection.models import Destination, ExitRequest, ExitStatus, Reason
from governance.models import Case
from governance.services import vote_cast
from notifications.models import Notification, NotificationKind
from sharedsvc.models import User
from sharedsvc.roles import Role
from tests.factories import ClusterFactory, MembershipFactory, ServiceFactory, UserFactory
from tests.pages import text

PLAN = {
    "citizen_impact": "The portal's address changes; saved applications stay.",
    "records_and_cases": "Records move in one night; open cases finish where they started.",
    "contact": "The Service Desk, 1-800-555-0100, during the move.",
}


def _transition() -> datetime.date:
    return timezone.localdate() + datetime.timedelta(days=60)


@pytest.fixture(name="portal")
def portal_fixture(world):
    """A citizen portal with two clusters: TECHSVC's, where LCS and ENV are members, and
    the PSOA's (the right to leave); TECH's and ENV's deputy ministers hold seats too."""
    service = ServiceFactory(
        code="PORTAL",
        name="Citizen portal",
        category="portal",
        purpose=Purpose.CUSTOMER,
        audience=Audience.EXTERNAL,
    )
    tech = ClusterFactory(
        code="PORTAL-TECH", name="Technology Portal", service=service, provider=world.tech_provider
    )
    psoa = ClusterFactory(
        code="PORTAL-PSOA", name="PSOA Portal", service=service, provider=world.psoa
    )
    start = datetime.date(2025, 4, 1)
    for department in (world.lcs, world.env):
        MembershipFactory(department=department, cluster=tech, joined_on=start, usage_units=50)
    for department in (world.env, world.tech):
        dm = UserFactory(
            username=f"dm_{department.code.lower()}",
            role=Role.DEPUTY_MINISTER,
            department=department,
        )
        department.deputy_minister = dm
        department.save()
    world.portal, world.portal_tech, world.portal_psoa = service, tech, psoa
    return world


def _leave(world, **overrides) -> ExitRequest:
    fields = {
        "actor": world.manager,
        "department": world.lcs,
        "from_cluster": world.portal_tech,
        "destination": Destination.CLUSTER,
        "to_cluster": world.portal_psoa,
        "reason": Reason.COST,
        "justification": "The PSOA's portal costs less.",
        "transition_on": _transition(),
        **PLAN,
    }
    return services.exit_request_submit(**{**fields, **overrides})


def test_an_exit_without_its_plan_is_refused_with_a_message_for_each_part(portal):
    with pytest.raises(ValidationError) as refused:
        _leave(portal, citizen_impact="", records_and_cases="  ", contact="", transition_on=None)
    assert refused.value.message_dict == {
        "citizen_impact": [services.NEEDS_CITIZEN_IMPACT],
        "records_and_cases": [services.NEEDS_RECORDS_AND_CASES],
        "contact": [services.NEEDS_CONTACT],
        "transition_on": [services.NEEDS_TRANSITION_ON],
    }
    leave_on = timezone.localdate() + datetime.timedelta(days=portal.portal_tech.notice_days)
    with pytest.raises(ValidationError) as refused:
        _leave(portal, transition_on=leave_on + datetime.timedelta(days=1))
    assert refused.value.message_dict == {
        "transition_on": [
            services.TRANSITION_OUT_OF_RANGE.format(leave=f"{leave_on.day} {leave_on:%B %Y}")
        ]
    }
    assert not ExitRequest.objects.exists()


def test_a_move_to_the_psoa_is_scheduled_and_every_deputy_minister_told_with_the_plan(portal):
    request = _leave(portal)
    saved = ExitRequest.objects.get(pk=request.pk)
    assert saved.status == ExitStatus.SCHEDULED and not saved.needs_board
    assert (saved.citizen_impact, saved.transition_on, saved.records_and_cases, saved.contact) == (
        PLAN["citizen_impact"],
        _transition(),
        PLAN["records_and_cases"],
        PLAN["contact"],
    )
    assert not Case.objects.exists()
    told = Notification.objects.filter(kind=NotificationKind.CITIZEN_EXIT)
    assert sorted(n.recipient.username for n in told) == ["dm_env", "dm_fin", "dm_lcs", "dm_tech"]
    body = told.get(recipient__username="dm_fin").body
    assert "Citizen-continuity plan:" in body and PLAN["contact"] in body
    assert f"Transition date: {_transition().day} {_transition():%B %Y}" in body


def test_a_move_elsewhere_goes_to_the_board_with_its_plan_on_the_case_and_the_record(portal):
    request = _leave(portal, destination=Destination.IN_HOUSE, to_cluster=None)
    case = request.board_case
    assert request.status == ExitStatus.PENDING_BOARD
    assert not Notification.objects.filter(kind=NotificationKind.CITIZEN_EXIT).exists()
    opened = Notification.objects.get(
        kind=NotificationKind.CASE_OPENED, recipient__username="dm_env"
    )
    assert PLAN["records_and_cases"] in opened.body
    client = Client()
    client.force_login(portal.analyst)
    page = client.get(f"/cases/{case.pk}/")
    assert page.status_code == 200
    assert f"What citizens will notice {PLAN['citizen_impact']}" in text(page)
    for voter in ("dm_fin", "dm_env", "dm_tech"):
        if Case.objects.get(pk=case.pk).is_open:
            vote_cast(actor=User.objects.get(username=voter), case=case, choice="approve")
    record = client.get(f"/cases/{case.pk}/decision/")
    assert record.status_code == 200
    assert f"Who answers citizens' questions {PLAN['contact']}" in text(record)
    detail = client.get(f"/exit-requests/{request.pk}/")
    assert "Citizen-continuity plan" in text(detail)


def test_an_exit_from_another_service_asks_for_no_plan_and_keeps_none(portal, world):
    request = services.exit_request_submit(
        actor=world.manager,
        department=world.lcs,
        from_cluster=world.pay_psoa,
        destination=Destination.IN_HOUSE,
        reason=Reason.COST,
        justification="Cheaper.",
        **PLAN,
    )
    saved = ExitRequest.objects.get(pk=request.pk)
    assert (saved.citizen_impact, saved.transition_on, saved.contact) == ("", None, "")
    assert not saved.has_citizen_plan


def test_clusters_of_a_live_service_for_citizens_default_to_180_days(portal, world):
    assert default_notice_days(portal.portal) == CITIZEN_NOTICE_DAYS == 180
    cluster = cluster_create(
        actor=world.administrator,
        code="PORTAL-NEW",
        name="New portal",
        service=portal.portal,
        provider=world.psoa,
    )
    assert cluster.notice_days == 180
    pilot = ServiceFactory(code="CHAT", purpose=Purpose.CUSTOMER, lifecycle=Lifecycle.PILOT)
    assert default_notice_days(pilot) == 30  # a pilot is still easy to leave
    assert default_notice_days(world.payroll) == 90


def test_the_leave_form_asks_for_the_plan_and_the_check_page_shows_it(portal):
    client = Client()
    client.force_login(portal.manager)
    membership = portal.lcs.memberships.get(cluster=portal.portal_tech)
    form = client.get(f"/memberships/{membership.pk}/leave/")
    assert form.status_code == 200 and "Citizen-continuity plan" in text(form)
    answers = {
        "destination": "cluster:PORTAL-PSOA",
        "reason": Reason.COST,
        "justification": "Cheaper.",
    }
    refused = client.post(f"/memberships/{membership.pk}/leave/", answers)
    assert refused.status_code == 400
    for message in (
        "Say what citizens will notice when the department leaves",
        "Give the date citizens move to the new service",
        "Say how citizens' records and open cases move",
        "Say who answers citizens' questions during the move",
    ):
        assert message in text(refused)
    day = _transition()
    answers |= {
        **PLAN,
        "transition_on_day": str(day.day),
        "transition_on_month": str(day.month),
        "transition_on_year": str(day.year),
    }
    check = client.post(f"/memberships/{membership.pk}/leave/", answers, follow=True)
    assert check.redirect_chain[-1][0].endswith("/check/")
    assert f"Transition date {day.day} {day:%B %Y}" in text(check)
    client.post(check.redirect_chain[-1][0])
    saved = ExitRequest.objects.get()
    assert saved.contact == PLAN["contact"] and saved.transition_on == day


def test_the_api_takes_and_gives_the_plan(portal):
    _, key = AuthToken.objects.create(user=portal.manager)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    body = {
        "department": "LCS",
        "from_cluster": "PORTAL-TECH",
        "destination": "cluster",
        "to_cluster": "PORTAL-PSOA",
        "reason": "cost",
        "justification": "Cheaper.",
    }
    refused = api.post("/api/v1/exit-requests/", body, format="json")
    assert refused.status_code == 400
    assert refused.json()["contact"] == [services.NEEDS_CONTACT]
    assert not ExitRequest.objects.exists()
    made = api.post(
        "/api/v1/exit-requests/",
        {**body, **PLAN, "transition_on": _transition().isoformat()},
        format="json",
    )
    assert made.status_code == 201, made.json()
    assert made.json()["transition_on"] == _transition().isoformat()
    assert made.json()["records_and_cases"] == PLAN["records_and_cases"]
    assert ExitRequest.objects.get().citizen_impact == PLAN["citizen_impact"]
