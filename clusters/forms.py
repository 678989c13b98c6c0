"""Forms of the organisation pages."""

from __future__ import annotations

from django import forms

from clusters import selectors

UNKNOWN_SERVICE = "Select a service from the list"


class ClusterFilterForm(forms.Form):
    """Narrows the catalogue of clusters to one service (GET, so bookmarkable)."""

    service = forms.ChoiceField(
        label="Service",
        required=False,
        error_messages={"invalid_choice": UNKNOWN_SERVICE},
    )

    def __init__(self, *args, user, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # Choices are the user's visible services: a code is checked against them, never
        # looked up raw (so a malformed code is a form error, not a database error).
        service = self.fields["service"]
        assert isinstance(service, forms.ChoiceField)
        service.choices = [
            ("", "All services"),
            *selectors.service_choices(user=user),
        ]
