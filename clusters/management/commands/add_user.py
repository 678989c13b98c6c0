"""manage.py add_user USERNAME --role ROLE [--department CODE] [--provider CODE]
[--password PW] [--token] [--break-glass] [--sso-subject SUB [--sso-issuer ISS]]

Creates one user. An existing username is refused (nothing is changed): use the Django
admin or `manage.py changepassword` to change an existing user.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from clusters.models import Department, Provider
from clusters.users import user_create
from sharedsvc.roles import Role
from sharedsvc.tokens import api_token_create

UNKNOWN_DEPARTMENT = "There is no department with code '{code}'."
UNKNOWN_PROVIDER = "There is no provider with code '{code}'."


def validation_message(exc: ValidationError) -> str:
    if hasattr(exc, "error_dict"):
        return " ".join(message for messages in exc.message_dict.values() for message in messages)
    return " ".join(exc.messages)


class Command(BaseCommand):
    help = "Create a user with a role; prints the password when generated, and an API token."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument(
            "--role", required=True, help=f"One of: {', '.join(Role.values)}.", metavar="ROLE"
        )
        parser.add_argument(
            "--department",
            metavar="CODE",
            help="The department of a department manager or deputy minister.",
        )
        parser.add_argument(
            "--provider", metavar="CODE", help="The provider of a provider manager."
        )
        parser.add_argument(
            "--password", metavar="PW", help="The password; a random one is printed without it."
        )
        parser.add_argument(
            "--token", action="store_true", help="Also create and print an API token."
        )
        parser.add_argument("--email", default="", help="The user's email address.")
        parser.add_argument(
            "--break-glass",
            action="store_true",
            help="An administrator who may sign in with a password when PASSWORD_SIGN_IN="
            "break_glass switches passwords off for everyone else.",
        )
        parser.add_argument(
            "--sso-subject",
            metavar="SUB",
            help="Pre-register for single sign-on: the person's `sub` at the provider; they "
            "have this role when they first sign in (no password unless --password).",
        )
        parser.add_argument(
            "--sso-issuer",
            metavar="ISS",
            help="The provider's issuer for --sso-subject (default: OIDC_ISSUER).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        department = self._lookup(Department, options["department"], UNKNOWN_DEPARTMENT)
        provider = self._lookup(Provider, options["provider"], UNKNOWN_PROVIDER)
        previous_dm = department.deputy_minister if department is not None else None
        try:
            # User and token together: a failure leaves nothing behind.
            with transaction.atomic():
                user = user_create(
                    actor=None,
                    username=options["username"],
                    role=options["role"],
                    department=department,
                    provider=provider,
                    password=options["password"],
                    email=options["email"],
                    break_glass=options["break_glass"],
                    sso_subject=options["sso_subject"],
                    sso_issuer=options["sso_issuer"],
                )
                key = (
                    api_token_create(actor=None, user=user, name="add_user")[1]
                    if options["token"]
                    else None
                )
        except ValidationError as exc:
            raise CommandError(validation_message(exc)) from exc

        tied = department or provider
        where = f" of {tied.code}" if tied is not None else ""
        self.stdout.write(f"Created {user.username}: {Role(user.role).label.lower()}{where}.")
        if user.role == Role.DEPUTY_MINISTER and department is not None:
            self.stdout.write(f"Deputy minister of {department.code} (holds its board seat).")
            if previous_dm is not None:
                self.stdout.write(f"Replaces {previous_dm.username} in that seat.")
        for identity in user.sso_identities.all():
            self.stdout.write(f"Signs in with single sign-on as {identity}.")
        if user.break_glass:
            self.stdout.write("Break-glass: may sign in with a password when others may not.")
        if user.generated_password:  # type: ignore[attr-defined]
            self.stdout.write(f"Password: {user.generated_password}")  # type: ignore[attr-defined]
        if key is not None:
            self.stdout.write(f"API token: {key}")
            self.stdout.write(f'Use it as the header "Authorization: Token {key}".')
            self.stdout.write(f"It expires after {settings.API_TOKEN_DAYS} days.")

    def _lookup(self, model: Any, code: str | None, message: str) -> Any:
        if code is None:
            return None
        found = model.objects.filter(code=code.strip().upper()).first()
        if found is None:
            raise CommandError(message.format(code=code))
        return found
