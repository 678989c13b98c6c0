"""manage.py seed_demo: a believable world, one user per role, and no duplicates."""

from __future__ import annotations

import re
from io import StringIO

import pytest
from django.apps import apps
from django.contrib.auth import authenticate
from django.core.management import CommandError, call_command
from django.db.models import Count, Sum
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


def test_second_run_duplicates_nothing_and_resets_passwords(db):
    first = seed()
    before = counts()

    second = seed()

    assert counts() == before
    assert second.keys() == first.keys()
    for username, password in second.items():
        assert password != first[username]
        assert authenticate(sign_in_request(), username=username, password=first[username]) is None
        assert authenticate(sign_in_request(), username=username, password=password) is not None


def test_scale_multiplies_departments_clusters_and_members(db):
    seed()
    one = counts()
    seed("--scale", "2")
    two = counts()
    for model in ("Membership", "Cluster"):
        assert two[model] == 2 * one[model], model
    assert two["Department"] == 2 * one["Department"]
    # The copies have their own pools, lines and charges, and every pool adds up.
    assert two["CostPool"] == 2 * one["CostPool"]
    assert two["BudgetLine"] == 2 * one["BudgetLine"]
    assert two["Charge"] == 2 * one["Charge"]
    copies = Charge.objects.filter(department__code__endswith="-002")
    assert copies.count() == one["Charge"]
    pools = CostPool.objects.annotate(charged=Sum("charges__amount"), n=Count("charges"))
    assert all(pool.charged == pool.amount for pool in pools)
    # A copy department is in the copy of its original's clusters only.
    lcs2 = Department.objects.get(code="LCS-002")
    assert sorted(lcs2.memberships.values_list("cluster__code", flat=True)) == sorted(
        f"{code}-002"
        for code in Department.objects.get(code="LCS").memberships.values_list(
            "cluster__code", flat=True
        )
    )
    assert not lcs2.is_main  # the board stays the real departments' deputy ministers
    # The copies are audited too (bulk inserts still fire the triggers).
    events = apps.get_model("clusters", "MembershipEvent").objects.filter(pgh_label="insert")
    assert events.count() == two["Membership"]
    # And scale is idempotent as well.
    seed("--scale", "2")
    assert counts() == two


@pytest.mark.parametrize("scale", ["0", "-3", "two", "1.5"])
def test_scale_must_be_a_whole_number_from_1(db, scale):
    with pytest.raises(CommandError, match="scale"):
        seed("--scale", scale)
    assert not Department.objects.exists()
