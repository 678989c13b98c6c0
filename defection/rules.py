"""Who may give notice: the department's own managers and deputy minister, and administrators.

Object permissions take the department that leaves.
"""

import rules

from budgets.rules import own_department
from sharedsvc.rules import acts_for_department, is_administrator

can_give_notice = is_administrator | (acts_for_department & own_department)
rules.add_perm("defection.add_exitrequest", can_give_notice)
rules.add_perm("defection.withdraw_exitrequest", can_give_notice)
