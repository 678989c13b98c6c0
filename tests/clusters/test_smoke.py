"""The test world (tests/personas.py) is what its docstring promises: other tests rely on it.

Each promise is read back from the database, not from the objects the builder returned.
"""

from __future__ import annotations

from django.test import Client

from clusters.models import Cluster, Department, Membership, Provider
from sharedsvc.models import User
from tests.signing_in import password_step


def test_the_world_holds_what_the_tests_rely_on(world):
    assert set(Department.objects.values_list("code", flat=True)) == {"LCS", "ENV", "FIN", "TECH"}
    # The PSOA is housed by FIN, so FIN's deputy minister is a party to PSOA cases.
    psoa = Provider.objects.select_related("host_department__deputy_minister").get(code="PSOA")
    assert psoa.host_department.code == "FIN"
    assert psoa.host_department.deputy_minister == world.recused_deputy_minister
    # LCS and ENV share the PSOA's payroll; TECH runs its own payroll and IT for LCS.
    assert sorted(Membership.objects.values_list("cluster__code", "department__code")) == [
        ("IT-TECH", "LCS"),
        ("PAY-PSOA", "ENV"),
        ("PAY-PSOA", "LCS"),
        ("PAY-TECH", "TECH"),
    ]
    assert Cluster.objects.get(code="PAY-TECH").provider.host_department.code == "TECH"
    # Each person belongs where the tests say.
    assert User.objects.get(username="mgr_lcs").department.code == "LCS"
    assert User.objects.get(username="mgr_env").department.code == "ENV"
    assert User.objects.get(username="pm_psoa").provider.code == "PSOA"
    assert Department.objects.get(code="LCS").deputy_minister.username == "dm_lcs"


def test_the_outsider_cannot_sign_in(world):
    """The outsider is inactive: the right password does not let it in."""
    client = Client()
    refused = password_step(client, world.outsider)
    assert refused.status_code == 200  # the form again, with its error
    assert "_auth_user_id" not in client.session
    assert client.get("/departments/").status_code == 302  # sent to sign in


def test_the_analyst_lists_every_department(world, api):
    response = api.as_user(world.analyst).get("/api/v1/departments/")
    assert response.status_code == 200, response.content
    body = response.json()
    codes = sorted(Department.objects.values_list("code", flat=True))
    assert body["count"] == len(codes) == 4
    assert sorted(row["code"] for row in body["results"]) == codes
