"""The gate of the right to leave, door by door (issue 9).

Who sees an exit request whole (justification, impact): its department, the fellow
*current* members of the cluster it leaves, the provider running that cluster, the board
while it is a case, analysts and administrators. The destination provider reads it in part:
who is coming, from which cluster, when, with what usage, and the status.
"""

from __future__ import annotations

import ast
import datetime
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured, PermissionDenied
from django.utils import timezone

from budgets.models import CostPool
from clusters.models import Membership
from defection import board as board_port
from defection import services
from defection.models import Destination, ExitRequest, ExitStatus, Reason
from notifications.models import Notification, NotificationKind
from tests.notifications.support import celery_eager
from tests.pages import text

JUSTIFICATION = "Payroll errors every month; Technology Services quoted us less."
URL = "/api/v1/exit-requests/"


def moving_to_tech(world) -> ExitRequest:
    """LCS leaves the PSOA's payroll for Technology Services' (TECHSVC): the board decides.
    The PSOA runs the cluster it leaves; TECHSVC is the destination provider."""
    CostPool.objects.create(
        cluster=world.pay_psoa, period=datetime.date(2026, 3, 1), amount=Decimal("7000.00")
    )
    return services.exit_request_submit(
        actor=world.manager,
        department=world.lcs,
        from_cluster=world.pay_psoa,
        destination=Destination.CLUSTER,
        to_cluster=world.pay_tech,
        reason=Reason.COST,
        justification=JUSTIFICATION,
    )


# Finding 1: the destination provider reads the request in part --------------------------


def test_finding_1_destination_provider_sees_request_in_part(world, api):
    request = moving_to_tech(world)
    earliest = timezone.localdate() + datetime.timedelta(days=90)
    detail = api.as_user(world.other_provider_manager).get(f"{URL}{request.pk}/")
    assert detail.status_code == 200
    data = detail.json()
    assert {
        key: data[key]
        for key in (
            "department",
            "from_cluster",
            "to_cluster",
            "leave_on",
            "usage_units",
            "status",
            "justification",
            "impact",
        )
    } == {
        "department": "LCS",
        "from_cluster": "PAY-PSOA",
        "to_cluster": "PAY-TECH",
        "leave_on": earliest.isoformat(),
        "usage_units": 400,
        "status": "pending_board",
        "justification": None,
        "impact": None,
    }
    # The list says the same, row by row.
    listed = api.as_user(world.other_provider_manager).get(URL).json()["results"]
    assert [(r["id"], r["justification"], r["impact"]) for r in listed] == [
        (request.pk, None, None)
    ]
    # The provider running the cluster it leaves reads it whole.
    current = api.as_user(world.provider_manager).get(f"{URL}{request.pk}/").json()
    assert current["justification"] == JUSTIFICATION
    assert current["impact"]["unit_cost_before"] == "10.0000"
    assert [m["department"] for m in current["impact"]["members"]] == ["ENV"]


def test_finding_1_destination_provider_page_has_no_justification_or_impact(world, client):
    request = moving_to_tech(world)
    client.force_login(world.other_provider_manager)
    page = client.get(f"/exit-requests/{request.pk}/")
    assert page.status_code == 200
    words = text(page)
    assert "Labour and Citizens' Services leaving" in words
    assert "Usage 400 (employees served)" in words
    assert services.SEEN_IN_PART in words
    assert JUSTIFICATION not in words
    assert "Impact on the members that stay" not in words
    assert "Justification" not in words
    # The current provider's page has both.
    client.force_login(world.provider_manager)
    whole = text(client.get(f"/exit-requests/{request.pk}/"))
    assert JUSTIFICATION in whole
    assert "Impact on the members that stay" in whole
    assert services.SEEN_IN_PART not in whole


def test_finding_1_notice_email_goes_whole_to_members_and_the_current_provider(
    world, django_capture_on_commit_callbacks, mailoutbox
):
    with celery_eager(), django_capture_on_commit_callbacks(execute=True):
        request = moving_to_tech(world)
    subject = "LCS gives notice to leave PAY-PSOA"
    rows = Notification.objects.filter(subject=subject).select_related("recipient")
    assert {n.recipient for n in rows} == {world.other_manager, world.provider_manager}
    assert {(n.kind, n.link) for n in rows} == {
        (NotificationKind.EXIT_NOTICE, f"/exit-requests/{request.pk}/")
    }
    # One message per recipient (no shared To: list), each sent from its row.
    notices = [m for m in mailoutbox if m.subject == subject]
    assert sorted(m.to for m in notices) == sorted(
        [[world.other_manager.email], [world.provider_manager.email]]
    )
    assert all(n.emailed_at is not None for n in rows)
    for body in [m.body for m in notices] + [n.body for n in rows]:
        assert f"Justification: {JUSTIFICATION}" in body
        assert "Cost per unit, from the 2026-03 pool: 10.0000 before" in body
    # The destination provider is not told by the cluster's notice at all.
    assert all(world.other_provider_manager.email not in m.to for m in mailoutbox)
    assert not Notification.objects.filter(recipient=world.other_provider_manager).exists()
    assert ExitRequest.objects.get() == request


