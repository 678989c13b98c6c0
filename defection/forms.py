"""Forms of the exit pages. They check the shape of the answers and, so that a person hears
of it before the check page, the two rules a person can fix there (the notice period and
the room in the chosen cluster) with the service's own messages; `exit_request_submit`
has the last word when the request is confirmed."""

from __future__ import annotations

import datetime
from typing import Any, cast

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError

from clusters.models import Membership, Provider
from defection import services
from defection.models import Destination, Reason
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


# Where a service's field messages land on the form.
SERVICE_FIELDS = {
    "destination": "destination",
    "to_cluster": "destination",
    "to_provider": "to_provider",
    "reason": "reason",
    "justification": "justification",
    "requested_leave_on": "requested_leave_on",
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
