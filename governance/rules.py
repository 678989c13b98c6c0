"""The board: deputy ministers vote (the seat itself is checked by `vote_cast`); cases are
read by deputy ministers, analysts, administrators and, through their exit request, the
parties. Nobody writes a case directly."""

import rules

from sharedsvc.rules import is_deputy_minister

rules.add_perm("governance.add_vote", is_deputy_minister)
