"""manage.py seed_demo: the helpers of its tests, and the scales it refuses (on an empty
database). The tests that read the demo, or run the command again on it, are in
`test_seed_demo_world.py`, where it is seeded once for them all."""

from __future__ import annotations

import re
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.test import RequestFactory

from budgets.models import BudgetLine, Charge, ChargebackRun, CostPool
from clusters.models import (
    Cluster,
    Department,
    Membership,
    Provider,
    Service,
    Standard,
)
from sharedsvc.models import User

MODELS = [
    Department,
    Provider,
    Service,
    Standard,
    Cluster,
    Membership,
    User,
    CostPool,
    BudgetLine,
    ChargebackRun,
    Charge,
]


def sign_in_request():
    """A sign-in request to authenticate with: axes counts attempts by request."""
    return RequestFactory().post("/accounts/login/")


def seed(*args: str) -> dict[str, str]:
    """Run the command; return the printed username -> password."""
    out = StringIO()
    call_command("seed_demo", *args, stdout=out)
    return dict(re.findall(r"^  (\S+)\s+(\S+)\s+\S", out.getvalue(), re.MULTILINE))


def counts() -> dict[str, int]:
    return {model.__name__: model._default_manager.count() for model in MODELS}


@pytest.mark.parametrize("scale", ["0", "-3", "two", "1.5"])
def test_scale_must_be_a_whole_number_from_1(db, scale):
    with pytest.raises(CommandError, match="scale"):
        seed("--scale", scale)
    assert not Department.objects.exists()
