"""Who may write the organisation: administrators only; everyone signed in may read it."""

import rules

from sharedsvc.rules import is_administrator

for model in ("department", "provider", "service", "standard", "cluster", "membership"):
    for action in ("add", "change", "delete"):
        rules.add_perm(f"clusters.{action}_{model}", is_administrator)
