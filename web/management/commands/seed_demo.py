"""manage.py seed_demo [--scale N]: build the demo world (idempotent) and print who can sign in."""

from __future__ import annotations

import argparse
import time
from typing import Any

from django.core.management.base import BaseCommand

from clusters.demo import SCALE_INVALID
from web.demo import build_demo


def scale(value: str) -> int:
    if not value.isascii() or not value.isdigit() or not 1 <= int(value) <= 10_000:
        raise argparse.ArgumentTypeError(SCALE_INVALID)
    return int(value)


class Command(BaseCommand):
    help = (
        "Create the demo departments, providers, services, clusters, memberships, cost pools, "
        "budget lines and charges that are missing, and one user per role; prints the users "
        "with fresh passwords."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--scale",
            type=scale,
            default=1,
            metavar="N",
            help=(
                "Multiply departments, clusters and memberships by N for benchmarks "
                "(1, the default, is the normal demo; 200 gives over 10,000 memberships)."
            ),
        )

    def handle(self, *args: Any, scale: int = 1, **options: Any) -> None:
        started = time.monotonic()
        demo = build_demo(scale=scale)
        made = ", ".join(f"{n} {what}" for what, n in demo.created.items()) or "nothing new"
        took = time.monotonic() - started
        self.stdout.write(f"Demo data (scale {scale}): created {made} in {took:.1f}s.")
        self.stdout.write("")
        self.stdout.write("Sign in at http://127.0.0.1:8000/accounts/login/ as:")
        width = max(len(username) for username, *_ in demo.credentials)
        for username, role, tied, password in demo.credentials:
            label = f"{role} ({tied})" if tied else role
            self.stdout.write(f"  {username:<{width}}  {password}  {label}")
        self.stdout.write("")
        self.stdout.write("Passwords are new on every run of seed_demo.")
