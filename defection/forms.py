"""Forms of the exit pages. They check the shape of the answers and, so that a person hears
of it before the check page, the two rules a person can fix there (the notice period and
the room in the chosen cluster) with the service's own messages; `exit_request_submit`
has the last word when the request is confirmed."""

from __future__ import annotations

import datetime
from typing import Any, cast

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.utils import timezone

from clusters.models import Membership, Provider
from defection import services
from defection.models import PLAN_MAX_LENGTH, Destination, Reason
from defection.selectors import ClusterOption, cluster_room

# Messages people see (GOV.UK style: no full stop), reused by the tests.
SELECT_DESTINATION = "Select where the department will get the service from"
UNKNOWN_DESTINATION = "Select one of the destinations listed"
SELECT_PROVIDER = "Select the provider to move to"
UNKNOWN_PROVIDER = "Select a provider from the list"
SELECT_REASON = "Select the reason for leaving"
ENTER_JUSTIFICATION = "Enter why the department wants to leave"
JUSTIFICATION_TOO_LONG = "The justification must be 10,000 characters or fewer"
DATE_INCOMPLETE = "The leave date must include a {parts}"
DATE_NOT_NUMBERS = "The leave date must be a real date, in numbers, for example 27 3 2027"
DATE_NOT_REAL = "The leave date must be a real date"

IN_HOUSE = "in_house"
PROVIDER = "provider"
CLUSTER_PREFIX = "cluster:"


def long_date(day: datetime.date) -> str:
    """27 February 2027, as the services write dates."""
    return f"{day.day} {day:%B %Y}"


class DateInputWidget(forms.MultiWidget):
    """Day, month and year boxes (GOV.UK date input): names `<name>_day`, `_month`, `_year`."""

    def __init__(self) -> None:
        super().__init__(
            widgets={"day": forms.TextInput, "month": forms.TextInput, "year": forms.TextInput}
        )

    def decompress(self, value: Any) -> list[Any]:
        if isinstance(value, datetime.date):
            return [value.day, value.month, value.year]
        return [None, None, None]

    def id_for_label(self, id_: str) -> str:
        # The error summary links to the day box.
        return f"{id_}_day" if id_ else ""


class DateInputField(forms.MultiValueField):
    """An optional date typed as day, month and year; an incomplete or impossible date is an
    error that says what is wrong."""

    widget = DateInputWidget

    def __init__(self, *, what: str = "The leave date", **kwargs: Any) -> None:
        self.what = what  # the date's name in its messages
        parts = (
            forms.CharField(required=False),
            forms.CharField(required=False),
            forms.CharField(required=False),
        )
        super().__init__(fields=parts, require_all_fields=False, required=False, **kwargs)

    def compress(self, data_list: list[str]) -> datetime.date | None:
        values = [(value or "").strip() for value in (data_list or ["", "", ""])]
        if not any(values):
            return None
        missing = [
            name for name, value in zip(("day", "month", "year"), values, strict=True) if not value
        ]
        if missing:
            raise ValidationError(self._named(DATE_INCOMPLETE).format(parts=" and ".join(missing)))
        if not all(value.isdigit() for value in values) or len(values[2]) != 4:
            raise ValidationError(self._named(DATE_NOT_NUMBERS))
        day, month, year = (int(value) for value in values)
        try:
            return datetime.date(year, month, day)
        except ValueError:
            raise ValidationError(self._named(DATE_NOT_REAL)) from None

    def _named(self, message: str) -> str:
        return message.replace("The leave date", self.what)


