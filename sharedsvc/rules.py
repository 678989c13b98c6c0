"""Role predicates (django-rules) shared by every app's permissions."""

import rules
from django.conf import settings


@rules.predicate
def signed_in(user) -> bool:
    return bool(user and user.is_authenticated and user.is_active)


@rules.predicate
def is_administrator(user) -> bool:
    return bool(user and user.is_authenticated and user.is_administrator)


@rules.predicate
def is_analyst(user) -> bool:
    return bool(user and user.is_authenticated and user.is_analyst)


@rules.predicate
def acts_for_department(user) -> bool:
    return bool(user and user.is_authenticated and user.acts_for_department)


@rules.predicate
def is_deputy_minister(user) -> bool:
    return bool(user and user.is_authenticated and user.is_deputy_minister)


@rules.predicate
def is_provider_manager(user) -> bool:
    return bool(user and user.is_authenticated and user.is_provider_manager)


@rules.predicate
def reads_everything(user) -> bool:
    return bool(user and user.is_authenticated and user.reads_everything)


@rules.predicate
def has_local_password(user) -> bool:
    """Signs in with a password of this service (not only through single sign-on)."""
    return bool(user and user.is_authenticated and user.has_usable_password())


# Two-factor authentication is for local accounts (an identity provider does its own);
# administrators must use it: sign-in does not finish until they have set it up.
uses_local_sign_in = signed_in & has_local_password
must_use_two_factor = is_administrator & has_local_password


@rules.predicate
def is_self(user, other) -> bool:
    return bool(user and user.is_authenticated and other is not None and user.pk == other.pk)


@rules.predicate
def has_role(user) -> bool:
    """An administrator has given them a role (a new single sign-on user has none yet)."""
    return bool(user and user.is_authenticated and user.has_role)


@rules.predicate
def is_break_glass(user) -> bool:
    return bool(user and user.is_authenticated and user.is_break_glass)


@rules.predicate
def passwords_for_everyone(user) -> bool:
    return settings.PASSWORD_SIGN_IN == "everyone"


# Everything but the "no role yet" page and signing out needs a role (RoleRequiredMiddleware
# and the API's permission ask this).
rules.add_perm("sharedsvc.use_service", signed_in & has_role)
# Who may sign in with a password (PasswordBackend). A rule, not a permission: Django grants
# every permission to a superuser, and every administrator is one.
rules.add_rule("sharedsvc.sign_in_with_password", passwords_for_everyone | is_break_glass)
rules.add_perm("sharedsvc.view_audit", reads_everything)
rules.add_perm("sharedsvc.read_everything", reads_everything)
rules.add_perm("sharedsvc.use_admin", is_administrator)
rules.add_perm("sharedsvc.manage_users", is_administrator)
rules.add_perm("sharedsvc.use_two_factor", uses_local_sign_in)
# Asked before turning two-factor off: those who must use it may not. (Not a positive
# "may turn it off" permission: Django grants every permission to an active superuser.)
rules.add_perm("sharedsvc.must_use_two_factor", must_use_two_factor)
# A person's API tokens are theirs to create and revoke; an administrator may revoke them.
rules.add_perm("sharedsvc.manage_api_tokens", signed_in & (is_self | is_administrator))
