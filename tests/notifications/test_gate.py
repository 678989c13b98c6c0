"""Who is told what: a user sees only their own notifications, and a notification says
only what its recipient may read (issue 7's rules). The destination provider of an exit
request reads it in part, so its notifications carry no justification and no impact; every
notification links to a page its recipient may open."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone

from budgets.models import CostPool
from defection.models import Destination, Reason
from defection.services import SEEN_IN_PART, exit_request_submit, exit_request_withdraw
from governance.services import vote_cast
from notifications.models import Notification, NotificationKind
from servicelevels.services import measurements_submit
from sharedsvc.periods import month_start, previous_month
from tests.governance.conftest import seat_holder
from tests.matrix import PERSONAS, SIGNED_OUT
from tests.notifications.support import celery_eager

JUSTIFICATION = "Payslips were late in seven of the last twelve months."
IMPACT = "Cost per unit, from the"


@pytest.fixture
def decided(world, django_capture_on_commit_callbacks):
    """LCS asks to leave the PSOA's payroll for TECHSVC's (TECHSVC: the destination
    provider); three seats sit, two reject: the case is decided. Every email is sent."""
    CostPool.objects.create(
        cluster=world.pay_psoa,
        period=previous_month(month_start(timezone.localdate())),
        amount=Decimal("7000.00"),
    )
    board = [seat_holder(code) for code in ("AGRI", "EDUC", "HLTH")]
    with celery_eager(), django_capture_on_commit_callbacks(execute=True):
        request = exit_request_submit(
            actor=world.manager,
            department=world.lcs,
            from_cluster=world.pay_psoa,
            destination=Destination.CLUSTER,
            to_cluster=world.pay_tech,
            reason=Reason.SERVICE_QUALITY,
            justification=JUSTIFICATION,
        )
    with celery_eager(), django_capture_on_commit_callbacks(execute=True):
        for dm in board[:2]:
            vote_cast(actor=dm, case=request.board_case, choice="reject", reason="Stay.")
    request.board_case.refresh_from_db()
    assert not request.board_case.is_open
    return request, board


def test_the_destination_provider_is_told_in_part(world, decided, mailoutbox):
    rows = list(Notification.objects.filter(recipient=world.other_provider_manager))
    assert rows, "the destination provider hears the decision"
    for row in rows:
        assert JUSTIFICATION not in row.body and IMPACT not in row.body
        assert SEEN_IN_PART in row.body
    emails = [m for m in mailoutbox if m.to == [world.other_provider_manager.email]]
    assert len(emails) == len(rows)
    for message in emails:
        assert JUSTIFICATION not in message.body and IMPACT not in message.body


def test_those_who_see_the_request_whole_are_told_it_whole(world, decided):
    _, board = decided
    whole = {world.manager, world.other_manager, world.provider_manager, *board}
    rows = Notification.objects.filter(recipient__in=whole).select_related("recipient")
    assert {n.recipient for n in rows} == whole
    for row in rows:
        assert JUSTIFICATION in row.body, (row.recipient, row.subject)
        assert SEEN_IN_PART not in row.body


def test_every_email_goes_to_one_person(world, decided, mailoutbox):
    assert mailoutbox
    assert all(len(m.to) == 1 and not m.cc and not m.bcc for m in mailoutbox)
    assert len(mailoutbox) == Notification.objects.exclude(recipient__email="").count()
    assert not Notification.objects.filter(emailed_at__isnull=True).exists()


def test_each_recipient_may_open_the_link_of_their_notification(world, decided):
    rows = Notification.objects.select_related("recipient")
    assert rows.count() >= 8
    for row in rows:
        client = Client()
        client.force_login(row.recipient)
        assert client.get(row.link).status_code == 200, (row.recipient, row.link)


@pytest.mark.parametrize("persona", [p for p in PERSONAS if p not in SIGNED_OUT])
def test_a_user_sees_only_their_own_at_every_door(world, decided, api, persona):
    user = world.personas()[persona]
    own = set(Notification.objects.filter(recipient=user).values_list("pk", flat=True))
    others = Notification.objects.exclude(recipient=user)
    assert others.exists()
    listed = api.as_user(user).get("/api/v1/notifications/", {"page_size": 1000}).json()
    assert {r["id"] for r in listed["results"]} == own
    assert set(Notification.objects.visible_to(user).values_list("pk", flat=True)) == own
    other = others.first()
    assert api.as_user(user).get(f"/api/v1/notifications/{other.pk}/").status_code == 404
    client = Client()
    client.force_login(user)
    page = client.get("/notifications/")
    assert {n.pk for n in page.context["page"].paginator.object_list} == own
    assert client.post(f"/notifications/{other.pk}/read/").status_code == 404
    assert Notification.objects.get(pk=other.pk).read_at is None


def test_the_kinds_and_links_of_the_exit_notices(world, decided):
    request, _ = decided
    notice = Notification.objects.get(
        recipient=world.other_manager, kind=NotificationKind.EXIT_NOTICE
    )
    assert notice.subject == "LCS gives notice to leave PAY-PSOA"
    assert notice.link == f"/exit-requests/{request.pk}/"


def test_a_withdrawal_is_told_to_the_cluster(world, django_capture_on_commit_callbacks):
    request = exit_request_submit(
        actor=world.manager,
        department=world.lcs,
        from_cluster=world.pay_psoa,
        destination=Destination.IN_HOUSE,
        reason=Reason.COST,
        justification=JUSTIFICATION,
    )
    exit_request_withdraw(actor=world.manager, exit_request=request)
    withdrawn = Notification.objects.filter(kind=NotificationKind.EXIT_WITHDRAWN)
    assert {n.recipient for n in withdrawn} == {world.other_manager, world.provider_manager}
    assert {n.link for n in withdrawn} == {f"/exit-requests/{request.pk}/"}


def test_a_persistent_breach_is_told_to_the_providers_managers(world):
    standard = world.payroll.standards.get(name="Paid on time")
    month = month_start(timezone.localdate())
    months = []
    for _ in range(3):
        month = previous_month(month)
        months.append(month)
    rows = [
        {
            "standard": standard,
            "cluster": world.pay_psoa,
            "department": world.lcs,
            "period": period,
            "value": Decimal("90"),
        }
        for period in sorted(months)
    ]
    measurements_submit(actor=world.provider_manager, rows=rows)
    [breach] = Notification.objects.filter(kind=NotificationKind.BREACH)
    assert breach.recipient == world.provider_manager
    assert breach.subject == "Persistent breach: Paid on time for LCS in PAY-PSOA"
    assert breach.link == "/providers/PSOA/scorecard/"
    client = Client()
    client.force_login(world.provider_manager)
    assert client.get(breach.link).status_code == 200
