"""Forms of the board's pages: a vote, and naming an alternate for a seat."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError

from clusters.models import Department
from defection.forms import RequiredDateField, date_parts
from governance.models import REASON_MAX_LENGTH, Choice
from governance.services import REASON_TOO_LONG, REJECT_NEEDS_REASON, UNKNOWN_CHOICE
from sharedsvc.models import User

REASON_HINT = f"A reject needs a reason. Up to {REASON_MAX_LENGTH:,} characters."


class VoteForm(forms.Form):
    """Approve, reject or abstain, with a reason (required to reject). The same form
    changes a vote: it is filled in with the seat's current vote."""

    choice = forms.ChoiceField(
        label="How does your department vote?",
        choices=Choice.choices,
        widget=forms.RadioSelect,
        error_messages={"required": UNKNOWN_CHOICE, "invalid_choice": UNKNOWN_CHOICE},
    )
    reason = forms.CharField(
        label="Reason",
        required=False,
        max_length=REASON_MAX_LENGTH,
        widget=forms.Textarea,
        help_text=REASON_HINT,
        error_messages={"max_length": REASON_TOO_LONG},
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("choice") == Choice.REJECT and not data.get("reason"):
            self.add_error("reason", REJECT_NEEDS_REASON)
        return data

    def attach(self, error: ValidationError) -> None:
        """Put the service's refusal on the field it names (the form checks the same rules
        first, so this is the last word rather than the usual path)."""
        if hasattr(error, "error_dict"):
            for name, errors in error.error_dict.items():
                target = name if name in self.fields and name != NON_FIELD_ERRORS else "choice"
                for message in ValidationError(errors).messages:
                    self.add_error(target, message)
            return
        for message in error.messages:
            self.add_error("choice", message)


# Alternates on the board -------------------------------------------------------------

SELECT_ALTERNATE = "Select who stands in for the seat"
SELECT_SEAT = "Select the seat"
ENTER_ALTERNATE_STARTS = "Enter the first day the alternate may vote"
ENTER_ALTERNATE_ENDS = "Enter the last day the alternate may vote"


class PersonChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        name = obj.get_full_name() or obj.get_username()
        return f"{name} ({obj.department.code})"


class AlternateForm(forms.Form):
    """Name an alternate: the seat (when the user may name for more than one), the person
    and the inclusive range. The service (`clusters.services.alternate_name`) has the last
    word, with the messages the form shows on the field it names."""

    department = forms.ModelChoiceField(
        label="Seat",
        queryset=Department.objects.none(),
        to_field_name="code",
        empty_label="Select a seat",
        error_messages={"required": SELECT_SEAT, "invalid_choice": SELECT_SEAT},
    )
    user = PersonChoiceField(
        label="Who stands in",
        queryset=User.objects.none(),
        to_field_name="username",
        empty_label="Select a person",
        error_messages={"required": SELECT_ALTERNATE, "invalid_choice": SELECT_ALTERNATE},
    )
    starts_on = RequiredDateField(
        label="From", what="The start date", missing=ENTER_ALTERNATE_STARTS
    )
    ends_on = RequiredDateField(label="Until", what="The end date", missing=ENTER_ALTERNATE_ENDS)

    def __init__(self, *args: Any, seats: list[Department], people: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["department"]
        field.queryset = Department.objects.filter(  # type: ignore[attr-defined]
            pk__in=[seat.pk for seat in seats]
        )
        self.seats = seats
        self.fields["user"].queryset = people  # type: ignore[attr-defined]
        if len(seats) == 1:
            # One seat: it is the form's without asking.
            field.initial = seats[0].code
            field.widget = forms.HiddenInput()

    @property
    def starts_on_parts(self) -> list[str]:
        return date_parts(self["starts_on"])

    @property
    def ends_on_parts(self) -> list[str]:
        return date_parts(self["ends_on"])
