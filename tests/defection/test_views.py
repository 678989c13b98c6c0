"""The exit pages: giving notice in two steps, reading, withdrawing and listing requests,
and the pending departures of a cluster; checked against the database."""

from __future__ import annotations

import datetime
import re
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.utils import timezone

from budgets.services import cost_pool_create
from clusters.models import Cluster, Membership
from defection import forms, services, views
from defection.models import Destination, ExitRequest, ExitStatus, Reason
from governance.models import Case, CaseStatus
from sharedsvc.periods import previous_month
from tests.factories import (
    ClusterFactory,
    DepartmentFactory,
    MembershipFactory,
)
from tests.pages import count_queries, html, text

TODAY = timezone.localdate


def long_date(day: datetime.date) -> str:
    return f"{day.day} {day:%B %Y}"


def earliest() -> datetime.date:
    return TODAY() + datetime.timedelta(days=90)


def as_user(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def pay_psoa_2(world):
    """A second PSOA payroll cluster: moving there is the right to leave."""
    return ClusterFactory(
        code="PAY-PSOA-2", name="PSOA Payroll East", service=world.payroll, provider=world.psoa
    )


@pytest.fixture
def priced(world, pay_psoa_2):
    """Last month's pools: PAY-PSOA 7,000.00 over 700 units (LCS 400, ENV 300) with half its
    cost fixed; PAY-PSOA-2 1,200.00 over its one member's 100 units."""
    Cluster.objects.filter(pk=world.pay_psoa.pk).update(fixed_cost_ratio=Decimal("0.50"))
    world.pay_psoa.refresh_from_db()
    month = previous_month(TODAY())
    cost_pool_create(
        actor=world.provider_manager, cluster=world.pay_psoa, period=month, amount=Decimal("7000")
    )
    MembershipFactory(
        department=DepartmentFactory(code="AGR", name="Agriculture"),
        cluster=pay_psoa_2,
        usage_units=100,
    )
    cost_pool_create(
        actor=world.provider_manager, cluster=pay_psoa_2, period=month, amount=Decimal("1200")
    )
    return month


def answers(**overrides) -> dict[str, str]:
    data = {
        "destination": "cluster:PAY-PSOA-2",
        "to_provider": "",
        "reason": Reason.COST,
        "justification": "The east cluster costs less per employee.",
        "requested_leave_on_day": "",
        "requested_leave_on_month": "",
        "requested_leave_on_year": "",
    }
    data.update(overrides)
    return data


def date_answers(day: datetime.date) -> dict[str, str]:
    return {
        "requested_leave_on_day": str(day.day),
        "requested_leave_on_month": str(day.month),
        "requested_leave_on_year": str(day.year),
    }


def leave_url(membership: Membership) -> str:
    return f"/memberships/{membership.pk}/leave/"


def check_url(membership: Membership) -> str:
    return f"/memberships/{membership.pk}/leave/check/"


def submit(world, user=None, **kwargs) -> ExitRequest:
    data = {
        "actor": user or world.manager,
        "department": world.lcs,
        "from_cluster": world.pay_psoa,
        "destination": Destination.CLUSTER,
        "to_cluster": world.pay_tech,
        "reason": Reason.COST,
        "justification": "Cheaper elsewhere.",
    }
    data.update(kwargs)
    return services.exit_request_submit(**data)


# The department page ------------------------------------------------------------------


@pytest.mark.parametrize("persona", ["manager", "deputy_minister", "administrator"])
def test_those_who_may_give_notice_see_leave_this_cluster(world, persona):
    page = html(as_user(getattr(world, persona)).get("/departments/LCS/"))
    assert f'href="{leave_url(world.lcs_payroll)}"' in page
    assert f'href="{leave_url(world.lcs_it)}"' in page
    assert page.count("Leave this cluster") == 2


@pytest.mark.parametrize("persona", ["analyst", "other_manager", "provider_manager"])
def test_others_do_not_see_leave_this_cluster(world, persona):
    response = as_user(getattr(world, persona)).get("/departments/LCS/")
    assert response.status_code == 200
    assert "Leave this cluster" not in html(response)
    assert "/leave/" not in html(response)


def test_a_membership_with_notice_given_links_to_its_request_instead(world, pay_psoa_2):
    request = submit(world, to_cluster=pay_psoa_2)
    # One leaving by an administrator's hand, without a request: nothing to offer.
    world.lcs_it.leaves_on = TODAY() + datetime.timedelta(days=10)
    world.lcs_it.save()
    response = as_user(world.manager).get("/departments/LCS/")
    page = html(response)
    assert "Leave this cluster" not in page
    assert f'href="/exit-requests/{request.pk}/"' in page
    assert f"PSOA Payroll Notice given: leaves on {long_date(earliest())}" in text(response)
    assert "Technology Desktop Notice given" not in text(response)
    # The PSOA East membership starts on the leave date: joining, not yet to be left.
    assert leave_url(request.new_membership) not in page


def test_the_department_page_shows_each_notice_period(world):
    page = text(as_user(world.manager).get("/departments/LCS/"))
    assert (
        f"PSOA Payroll 90 days' notice: the earliest leave date is {long_date(earliest())} "
        "Leave this cluster (PSOA Payroll)" in page
    )


# Step 1: choose ---------------------------------------------------------------------


def test_the_choose_page_lists_the_alternatives_with_their_cost_and_room(world, priced):
    Cluster.objects.filter(code="PAY-TECH").update(capacity=700)  # TECH uses 200 of it
    response = as_user(world.manager).get(leave_url(world.lcs_payroll))
    assert response.status_code == 200
    page = text(response)
    assert f"the earliest it can leave is {long_date(earliest())}" in page
    # PSOA East: 1,200.00 / 100 units; Technology Payroll has no pool yet.
    assert (
        "PSOA Payroll East Public Service Operations Agency: run by the PSOA, so no board vote "
        f"is needed. Cost per employee: 12.00 a month ({previous_month(TODAY()):%B %Y}). "
        "Room: no limit." in page
    )
    assert (
        "Technology Payroll Technology Services: run by the department Technology, so the "
        "board decides. Cost per employee: not known yet (no cost pool). Room: 500 more "
        f"employees on {long_date(earliest())}." in page
    )
    # The cluster being left is not an option; the PSOA is not "another provider".
    assert 'value="cluster:PAY-PSOA"' not in html(response)
    assert '<option value="ACME">Acme Outsourcing</option>' in html(response)
    assert '<option value="TECHSVC">Technology Services</option>' in html(response)
    assert 'value="PSOA"' not in html(response)


def test_valid_answers_go_to_the_check_page_and_save_nothing(world, priced):
    client = as_user(world.manager)
    response = client.post(leave_url(world.lcs_payroll), answers())
    assert response.status_code == 302
    assert response["Location"] == check_url(world.lcs_payroll)
    assert client.session[f"defection.leave.{world.lcs_payroll.pk}"]["destination"] == (
        "cluster:PAY-PSOA-2"
    )
    assert not ExitRequest.objects.exists()
    # Back from the check page: the answers are there to change.
    page = html(client.get(leave_url(world.lcs_payroll)))
    assert 'value="cluster:PAY-PSOA-2" checked' in page
    assert "The east cluster costs less per employee." in page


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"destination": ""}, "destination", forms.SELECT_DESTINATION),
        ({"destination": "cluster:IT-TECH"}, "destination", forms.UNKNOWN_DESTINATION),
        ({"destination": "cluster:PAY-PSOA"}, "destination", forms.UNKNOWN_DESTINATION),
        ({"destination": "provider"}, "to_provider", forms.SELECT_PROVIDER),
        ({"destination": "provider", "to_provider": "PSOA"}, "to_provider", forms.UNKNOWN_PROVIDER),
        ({"reason": ""}, "reason", forms.SELECT_REASON),
        ({"justification": "  "}, "justification", forms.ENTER_JUSTIFICATION),
        ({"requested_leave_on_day": "3"}, "requested_leave_on", "must include a month and year"),
        (
            {
                "requested_leave_on_day": "31",
                "requested_leave_on_month": "2",
                "requested_leave_on_year": "2031",
            },
            "requested_leave_on",
            forms.DATE_NOT_REAL,
        ),
        (
            {
                "requested_leave_on_day": "x",
                "requested_leave_on_month": "2",
                "requested_leave_on_year": "2031",
            },
            "requested_leave_on",
            forms.DATE_NOT_NUMBERS,
        ),
    ],
)
def test_bad_answers_are_shown_in_the_error_summary_and_nothing_is_saved(
    world, priced, overrides, field, message
):
    client = as_user(world.manager)
    response = client.post(leave_url(world.lcs_payroll), answers(**overrides))
    assert response.status_code == 400
    page = html(response)
    assert "There is a problem" in page
    assert message in page
    anchor = {
        "destination": "id_destination_0",
        "reason": "id_reason_0",
        "requested_leave_on": "id_requested_leave_on_day",
    }.get(field, f"id_{field}")
    assert f'<a href="#{anchor}">' in page
    assert page.count(f'id="{anchor}"') == 1
    assert "<title>Error: " in page
    assert not ExitRequest.objects.exists()
    assert f"defection.leave.{world.lcs_payroll.pk}" not in client.session


