"""Forms of the board's pages: a deputy minister's vote."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError

from governance.models import REASON_MAX_LENGTH, Choice
from governance.services import REASON_TOO_LONG, REJECT_NEEDS_REASON, UNKNOWN_CHOICE

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
