"""Writes to user accounts: creation with a role, passwords and API tokens.

`manage.py add_user`, `manage.py seed_demo` and any later page or API call these, so there
is one way to make a user of each role.
"""

from __future__ import annotations

import secrets
from typing import Any

from django.conf import settings
from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.db import transaction

from clusters.models import Department, Provider
from clusters.services import department_update
from sharedsvc.audit import audit_context
from sharedsvc.models import SignInKind, SsoIdentity, User
from sharedsvc.roles import DEPARTMENT_ROLES, Role
from sharedsvc.services import model_delete, model_update, require_permission, validated_save
from sharedsvc.signin import sign_in_event_record

UNKNOWN_ROLE = "Unknown role '{role}'. Choose one of: {choices}."
USERNAME_TAKEN = "A user named '{username}' already exists; nothing was changed."
DEPARTMENT_REQUIRED = "A {role} acts for a department: give its code with --department."
DEPARTMENT_NOT_ALLOWED = "The role {role} has no department: leave out --department."
PROVIDER_REQUIRED = "A provider manager acts for a provider: give its code with --provider."
PROVIDER_NOT_ALLOWED = "The role {role} has no provider: leave out --provider."
BREAK_GLASS_ONLY_ADMINISTRATORS = "Only administrators can be break-glass accounts."
SSO_ISSUER_REQUIRED = (
    "Single sign-on is not configured (OIDC_ISSUER): give the provider with --sso-issuer."
)
SSO_SUBJECT_TAKEN = "The single sign-on account '{subject}' at {issuer} already has a user."


def generate_password() -> str:
    """A random password that passes every configured validator (about 96 bits)."""
    return secrets.token_urlsafe(12)


def _role(role: str) -> Role:
    try:
        return Role(role)
    except ValueError:
        raise ValidationError(
            {"role": UNKNOWN_ROLE.format(role=role, choices=", ".join(Role.values))}
        ) from None


def _check_ties(role: Role, department: Department | None, provider: Provider | None) -> None:
    """Each role is tied to exactly what it acts for (the database checks it too)."""
    errors: dict[str, str] = {}
    label = role.label.lower()
    name = role.value
    if role in DEPARTMENT_ROLES and department is None:
        errors["department"] = DEPARTMENT_REQUIRED.format(role=label)
    if role not in DEPARTMENT_ROLES and department is not None:
        errors["department"] = DEPARTMENT_NOT_ALLOWED.format(role=name)
    if role == Role.PROVIDER_MANAGER and provider is None:
        errors["provider"] = PROVIDER_REQUIRED
    if role != Role.PROVIDER_MANAGER and provider is not None:
        errors["provider"] = PROVIDER_NOT_ALLOWED.format(role=name)
    if errors:
        raise ValidationError(errors)


def user_create(
    *,
    actor: Any,
    username: str,
    role: str,
    department: Department | None = None,
    provider: Provider | None = None,
    password: str | None = None,
    email: str = "",
    break_glass: bool = False,
    sso_subject: str | None = None,
    sso_issuer: str | None = None,
) -> User:
    """Create a user of one role. Administrators also get the Django admin (staff and
    superuser); a deputy minister also becomes their department's deputy minister.

    A password that is given must pass the password validators; with none, the user gets
    a random one (read it back from `user.generated_password`).

    With `sso_subject`, the user is pre-registered for single sign-on: the person whose
    provider account that is (`sub` at `sso_issuer`, by default OIDC_ISSUER) is this user
    when they first sign in, with this role. Without a password given they have none (they
    sign in only through single sign-on). `break_glass` (administrators only) keeps their
    password usable when PASSWORD_SIGN_IN=break_glass switches off everyone else's.
    """
    require_permission(actor, "sharedsvc.manage_users")
    checked_role = _role(role)
    _check_ties(checked_role, department, provider)
    if break_glass and checked_role != Role.ADMINISTRATOR:
        raise ValidationError({"break_glass": BREAK_GLASS_ONLY_ADMINISTRATORS})
    issuer = (sso_issuer or settings.OIDC_ISSUER) if sso_subject else ""
    if sso_subject and not issuer:
        raise ValidationError({"sso_issuer": SSO_ISSUER_REQUIRED})
    if sso_subject and SsoIdentity.objects.filter(issuer=issuer, subject=sso_subject).exists():
        raise ValidationError(
            {"sso_subject": SSO_SUBJECT_TAKEN.format(subject=sso_subject, issuer=issuer)}
        )
    if User.objects.filter(username__iexact=username).exists():
        raise ValidationError({"username": USERNAME_TAKEN.format(username=username)})
    is_admin = checked_role == Role.ADMINISTRATOR
    user = User(
        username=username,
        email=email,
        role=checked_role,
        department=department,
        provider=provider,
        is_staff=is_admin,
        is_superuser=is_admin,
        break_glass=break_glass,
    )
    generated = password is None and not sso_subject
    if sso_subject and password is None:
        user.set_unusable_password()
    else:
        if password is None:
            password = generate_password()
        else:
            try:
                password_validation.validate_password(password, user)
            except ValidationError as exc:
                raise ValidationError({"password": exc.messages}) from exc
        user.set_password(password)
    with transaction.atomic(), audit_context(actor=actor):
        validated_save(user, actor=actor)
        if sso_subject:
            validated_save(SsoIdentity(user=user, issuer=issuer, subject=sso_subject), actor=actor)
        if checked_role == Role.DEPUTY_MINISTER:
            assert department is not None  # checked by _check_ties
            department_update(actor=actor, department=department, deputy_minister=user)
    user.generated_password = password if generated else None  # type: ignore[attr-defined]
    return user


def user_update(*, actor: Any, user: User, **data: Any) -> User:
    """Change a user's details, role or ties (the database checks each role's ties)."""
    require_permission(actor, "sharedsvc.manage_users")
    return model_update(user, actor=actor, data=data)


def user_delete(*, actor: Any, user: User) -> None:
    require_permission(actor, "sharedsvc.manage_users")
    model_delete(user, actor=actor)


def user_set_password(*, actor: Any, user: User, password: str | None = None) -> str:
    """Give a user a new password (a random one when none is given) and return it."""
    if password is None:
        password = generate_password()
    else:
        password_validation.validate_password(password, user)
    user.set_password(password)
    with transaction.atomic(), audit_context(actor=actor):
        user.save(update_fields=["password"])
        sign_in_event_record(
            kind=SignInKind.PASSWORD_CHANGED,
            request=None,
            user=user,
            detail="set by an administrator" if actor is not None else "set by an operator",
        )
    return password