def test_a_date_inside_the_notice_period_names_the_earliest_date(world, priced):
    day_before = earliest() - datetime.timedelta(days=1)
    response = as_user(world.manager).post(
        leave_url(world.lcs_payroll), answers(**date_answers(day_before))
    )
    assert response.status_code == 400
    expected = services.TOO_EARLY.format(earliest=long_date(earliest()), days=90)
    assert expected in html(response)
    assert f'<a href="#id_requested_leave_on_day">{expected}</a>' in html(response)
    assert 'id="id_requested_leave_on_day" name="requested_leave_on_day"' in html(response)
    assert not ExitRequest.objects.exists()
    world.lcs_payroll.refresh_from_db()
    assert world.lcs_payroll.leaves_on is None


def test_a_cluster_without_room_is_refused_at_step_one(world, priced, pay_psoa_2):
    Cluster.objects.filter(pk=pay_psoa_2.pk).update(capacity=450)  # AGR uses 100; LCS needs 400
    response = as_user(world.manager).post(leave_url(world.lcs_payroll), answers())
    assert response.status_code == 400
    assert services.NO_ROOM.format(
        cluster="PAY-PSOA-2", room=350, date=long_date(earliest()), needed=400
    ) in html(response)
    assert not ExitRequest.objects.exists()


