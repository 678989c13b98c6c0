from __future__ import annotations

from typing import ClassVar, Self

from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models
from django.db.models import Q
from django.utils import timezone

from sharedsvc.audit import tracked
from sharedsvc.roles import DEPARTMENT_ROLES, Role


# Password hashes and sign-in times stay out of the audit trail.
@tracked(exclude=["password", "last_login"])
class User(AbstractUser):
    """A person who signs in, with one role tied to a department or provider."""

    role = models.CharField(max_length=32, choices=Role.choices, default=Role.ANALYST)
    department = models.ForeignKey(
        "clusters.Department",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="users",
        help_text="For department managers and deputy ministers.",
    )
    provider = models.ForeignKey(
        "clusters.Provider",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="users",
        help_text="For provider managers.",
    )
    break_glass = models.BooleanField(
        default=False,
        help_text=(
            "An administrator who may still sign in with a password when passwords are "
            "switched off for everyone else (PASSWORD_SIGN_IN=break_glass)."
        ),
    )

    objects: ClassVar[UserManager[Self]] = UserManager()

    class Meta:
        constraints = [
            models.CheckConstraint(
                name="user_department_iff_department_role",
                condition=(
                    Q(role__in=DEPARTMENT_ROLES, department__isnull=False)
                    | (~Q(role__in=DEPARTMENT_ROLES) & Q(department__isnull=True))
                ),
                violation_error_message="Department managers and deputy ministers need a department; other roles have none.",
            ),
            models.CheckConstraint(
                name="user_provider_iff_provider_manager",
                condition=(
                    Q(role=Role.PROVIDER_MANAGER, provider__isnull=False)
                    | (~Q(role=Role.PROVIDER_MANAGER) & Q(provider__isnull=True))
                ),
                violation_error_message="Provider managers need a provider; other roles have none.",
            ),
            models.CheckConstraint(
                name="user_break_glass_only_administrators",
                condition=Q(break_glass=False) | Q(role=Role.ADMINISTRATOR),
                violation_error_message="Only administrators can be break-glass accounts.",
            ),
        ]

    @property
    def is_administrator(self) -> bool:
        return self.is_active and (self.role == Role.ADMINISTRATOR or self.is_superuser)

    @property
    def is_analyst(self) -> bool:
        return self.is_active and self.role == Role.ANALYST

    @property
    def acts_for_department(self) -> bool:
        return self.is_active and self.role in DEPARTMENT_ROLES

    @property
    def is_deputy_minister(self) -> bool:
        return self.is_active and self.role == Role.DEPUTY_MINISTER

    @property
    def is_provider_manager(self) -> bool:
        return self.is_active and self.role == Role.PROVIDER_MANAGER

    @property
    def reads_everything(self) -> bool:
        """Administrators and analysts see every record."""
        return self.is_administrator or self.is_analyst

    @property
    def has_role(self) -> bool:
        """Given a role by an administrator (a new single sign-on user has none yet)."""
        return self.is_active and self.role != Role.UNASSIGNED

    @property
    def is_break_glass(self) -> bool:
        """An administrator who may sign in with a password when passwords are switched off."""
        return self.break_glass and self.is_administrator


@tracked()
class SsoIdentity(models.Model):
    """The single sign-on identity of a user: the provider (issuer) and its stable `sub`."""

    user = models.ForeignKey(
        "sharedsvc.User", on_delete=models.CASCADE, related_name="sso_identities"
    )
    issuer = models.CharField(max_length=255, help_text="The provider's issuer identifier.")
    subject = models.CharField(
        max_length=255, help_text="The provider's `sub` claim: stable, never reassigned."
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "single sign-on identity"
        verbose_name_plural = "single sign-on identities"
        constraints = [
            # One person per provider account: a second row for it (two first sign-ins at
            # once) fails here instead of making a second user.
            models.UniqueConstraint(
                fields=["issuer", "subject"], name="sso_identity_unique_issuer_subject"
            )
        ]

    def __str__(self) -> str:
        return f"{self.subject} at {self.issuer}"


class OutboxStatus(models.TextChoices):
    PENDING = "pending", "Waiting to be handed to the workers"
    SENT = "sent", "Handed to the workers"
    FAILED = "failed", "Failed: gave up after its last try"


class OutboxItem(models.Model):
    """A piece of background work, written in the same transaction as the change that wants
    it and handed to Celery once that transaction has committed (`sharedsvc.outbox`)."""

    key = models.CharField(
        max_length=200, unique=True, help_text="Names the work once: a second enqueue is a no-op."
    )
    task = models.CharField(max_length=200, help_text="The Celery task's registered name.")
    kwargs = models.JSONField(default=dict, blank=True)
    status = models.CharField(
        max_length=16, choices=OutboxStatus.choices, default=OutboxStatus.PENDING
    )
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)
    request_id = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(
                fields=["next_attempt_at", "id"],
                condition=Q(status=OutboxStatus.PENDING),
                name="outbox_pending_due",
            )
        ]

    def __str__(self) -> str:
        return f"{self.task} ({self.key}): {self.status}"


class SignInKind(models.TextChoices):
    SIGNED_IN = "signed_in", "Signed in"
    SIGNED_OUT = "signed_out", "Signed out"
    FAILED = "failed", "Failed sign-in"
    LOCKED_OUT = "locked_out", "Locked out after too many failed sign-ins"
    PASSWORD_CHANGED = "password_changed", "Changed their password"
    TWO_FACTOR_ENABLED = "two_factor_enabled", "Turned on two-factor authentication"
    TWO_FACTOR_DISABLED = "two_factor_disabled", "Turned off two-factor authentication"
    TWO_FACTOR_FAILED = "two_factor_failed", "Entered a wrong two-factor code"
    RECOVERY_CODES_CREATED = "recovery_codes_created", "Made new recovery codes"
    RECOVERY_CODE_USED = "recovery_code_used", "Signed in with a recovery code"
    TOKEN_CREATED = "token_created", "Created an API token"
    TOKEN_REVOKED = "token_revoked", "Revoked an API token"


@tracked()
class SignInEvent(models.Model):
    """One sign-in or account-security event (sign-in, sign-out, failure, lockout, password,
    two-factor, API token): who, from where, with what, when (written by
    `sharedsvc.signin.sign_in_event_record`; its insert is the audit event)."""

    kind = models.CharField(max_length=32, choices=SignInKind.choices)
    username = models.CharField(
        max_length=150, blank=True, help_text="The username given (for a failure, as typed)."
    )
    user = models.ForeignKey(
        "sharedsvc.User",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The account, when the username names one.",
    )
    address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=500, blank=True)
    detail = models.CharField(
        max_length=200,
        blank=True,
        help_text="What it was about: a token's name, the way of signing in. Never a secret.",
    )
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["username", "at"], name="sign_in_event_username_at")]

    def __str__(self) -> str:
        return f"{self.kind}: {self.username or '-'} from {self.address or '?'} at {self.at}"


class ApiToken(models.Model):
    """What a person knows of one of their API tokens (knox keeps only its hash): a name
    and when it was last used; revoking the token deletes both. Not tracked row by row (each
    use moves `last_used_at`): creation and revocation are SignInEvents."""

    token = models.OneToOneField(
        "knox.AuthToken", primary_key=True, on_delete=models.CASCADE, related_name="detail"
    )
    name = models.CharField(max_length=100)
    last_used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return self.name
