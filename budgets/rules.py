"""The money side's gate, built on `clusters.rules`.

Budget lines (object: the department, or none for the role check before the body is read):
the department's own managers (and its deputy minister) and administrators write them; the
department, analysts and administrators read them. Cost pools (object: the cluster, or
none): the provider that runs the cluster and administrators write them. A provider's pool
pages (object: the provider): its managers, analysts and administrators read them, its
managers and administrators enter them. Chargeback runs: administrators start them,
analysts follow them. In-house estimates (object: the department, or none): what making a
service would cost a department is its private figure; its own managers (and its deputy
minister) and administrators record them, as `clusters.act_for_department` says.

Rows: each model's `visible_to(user)`; fields: a charge's `budget_line` and `unfunded` are
the department's private figures (`clusters.view_department_private` on its department).
"""

import rules

from clusters.rules import manages_provider, owns_department, runs_cluster
from sharedsvc.rules import (
    acts_for_department,
    is_administrator,
    is_provider_manager,
    reads_everything,
)


@rules.predicate
def no_object(user, obj) -> bool:
    # The role check before the body is read: the role alone decides.
    return obj is None


can_budget = is_administrator | (acts_for_department & (no_object | owns_department))
can_pool = is_administrator | (is_provider_manager & (no_object | runs_cluster))

for action in ("add", "change", "delete"):
    rules.add_perm(f"budgets.{action}_budgetline", can_budget)
    rules.add_perm(f"budgets.{action}_costpool", can_pool)
rules.add_perm("budgets.add_chargebackrun", is_administrator)
rules.add_perm("budgets.add_inhouseestimate", can_budget)

# Reading: budget lines are the department's private figures (with a department: that
# department's people; without: the roles that may hold any).
rules.add_perm(
    "budgets.view_budgetline",
    reads_everything | (acts_for_department & (no_object | owns_department)),
)
rules.add_perm(
    "budgets.view_inhouseestimate",
    reads_everything | (acts_for_department & (no_object | owns_department)),
)
rules.add_perm("budgets.view_chargebackrun", reads_everything)
# A provider's cost pool pages (object: the provider).
rules.add_perm("budgets.read_provider_pools", reads_everything | manages_provider)
rules.add_perm("budgets.enter_provider_pools", is_administrator | manages_provider)