# Step 2: check and confirm ----------------------------------------------------------


def test_the_check_page_shows_the_dates_the_route_and_the_impact(world, priced):
    client = as_user(world.manager)
    client.post(leave_url(world.lcs_payroll), answers())
    response = client.get(check_url(world.lcs_payroll))
    assert response.status_code == 200
    page = text(response)
    assert "Notice period 90 days" in page
    assert f"Earliest leave date {long_date(earliest())}" in page
    assert f"Leave date that will apply {long_date(earliest())}" in page
    assert "the move is scheduled as soon as you confirm and nobody can block it" in page
    assert "Confirm and give notice" in page
    # 7,000.00 over 700 units, half fixed: 5,000.00 over ENV's 300 units after LCS leaves.
    assert "Cost per employee before 10.00 a month (700 employees)" in page
    assert "Cost per employee after 16.67 a month (300 employees)" in page
    assert "Environment 300 3,000.00 5,000.00 +2,000.00" in page
    # Change links go back to step 1, at the answer.
    assert f'href="{leave_url(world.lcs_payroll)}#id_destination_0"' in html(response)
    assert f'href="{leave_url(world.lcs_payroll)}#id_requested_leave_on_day"' in html(response)
    assert not ExitRequest.objects.exists()


def test_confirming_a_move_to_a_psoa_cluster_schedules_it(world, priced, pay_psoa_2):
    client = as_user(world.manager)
    later = earliest() + datetime.timedelta(days=10)
    client.post(leave_url(world.lcs_payroll), answers(**date_answers(later)))
    response = client.post(check_url(world.lcs_payroll))
    request = ExitRequest.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/exit-requests/{request.pk}/"
    assert (
        request.department,
        request.membership,
        request.from_cluster,
        request.destination,
        request.to_cluster,
        request.to_provider,
        request.reason,
        request.justification,
        request.requested_leave_on,
        request.leave_on,
        request.status,
        request.needs_board,
        request.requested_by,
    ) == (
        world.lcs,
        world.lcs_payroll,
        world.pay_psoa,
        Destination.CLUSTER,
        pay_psoa_2,
        None,
        Reason.COST,
        "The east cluster costs less per employee.",
        later,
        later,
        ExitStatus.SCHEDULED,
        False,
        world.manager,
    )
    assert request.impact["unit_cost_after"] == "16.6667"
    world.lcs_payroll.refresh_from_db()
    assert world.lcs_payroll.leaves_on == later
    assert Membership.objects.get(department=world.lcs, cluster=pay_psoa_2).joined_on == later
    assert f"defection.leave.{world.lcs_payroll.pk}" not in client.session
    page = text(client.get(response["Location"]))
    assert (
        f"Notice given: Labour and Citizens' Services leaves PSOA Payroll on {long_date(later)}"
        in page
    )
    # Confirming twice (a double click, the back button) cannot make a second request.
    again = client.post(check_url(world.lcs_payroll))
    assert again.status_code == 409
    assert ExitRequest.objects.count() == 1


