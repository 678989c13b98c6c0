"""manage.py seed_demo: build the demo world (idempotent) and print who can sign in."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from clusters.demo import build_demo


class Command(BaseCommand):
    help = (
        "Create the demo departments, providers, services, clusters and memberships that are "
        "missing, and one user per role; prints the users with fresh passwords."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        demo = build_demo()
        made = ", ".join(f"{n} {what}" for what, n in demo.created.items()) or "nothing new"
        self.stdout.write(f"Demo data: created {made}.")
        self.stdout.write("")
        self.stdout.write("Sign in at http://127.0.0.1:8000/accounts/login/ as:")
        width = max(len(username) for username, *_ in demo.credentials)
        for username, role, tied, password in demo.credentials:
            label = f"{role} ({tied})" if tied else role
            self.stdout.write(f"  {username:<{width}}  {password}  {label}")
        self.stdout.write("")
        self.stdout.write("Passwords are new on every run of seed_demo.")
