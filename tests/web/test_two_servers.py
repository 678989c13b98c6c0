"""Two web servers over one PostgreSQL and one Redis, as a deployment that has outgrown
one machine runs: gunicorn twice, on two ports, against the test's database.

- a session started on one server continues on the other (sessions are in PostgreSQL,
  signed with the one SECRET_KEY);
- twenty deputy ministers vote at the same moment, half through each server: the case is
  decided once (the votes lock the case row), the request is scheduled once, and the
  votes that come after the decision are refused with 409, never a 500.
"""

from __future__ import annotations

import datetime
import re
import threading
from concurrent.futures import ThreadPoolExecutor

import pghistory.models
import pytest
import requests
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from knox.models import AuthToken

from clusters.models import Membership
from defection.models import Destination, ExitRequest, ExitStatus, Reason
from defection.services import exit_request_submit
from governance.models import Case, CaseStatus, Vote
from sharedsvc.roles import Role
from tests.factories import PASSWORD, DepartmentFactory, UserFactory
from tests.servers import gunicorn, redis_server, server_env

SEATS = 20
CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


@pytest.fixture
def two_servers(transactional_db):
    with redis_server() as redis:
        env = server_env(
            REDIS_URL=redis.url,
            SECRET_KEY="two-servers-test-key-" + "x" * 40,
            STATIC_MANIFEST="0",
            DEBUG="0",
            ALLOWED_HOSTS="127.0.0.1,localhost",
            EMAIL_BACKEND="django.core.mail.backends.dummy.EmailBackend",
        )
        with gunicorn(env=env) as first, gunicorn(env=env) as second:
            yield first, second


def test_a_session_started_on_one_server_continues_on_the_other(world, two_servers):
    first, second = two_servers
    # The servers check passwords with the production hashers (the tests use MD5).
    world.manager.password = PBKDF2PasswordHasher().encode(PASSWORD, "two-servers-salt")
    world.manager.save(update_fields=["password"])
    browser = requests.Session()
    form = browser.get(f"{first}/accounts/login/", timeout=30)
    assert form.status_code == 200
    token = CSRF.search(form.text).group(1)
    signed_in = browser.post(
        f"{first}/accounts/login/",
        data={
            "username": world.manager.username,
            "password": PASSWORD,
            "csrfmiddlewaretoken": token,
        },
        headers={"Referer": f"{first}/accounts/login/"},
        timeout=30,
        allow_redirects=False,
    )
    assert signed_in.status_code == 302, signed_in.text[:500]
    # The same cookies, the other server: still signed in, as the same person.
    page = browser.get(f"{second}/departments/LCS/", timeout=30, allow_redirects=False)
    assert page.status_code == 200
    assert "Your department" in page.text
    # And signed out on one is signed out on both.
    browser.post(
        f"{second}/accounts/logout/",
        data={"csrfmiddlewaretoken": browser.cookies["csrftoken"]},
        headers={"Referer": f"{second}/"},
        timeout=30,
    )
    assert (
        browser.get(f"{first}/departments/LCS/", timeout=30, allow_redirects=False).status_code
        == 302
    )


def test_twenty_simultaneous_votes_on_two_servers_decide_the_case_once(world, two_servers):
    first, second = two_servers
    voters = []
    for n in range(SEATS):
        department = DepartmentFactory(code=f"SEAT{n:02d}", name=f"Seat {n}", is_main=True)
        dm = UserFactory(
            username=f"dm_seat{n:02d}", role=Role.DEPUTY_MINISTER, department=department
        )
        department.deputy_minister = dm
        department.save()
        voters.append(AuthToken.objects.create(user=dm)[1])
    request = exit_request_submit(
        actor=world.other_manager,
        department=world.env,
        from_cluster=world.pay_psoa,
        destination=Destination.CLUSTER,
        to_cluster=world.pay_tech,
        reason=Reason.COST,
        justification="Technology quotes less.",
        requested_leave_on=datetime.date.today() + datetime.timedelta(days=120),
    )
    case = Case.objects.get(exit_request=request)
    start = threading.Barrier(SEATS)

    def vote(index: int) -> int:
        base = first if index % 2 else second
        start.wait(timeout=30)
        response = requests.post(
            f"{base}/api/v1/cases/{case.pk}/votes/",
            json={"choice": "approve"},
            headers={"Authorization": f"Token {voters[index]}"},
            timeout=60,
        )
        return response.status_code

    with ThreadPoolExecutor(max_workers=SEATS) as pool:
        statuses = list(pool.map(vote, range(SEATS)))

    assert set(statuses) <= {201, 409}, statuses
    case.refresh_from_db()
    assert case.status == CaseStatus.APPROVED
    assert case.decided_at is not None
    # Every accepted vote is stored, and no vote was stored after the decision.
    assert Vote.objects.filter(case=case).count() == statuses.count(201)
    assert not Vote.objects.filter(case=case, cast_at__gt=case.decided_at).exists()
    # Decided once: one change of the case's status in the audit trail ...
    decisions = [
        event
        for event in pghistory.models.Events.objects.filter(
            pgh_obj_model="governance.Case", pgh_obj_id=str(case.pk), pgh_label="update"
        )
        if "status" in (event.pgh_diff or {})
    ]
    assert len(decisions) == 1
    # ... and the request scheduled once: one membership leaving, one joining.
    assert ExitRequest.objects.get(pk=request.pk).status == ExitStatus.SCHEDULED
    assert Membership.objects.filter(department=world.env, cluster=world.pay_tech).count() == 1
