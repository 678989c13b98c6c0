"""Query counts of every list endpoint and page, at two data sizes: they must not grow.

Each count is pinned with the queries it is made of, so an N+1 cannot come back quietly.
"""

from __future__ import annotations

import datetime

import pytest
from django.test import Client
from knox.models import AuthToken

from defection.models import Destination, Reason
from defection.services import exit_request_submit
from notifications.models import NotificationKind
from notifications.services import notify
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


def grow(world: World, n: int, start: int = 0) -> None:
    """Add n more of everything a list or page shows, including rows the LCS manager sees:
    departments, services, clusters, memberships, exit requests, notifications, tokens."""
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
    "/api/v1/memberships/?format=csv": ("manager", 3),  # session, user, all rows
    "/api/v1/audit-events/": ("analyst", 4),
}

# (persona, page, pinned count). Every page: session and user (2), the header's count of
# unread notifications (1) for a signed-in person with a role, the navigation's department
# or provider (1) for a department's or provider's people; then the page itself.
PAGES = [
    ("anonymous", "/accounts/login/", 0),  # the form needs nothing from the database
    ("manager", "/", 4),  # session, user, department, unread
    ("analyst", "/", 3),  # session, user, unread
    ("manager", "/departments/", 5),  # session, user, department, the list, unread
    # session, user, the department, its exit requests, memberships with their benefit,
    # clusters it could move to, their latest costs, the navigation's department, unread
    ("manager", "/departments/LCS/", 9),
    ("analyst", "/departments/LCS/", 8),  # the same without the navigation's department
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
    # benefits, exits, unread
    ("analyst", "/overview/", 9),
]


def sign_in(world: World, persona: str) -> Client:
    client = Client()
    user = world.personas()[persona]
    if user is not None:
        client.force_login(user)
    return client


@pytest.mark.parametrize("url", list(LISTS))
def test_list_query_count_does_not_grow(world, url):
    persona, pinned = LISTS[url]
    client = sign_in(world, persona)
    grow(world, 1)  # one of everything, so no list is empty at the small size
    small = count_queries(client, url)
    grow(world, 5, start=1)
    large = count_queries(client, url)
    assert (small, large) == (pinned, pinned), f"{url}: {small} queries, then {large}"


@pytest.mark.parametrize(("persona", "url", "pinned"), PAGES, ids=[f"{p}:{u}" for p, u, _ in PAGES])
def test_page_query_count_does_not_grow(world, persona, url, pinned):
    client = sign_in(world, persona)
    grow(world, 1)  # one of everything, so no list is empty at the small size
    small = count_queries(client, url)
    grow(world, 5, start=1)
    large = count_queries(client, url)
    assert (small, large) == (pinned, pinned), f"{url}: {small} queries, then {large}"
