"""Gated fields' read path (sharedsvc/api/gated.py): the same answers as DRF's and Django's."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser
from rest_framework import serializers
from rest_framework.test import APIRequestFactory

from clusters.api.serializers import MembershipSerializer
from clusters.models import Department, Membership
from sharedsvc.api.gated import GatedFieldsMixin


def _context(user):
    request = APIRequestFactory().get("/")
    request.user = user if user is not None else AnonymousUser()
    return {"request": request}


class OddDepartmentSerializer(GatedFieldsMixin, serializers.ModelSerializer):
    """Fields that DRF reads its own way: nested, callable, missing, missing with a default."""

    minister = serializers.CharField(
        source="deputy_minister.username", read_only=True, default=None
    )
    title = serializers.CharField(source="__str__", read_only=True)
    missing = serializers.CharField(source="no_such_attribute", read_only=True, required=False)
    defaulted = serializers.CharField(source="no_such_attribute", read_only=True, default="x")

    class Meta:
        model = Department
        fields = ["code", "name", "minister", "title", "missing", "defaulted", "deputy_minister"]
        gated_fields = {"name": ("clusters.act_for_department", "")}


def _drf(serializer, instance):
    """What DRF's own `to_representation` answers, before the gate."""
    return serializers.ModelSerializer.to_representation(serializer, instance)


def test_a_row_reads_as_drf_reads_it(world):
    serializer = OddDepartmentSerializer(context=_context(world.analyst))
    for department in Department.objects.all():
        assert serializer._read(department) == _drf(serializer, department)
        assert "missing" not in serializer._read(department)


@pytest.mark.parametrize(
    "persona",
    ["administrator", "analyst", "manager", "other_manager", "deputy_minister",
     "provider_manager", "outsider", "anonymous"],
)  # fmt: skip
def test_memberships_read_and_gated_as_before(world, persona):
    user = world.personas()[persona]
    memberships = Membership.objects.select_related("department", "cluster").order_by("pk")
    many = MembershipSerializer(memberships, many=True, context=_context(user))
    child = many.child
    for membership, row in zip(memberships, many.data, strict=True):
        expected = _drf(child, membership)
        may = user is not None and user.has_perm(
            "clusters.view_department_private", membership.department
        )
        if not may:
            expected["baseline_annual_cost"] = None
        assert row == expected