def test_confirming_a_move_elsewhere_sends_it_to_the_board(world, priced):
    client = as_user(world.deputy_minister)
    client.post(
        leave_url(world.lcs_payroll),
        answers(destination="provider", to_provider="ACME", reason=Reason.SERVICE_QUALITY),
    )
    check = text(client.get(check_url(world.lcs_payroll)))
    assert "Another provider: Acme Outsourcing" in check
    assert "so the board of deputy ministers decides" in check
    assert "Confirm and send to the board" in check
    response = client.post(check_url(world.lcs_payroll))
    request = ExitRequest.objects.get()
    assert (request.status, request.needs_board, request.destination, request.to_provider) == (
        ExitStatus.PENDING_BOARD,
        True,
        Destination.PROVIDER,
        world.outside,
    )
    assert Case.objects.get(exit_request=request).status == CaseStatus.OPEN
    world.lcs_payroll.refresh_from_db()
    assert world.lcs_payroll.leaves_on is None
    page = html(client.get(response["Location"]))
    assert f'href="/cases/{request.board_case.pk}/"' in page
    assert "Waiting for the board" in page


def test_in_house_goes_to_the_board_too(world, priced):
    client = as_user(world.administrator)
    client.post(leave_url(world.lcs_it), answers(destination="in_house"))
    client.post(check_url(world.lcs_it))
    request = ExitRequest.objects.get()
    assert (request.destination, request.status, request.from_cluster) == (
        Destination.IN_HOUSE,
        ExitStatus.PENDING_BOARD,
        world.it_tech,
    )
    assert request.requested_by == world.administrator


def test_answers_that_went_stale_are_refused_on_the_form_and_nothing_is_saved(
    world, priced, pay_psoa_2
):
    client = as_user(world.manager)
    client.post(leave_url(world.lcs_payroll), answers())
    # Between the steps the east cluster fills up.
    Cluster.objects.filter(pk=pay_psoa_2.pk).update(capacity=150)
    response = client.post(check_url(world.lcs_payroll))
    assert response.status_code == 400
    assert "There is a problem" in html(response)
    assert "PAY-PSOA-2 has room for 50 more units" in html(response)
    assert not ExitRequest.objects.exists()


def test_there_is_nothing_to_check_without_answers(world):
    client = as_user(world.manager)
    response = client.get(check_url(world.lcs_payroll))
    assert (response.status_code, response["Location"]) == (302, leave_url(world.lcs_payroll))
    response = client.post(check_url(world.lcs_payroll), follow=True)
    assert views.NOTHING_TO_CONFIRM in html(response)
    assert not ExitRequest.objects.exists()


@pytest.mark.parametrize(
    ("error", "field"),
    [
        ({"requested_leave_on": "too early"}, "requested_leave_on"),
        ({"to_cluster": "no room"}, "destination"),
        ({"to_provider": "not that one"}, "to_provider"),
        ({"from_cluster": "already leaving"}, None),
    ],
)
def test_service_refusals_land_on_the_field_a_person_can_change(world, error, field):
    form = forms.LeaveForm(
        answers(),
        membership=world.lcs_payroll,
        options=[],
        providers=[],
        earliest=earliest(),
    )
    form.is_valid()
    forms.attach_submit_error(form, ValidationError(error))
    message = next(iter(error.values()))
    if field is None:
        assert message in form.non_field_errors()
    else:
        assert message in form.errors[field]


