"""Who may write the money side.

Budget lines: the department's own managers (and its deputy minister) and administrators.
Cost pools: the provider's managers and administrators. Chargeback runs: administrators.
Object permissions take the department (budget lines) or the cluster (cost pools).
"""

import rules

from sharedsvc.rules import (
    acts_for_department,
    is_administrator,
    is_provider_manager,
    reads_everything,
)


@rules.predicate
def own_department(user, department) -> bool:
    return department is None or getattr(department, "pk", department) == user.department_id


@rules.predicate
def own_cluster(user, cluster) -> bool:
    return cluster is None or cluster.provider_id == user.provider_id


can_budget = is_administrator | (acts_for_department & own_department)
can_pool = is_administrator | (is_provider_manager & own_cluster)

for action in ("add", "change", "delete"):
    rules.add_perm(f"budgets.{action}_budgetline", can_budget)
    rules.add_perm(f"budgets.{action}_costpool", can_pool)
rules.add_perm("budgets.add_chargebackrun", is_administrator)

# Reading: budget lines are for the department's people, administrators and analysts;
# chargeback runs for administrators and analysts.
rules.add_perm("budgets.view_budgetline", reads_everything | acts_for_department)
rules.add_perm("budgets.view_chargebackrun", reads_everything)
