"""Pages of the organisation: departments, clusters and the service catalogue.

Every read goes through `clusters.selectors`, which applies each model's `visible_to`
gate; list pages run a constant number of queries whatever the number of rows.
"""

from __future__ import annotations

import datetime

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from clusters import selectors
from clusters.forms import ClusterFilterForm
from clusters.models import MembershipStatus
from servicelevels.selectors import viable_alternative_counts

# The messages a page shows instead of rows the user may not see.
CANNOT_SEE_CLUSTER_MEMBERS = "You cannot see this cluster's members."
CANNOT_SEE_DEPARTMENT_MEMBERSHIPS = "You cannot see this department's memberships."
SOME_DEPARTMENT_MEMBERSHIPS = (
    "You see only the memberships of clusters that your department or provider is part of."
)

CURRENT_STATUSES = (MembershipStatus.ACTIVE, MembershipStatus.LEAVING)


@login_required
def department_list(request: HttpRequest) -> HttpResponse:
    departments = selectors.department_list(user=request.user)
    return render(request, "clusters/department_list.html", {"departments": departments})


@login_required
def department_detail(request: HttpRequest, code: str) -> HttpResponse:
    department = selectors.department_get(user=request.user, code=code)
    memberships = list(selectors.department_memberships(user=request.user, department=department))
    sees_all = selectors.sees_all_memberships_of_department(
        user=request.user, department=department
    )
    # "Leave this cluster" for each current membership with no notice given yet (or a link
    # to the notice already given), for those who may give notice for the department.
    leavable = []
    if request.user.has_perm("defection.add_exitrequest", department):
        today = timezone.localdate()
        for membership in memberships:
            status = membership.status_on(today)
            if status == MembershipStatus.ACTIVE or (
                status == MembershipStatus.LEAVING and membership.open_exit_request_id
            ):
                membership.earliest_leave_on = today + datetime.timedelta(
                    days=membership.cluster.notice_days
                )
                leavable.append(membership)
    # The number of viable alternatives of each current membership (other clusters of its
    # service with room for its usage: the threat to leave is plausible), for those who
    # see all the department's memberships (3 queries).
    current_memberships = []
    if sees_all:
        counts = viable_alternative_counts(department_id=department.pk)
        for membership in memberships:
            if membership.status in CURRENT_STATUSES:
                membership.viable_alternatives = counts.get(membership.cluster.code, 0)
                current_memberships.append(membership)
    return render(
        request,
        "clusters/department_detail.html",
        {
            "department": department,
            "memberships": memberships,
            "sees_all": sees_all,
            "cannot_see_message": CANNOT_SEE_DEPARTMENT_MEMBERSHIPS,
            "partial_message": SOME_DEPARTMENT_MEMBERSHIPS,
            "is_own": request.user.department_id == department.pk,
            "leavable": leavable,
            "current_memberships": current_memberships,
        },
    )


@login_required
def cluster_list(request: HttpRequest) -> HttpResponse:
    form = ClusterFilterForm(request.GET or None, user=request.user)
    service_code = None
    status = 200
    if form.is_bound:
        if form.is_valid():
            service_code = form.cleaned_data["service"] or None
        else:
            status = 400
    groups = selectors.services_with_clusters(user=request.user, service_code=service_code)
    return render(
        request,
        "clusters/cluster_list.html",
        {"form": form, "groups": groups, "service_code": service_code},
        status=status,
    )


@login_required
def cluster_detail(request: HttpRequest, code: str) -> HttpResponse:
    user = request.user
    cluster = selectors.cluster_get(user=user, code=code)
    members = list(selectors.cluster_members(user=user, cluster=cluster))
    # Who may see members is decided by Membership.visible_to; the same rule tells apart
    # "none visible to you" from "none at all" for the message.
    sees_members = user.has_perm("clusters.view_cluster_members", cluster)
    current_usage = sum(m.usage_units for m in members if m.status in CURRENT_STATUSES)
    departures = list(
        selectors.cluster_departures(user=user, cluster=cluster, today=timezone.localdate())
    )
    return render(
        request,
        "clusters/cluster_detail.html",
        {
            "cluster": cluster,
            "members": members,
            "sees_members": sees_members,
            "current_usage": current_usage,
            "departures": departures,
            "cannot_see_message": CANNOT_SEE_CLUSTER_MEMBERS,
        },
    )


@login_required
def service_list(request: HttpRequest) -> HttpResponse:
    services = list(selectors.service_catalogue(user=request.user))
    for service in services:
        for standard in service.standards.all():
            # 99.5000 reads as 99.5, and 100.0000 as 100 (not 1E+2).
            standard.target_display = format(standard.target.normalize(), "f")
    return render(request, "clusters/service_list.html", {"services": services})
