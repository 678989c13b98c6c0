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
  active main department's `deputy_minister`.
"""

from __future__ import annotations

from collections.abc import Iterable

import rules
from django.utils import timezone

from clusters.models import Department, Membership
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


def board_seat_departments(user):
    """The active main departments whose seat this user holds as their deputy minister."""
    return Department.objects.filter(deputy_minister_id=user.pk, is_main=True, active=True)


@rules.predicate
def holds_board_seat(user) -> bool:
    """A deputy minister who is today some active main department's deputy minister
    (1 query). A replaced deputy minister holds no seat, whatever their role says."""
    return bool(is_deputy_minister(user) and board_seat_departments(user).exists())


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
# Board cases as a reader by seat (no object).
reads_board = reads_everything | holds_board_seat

rules.add_perm("clusters.view_department_private", sees_department_private)
rules.add_perm("clusters.view_cluster_members", sees_cluster_members)
rules.add_perm("clusters.act_for_department", acts_for)
rules.add_perm("clusters.manage_provider", is_administrator | manages_provider)
rules.add_perm("clusters.read_provider", reads_everything | manages_provider)
rules.add_perm("clusters.read_board", reads_board)

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