def test_the_service_refusal_of_a_real_submission_reaches_the_date_field(world):
    """The service's own error for a date inside the notice period, put on the form."""
    with pytest.raises(ValidationError) as refused:
        submit(world, requested_leave_on=TODAY())
    form = forms.LeaveForm(
        answers(), membership=world.lcs_payroll, options=[], providers=[], earliest=earliest()
    )
    form.is_valid()
    forms.attach_submit_error(form, refused.value)
    assert form.errors["requested_leave_on"] == [
        services.TOO_EARLY.format(earliest=long_date(earliest()), days=90)
    ]


# Who may give notice ----------------------------------------------------------------


@pytest.mark.parametrize("url", [leave_url, check_url])
@pytest.mark.parametrize(
    ("persona", "membership", "status"),
    [
        ("analyst", "lcs_payroll", 403),  # reads everything, writes nothing
        ("other_manager", "lcs_payroll", 403),  # a co-member: sees it, may not act
        ("provider_manager", "lcs_payroll", 403),
        ("other_manager", "lcs_it", 404),  # ENV is not in IT-TECH: cannot see it
        ("recused_deputy_minister", "lcs_payroll", 404),
        ("other_provider_manager", "lcs_payroll", 404),
    ],
)
def test_giving_notice_for_another_department_is_refused(
    world, pay_psoa_2, url, persona, membership, status
):
    client = as_user(getattr(world, persona))
    target = url(getattr(world, membership))
    assert client.get(target).status_code == status
    assert client.post(target, answers()).status_code == status
    assert not ExitRequest.objects.exists()


def test_an_unknown_membership_is_404(world):
    assert as_user(world.manager).get("/memberships/999999/leave/").status_code == 404


def test_a_membership_already_leaving_cannot_be_left_again(world, pay_psoa_2):
    request = submit(world, to_cluster=pay_psoa_2)
    response = as_user(world.manager).get(leave_url(world.lcs_payroll))
    assert response.status_code == 409
    assert services.OPEN_REQUEST_EXISTS.format(department="LCS", cluster="PAY-PSOA") in html(
        response
    )
    assert f'href="/exit-requests/{request.pk}/"' in html(response)
    response = as_user(world.manager).post(check_url(world.lcs_payroll))
    assert response.status_code == 409
    assert ExitRequest.objects.count() == 1


# The request page and withdrawing ---------------------------------------------------


def test_the_request_page_shows_status_dates_and_impact(world, priced, pay_psoa_2):
    request = submit(world, to_cluster=pay_psoa_2, justification="Line one.\nLine two.")
    page = text(as_user(world.manager).get(f"/exit-requests/{request.pk}/"))
    assert "Labour and Citizens' Services leaving PSOA Payroll" in page
    assert "Scheduled" in page
    assert f"Requested on {long_date(TODAY())} by" in page
    assert f"Leaves on {long_date(earliest())}" in page
    assert (
        "Destination PSOA Payroll East (PAY-PSOA-2) \N{EN DASH} Public Service Operations Agency"
        in page
    )
    assert "Reason Cost" in page
    assert "Line one. Line two." in page
    assert "Nobody: a move to a PSOA cluster is the department's right" in page
    assert "Environment 300 3,000.00 5,000.00 +2,000.00" in page
    assert "Withdraw this request" in page


@pytest.mark.parametrize(
    ("persona", "sees_withdraw"),
    [
        ("manager", True),
        ("deputy_minister", True),
        ("administrator", True),
        ("analyst", False),
        ("other_manager", False),
        ("provider_manager", False),
    ],
)
def test_only_those_who_may_withdraw_see_the_button(world, pay_psoa_2, persona, sees_withdraw):
    request = submit(world, to_cluster=pay_psoa_2)
    response = as_user(getattr(world, persona)).get(f"/exit-requests/{request.pk}/")
    assert response.status_code == 200
    assert ("Withdraw this request" in html(response)) is sees_withdraw


