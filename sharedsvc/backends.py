"""Sign-in with a username and password, and nothing else.

Who may see or do what is answered by the apps' `rules.py` permissions (the rules
backend) and nothing else: Django's per-user and per-group permission tables are not
used, so this backend answers no permission question. (Django's own ModelBackend would
load those tables, two queries on every request that asks the gate a question.)
"""

from __future__ import annotations

from django.contrib.auth.backends import ModelBackend


class PasswordBackend(ModelBackend):
    def get_user_permissions(self, user_obj, obj=None) -> set[str]:
        return set()

    def get_group_permissions(self, user_obj, obj=None) -> set[str]:
        return set()

    def get_all_permissions(self, user_obj, obj=None) -> set[str]:
        return set()

    def has_perm(self, user_obj, perm, obj=None) -> bool:
        return False

    def has_module_perms(self, user_obj, app_label) -> bool:
        return False
