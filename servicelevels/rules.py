"""Who may write service levels: the provider's managers for their own provider's clusters,
and administrators. Object permissions take the cluster (like budgets' cost pools).

Reading is for every signed-in user, narrowed by `Measurement.objects.visible_to(user)`
and, for the reports, by the scoping in `servicelevels/api/views.py`.
"""

import rules

from sharedsvc.rules import is_administrator, is_provider_manager


@rules.predicate
def own_cluster(user, cluster) -> bool:
    # No object (the role check before the body is read): the role alone decides.
    return cluster is None or cluster.provider_id == user.provider_id


can_measure = is_administrator | (is_provider_manager & own_cluster)

rules.add_perm("servicelevels.add_measurement", can_measure)
rules.add_perm("servicelevels.change_measurement", can_measure)
