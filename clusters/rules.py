"""The gate of the organisation: who acts for what, who is a current member of a cluster,
who holds a board seat, and who sees a department's private figures.

Every app's `rules.py` builds on these predicates and every door (pages, forms, API views
and serializers, reports, CSV, emails, the admin, commands) asks them through
`user.has_perm(...)` or the models' `visible_to(user)` querysets, which use the same
conditions. Nothing outside the rules and models modules branches on a user's role.

DESIGN.md, "Who sees what":
- a department's private figures (budget lines, baseline, benefit): the department,
  analysts and administrators;
- usage and charges in a cluster: also fellow *current* members and the provider that
  runs the cluster ("member" means `joined_on <= today < leaves_on`);
- cluster prices (cost per unit, compliance rate, room): every signed-in user;
- a total over other departments' private figures: shown to a department only when at
  least three departments contribute to it;
- board rights follow the seat: a deputy minister reads cases only while they are some
  active main department's `deputy_minister`, and an alternate while named for one
  (`Alternate`: a person of that department, for an inclusive range of dates).
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable

import rules
from django.db.models import F, Q, QuerySet
from django.utils import timezone

from clusters.models import Alternate, Department, Membership, department_private_condition
from sharedsvc.api.csv_sql import register_condition
from sharedsvc.models import User
from sharedsvc.roles import DEPARTMENT_ROLES
from sharedsvc.rules import (
    acts_for_department,
    is_administrator,
    is_deputy_minister,
    is_provider_manager,
    reads_everything,
    signed_in,
)

# A total over other departments' private figures needs this many contributors before a
# department may see it (as statistics offices withhold small cells).
MIN_CONTRIBUTORS = 3
WITHHELD = (
    f"Withheld: fewer than {MIN_CONTRIBUTORS} departments contribute to this total, so it would reveal "
    "another department's figures."
)


def _pk(obj) -> int | None:
    return getattr(obj, "pk", obj)


@rules.predicate
def owns_department(user, department) -> bool:
    """The user acts for this department (its managers and deputy minister)."""
    return bool(
        acts_for_department(user)
        and department is not None
        and _pk(department) == user.department_id
    )


@rules.predicate
def manages_provider(user, provider) -> bool:
    """The user manages this provider."""
    return bool(
        is_provider_manager(user) and provider is not None and _pk(provider) == user.provider_id
    )


@rules.predicate
def runs_cluster(user, cluster) -> bool:
    """The user manages the provider that runs this cluster."""
    return bool(
        is_provider_manager(user)
        and cluster is not None
        and cluster.provider_id == user.provider_id
    )


@rules.predicate
def is_current_member(user, cluster) -> bool:
    """The user's department is a member of this cluster today (1 query)."""
    if not acts_for_department(user) or cluster is None:
        return False
    return (
        Membership.objects.active_on(timezone.localdate())
        .filter(department_id=user.department_id, cluster_id=_pk(cluster))
        .exists()
    )


def board_seat_departments(user, today: datetime.date | None = None) -> QuerySet:
    """The active main departments whose seat this user holds on `today` (by default
    today): as their `deputy_minister` (a deputy minister), or as their alternate named over
    that day (a person of that very department). The one definition of holding a seat:
    reading cases, voting, and the notifications and reminders of the board follow it. A
    queryset, so that it may be a subquery (no query of its own)."""
    if not (user and user.is_authenticated and user.is_active):
        return Department.objects.none()
    seats = Q(pk__in=[])
    if user.is_deputy_minister:
        seats |= Q(deputy_minister_id=user.pk)
    if user.acts_for_department:
        today = today or timezone.localdate()
        named = Alternate.objects.current_on(today).filter(user_id=user.pk)
        seats |= Q(pk=user.department_id, pk__in=named.values("department_id"))
    return Department.objects.filter(seats, is_main=True, active=True)


def alternates_holding(departments, today: datetime.date) -> QuerySet:
    """The alternates named over `today` for these departments' seats, who hold them
    (active people still of that department)."""
    return (
        Alternate.objects.current_on(today)
        .filter(department__in=departments, user__is_active=True)
        .filter(user__department_id=F("department_id"))
    )


@rules.predicate
def may_stand_in(user) -> bool:
    """Could be named an alternate for their own department's seat: an active person of a
    department (a manager, or a deputy minister who is no seat's deputy minister)."""
    return bool(acts_for_department(user) and user.is_active)