@pytest.mark.parametrize(
    ("persona", "status"),
    [("recused_deputy_minister", 404), ("other_provider_manager", 404)],
)
def test_a_request_one_may_not_see_is_404(world, pay_psoa_2, persona, status):
    request = submit(world, to_cluster=pay_psoa_2)
    client = as_user(getattr(world, persona))
    assert client.get(f"/exit-requests/{request.pk}/").status_code == status
    assert client.post(f"/exit-requests/{request.pk}/withdraw/").status_code == status
    assert ExitRequest.objects.get().status == ExitStatus.SCHEDULED


def test_an_unknown_request_is_404(world):
    assert as_user(world.administrator).get("/exit-requests/999999/").status_code == 404


def test_withdrawing_a_scheduled_move_undoes_it(world, pay_psoa_2):
    request = submit(world, to_cluster=pay_psoa_2)
    client = as_user(world.manager)
    confirm = client.get(f"/exit-requests/{request.pk}/withdraw/")
    assert confirm.status_code == 200
    assert "the department will not join PSOA Payroll East" in text(confirm)
    assert ExitRequest.objects.get().status == ExitStatus.SCHEDULED  # a GET changes nothing
    response = client.post(f"/exit-requests/{request.pk}/withdraw/")
    assert (response.status_code, response["Location"]) == (302, f"/exit-requests/{request.pk}/")
    request.refresh_from_db()
    assert request.status == ExitStatus.WITHDRAWN and request.new_membership is None
    world.lcs_payroll.refresh_from_db()
    assert world.lcs_payroll.leaves_on is None
    assert not Membership.objects.filter(cluster=pay_psoa_2, department=world.lcs).exists()
    page = text(client.get(response["Location"]))
    assert "Request withdrawn: Labour and Citizens' Services stays in PSOA Payroll" in page
    assert "Withdrawn" in page and "Withdraw this request" not in page


def test_withdrawing_a_request_before_the_board_withdraws_its_case(world):
    request = submit(world, to_cluster=world.pay_tech)
    as_user(world.deputy_minister).post(f"/exit-requests/{request.pk}/withdraw/")
    request.refresh_from_db()
    assert request.status == ExitStatus.WITHDRAWN
    assert Case.objects.get(exit_request=request).status == CaseStatus.WITHDRAWN


@pytest.mark.parametrize("persona", ["analyst", "other_manager", "provider_manager"])
def test_others_may_not_withdraw(world, pay_psoa_2, persona):
    request = submit(world, to_cluster=pay_psoa_2)
    client = as_user(getattr(world, persona))
    assert client.get(f"/exit-requests/{request.pk}/withdraw/").status_code == 403
    assert client.post(f"/exit-requests/{request.pk}/withdraw/").status_code == 403
    request.refresh_from_db()
    assert request.status == ExitStatus.SCHEDULED


def test_withdrawing_twice_is_a_conflict_not_an_error(world, pay_psoa_2):
    request = submit(world, to_cluster=pay_psoa_2)
    client = as_user(world.manager)
    client.post(f"/exit-requests/{request.pk}/withdraw/")
    for response in (
        client.get(f"/exit-requests/{request.pk}/withdraw/"),
        client.post(f"/exit-requests/{request.pk}/withdraw/"),
    ):
        assert response.status_code == 409
        assert services.CANNOT_WITHDRAW.format(status="withdrawn") in html(response)
    assert ExitRequest.objects.get().status == ExitStatus.WITHDRAWN


def test_a_move_whose_date_has_come_cannot_be_withdrawn(world, pay_psoa_2):
    request = submit(world, to_cluster=pay_psoa_2)
    ExitRequest.objects.filter(pk=request.pk).update(leave_on=TODAY())
    client = as_user(world.manager)
    assert "Withdraw this request" not in html(client.get(f"/exit-requests/{request.pk}/"))
    assert "Completed" in html(client.get(f"/exit-requests/{request.pk}/"))
    response = client.post(f"/exit-requests/{request.pk}/withdraw/")
    assert response.status_code == 409
    assert services.TOO_LATE_TO_WITHDRAW.format(date=long_date(TODAY())) in html(response)
    assert ExitRequest.objects.get().status == ExitStatus.SCHEDULED


