"""manage.py add_user: one user per role, and bad input that saves nothing."""

from __future__ import annotations

import re
from io import StringIO

import pytest
from django.apps import apps
from django.core.management import CommandError, call_command
from knox.models import AuthToken

from clusters.management.commands.add_user import UNKNOWN_DEPARTMENT, UNKNOWN_PROVIDER
from clusters.models import Department
from clusters.users import (
    DEPARTMENT_NOT_ALLOWED,
    DEPARTMENT_REQUIRED,
    PROVIDER_NOT_ALLOWED,
    PROVIDER_REQUIRED,
    UNKNOWN_ROLE,
    USERNAME_TAKEN,
)
from sharedsvc.models import User
from sharedsvc.roles import Role

PASSWORD = "a-long-enough-pass-phrase"


def add_user(*args: str) -> str:
    out = StringIO()
    call_command("add_user", *args, stdout=out)
    return out.getvalue()


def printed(label: str, output: str) -> str:
    match = re.search(rf"^{label}: (\S+)$", output, re.MULTILINE)
    assert match, output
    return match.group(1)


def test_administrator_gets_the_django_admin(world):
    output = add_user("ada", "--role", "administrator")

    user = User.objects.get(username="ada")
    assert (user.role, user.is_staff, user.is_superuser) == (Role.ADMINISTRATOR, True, True)
    assert (user.department, user.provider) == (None, None)
    # Without --password a random one is made and printed, and it works.
    assert user.check_password(printed("Password", output))


def test_analyst_is_not_staff(world):
    add_user("ann", "--role", "analyst", "--password", PASSWORD)

    user = User.objects.get(username="ann")
    assert (user.role, user.is_staff, user.is_superuser) == (Role.ANALYST, False, False)
    assert user.check_password(PASSWORD)


def test_department_manager_acts_for_the_department(world):
    output = add_user("dan", "--role", "department_manager", "--department", "ENV")

    user = User.objects.get(username="dan")
    assert (user.role, user.department, user.provider) == (
        Role.DEPARTMENT_MANAGER,
        world.env,
        None,
    )
    assert not user.is_staff
    assert user.check_password(printed("Password", output))
    world.env.refresh_from_db()
    assert world.env.deputy_minister is None


def test_deputy_minister_takes_the_departments_seat(world):
    add_user("dee", "--role", "deputy_minister", "--department", "ENV", "--password", PASSWORD)

    user = User.objects.get(username="dee")
    assert (user.role, user.department) == (Role.DEPUTY_MINISTER, world.env)
    world.env.refresh_from_db()
    assert world.env.deputy_minister == user


def test_deputy_minister_replaces_the_previous_one(world):
    output = add_user("newdm", "--role", "deputy_minister", "--department", "LCS")

    world.lcs.refresh_from_db()
    assert world.lcs.deputy_minister.username == "newdm"
    assert f"Replaces {world.deputy_minister.username}" in output


def test_provider_manager_acts_for_the_provider(world):
    add_user("pat", "--role", "provider_manager", "--provider", "PSOA", "--password", PASSWORD)

    user = User.objects.get(username="pat")
    assert (user.role, user.provider, user.department) == (
        Role.PROVIDER_MANAGER,
        world.psoa,
        None,
    )


def test_token_signs_in_to_the_api(world, client):
    output = add_user("tok", "--role", "analyst", "--token")

    user = User.objects.get(username="tok")
    assert AuthToken.objects.filter(user=user).count() == 1
    key = printed("API token", output)
    response = client.get("/api/v1/departments/", HTTP_AUTHORIZATION=f"Token {key}")
    assert response.status_code == 200, response.content
    assert response.json()["count"] == Department.objects.count()


def test_creation_is_audited(world):
    add_user("aud", "--role", "analyst", "--password", PASSWORD)

    user = User.objects.get(username="aud")
    events = apps.get_model("sharedsvc", "UserEvent").objects.filter(pgh_obj_id=user.pk)
    assert list(events.values_list("pgh_label", flat=True)) == ["insert"]


def roles() -> str:
    return ", ".join(Role.values)


BAD_INPUT = [
    (
        ["x", "--role", "boss"],
        UNKNOWN_ROLE.format(role="boss", choices=roles()),
    ),
    (
        ["x", "--role", "department_manager"],
        DEPARTMENT_REQUIRED.format(role="department manager"),
    ),
    (
        ["x", "--role", "deputy_minister"],
        DEPARTMENT_REQUIRED.format(role="deputy minister"),
    ),
    (
        ["x", "--role", "department_manager", "--department", "NOPE"],
        UNKNOWN_DEPARTMENT.format(code="NOPE"),
    ),
    (
        ["x", "--role", "analyst", "--department", "LCS"],
        DEPARTMENT_NOT_ALLOWED.format(role="analyst"),
    ),
    (
        ["x", "--role", "administrator", "--department", "LCS"],
        DEPARTMENT_NOT_ALLOWED.format(role="administrator"),
    ),
    (
        ["x", "--role", "provider_manager", "--department", "LCS", "--provider", "PSOA"],
        DEPARTMENT_NOT_ALLOWED.format(role="provider_manager"),
    ),
    (
        ["x", "--role", "provider_manager"],
        PROVIDER_REQUIRED,
    ),
    (
        ["x", "--role", "provider_manager", "--provider", "NOPE"],
        UNKNOWN_PROVIDER.format(code="NOPE"),
    ),
    (
        ["x", "--role", "deputy_minister", "--department", "ENV", "--provider", "PSOA"],
        PROVIDER_NOT_ALLOWED.format(role="deputy_minister"),
    ),
    (
        ["mgr_lcs", "--role", "deputy_minister", "--department", "ENV", "--token"],
        USERNAME_TAKEN.format(username="mgr_lcs"),
    ),
    (
        ["MGR_LCS", "--role", "analyst"],
        USERNAME_TAKEN.format(username="MGR_LCS"),
    ),
    (
        ["x", "--role", "deputy_minister", "--department", "ENV", "--password", "short"],
        "This password is too short.",
    ),
]


@pytest.mark.parametrize(("args", "message"), BAD_INPUT, ids=[m for m, _ in enumerate(BAD_INPUT)])
def test_bad_input_is_refused_and_saves_nothing(world, args, message):
    users, tokens = User.objects.count(), AuthToken.objects.count()
    events = apps.get_model("sharedsvc", "UserEvent").objects.count()

    with pytest.raises(CommandError) as refused:
        add_user(*args)

    assert message in str(refused.value)
    assert User.objects.count() == users
    assert AuthToken.objects.count() == tokens
    assert apps.get_model("sharedsvc", "UserEvent").objects.count() == events
    world.env.refresh_from_db()
    assert world.env.deputy_minister is None
    assert User.objects.get(username="mgr_lcs").role == Role.DEPARTMENT_MANAGER