def stand_in_candidates(department_ids: Iterable[int]) -> QuerySet:
    """The people who may be named for these departments' seats: their active department
    people who are no seat's deputy minister (one query)."""
    return (
        User.objects.filter(
            is_active=True, role__in=DEPARTMENT_ROLES, department_id__in=list(department_ids)
        )
        .exclude(
            pk__in=Department.objects.filter(deputy_minister__isnull=False).values(
                "deputy_minister_id"
            )
        )
        .select_related("department")
        .order_by("department__code", "last_name", "first_name", "username")
    )


@rules.predicate
def holds_board_seat(user) -> bool:
    """Holds some board seat today, as its deputy minister or as its alternate (1 query
    for a department's people; none for anyone else). A replaced deputy minister holds no
    seat, whatever their role says."""
    if not (acts_for_department(user) and user.is_active):
        return False
    return board_seat_departments(user).exists()


@rules.predicate
def holds_seat_as_deputy_minister(user) -> bool:
    """A deputy minister who is today some active main department's `deputy_minister`
    (1 query). The navigation's "Cases" link asks this rather than `holds_board_seat`, so
    that a department manager's every page does not ask whether they are an alternate
    (an alternate is led to the case by its notifications and the alternates page)."""
    return bool(
        is_deputy_minister(user)
        and Department.objects.filter(
            deputy_minister_id=user.pk, is_main=True, active=True
        ).exists()
    )


@rules.predicate
def is_seat_deputy_minister(user, department) -> bool:
    """The user is this department's deputy minister, and the department has a seat."""
    if not is_deputy_minister(user) or department is None:
        return False
    return bool(
        department.deputy_minister_id == user.pk and department.is_main and department.active
    )


@rules.predicate
def names_alternate_of(user, alternate) -> bool:
    """The user is the deputy minister of the naming's seat."""
    return alternate is not None and is_seat_deputy_minister(user, alternate.department)


@rules.predicate
def is_the_alternate(user, alternate) -> bool:
    return bool(signed_in(user) and alternate is not None and alternate.user_id == user.pk)


def sees_total_over(user, department_ids: Iterable[int]) -> bool:
    """May this user see a total over these departments' private figures (baseline,
    benefit)? Those who see every department's figures may; a department may when the
    total is its own alone, or when at least three departments contribute."""
    contributors = set(department_ids)
    if reads_everything(user):
        return True
    if contributors <= {user.department_id} and acts_for_department(user):
        return True
    return signed_in(user) and len(contributors) >= MIN_CONTRIBUTORS


# A department's private figures: budget lines, baseline and benefit (object: department).
sees_department_private = reads_everything | owns_department
# Members' usage and charges in a cluster (object: cluster).
sees_cluster_members = reads_everything | runs_cluster | is_current_member
# Acts for a department: gives notice, keeps its budget (object: department).
acts_for = is_administrator | owns_department
# Board cases as a reader by seat (no object): the navigation and the home page.
reads_board = reads_everything | holds_seat_as_deputy_minister

rules.add_perm("clusters.view_department_private", sees_department_private)
# The same rule as a condition on rows, for fields gated by it in SQL (a CSV written by
# the database): `pk` is the lookup from a row to the department the rule is asked about.
register_condition(
    "clusters.view_department_private",
    lambda user, pk: department_private_condition(user, department_field=pk),
)
rules.add_perm("clusters.view_cluster_members", sees_cluster_members)
rules.add_perm("clusters.act_for_department", acts_for)
rules.add_perm("clusters.manage_provider", is_administrator | manages_provider)
rules.add_perm("clusters.read_provider", reads_everything | manages_provider)
rules.add_perm("clusters.read_board", reads_board)
# Alternates on the board: the seat's deputy minister names and ends them (object: the
# department, or the naming), as may an administrator; each naming is read by those
# `Alternate.objects.visible_to` names. The alternates page is open to everyone signed in
# (it lists what they may see).
rules.add_perm("clusters.add_alternate", is_administrator | is_seat_deputy_minister)
rules.add_perm("clusters.end_alternate", is_administrator | names_alternate_of)
rules.add_perm(
    "clusters.view_alternate",
    reads_everything | names_alternate_of | is_the_alternate,
)

# Writes of the organisation: administrators only; everyone signed in reads it.
for model in ("department", "provider", "service", "standard", "cluster"):
    for action in ("add", "change", "delete"):
        rules.add_perm(f"clusters.{action}_{model}", is_administrator)
# Memberships through the API and the admin: administrators. The services that move a
# membership (object: the member department) also let in the department's own managers
# (the right to leave moves their own memberships) and the board (a decided case
# schedules the move); the doors above still ask the administrators-only permissions.
for action in ("add", "change", "delete"):
    rules.add_perm(f"clusters.{action}_membership", is_administrator)
rules.add_perm("clusters.move_membership", is_administrator | owns_department | holds_board_seat)