# The list, the cluster's pending departures and the navigation ----------------------


@pytest.fixture
def requests(world, pay_psoa_2):
    """LCS leaves PAY-PSOA for PSOA East (scheduled); ENV asks the board to leave it for
    PAY-TECH; LCS withdrew from IT-TECH (in-house)."""
    lcs = submit(world, to_cluster=pay_psoa_2)
    env = submit(
        world,
        user=world.other_manager,
        department=world.env,
        to_cluster=world.pay_tech,
        requested_leave_on=earliest() + datetime.timedelta(days=5),
    )
    it = submit(
        world, from_cluster=world.it_tech, destination=Destination.IN_HOUSE, to_cluster=None
    )
    services.exit_request_withdraw(actor=world.manager, exit_request=it)
    return {"lcs": lcs, "env": env, "it": it}


def listed(client: Client) -> set[int]:
    page = html(client.get("/exit-requests/"))
    return {int(pk) for pk in re.findall(r'href="/exit-requests/(\d+)/"', page)}


@pytest.mark.parametrize(
    ("persona", "expected"),
    [
        ("analyst", {"lcs", "env", "it"}),
        ("manager", {"lcs", "env", "it"}),
        ("other_manager", {"lcs", "env"}),  # a co-member of PAY-PSOA, not of IT-TECH
        ("recused_deputy_minister", {"env", "it"}),  # the board's: those that need it
        ("provider_manager", {"lcs", "env"}),  # PSOA's clusters
        ("other_provider_manager", {"env", "it"}),  # TECH: joining PAY-TECH, leaving IT-TECH
    ],
)
def test_the_list_shows_what_each_may_see(world, requests, persona, expected):
    assert listed(as_user(getattr(world, persona))) == {requests[k].pk for k in expected}


def test_the_list_shows_status_and_dates(world, requests):
    page = text(as_user(world.manager).get("/exit-requests/"))
    assert (
        "Labour and Citizens' Services leaving Technology Desktop In-house "
        f"{long_date(TODAY())} {long_date(earliest())} Withdrawn" in page
    )
    assert (
        "Environment leaving PSOA Payroll Technology Payroll (PAY-TECH) "
        f"{long_date(TODAY())} {long_date(earliest() + datetime.timedelta(days=5))} "
        "Waiting for the board" in page
    )


def test_the_list_is_paged(world, requests, monkeypatch):
    monkeypatch.setattr(views, "REQUESTS_PER_PAGE", 2)
    client = as_user(world.analyst)
    first, second = listed(client), None
    page = html(client.get("/exit-requests/?page=2"))
    second = {int(pk) for pk in re.findall(r'href="/exit-requests/(\d+)/"', page)}
    assert len(first) == 2 and len(second) == 1 and not first & second
    assert 'rel="prev"' in page


@pytest.mark.parametrize(
    ("persona", "sees"),
    [
        ("other_manager", True),  # a member
        ("manager", True),
        ("provider_manager", True),  # the provider's manager
        ("other_provider_manager", True),  # TECH sees ENV's move to its cluster only
        ("analyst", True),
    ],
)
def test_the_cluster_page_shows_pending_departures(world, requests, persona, sees):
    page = html(as_user(getattr(world, persona)).get("/clusters/PAY-PSOA/"))
    assert "Pending departures" in page
    shown = set(re.findall(r'href="/exit-requests/(\d+)/"', page))
    if persona == "other_provider_manager":
        assert shown == {str(requests["env"].pk)}
    else:
        assert shown == {str(requests["lcs"].pk), str(requests["env"].pk)}
    # The withdrawn IT request is not pending, and belongs to another cluster anyway.
    assert str(requests["it"].pk) not in shown


def test_departures_that_happened_or_ended_are_not_pending(world, requests):
    ExitRequest.objects.filter(pk=requests["lcs"].pk).update(leave_on=TODAY())  # completed
    services.exit_request_withdraw(actor=world.other_manager, exit_request=requests["env"])
    page = text(as_user(world.provider_manager).get("/clusters/PAY-PSOA/"))
    assert "Pending departures No member has given notice to leave." in page


