"""manage.py seed_demo: a believable world, one user per role, and no duplicates."""

from __future__ import annotations

import re
from io import StringIO

from django.apps import apps
from django.contrib.auth import authenticate
from django.core.management import call_command

from clusters.models import (
    Cluster,
    Department,
    Lifecycle,
    Membership,
    MembershipStatus,
    Provider,
    ProviderKind,
    Service,
    Standard,
    StandardKind,
)
from sharedsvc.models import User
from sharedsvc.roles import Role

MODELS = [Department, Provider, Service, Standard, Cluster, Membership, User]


def seed() -> dict[str, str]:
    """Run the command; return the printed username -> password."""
    out = StringIO()
    call_command("seed_demo", stdout=out)
    return dict(re.findall(r"^  (\S+)\s+(\S+)\s+\S", out.getvalue(), re.MULTILINE))


def counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in MODELS}


def test_seed_builds_the_world(db):
    printed = seed()

    assert Department.objects.count() >= 12
    assert Department.objects.filter(is_main=True, deputy_minister__isnull=False).count() >= 4
    psoa = Provider.objects.get(kind=ProviderKind.PSOA)
    assert psoa.host_department is not None
    providing = Provider.objects.get(kind=ProviderKind.DEPARTMENT)
    assert providing.host_department is not None
    assert Provider.objects.filter(kind=ProviderKind.EXTERNAL, host_department=None).exists()

    assert {"hr", "payroll", "finance", "it"} <= set(
        Service.objects.values_list("category", flat=True)
    )
    for service in Service.objects.all():
        assert service.standards.exists(), service
    assert set(Standard.objects.values_list("kind", flat=True)) == set(StandardKind.values)

    # Two clusters of the same service make leaving possible.
    payroll = Cluster.objects.filter(service__category="payroll")
    assert {c.provider.kind for c in payroll} >= {ProviderKind.PSOA, ProviderKind.DEPARTMENT}
    pilot = Cluster.objects.get(service__lifecycle=Lifecycle.PILOT)
    assert pilot.notice_days == 30
    assert pilot.memberships.exists()

    statuses = {m.status for m in Membership.objects.all()}
    assert {MembershipStatus.ACTIVE, MembershipStatus.LEFT, MembershipStatus.LEAVING} <= statuses
    assert not Membership.objects.filter(baseline_annual_cost=0).exists()

    # One printed user per role, and each printed password signs in.
    roles = {User.objects.get(username=name).role for name in printed}
    assert roles == set(Role.values)
    for username, password in printed.items():
        assert authenticate(username=username, password=password) is not None, username
    for user in User.objects.filter(role=Role.DEPUTY_MINISTER):
        assert user.department.deputy_minister == user
    admin = User.objects.get(username="admin")
    assert admin.is_staff and admin.is_superuser


def test_every_write_is_audited_with_the_system_actor(db):
    seed()

    system = User.objects.get(username="system")
    events = apps.get_model("clusters", "MembershipEvent").objects.all()
    assert events.count() == Membership.objects.count()
    actors = {event.pgh_context.metadata.get("user") for event in events}
    assert actors == {system.pk}


def test_second_run_duplicates_nothing_and_resets_passwords(db):
    first = seed()
    before = counts()

    second = seed()

    assert counts() == before
    assert second.keys() == first.keys()
    for username, password in second.items():
        assert password != first[username]
        assert authenticate(username=username, password=first[username]) is None
        assert authenticate(username=username, password=password) is not None
