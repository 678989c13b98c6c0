"""Query counts of every list endpoint and page, at two data sizes: they must not grow.

Each count is pinned with the queries it is made of, so an N+1 cannot come back quietly.
"""

from __future__ import annotations

import datetime

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from tests.factories import (
    ClusterFactory,
    DepartmentFactory,
    MembershipFactory,
    ProviderFactory,
    ServiceFactory,
    StandardFactory,
    UserFactory,
)
from tests.personas import World


def grow(world: World, n: int) -> None:
    """Add n more of everything a list shows, including rows visible to the LCS manager."""
    for i in range(n):
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


def count_queries(client: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return len(ctx.captured_queries)


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

PAGES = {
    "/": ("manager", None),
    "/departments/": ("manager", None),
    "/departments/LCS/": ("manager", None),
    "/clusters/": ("analyst", None),
    "/clusters/PAY-PSOA/": ("manager", None),
    "/services/": ("analyst", None),
}


@pytest.mark.parametrize("url", list(LISTS) + list(PAGES))
def test_query_count_does_not_grow(world, url):
    persona, pinned = {**LISTS, **PAGES}[url]
    client = Client()
    client.force_login(world.personas()[persona])
    small = count_queries(client, url)
    grow(world, 5)
    large = count_queries(client, url)
    assert small == large, f"{url}: {small} queries with little data, {large} with more"
    if pinned is not None:
        assert small == pinned