def test_the_pending_departures_table(world, requests):
    page = text(as_user(world.other_manager).get("/clusters/PAY-PSOA/"))
    assert (
        f"Labour and Citizens' Services {long_date(earliest())} Scheduled Request and impact"
        in page
    )


def test_a_stranger_to_the_cluster_sees_no_departures(world, requests):
    # FIN's deputy minister sees ENV's board request (the board's business) but not LCS's.
    page = html(as_user(world.recused_deputy_minister).get("/clusters/PAY-PSOA/"))
    assert set(re.findall(r'href="/exit-requests/(\d+)/"', page)) == {str(requests["env"].pk)}


@pytest.mark.parametrize(
    ("persona", "shown"),
    [
        ("manager", True),
        ("deputy_minister", True),
        ("analyst", False),
        ("provider_manager", False),
        ("administrator", False),
    ],
)
def test_department_roles_have_exit_requests_in_the_navigation(world, persona, shown):
    page = html(as_user(getattr(world, persona)).get("/"))
    assert ('href="/exit-requests/"' in page) is shown


# Query counts -----------------------------------------------------------------------


def grow(world, n: int) -> None:
    """n more departments in PAY-PSOA giving notice (visible to the LCS manager), n more
    payroll clusters with pools and members (alternatives), and n more pools of PAY-PSOA's
    history."""
    month = previous_month(TODAY())
    for i in range(n):
        dept = DepartmentFactory(code=f"QG{i:03d}")
        MembershipFactory(department=dept, cluster=world.pay_psoa, usage_units=10 + i)
        cluster = ClusterFactory(
            code=f"QC{i:03d}", service=world.payroll, provider=world.psoa, capacity=10_000
        )
        MembershipFactory(department=DepartmentFactory(code=f"QM{i:03d}"), cluster=cluster)
        cost_pool_create(
            actor=world.provider_manager, cluster=cluster, period=month, amount=Decimal("900")
        )
        cost_pool_create(
            actor=world.provider_manager,
            cluster=cluster,
            period=previous_month(month),
            amount=Decimal("800"),
        )
        submit(
            world,
            user=world.administrator,
            department=dept,
            to_cluster=cluster,
            justification=f"Request {i}",
        )


# Each page: the session sign-in (session, user), the named queries, the user's
# department for the navigation and the header's count of unread notifications (last,
# from the template).
PAGES: dict[str, int | None] = {
    # count, page of requests
    "/exit-requests/": 6,
    # the request (with its case); department names of its impact
    "detail": 6,
    # membership; its open request; non-PSOA providers; alternatives: clusters, latest
    # pools, their memberships
    "leave": 10,
    # as "leave" (the answers checked again; PSOA East has no capacity, so no room query),
    # + the impact: latest pool, members that month, department names
    "check": 13,
    # cluster; members; whether this user sees the members (the gate's current-member
    # question, for the message); pending departures
    "/clusters/PAY-PSOA/": 8,
    # department; memberships (with their open request); the rest is other apps' (the
    # viable alternatives), so only its constancy is checked here
    "/departments/LCS/": None,
}


@pytest.mark.parametrize("page", list(PAGES))
def test_query_counts_do_not_grow(world, priced, page):
    request = submit(world, to_cluster=world.pay_tech)  # LCS asks the board
    client = as_user(world.manager)
    url = page
    if page == "detail":
        url = f"/exit-requests/{request.pk}/"
    elif page in ("leave", "check"):
        # ENV weighs leaving PAY-PSOA: its alternatives grow with the data.
        client = as_user(world.other_manager)
        url = leave_url(world.env_payroll)
        if page == "check":
            client.post(url, answers())
            url = check_url(world.env_payroll)
    small = count_queries(client, url)
    grow(world, 4)
    if page == "detail":
        # A request made now carries the impact on 4 more members.
        later = submit(world, user=world.other_manager, department=world.env)
        assert len(later.impact["members"]) == len(request.impact["members"]) + 4
        url = f"/exit-requests/{later.pk}/"
    large = count_queries(client, url)
    assert small == large, f"{page}: {small} queries with little data, {large} with more"
    if PAGES[page] is not None:
        assert small == PAGES[page]
