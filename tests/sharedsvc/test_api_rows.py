"""`sharedsvc.api.rows`: many plain report rows written as DRF writes each, to the character."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from rest_framework import serializers

from servicelevels.api.serializers import (
    BenefitClusterSerializer,
    BenefitRowSerializer,
    BenefitServiceSerializer,
    ClusterCostRowSerializer,
    SelfPreferenceRowSerializer,
)
from sharedsvc.api.fields import PeriodField
from sharedsvc.api.rows import RowListSerializer, RowSerializer


class Every(RowSerializer):
    """A field of each kind the fast path writes itself, and one it leaves to the field."""

    text = serializers.CharField()
    number = serializers.IntegerField()
    flag = serializers.BooleanField(allow_null=True)
    money = serializers.DecimalField(max_digits=18, decimal_places=2, allow_null=True)
    rate = serializers.DecimalField(max_digits=4, decimal_places=1)
    period = PeriodField()
    renamed = serializers.CharField(source="other")
    defaulted = serializers.CharField(default="none", required=False)


def drf(serializer_class, rows):
    """What DRF's own serializer writes for each row."""
    return [serializers.Serializer.to_representation(serializer_class(), row) for row in rows]


ROWS = [
    {
        "text": "LCS",
        "number": 3,
        "flag": True,
        "money": Decimal("1234.5"),
        "rate": Decimal("66.66"),
        "period": datetime.date(2026, 4, 1),
        "other": 7,
        "defaulted": "given",
        "unread": object(),
    },
    {
        "text": 12,
        "number": Decimal("4"),
        "flag": 0,
        "money": None,
        "rate": 100,
        "period": datetime.date(2025, 12, 1),
        "other": "x",
        "defaulted": None,
    },
    {
        "text": "",
        "number": True,
        "flag": "false",
        "money": Decimal("-0.005"),
        "rate": Decimal("0.05"),
        "period": datetime.date(2026, 1, 1),
        "other": None,
    },
]


def test_many_rows_are_written_as_drf_writes_each():
    serializer = Every(ROWS, many=True)
    assert isinstance(serializer, RowListSerializer)
    assert serializer.data == drf(Every, ROWS)
    # The row without `defaulted` went through DRF whole: the field's default.
    assert serializer.data[2]["defaulted"] == "none"


def test_a_row_missing_a_required_key_fails_as_in_drf():
    row = {key: value for key, value in ROWS[0].items() if key != "text"}
    with pytest.raises(KeyError) as ours:
        _ = Every([row], many=True).data
    with pytest.raises(KeyError) as theirs:
        drf(Every, [row])
    assert str(ours.value) == str(theirs.value)


def test_a_serializer_with_a_nested_field_is_written_by_drf():
    class Nested(RowSerializer):
        name = serializers.CharField()
        inner = Every(allow_null=True)

    rows = [{"name": "a", "inner": ROWS[0]}, {"name": "b", "inner": None}]
    assert Nested(rows, many=True).data == drf(Nested, rows)


REPORT_ROWS = {
    BenefitRowSerializer: [
        {
            "department_id": 1,
            "department": "LCS",
            "cluster": "PAY-PSOA",
            "service": "PAY",
            "provider": "PSOA",
            "baseline": Decimal("100.10"),
            "charged": Decimal("90"),
            "benefit": Decimal("10.10"),
            "cluster_flagged": None,
        }
    ],
    BenefitClusterSerializer: [
        {
            "cluster": "PAY-PSOA",
            "service": "PAY",
            "provider": "PSOA",
            "contributors": 2,
            "baseline": None,
            "charged": Decimal("5.5"),
            "benefit": None,
            "flagged": None,
            "withheld": "Withheld: fewer than three departments contribute.",
            "departments": {1, 2},
        }
    ],
    BenefitServiceSerializer: [
        {
            "service": "PAY",
            "contributors": 5,
            "baseline": Decimal("1"),
            "charged": Decimal("2"),
            "benefit": Decimal("-1"),
            "withheld": None,
        }
    ],
    ClusterCostRowSerializer: [
        {
            "cluster": "PAY-PSOA",
            "service": "PAY",
            "provider": "PSOA",
            "period": datetime.date(2026, 3, 1),
            "pool": Decimal("1000.00"),
            "units": 3,
            "cost_per_unit": Decimal("333.3333"),
        }
    ],
    SelfPreferenceRowSerializer: [
        {
            "cluster": "PAY-TECH",
            "provider": "TECH",
            "host_department": "TECH",
            "host_rate": Decimal("100.0"),
            "others_rate": Decimal("50.0"),
            "gap": Decimal("50.0"),
            "flagged": True,
            "from_period": datetime.date(2026, 1, 1),
            "to_period": datetime.date(2026, 6, 1),
        }
    ],
}


@pytest.mark.parametrize("serializer_class", list(REPORT_ROWS), ids=lambda c: c.__name__)
def test_the_reports_rows_are_drfs(serializer_class):
    rows = REPORT_ROWS[serializer_class]
    assert serializer_class(rows, many=True).data == drf(serializer_class, rows)
