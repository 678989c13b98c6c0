"""The pilot pages per role: the list, planning a pilot (administrators; each refusal with
its message), a pilot with its criteria and its evidence so far (for those who read it),
and the evaluation form that opens the board case. Every POST is checked in the database."""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.test import Client
from django.utils import timezone

from clusters.models import Lifecycle
from governance.models import Case, CaseKind
from initiatives.models import PilotDecisionKind, PilotEvaluation, PilotPlan, PilotStatus
from tests.factories import ServiceFactory
from tests.governance.test_views import error_summary, section
from tests.initiatives.pilot_world import (  # noqa: F401  (fixtures)
    mail_fixture,
    months_back,
    plan_of,
    seated_fixture,
)
from tests.pages import text


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _date(prefix: str, day: datetime.date) -> dict[str, str]:
    return {
        f"{prefix}_day": str(day.day),
        f"{prefix}_month": str(day.month),
        f"{prefix}_year": str(day.year),
    }


def _plan_form(world, **overrides) -> dict[str, object]:
    data: dict[str, object] = {
        "service": world.mail.code,
        "clusters": [world.mail_cluster.code],
        **_date("starts_on", months_back(3)),
        **_date("ends_on", timezone.localdate() + datetime.timedelta(days=60)),
        "min_compliance_rate": "85",
        "max_cost_per_unit": "10.00",
        "min_members": "3",
        "min_benefit": "0",
    }
    data.update(overrides)
    return data


def test_everyone_reads_the_list_and_only_administrators_are_offered_a_plan(mail):
    plan_of(mail)
    for user, offered in ((mail.manager, False), (mail.analyst, False), (mail.administrator, True)):
        response = signed_in(user).get("/pilots/")
        assert response.status_code == 200
        assert "Digital mail" in section(response, "pilots")
        assert ("Plan a pilot" in text(response)) is offered


def test_planning_is_for_administrators(mail):
    client = signed_in(mail.manager)
    assert client.get("/pilots/new/").status_code == 403
    assert client.post("/pilots/new/", _plan_form(mail)).status_code == 403
    assert not PilotPlan.objects.exists()


def test_a_plan_with_bad_criteria_is_refused_with_a_message_each(mail):
    client = signed_in(mail.administrator)
    response = client.post(
        "/pilots/new/",
        _plan_form(
            mail,
            clusters=[],
            min_compliance_rate="101",
            max_cost_per_unit="0",
            min_members="0",
            min_benefit="lots",
            ends_on_day="",
        ),
    )
    assert response.status_code == 400
    assert error_summary(response) == [
        "Select the pilot's clusters",
        "The end date must include a day",
        "Enter the minimum benefit, for example 0",
    ]
    response = client.post(
        "/pilots/new/",
        _plan_form(mail, min_compliance_rate="101", max_cost_per_unit="0", min_members="0"),
    )
    assert response.status_code == 400
    assert error_summary(response) == [
        "Enter a compliance rate from 0 to 100 per cent.",
        "Enter a maximum cost per unit of more than 0.",
        "A pilot needs at least 1 member department.",
    ]
    assert not PilotPlan.objects.exists()


def test_an_administrator_plans_a_pilot(mail):
    response = signed_in(mail.administrator).post("/pilots/new/", _plan_form(mail), follow=True)
    assert response.redirect_chain == [("/pilots/MAIL/", 302)]
    plan = PilotPlan.objects.get()
    assert (plan.service, plan.min_members, plan.max_cost_per_unit) == (
        mail.mail,
        3,
        Decimal("10.00"),
    )
    assert list(plan.clusters.all()) == [mail.mail_cluster]
    assert "The pilot of Digital mail is planned" in text(response)
    # A service already planned is no longer offered.
    ServiceFactory(code="PORTAL", name="Citizen portal", lifecycle=Lifecycle.PILOT)
    form = signed_in(mail.administrator).get("/pilots/new/")
    assert "Citizen portal" in text(form) and "Digital mail" not in text(form)


def test_the_evidence_so_far_is_shown_to_its_readers_only(mail):
    plan_of(mail, min_members=1)
    member = signed_in(mail.manager).get("/pilots/MAIL/")  # LCS is a member
    assert member.status_code == 200
    criteria = section(member, "criteria")
    assert "Compliance with the service's standards at least 85.0% 88.9% Met" in criteria
    assert "Cost per unit at most 10.00 8.00 Met" in criteria
    assert "Put a decision to the board" not in text(member)
    outsider = signed_in(mail.provider_manager).get("/pilots/MAIL/")  # the PSOA: not in it
    assert outsider.status_code == 200
    assert 'id="criteria"' not in outsider.content.decode()
    assert "at least 85.0% of returns meet their standard" in text(outsider)  # the plan is public


def test_only_administrators_put_a_decision_to_the_board(mail):
    plan_of(mail)
    response = signed_in(mail.deputy_minister).post(
        "/pilots/MAIL/", {"decision": PilotDecisionKind.GO_LIVE}
    )
    assert response.status_code == 403
    assert not Case.objects.exists()


def test_an_evaluation_with_a_wind_down_too_early_is_refused(mail):
    plan = plan_of(mail)
    response = signed_in(mail.administrator).post(
        "/pilots/MAIL/",
        {"decision": PilotDecisionKind.STOP, **_date("wind_down_on", timezone.localdate())},
    )
    assert response.status_code == 400
    [message] = error_summary(response)
    assert message.startswith("The members must have their notice (30 days) after the board's")
    assert not Case.objects.exists()
    assert PilotPlan.objects.get(pk=plan.pk).status == PilotStatus.RUNNING


def test_an_administrator_opens_the_board_case_from_the_pilot_page(mail):
    plan = plan_of(mail)
    client = signed_in(mail.administrator)
    response = client.post(
        "/pilots/MAIL/",
        {
            "decision": PilotDecisionKind.EXTEND,
            **_date("new_ends_on", plan.ends_on + datetime.timedelta(days=90)),
        },
    )
    evaluation = PilotEvaluation.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/cases/{evaluation.case_id}/"
    assert evaluation.case.kind == CaseKind.PILOT
    assert evaluation.new_ends_on == plan.ends_on + datetime.timedelta(days=90)
    assert PilotPlan.objects.get(pk=plan.pk).status == PilotStatus.UNDER_REVIEW
    page = client.get("/pilots/MAIL/")
    assert f"Case {evaluation.case_id} : Extend to" in section(page, "decisions")
    assert "Put a decision to the board" not in text(page)
    # The board's cases are read with the evidence: not by the PSOA, which is not in it.
    outsider = signed_in(mail.provider_manager).get("/pilots/MAIL/")
    assert 'id="decisions"' not in outsider.content.decode()
    assert "With the board" in text(outsider)
