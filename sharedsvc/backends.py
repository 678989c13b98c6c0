"""Sign-in with a username and password, and nothing else.

Who may see or do what is answered by the apps' `rules.py` permissions (the rules
backend) and nothing else: Django's per-user and per-group permission tables are not
used, so this backend answers no permission question. (Django's own ModelBackend would
load those tables, two queries on every request that asks the gate a question.)

Who may sign in with a password at all is a rule too (`sharedsvc.sign_in_with_password`):
with PASSWORD_SIGN_IN=break_glass only break-glass administrators may; anyone else's
right password is refused like a wrong one, so the answer tells nothing about it.
"""

from __future__ import annotations

import rules
from django.contrib.auth.backends import ModelBackend

# Why a refused password sign-in failed, for the audit trail only (`sharedsvc.signin`).
PASSWORD_SIGN_IN_OFF_DETAIL = "password sign-in is only for break-glass administrators"  # noqa: S105


class NoTablePermissions:
    """Answers no permission question: the rules backend answers them all."""

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


class PasswordBackend(NoTablePermissions, ModelBackend):
    def authenticate(self, request, username=None, password=None, **kwargs):
        user = super().authenticate(request, username=username, password=password, **kwargs)
        # Asked of the rule itself, not user.has_perm: Django grants every permission to a
        # superuser, and every administrator is one.
        if user is not None and not rules.test_rule("sharedsvc.sign_in_with_password", user):
            if request is not None:
                request.sign_in_failure_detail = PASSWORD_SIGN_IN_OFF_DETAIL
            return None
        return user
