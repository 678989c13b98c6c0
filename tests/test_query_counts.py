"""Query counts of every list endpoint and page, at two data sizes: they must not grow.

Each count is pinned with the queries it is made of, so an N+1 cannot come back quietly.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.test import Client
from django.utils import timezone
from knox.models import AuthToken

from clusters.models import Cluster
from clusters.services import alternate_name
from defection.models import Destination, Reason
from defection.services import exit_request_submit
from governance.models import Case
from initiatives.models import Answer, Commitment, Programme
from initiatives.pilots import pilot_evaluate, pilot_plan_create
from initiatives.services import commitment_answer, programme_propose
from notifications.models import NotificationKind
from notifications.services import notify
from servicelevels.models import Measurement
from sharedsvc.periods import month_start, previous_month
from tests.factories import (
    ClusterFactory,
    DepartmentFactory,
    MembershipFactory,
    ProviderFactory,
    ServiceFactory,
    StandardFactory,
    UserFactory,
)
from tests.pages import count_queries
from tests.personas import World

GROWN_PROGRAMME = "GROW"


def _grow_programmes(world: World, i: int, dept) -> None:
    """Programme GROW (made first) gains a target department each time, which commits and
    has joined a cluster of the service (its page's answers, months and benefit grow); and
    each time one more programme, with its board case (the list grows)."""
    target_on = timezone.localdate() + datetime.timedelta(days=180)
    if i == 0:
        grown = programme_propose(
            actor=world.administrator,
            code=GROWN_PROGRAMME,
            name="Desktop IT everywhere",
            service=world.it,
            sponsor=world.deputy_minister,
            goal="Every ministry on one desktop service.",
            target_on=target_on,
            departments=[world.lcs],
        )
        commitment_answer(
            actor=world.manager,
            commitment=grown.commitments.get(),
            answer=Answer.COMMITTED,
            join_by=target_on,
        )
    MembershipFactory(department=dept, cluster=world.it_tech, joined_on=datetime.date(2025, 6, 1))
    Commitment.objects.create(
        programme=grown_programme(),
        department=dept,
        answer=Answer.COMMITTED,
        join_by=target_on,
        answered_by=world.administrator,
        answered_at=timezone.now(),
    )
    programme_propose(
        actor=world.administrator,
        code=f"GP{i:03d}",
        name=f"Programme {i}",
        service=world.payroll,
        sponsor=world.deputy_minister,
        goal="More payroll shared.",
        target_on=target_on,
        departments=[dept, world.env],
    )


GROWN_PILOT = "PGROW"


def _grow_pilots(world: World, i: int, dept) -> None:
    """Pilot PGROW (made first, and put to the board) gains a member each time, with its
    returns (its evidence and case grow); and each time one more pilot (the list grows)."""
    today = timezone.localdate()
    start = month_start(today) - datetime.timedelta(days=150)
    if i == 0:
        service = ServiceFactory(code=GROWN_PILOT, name="Grown pilot", lifecycle="pilot")
        StandardFactory(service=service, name="Done the same day", target="90")
        cluster = ClusterFactory(code="PGC", service=service, provider=world.tech_provider)
        MembershipFactory(department=world.lcs, cluster=cluster, joined_on=month_start(start))
        plan = pilot_plan_create(
            actor=None,
            service=service,
            clusters=[cluster],
            starts_on=month_start(start),
            ends_on=today + datetime.timedelta(days=60),
            min_compliance_rate=Decimal("90"),
            max_cost_per_unit=Decimal("10"),
            min_members=1,
        )
        pilot_evaluate(actor=world.administrator, plan=plan)
    cluster = Cluster.objects.get(code="PGC")
    MembershipFactory(department=dept, cluster=cluster, joined_on=month_start(start))
    Measurement.objects.create(
        standard=cluster.service.standards.get(),
        cluster=cluster,
        department=dept,
        period=previous_month(month_start(today)),
        value=Decimal("95"),
        submitted_at=timezone.now(),
    )
    other = ServiceFactory(code=f"PS{i:03d}", lifecycle="pilot")
    pilot_plan_create(
        actor=None,
        service=other,
        clusters=[ClusterFactory(code=f"PSC{i:03d}", service=other, provider=world.psoa)],
        starts_on=month_start(start),
        ends_on=today + datetime.timedelta(days=60),
        min_compliance_rate=Decimal("90"),
        max_cost_per_unit=Decimal("10"),
        min_members=1,
    )


def _grow_alternates(world: World, i: int) -> None:
    """One more person of LCS, named to stand in for its seat over ten days of their own,
    a month on (so nobody holds a seat today that did not before): the alternates page
    lists one more naming, and its form one more person."""
    person = UserFactory(username=f"alt_g{i}", role="department_manager", department=world.lcs)
    start = timezone.localdate() + datetime.timedelta(days=30 + 10 * i)
    alternate_name(
        actor=world.deputy_minister,
        department=world.lcs,
        user=person,
        starts_on=start,
        ends_on=start + datetime.timedelta(days=9),
    )


def grown_programme() -> Programme:
    return Programme.objects.get(code=GROWN_PROGRAMME)


def grow(world: World, n: int, start: int = 0) -> None:
    """Add n more of everything a list or page shows, including rows the LCS manager sees:
    departments, services, clusters, memberships, exit requests, notifications, tokens,
    programmes and their answers."""
    for i in range(start, start + n):
        dept = DepartmentFactory(code=f"G{i:03d}")
        dm = UserFactory(username=f"dm_g{i}", role="deputy_minister", department=dept)
        dept.deputy_minister = dm
        dept.save()
        service = ServiceFactory(code=f"GS{i:03d}")
        StandardFactory(service=service)
        StandardFactory(service=service)
        provider = ProviderFactory(code=f"GP{i:03d}", kind="department", host_department=dept)
        cluster = ClusterFactory(code=f"GC{i:03d}", service=service, provider=provider)
        MembershipFactory(department=dept, cluster=cluster)
        MembershipFactory(
            department=world.lcs, cluster=cluster, joined_on=datetime.date(2024, 1, 1)
        )
        # co-members of LCS's payroll cluster, visible to the LCS manager
        MembershipFactory(department=dept, cluster=world.pay_psoa)
        # LCS gives notice on the new cluster: its requests, its department page
        exit_request_submit(
            actor=world.manager,
            department=world.lcs,
            from_cluster=cluster,
            destination=Destination.IN_HOUSE,
            reason=Reason.COST,
            justification="Cheaper in-house.",
        )
        notify(
            recipients=[world.manager, world.analyst],
            kind=NotificationKind.EXIT_NOTICE,
            subject=f"Notice {i}",
            body="LCS gave notice.",
            link="/exit-requests/",
        )
        AuthToken.objects.create(user=world.analyst)
        _grow_programmes(world, i, dept)
        _grow_pilots(world, i, dept)
        _grow_alternates(world, i)


# url -> (persona, pinned count). Session sign-in costs 2 queries (session, user) on pages
# and API alike; what follows is the list itself.
LISTS = {
    # API: session + user, count, page
    "/api/v1/departments/": ("analyst", 4),
    "/api/v1/providers/": ("analyst", 4),
    "/api/v1/services/": ("analyst", 4),
    "/api/v1/standards/": ("analyst", 4),
    "/api/v1/clusters/": ("analyst", 4),
    "/api/v1/memberships/": ("analyst", 4),
    # session, user, the audit context of the export's transaction, all rows
    "/api/v1/memberships/?format=csv": ("manager", 4),
    "/api/v1/audit-events/": ("analyst", 4),
}

# (persona, page, pinned count). Every page: session and user (2), the header's count of
# unread notifications (1) for a signed-in person with a role, the navigation's department
# or provider (1) for a department's or provider's people; then the page itself.
PAGES = [
    ("anonymous", "/accounts/login/", 0),  # the form needs nothing from the database
    # The home page: session, user, the navigation's department, unread; what needs the
    # user (web.needs: the department, the cases waiting for a vote, budget lines, exit
    # requests, commitments, departures, breaches), the sign-in before this one, the
    # decisions since (the count, the same as the session's, is not written again)
    ("manager", "/", 13),
    # session, user, unread; the flags (self-preference, benefit, the providers and their
    # late returns), the sign-in before, the decisions since (no seat to wait on a vote:
    # no query for the cases waiting)
    ("analyst", "/", 9),
    # The manager's, and the navigation's seats; the seats held today, then the cases
    # waiting for them, and the decisions since, each asking first whether the deputy
    # minister holds their seat (governance.models.CaseQuerySet.visible_to)
    ("deputy_minister", "/", 18),
    # session, user, the navigation's provider, unread; the needs (the provider, returns,
    # pools, departures, breaches), the sign-in before, the decisions since, the
    # provider's clusters
    ("provider_manager", "/", 12),
    # session, user, unread; the needs (the flags' four, the chargeback, background work,
    # people without a role), the sign-in before, the decisions since, the run that
    # charged last month
    ("administrator", "/", 13),
    ("manager", "/departments/", 5),  # session, user, department, the list, unread
    # session, user, the department, its exit requests, memberships with their benefit,
    # clusters it could move to, their latest costs, make or buy (its rows, the other
    # clusters with room and their latest pools), the navigation's department, unread
    ("manager", "/departments/LCS/", 11),
    ("analyst", "/departments/LCS/", 10),  # the same without the navigation's department
    ("analyst", "/clusters/", 6),  # session, user, services (filter), services, clusters, unread
    # session, user, the cluster, members, co-members, open exits, department, unread
    ("manager", "/clusters/PAY-PSOA/", 8),
    ("analyst", "/services/", 6),  # session, user, services, standards, clusters, unread
    ("manager", "/accounts/", 5),  # session, user, recovery codes, department, unread
    ("analyst", "/accounts/tokens/", 4),  # session, user, tokens, unread
    ("manager", "/accounts/password/", 4),  # session, user, department, unread
    ("manager", "/notifications/", 6),  # session, user, count, department, unread, page
    ("manager", "/exit-requests/", 6),  # session, user, count, department, unread, page
    # session, user, clusters, their costs and compliance (2), the audit context, the
    # benefits, exits, the make-or-buy quarters, unread
    ("analyst", "/overview/", 10),
    # Programmes. The list: session, user, department, unread, the programmes
    ("manager", "/programmes/", 5),
    # A programme: session, user, the programme, its commitments, its board cases, the
    # joined departments' memberships and charges (the benefit), department, unread
    ("manager", f"/programmes/{GROWN_PROGRAMME}/", 9),
    ("analyst", f"/programmes/{GROWN_PROGRAMME}/", 8),  # without the navigation's department
    # Proposing one: session, user, who may sponsor, the navigation's department and seats,
    # unread, the form's services, sponsors and departments
    ("deputy_minister", "/programmes/new/", 9),
    # Answering for LCS: session, user, the commitment, department, unread
    ("manager", f"/programmes/{GROWN_PROGRAMME}/answers/LCS/", 5),
    # The programme's board case: session, user, the navigation's department and seats, the
    # case with its programme, its seats, the votes the user may see, the commitments, unread
    # (+2: the case and its votes each ask first whether the deputy minister holds a seat)
    ("deputy_minister", "/cases/{programme_case}/", 11),
    ("analyst", "/cases/{programme_case}/", 7),  # without the navigation's department and seats
    # Pilots. The list: session, user, department, unread, the plans, their clusters
    ("manager", "/pilots/", 6),
    # A pilot: session, user, department, unread, the plan, its clusters, its evaluations
    # with their cases, who reads the evidence, and the evidence (returns, pools, charges,
    # memberships)
    ("manager", f"/pilots/{GROWN_PILOT}/", 13),
    ("analyst", f"/pilots/{GROWN_PILOT}/", 12),  # without the navigation's department
    # Planning one: session, user, unread, the form's services and clusters
    ("administrator", "/pilots/new/", 5),
    # The pilot's board case: session, user, the case with its evaluation, plan and service,
    # its seats (with their deputy ministers), the votes the user may see, the navigation's
    # department, unread
    ("manager", "/cases/{pilot_case}/", 7),
    ("analyst", "/cases/{pilot_case}/", 6),  # without the navigation's department
    # Alternates on the board: session, user, the navigation's department and seats, unread,
    # the seats the user may name for, the people who may stand in, the namings
    ("deputy_minister", "/board/alternates/", 8),
    # Without the navigation's department and seats, and with no seat to name for, no people
    ("analyst", "/board/alternates/", 5),
    # Recording an in-house estimate: session, user, the department, the form's services
    # (its current memberships), the navigation's department, unread
    ("manager", "/departments/LCS/in-house-estimates/new/", 6),
]


def sign_in(world: World, persona: str) -> Client:
    client = Client()
    user = world.personas()[persona]
    if user is not None:
        client.force_login(user)
    return client


def _counts(world: World, targets: list[tuple[str, str]]) -> list[int]:
    """The queries of one GET of each (persona, url), each by a client of its own."""
    return [count_queries(sign_in(world, persona), _address(url)) for persona, url in targets]


def test_no_list_or_page_runs_more_queries_as_the_data_grows(world):
    """Every list and page counted at two sizes of one world, grown once for all of them
    (growing a world per page made this file a sixth of the suite's time): each must run
    its pinned number of queries at both."""
    targets = [(persona, url) for url, (persona, _) in LISTS.items()]
    targets += [(persona, url) for persona, url, _ in PAGES]
    pinned = [count for _, count in LISTS.values()] + [count for _, _, count in PAGES]
    grow(world, 1)  # one of everything, so no list is empty at the small size
    small = _counts(world, targets)
    grow(world, 5, start=1)
    large = _counts(world, targets)
    wrong = [
        f"{persona} {url}: {s} queries, then {g} (pinned {p})"
        for (persona, url), s, g, p in zip(targets, small, large, pinned, strict=True)
        if (s, g) != (p, p)
    ]
    assert wrong == []


def _address(url: str) -> str:
    """A page's address, with the grown programme's board case put in."""
    if "{programme_case}" in url:
        case = Case.objects.get(programme_decision__programme__code=GROWN_PROGRAMME)
        return url.format(programme_case=case.pk)
    if "{pilot_case}" in url:
        case = Case.objects.get(pilot_evaluation__plan__service__code=GROWN_PILOT)
        return url.format(pilot_case=case.pk)
    return url