def test_describe_in_part_says_who_when_and_usage_only(world):
    request = moving_to_tech(world)
    part = services.describe(request, whole=False)
    assert part.splitlines() == [
        "Labour and Citizens' Services (LCS) — exit request for PSOA Payroll.",
        f"Status: Waiting for the board. Leave date: {services._format(request.leave_on)}.",
        "Destination: Another cluster (PAY-TECH).",
        "Usage: 400 (employees served).",
        services.SEEN_IN_PART,
    ]


# Finding 4: former and future members are outsiders -------------------------------------


def test_finding_4_former_member_does_not_read_exit_request(world, api, client):
    yesterday = timezone.localdate() - datetime.timedelta(days=1)
    Membership.objects.filter(pk=world.env_payroll.pk).update(leaves_on=yesterday)
    request = moving_to_tech(world)
    reader = api.as_user(world.other_manager)
    assert reader.get(f"{URL}{request.pk}/").status_code == 404
    assert reader.get(URL).json()["results"] == []
    assert reader.get(f"/api/v1/cases/{request.board_case.pk}/").status_code == 404
    client.force_login(world.other_manager)
    assert client.get(f"/exit-requests/{request.pk}/").status_code == 404
    assert client.get(f"/cases/{request.board_case.pk}/").status_code == 404
    assert not world.other_manager.has_perm("defection.view_exitrequest_whole", request)


def test_finding_4_future_member_does_not_read_exit_request(world, api):
    later = timezone.localdate() + datetime.timedelta(days=30)
    Membership.objects.filter(pk=world.env_payroll.pk).update(joined_on=later)
    request = moving_to_tech(world)
    assert api.as_user(world.other_manager).get(f"{URL}{request.pk}/").status_code == 404


def test_a_member_still_leaving_is_a_current_member_and_reads_it_whole(world, api):
    soon = timezone.localdate() + datetime.timedelta(days=30)
    Membership.objects.filter(pk=world.env_payroll.pk).update(leaves_on=soon)
    request = moving_to_tech(world)
    data = api.as_user(world.other_manager).get(f"{URL}{request.pk}/").json()
    assert data["justification"] == JUSTIFICATION


# Services check permission themselves --------------------------------------------------


def test_submit_refuses_another_departments_manager(world):
    with pytest.raises(PermissionDenied, match=services.MAY_NOT_GIVE_NOTICE):
        services.exit_request_submit(
            actor=world.other_manager,
            department=world.lcs,
            from_cluster=world.pay_psoa,
            destination=Destination.IN_HOUSE,
            reason=Reason.COST,
            justification="Not ours to give.",
        )
    assert not ExitRequest.objects.exists()
    assert Membership.objects.get(pk=world.lcs_payroll.pk).leaves_on is None


def test_the_system_may_withdraw(world):
    request = moving_to_tech(world)
    services.exit_request_withdraw(actor=None, exit_request=request)
    assert ExitRequest.objects.get().status == ExitStatus.WITHDRAWN
    assert request.board_case.__class__.objects.get().status == "withdrawn"


def test_withdraw_refuses_the_provider(world):
    request = moving_to_tech(world)
    with pytest.raises(PermissionDenied, match=services.MAY_NOT_WITHDRAW):
        services.exit_request_withdraw(actor=world.provider_manager, exit_request=request)
    assert ExitRequest.objects.get().status == ExitStatus.PENDING_BOARD


# The board is reached through a port ----------------------------------------------------


def test_a_request_for_the_board_without_a_board_is_refused_and_nothing_is_kept(world, monkeypatch):
    monkeypatch.setattr(board_port, "_registered", [])
    with pytest.raises(ImproperlyConfigured, match="No board is registered"):
        moving_to_tech(world)
    assert not ExitRequest.objects.exists()


def _imports(path: Path) -> list[tuple[str, bool]]:
    """(module, inside a function) for every import of a file."""
    tree = ast.parse(path.read_text())
    found: list[tuple[str, bool]] = []

    def visit(node: ast.AST, in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            inside = in_function or isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef)
            if isinstance(child, ast.Import):
                found.extend((alias.name, in_function) for alias in child.names)
            elif isinstance(child, ast.ImportFrom) and child.module:
                found.append((child.module, in_function))
            visit(child, inside)

    visit(tree, False)
    return found


APP_ROOT = Path(__file__).resolve().parents[2]


def test_defection_does_not_import_governance():
    offenders = [
        str(path.relative_to(APP_ROOT))
        for path in (APP_ROOT / "defection").rglob("*.py")
        if any(module.split(".")[0] == "governance" for module, _ in _imports(path))
    ]
    assert offenders == []


def test_no_imports_inside_functions_in_defection_and_governance():
    # Django's start-up wiring (AppConfig.ready) is the one place for it.
    offenders = [
        f"{path.relative_to(APP_ROOT)}: {module}"
        for app in ("defection", "governance")
        for path in (APP_ROOT / app).rglob("*.py")
        if "migrations" not in path.parts and path.name != "apps.py"
        for module, in_function in _imports(path)
        if in_function
    ]
    assert offenders == []
