"""The service levels' gate: who reads and writes returns, scorecards, a department's service
levels, and which rows of the reports each reader gets. Built on `clusters.rules`.

Permissions (object in brackets):
- `servicelevels.add_measurement`, `servicelevels.change_measurement` (cluster, or none for
  the role check before the body is read): the provider that runs the cluster, and
  administrators;
- `servicelevels.view_scorecard` (provider): its managers, analysts and administrators;
- `servicelevels.submit_returns` (provider): its managers and administrators;
- `servicelevels.view_department_service_levels` (department): a department's private page,
  for the department, analysts and administrators;
- `servicelevels.view_overview`: analysts and administrators;
- `servicelevels.view_alternatives` (department, or none): a department names only itself;
  a provider's managers any department (rows limited to their clusters' members);
- `servicelevels.view_make_or_buy` (department): a department's make-or-buy figures
  (`make_cost`, `buy_cost`), its private figures: the department, analysts, administrators.

Rows: `Measurement.objects.visible_to(user)` for returns, and the scopes below for the
reports (`servicelevels/api/views.py`) and the pages, so both doors give the same rows.
Cluster prices (cost per unit by month, compliance rate, room) are public to every signed-in
user; a total over other departments' baselines or benefits follows `sees_total_over`.
"""

from __future__ import annotations

from typing import Any

import rules
from django.db.models import Q

from clusters.models import current_member_condition
from clusters.rules import (
    WITHHELD,
    manages_provider,
    owns_department,
    runs_cluster,
    sees_department_private,
    sees_total_over,
)
from sharedsvc.rules import (
    acts_for_department,
    is_administrator,
    is_provider_manager,
    reads_everything,
    signed_in,
)

NOTHING = Q(pk__in=[])


@rules.predicate
def no_object(user, obj) -> bool:
    # The role check before the body is read: the role alone decides.
    return obj is None


can_measure = is_administrator | (is_provider_manager & (no_object | runs_cluster))

rules.add_perm("servicelevels.add_measurement", can_measure)
rules.add_perm("servicelevels.change_measurement", can_measure)
rules.add_perm("servicelevels.view_scorecard", reads_everything | manages_provider)
rules.add_perm("servicelevels.submit_returns", is_administrator | manages_provider)
rules.add_perm("servicelevels.view_department_service_levels", sees_department_private)
rules.add_perm("servicelevels.view_overview", reads_everything)
rules.add_perm("servicelevels.view_make_or_buy", sees_department_private)
rules.add_perm(
    "servicelevels.view_alternatives",
    reads_everything | is_provider_manager | (acts_for_department & (no_object | owns_department)),
)


# Row scopes (the queryset form of the predicates above) ----------------------------------


def member_clusters_condition(user, *, cluster: str = "cluster") -> Q:
    """Rows of the clusters whose members' usage this user sees (`clusters.view_cluster_members`
    as a `Q`): everything for analysts and administrators, a provider's clusters for its
    managers, the clusters a department is a current member of for its people. `cluster`
    names the row's cluster ("" when the rows are clusters)."""
    if not signed_in(user):
        return NOTHING
    if reads_everything(user):
        return Q()
    if is_provider_manager(user):
        return Q(**{f"{cluster}__provider_id" if cluster else "provider_id": user.provider_id})
    return current_member_condition(user, cluster_field=f"{cluster}_id" if cluster else "pk")


def alternatives_condition(user) -> Q:
    """Memberships whose alternatives this user sees: the department's own (its usage and
    its options to leave), those of the provider's clusters for its managers, every one for
    analysts and administrators."""
    if not signed_in(user):
        return NOTHING
    if reads_everything(user):
        return Q()
    if is_provider_manager(user):
        return Q(cluster__provider_id=user.provider_id)
    if acts_for_department(user):
        return Q(department_id=user.department_id)
    return NOTHING


def sees_member_row(user, department_id: int) -> bool:
    """A department's baseline and benefit: `clusters.view_department_private` without a
    query (the department by id)."""
    return bool(sees_department_private(user, department_id))


def gate_total(
    user, total: dict[str, Any], contributors: set[int], flag_contributors: set[int]
) -> dict[str, Any]:
    """A total over departments' baselines and benefits, as this user may see it: whole, or
    with the private figures withheld and the reason said. `flagged` (the sign of the total
    over the last complete fiscal year) follows that year's contributors."""
    shown = {**total, "withheld": None}
    if not sees_total_over(user, flag_contributors):
        shown["flagged"] = None
    if not sees_total_over(user, contributors):
        shown.update(baseline=None, benefit=None, flagged=None, withheld=WITHHELD)
    return shown


def benefits_seen_by(user, report: dict[str, Any]) -> dict[str, Any]:
    """The benefits report (`selectors.benefits`) as this user may see it, for the API and
    the pages alike: the membership rows of the departments whose private figures the user
    sees, and every total, withheld where it would reveal other departments' figures."""
    clusters = [
        gate_total(user, total, total["departments"], total["flag_departments"])
        for total in report["clusters"]
    ]
    services = [
        gate_total(user, total, total["departments"], total["departments"])
        for total in report["services"]
    ]
    flags = {total["cluster"]: total["flagged"] for total in clusters}
    # The rule asked once per department, not once per membership row (thousands at scale).
    seen: dict[int, bool] = {}
    members = []
    for row in report["members"]:
        department_id = row["department_id"]
        if department_id not in seen:
            seen[department_id] = sees_member_row(user, department_id)
        if seen[department_id]:
            members.append({**row, "cluster_flagged": flags.get(row["cluster"])})
    return {**report, "members": members, "clusters": clusters, "services": services}


def make_or_buy_seen_by(
    user, rows: list[dict[str, Any]], quarters: list[dict[str, Any]]
) -> dict[str, Any]:
    """Make or buy (`selectors.make_or_buy` and `make_or_buy_quarters`) as this user may see
    it, for the API and the pages alike: the rows of the departments whose private figures
    the user sees (`make_cost` and `buy_cost` are a department's own), and each quarter of
    the series whole, or its figures withheld with the reason where fewer than three
    departments make them (a total over other departments' usage, `sees_total_over`)."""
    shown = []
    for quarter in quarters:
        figures = {
            **quarter,
            "contributors": len(quarter["departments"]),
            "withheld": None,
        }
        if quarter["departments"] and not sees_total_over(user, quarter["departments"]):
            figures.update(
                units_bought=None,
                units_made=None,
                share_bought=None,
                exits_in_house=None,
                withheld=WITHHELD,
            )
        shown.append(figures)
    return {
        "rows": [row for row in rows if sees_member_row(user, row["department_id"])],
        "quarters": shown,
    }
