"""Reads for the pages that span apps: a department's memberships with their open notice,
a cluster's pending departures. Every row through the models' `visible_to(user)` gate."""

from __future__ import annotations

import datetime

from django.db.models import OuterRef, Q, QuerySet, Subquery

from clusters.models import Cluster, Department, Membership
from defection.models import OPEN_STATUSES, ExitRequest, ExitStatus


def department_memberships(*, user, department: Department) -> QuerySet[Membership]:
    """The department's memberships this user may see, with their cluster, service and
    provider, and the id of the membership's open exit request if any (1 query)."""
    open_request = ExitRequest.objects.filter(
        membership=OuterRef("pk"), status__in=OPEN_STATUSES
    ).values("pk")[:1]
    return (
        Membership.objects.visible_to(user)
        .filter(department=department)
        .select_related("cluster__service", "cluster__provider")
        .annotate(open_exit_request_id=Subquery(open_request))
        .order_by("cluster__service__name", "-joined_on", "cluster__code")
    )


def cluster_departures(*, user, cluster: Cluster, today: datetime.date) -> QuerySet[ExitRequest]:
    """Members' notices to leave this cluster that are still pending (scheduled for a day
    to come, or waiting for the board), those this user may see, with their department
    (1 query)."""
    return (
        ExitRequest.objects.visible_to(user)
        .filter(from_cluster=cluster)
        .filter(
            Q(status=ExitStatus.PENDING_BOARD) | Q(status=ExitStatus.SCHEDULED, leave_on__gt=today)
        )
        .select_related("department")
        .order_by("leave_on", "department__name", "pk")
    )
