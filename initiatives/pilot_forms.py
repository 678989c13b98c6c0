"""Forms of the pilot pages: plan a pilot, and ask for its evaluation. They check the
shape of the answers; the services (`initiatives.pilots`) say whether the values stand,
with the messages the forms then show on the field they name."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms

from clusters.models import Cluster, Lifecycle, Service
from defection.forms import DateInputField, RequiredDateField, date_parts
from initiatives.models import PilotDecisionKind

SELECT_SERVICE = "Select the service in pilot"
SELECT_CLUSTERS = "Select the pilot's clusters"
ENTER_STARTS_ON = "Enter the date the pilot starts"
ENTER_ENDS_ON = "Enter the date the pilot ends"
ENTER_RATE = "Enter the minimum compliance rate, in per cent, for example 90"
ENTER_COST = "Enter the maximum cost per unit, for example 12.50"
ENTER_MEMBERS = "Enter the fewest member departments, a whole number, for example 3"
ENTER_BENEFIT = "Enter the minimum benefit, for example 0"
SELECT_DECISION = "Select the decision to put to the board"


class PilotPlanForm(forms.Form):
    service = forms.ModelChoiceField(
        label="Service in pilot",
        queryset=Service.objects.none(),
        to_field_name="code",
        empty_label="Select a service",
        error_messages={"required": SELECT_SERVICE, "invalid_choice": SELECT_SERVICE},
    )
    clusters = forms.ModelMultipleChoiceField(
        label="Its clusters",
        queryset=Cluster.objects.none(),
        to_field_name="code",
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": SELECT_CLUSTERS, "invalid_choice": SELECT_CLUSTERS},
    )
    starts_on = RequiredDateField(label="Starts on", what="The start date", missing=ENTER_STARTS_ON)
    ends_on = RequiredDateField(label="Ends on", what="The end date", missing=ENTER_ENDS_ON)
    min_compliance_rate = forms.DecimalField(
        label="Minimum compliance rate (%)",
        max_digits=4,
        decimal_places=1,
        error_messages={
            "required": ENTER_RATE,
            "invalid": ENTER_RATE,
            "max_digits": ENTER_RATE,
            "max_decimal_places": ENTER_RATE,
            "max_whole_digits": ENTER_RATE,
        },
    )
    max_cost_per_unit = forms.DecimalField(
        label="Maximum cost per unit",
        max_digits=14,
        decimal_places=2,
        error_messages={
            "required": ENTER_COST,
            "invalid": ENTER_COST,
            "max_digits": ENTER_COST,
            "max_decimal_places": ENTER_COST,
            "max_whole_digits": ENTER_COST,
        },
    )
    min_members = forms.IntegerField(
        label="Fewest member departments",
        max_value=10_000,
        error_messages={
            "required": ENTER_MEMBERS,
            "invalid": ENTER_MEMBERS,
            "max_value": ENTER_MEMBERS,
        },
    )
    min_benefit = forms.DecimalField(
        label="Minimum benefit",
        max_digits=14,
        decimal_places=2,
        initial=Decimal("0"),
        error_messages={
            "required": ENTER_BENEFIT,
            "invalid": ENTER_BENEFIT,
            "max_digits": ENTER_BENEFIT,
            "max_decimal_places": ENTER_BENEFIT,
            "max_whole_digits": ENTER_BENEFIT,
        },
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        services = Service.objects.filter(lifecycle=Lifecycle.PILOT, pilot_plan__isnull=True)
        self.fields["service"].queryset = services  # type: ignore[attr-defined]
        self.fields["clusters"].queryset = Cluster.objects.filter(  # type: ignore[attr-defined]
            service__in=services
        ).select_related("service", "provider")

    def date_parts(self, name: str) -> list[str]:
        return date_parts(self[name])

    @property
    def starts_on_parts(self) -> list[str]:
        return self.date_parts("starts_on")

    @property
    def ends_on_parts(self) -> list[str]:
        return self.date_parts("ends_on")


class EvaluateForm(forms.Form):
    decision = forms.ChoiceField(
        label="What should the board decide?",
        choices=PilotDecisionKind.choices,
        widget=forms.RadioSelect,
        error_messages={"required": SELECT_DECISION, "invalid_choice": SELECT_DECISION},
    )
    new_ends_on = DateInputField(label="New end date", what="The new end date")
    wind_down_on = DateInputField(label="Wind-down date", what="The wind-down date")

    @property
    def new_ends_on_parts(self) -> list[str]:
        return date_parts(self["new_ends_on"])

    @property
    def wind_down_on_parts(self) -> list[str]:
        return date_parts(self["wind_down_on"])
