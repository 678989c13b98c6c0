"""The pages that span the apps: the start page, a department's page (its memberships, the
notice it may give and its alternatives) and a cluster's page (members and departures)."""

from __future__ import annotations

import datetime
from typing import cast

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from clusters import selectors
from clusters.models import MembershipStatus
from servicelevels.forms import InHouseEstimateForm
from servicelevels.rules import make_or_buy_seen_by
from servicelevels.selectors import make_or_buy, viable_alternative_counts
from sharedsvc.models import User
from sharedsvc.sessions import signed_in_at
from web.needs import home_of, needs_count_keep
from web.selectors import cluster_departures, department_memberships

# The messages a page shows instead of rows the user may not see.
CANNOT_SEE_CLUSTER_MEMBERS = "You cannot see this cluster's members."
CANNOT_SEE_DEPARTMENT_MEMBERSHIPS = "You cannot see this department's memberships."
SOME_DEPARTMENT_MEMBERSHIPS = (
    "You see only the memberships of clusters that your department or provider is part of."
)

CURRENT_STATUSES = (MembershipStatus.ACTIVE, MembershipStatus.LEAVING)


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """What needs the user now, each item a link to act on it, and what happened since
    they last signed in (`web.needs`); then where to find the rest."""
    user = cast(User, request.user)  # signed in: login_required
    now = timezone.now()
    page = home_of(user, signed_in_at=signed_in_at(request.session), now=now)
    needs_count_keep(request, len(page.needs), now=now)
    # A user's department and provider are set only for the roles that act for one (the
    # database checks it), so they say what the user acts for without asking the role.
    return render(
        request,
        "sharedsvc/home.html",
        {
            "home": page,
            "department": user.department,
            "provider": user.provider,
            "provider_clusters": list(selectors.provider_clusters(user=user)),
        },
    )


@login_required
def department_detail(request: HttpRequest, code: str) -> HttpResponse:
    department = selectors.department_get(user=request.user, code=code)
    memberships = list(department_memberships(user=request.user, department=department))
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
                # Annotated by `department_memberships`.
                status == MembershipStatus.LEAVING and membership.open_exit_request_id  # type: ignore[attr-defined]
            ):
                # Read by the template (not a field of the model).
                membership.earliest_leave_on = today + datetime.timedelta(  # type: ignore[attr-defined]
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
                # Read by the template (not a field of the model).
                membership.viable_alternatives = counts.get(membership.cluster.code, 0)  # type: ignore[attr-defined]
                current_memberships.append(membership)
    # Make or buy, for those who see the department's private figures (its cost of making
    # and of buying are its own): 2 queries; the form to record a newer in-house estimate
    # for those who act for it, its choices the services in the table (no query).
    make_or_buy_rows: list = []
    estimate_form = None
    sees_make_or_buy = request.user.has_perm("servicelevels.view_make_or_buy", department)
    if sees_make_or_buy:
        make_or_buy_rows = make_or_buy_seen_by(
            request.user,
            make_or_buy(department_id=department.pk, today=timezone.localdate()),
            [],
        )["rows"]
        if request.user.has_perm("budgets.add_inhouseestimate", department):
            estimate_form = InHouseEstimateForm(
                services=[(row["service"], row["service_name"]) for row in make_or_buy_rows]
            )
    return render(
        request,
        "clusters/department_detail.html",
        {
            "department": department,
            "memberships": memberships,
            "sees_all": sees_all,
            "cannot_see_message": CANNOT_SEE_DEPARTMENT_MEMBERSHIPS,
            "partial_message": SOME_DEPARTMENT_MEMBERSHIPS,
            "is_own": cast(User, request.user).department_id == department.pk,
            "leavable": leavable,
            "current_memberships": current_memberships,
            "sees_make_or_buy": sees_make_or_buy,
            "make_or_buy": make_or_buy_rows,
            "estimate_form": estimate_form,
        },
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
    departures = list(cluster_departures(user=user, cluster=cluster, today=timezone.localdate()))
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