class RequiredDateField(DateInputField):
    """A `DateInputField` that must be given: `missing` says what to enter."""

    def __init__(self, *, missing: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.missing = missing

    def clean(self, value: Any) -> datetime.date:
        day = super().clean(value)
        if day is None:
            raise ValidationError(self.missing)
        return day


def date_parts(field: forms.BoundField) -> list[str]:
    """What the day, month and year boxes of a `DateInputField` show."""
    value = field.value()
    if isinstance(value, datetime.date):
        value = [value.day, value.month, value.year]
    if not isinstance(value, (list, tuple)):
        value = ["", "", ""]
    return [("" if part is None else str(part)) for part in value]


class LeaveForm(forms.Form):
    """Step 1 of leaving a cluster: where to, why, and when."""

    destination = forms.ChoiceField(
        label="Where will the department get the service from?",
        widget=forms.RadioSelect,
        error_messages={"required": SELECT_DESTINATION, "invalid_choice": UNKNOWN_DESTINATION},
    )
    to_provider = forms.ChoiceField(
        label="Provider",
        required=False,
        error_messages={"invalid_choice": UNKNOWN_PROVIDER},
    )
    reason = forms.ChoiceField(
        label="Why is the department leaving?",
        choices=Reason.choices,
        widget=forms.RadioSelect,
        error_messages={"required": SELECT_REASON, "invalid_choice": SELECT_REASON},
    )
    justification = forms.CharField(
        label="Justification",
        widget=forms.Textarea,
        max_length=10_000,
        error_messages={"required": ENTER_JUSTIFICATION, "max_length": JUSTIFICATION_TOO_LONG},
    )
    requested_leave_on = DateInputField(label="Leave date (optional)")
    # The citizen-continuity plan: only for a service for citizens (removed otherwise).
    citizen_impact = forms.CharField(
        label="What will citizens notice?",
        widget=forms.Textarea,
        max_length=PLAN_MAX_LENGTH,
        error_messages={
            "required": services.NEEDS_CITIZEN_IMPACT.rstrip("."),
            "max_length": services.PLAN_TOO_LONG.rstrip("."),
        },
    )
    transition_on = DateInputField(label="Transition date", what="The transition date")
    records_and_cases = forms.CharField(
        label="How will citizens' records and open cases move?",
        widget=forms.Textarea,
        max_length=PLAN_MAX_LENGTH,
        error_messages={
            "required": services.NEEDS_RECORDS_AND_CASES.rstrip("."),
            "max_length": services.PLAN_TOO_LONG.rstrip("."),
        },
    )
    contact = forms.CharField(
        label="Who answers citizens' questions during the move?",
        widget=forms.Textarea,
        max_length=PLAN_MAX_LENGTH,
        error_messages={
            "required": services.NEEDS_CONTACT.rstrip("."),
            "max_length": services.PLAN_TOO_LONG.rstrip("."),
        },
    )

    PLAN_FIELDS = ("citizen_impact", "transition_on", "records_and_cases", "contact")

    def __init__(
        self,
        *args: Any,
        membership: Membership,
        options: list[ClusterOption],
        providers: list[Provider],
        earliest: datetime.date,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.membership = membership
        self.options = options
        self.providers = {provider.code: provider for provider in providers}
        self.earliest = earliest
        self.serves_citizens = membership.cluster.service.serves_citizens
        if not self.serves_citizens:
            for name in self.PLAN_FIELDS:
                del self.fields[name]
        self.option_by_value = {f"{CLUSTER_PREFIX}{o.cluster.code}": o for o in options}
        cast(forms.ChoiceField, self.fields["destination"]).choices = [
            *((value, o.cluster.name) for value, o in self.option_by_value.items()),
            (PROVIDER, "Another provider"),
            (IN_HOUSE, "In-house"),
        ]
        cast(forms.ChoiceField, self.fields["to_provider"]).choices = [
            ("", "Choose a provider")
        ] + [(provider.code, provider.name) for provider in providers]

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        choice = data.get("destination")
        if choice is None:
            return data
        to_cluster = to_provider = None
        if choice in self.option_by_value:
            destination = Destination.CLUSTER
            to_cluster = self.option_by_value[choice].cluster
        elif choice == PROVIDER:
            destination = Destination.PROVIDER
            if data.get("to_provider"):
                to_provider = self.providers[data["to_provider"]]
            elif "to_provider" not in self.errors:
                self.add_error("to_provider", SELECT_PROVIDER)
        else:
            destination = Destination.IN_HOUSE
        data["kind"] = destination
        data["to_cluster"] = to_cluster
        data["provider"] = to_provider

        requested = data.get("requested_leave_on")
        if self.serves_citizens and "transition_on" not in self.errors:
            transition_on = data.get("transition_on")
            leave_on = requested or self.earliest
            if transition_on is None:
                self.add_error("transition_on", services.NEEDS_TRANSITION_ON.rstrip("."))
            elif not timezone.localdate() <= transition_on <= leave_on:
                self.add_error(
                    "transition_on",
                    services.TRANSITION_OUT_OF_RANGE.format(leave=long_date(leave_on)).rstrip("."),
                )
        if requested is not None and requested < self.earliest:
            self.add_error(
                "requested_leave_on",
                services.TOO_EARLY.format(
                    earliest=long_date(self.earliest),
                    days=self.membership.cluster.notice_days,
                ),
            )
        elif to_cluster is not None:
            leave_on = requested or self.earliest
            room = cluster_room(to_cluster, leave_on)
            if room is not None and room < self.membership.usage_units:
                self.add_error(
                    "destination",
                    services.NO_ROOM.format(
                        cluster=to_cluster.code,
                        room=max(room, 0),
                        date=long_date(leave_on),
                        needed=self.membership.usage_units,
                    ),
                )
        return data

    def submission(self) -> dict[str, Any]:
        """The keyword arguments of `exit_request_submit` these answers stand for."""
        data = self.cleaned_data
        return {
            "destination": data["kind"],
            "to_cluster": data["to_cluster"],
            "to_provider": data["provider"],
            "reason": data["reason"],
            "justification": data["justification"],
            "requested_leave_on": data["requested_leave_on"],
            **{name: data.get(name) for name in self.PLAN_FIELDS if name in self.fields},
        }

    @property
    def leave_on(self) -> datetime.date:
        return self.cleaned_data["requested_leave_on"] or self.earliest

    @property
    def chosen_option(self) -> ClusterOption | None:
        return self.option_by_value.get(self.cleaned_data.get("destination", ""))

    @property
    def destination_radios(self) -> list[tuple[Any, ClusterOption | None]]:
        """Each destination radio with the cluster option it stands for (None: not a cluster)."""
        return [
            (radio, self.option_by_value.get(radio.data["value"]))
            for radio in self["destination"].subwidgets
        ]

    @property
    def date_parts(self) -> list[str]:
        return date_parts(self["requested_leave_on"])

    @property
    def transition_parts(self) -> list[str]:
        return date_parts(self["transition_on"]) if self.serves_citizens else []


# Where a service's field messages land on the form.
SERVICE_FIELDS = {
    "destination": "destination",
    "to_cluster": "destination",
    "to_provider": "to_provider",
    "reason": "reason",
    "justification": "justification",
    "requested_leave_on": "requested_leave_on",
    "citizen_impact": "citizen_impact",
    "transition_on": "transition_on",
    "records_and_cases": "records_and_cases",
    "contact": "contact",
}


def attach_submit_error(form: LeaveForm, error: ValidationError) -> None:
    """Put `exit_request_submit`'s refusal on the fields a person can change; anything
    else (the membership is already leaving, say) goes to the top of the form."""
    if hasattr(error, "error_dict"):
        for name, errors in error.error_dict.items():
            target = SERVICE_FIELDS.get(name) if name != NON_FIELD_ERRORS else None
            for message in ValidationError(errors).messages:
                form.add_error(target, message)
        return
    for message in error.messages:
        form.add_error(None, message)
