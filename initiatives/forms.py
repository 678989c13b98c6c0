"""Forms of the programme pages: proposing a programme, and a target department's answer.
They check the shape of the answers; `programme_propose` and `commitment_answer` have the
last word, and their messages land on the fields a person can change (`attach`)."""

from __future__ import annotations

import datetime
from typing import Any, cast

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError

from clusters.models import Department, Lifecycle, Service
from defection.forms import DateInputField, date_parts
from initiatives.models import CODE_MAX_LENGTH, TEXT_MAX_LENGTH, Answer, Commitment
from sharedsvc.models import User

# Messages people see (GOV.UK style: no full stop), reused by the tests.
ENTER_CODE = "Enter a code for the programme"
CODE_INVALID = "The code may contain only letters, numbers, hyphens and underscores"
CODE_TOO_LONG = f"The code must be {CODE_MAX_LENGTH} characters or fewer"
CODE_RESERVED = "Choose another code: '{code}' is the address of this form"
ENTER_NAME = "Enter the programme's name"
NAME_TOO_LONG = "The name must be 200 characters or fewer"
SELECT_SERVICE = "Select the service the programme pushes forward"
SELECT_SPONSOR = "Select the deputy minister who sponsors the programme"
ENTER_GOAL = "Enter the programme's goal"
GOAL_TOO_LONG = f"The goal must be {TEXT_MAX_LENGTH:,} characters or fewer"
ENTER_TARGET_DATE = "Enter the date by which the departments should have joined"
SELECT_DEPARTMENTS = "Select at least one target department"
SELECT_ANSWER = "Select whether the department commits or declines"
REASON_TOO_LONG = f"The reason must be {TEXT_MAX_LENGTH:,} characters or fewer"
RESERVED_CODES = {"new"}


def attach(form: forms.Form, error: ValidationError, fields: dict[str, str]) -> None:
    """Put a service's refusal on the fields a person can change (`fields`: the service's
    field name -> the form's); anything else goes to the top of the form."""
    if hasattr(error, "error_dict"):
        for name, errors in error.error_dict.items():
            target = fields.get(name) if name != NON_FIELD_ERRORS else None
            for message in ValidationError(errors).messages:
                form.add_error(target, message)
        return
    for message in error.messages:
        form.add_error(None, message)


class UserChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        user = cast(User, obj)
        return user.get_full_name() or user.get_username()


class ServiceChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return cast(Service, obj).name


class DepartmentChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        department = cast(Department, obj)
        return f"{department.name} ({department.code})"


class ProgrammeForm(forms.Form):
    """Propose a programme: what, who sponsors it, the goal, the date and the departments."""

    code = forms.SlugField(
        label="Code",
        max_length=CODE_MAX_LENGTH,
        help_text="A short name for addresses and reports, for example ITNOW.",
        error_messages={
            "required": ENTER_CODE,
            "invalid": CODE_INVALID,
            "max_length": CODE_TOO_LONG,
        },
    )
    name = forms.CharField(
        label="Name",
        max_length=200,
        error_messages={"required": ENTER_NAME, "max_length": NAME_TOO_LONG},
    )
    service = ServiceChoiceField(
        label="Service",
        queryset=Service.objects.none(),
        empty_label="Choose a service",
        help_text="The departments will join a cluster of this service.",
        error_messages={"required": SELECT_SERVICE, "invalid_choice": SELECT_SERVICE},
    )
    sponsor = UserChoiceField(
        label="Sponsor",
        queryset=User.objects.none(),
        empty_label="Choose a deputy minister",
        help_text="The deputy minister who sponsors the programme.",
        error_messages={"required": SELECT_SPONSOR, "invalid_choice": SELECT_SPONSOR},
    )
    goal = forms.CharField(
        label="Goal",
        widget=forms.Textarea,
        max_length=TEXT_MAX_LENGTH,
        help_text="What the programme is for, in words: the board and the departments read it.",
        error_messages={"required": ENTER_GOAL, "max_length": GOAL_TOO_LONG},
    )
    target_on = DateInputField(what="The target date", label="Target date")
    departments = DepartmentChoiceField(
        label="Target departments",
        queryset=Department.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        help_text="Each answers whether, and by when, it will join.",
        error_messages={"required": SELECT_DEPARTMENTS, "invalid_choice": SELECT_DEPARTMENTS},
    )

    def __init__(self, *args: Any, sponsors: list[User], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["service"]).queryset = Service.objects.exclude(
            lifecycle=Lifecycle.RETIRED
        ).order_by("name")
        cast(forms.ModelChoiceField, self.fields["sponsor"]).queryset = User.objects.filter(
            pk__in=[user.pk for user in sponsors]
        ).order_by("first_name", "last_name", "username")
        cast(
            forms.ModelMultipleChoiceField, self.fields["departments"]
        ).queryset = Department.objects.filter(active=True).order_by("name")

    def clean_code(self) -> str:
        code = self.cleaned_data["code"]
        if code.lower() in RESERVED_CODES:
            raise ValidationError(CODE_RESERVED.format(code=code))
        return code

    def clean_target_on(self) -> datetime.date:
        value = self.cleaned_data.get("target_on")
        if value is None:
            raise ValidationError(ENTER_TARGET_DATE)
        return value

    @property
    def target_parts(self) -> list[str]:
        return date_parts(self["target_on"])


# Where `programme_propose`'s field messages land on the form.
PROPOSE_FIELDS = {name: name for name in ProgrammeForm.base_fields}


class AnswerForm(forms.Form):
    """A target department's answer: it commits, with the date it will have joined (and a
    reason if that is after the target date), or it declines, with a reason."""

    answer = forms.ChoiceField(
        label="Will the department join?",
        choices=[
            (Answer.COMMITTED, "Yes, it commits to join"),
            (Answer.DECLINED, "No, it declines"),
        ],
        widget=forms.RadioSelect,
        error_messages={"required": SELECT_ANSWER, "invalid_choice": SELECT_ANSWER},
    )
    join_by = DateInputField(what="The date to join", label="Date it will have joined")
    late_reason = forms.CharField(
        label="Reason for a date after the target date (optional)",
        widget=forms.Textarea,
        required=False,
        max_length=TEXT_MAX_LENGTH,
        error_messages={"max_length": REASON_TOO_LONG},
    )
    decline_reason = forms.CharField(
        label="Why the department declines",
        widget=forms.Textarea,
        required=False,
        max_length=TEXT_MAX_LENGTH,
        error_messages={"max_length": REASON_TOO_LONG},
    )

    def __init__(self, *args: Any, commitment: Commitment, **kwargs: Any) -> None:
        if "initial" not in kwargs and commitment.answer != Answer.PENDING:
            reason_field = (
                "late_reason" if commitment.answer == Answer.COMMITTED else "decline_reason"
            )
            kwargs["initial"] = {
                "answer": commitment.answer,
                "join_by": commitment.join_by,
                reason_field: commitment.reason,
            }
        super().__init__(*args, **kwargs)
        self.commitment = commitment
        self.fields["answer"].label = (
            f"Will {commitment.department.name} join a cluster of "
            f"{commitment.programme.service.name}?"
        )

    def answer_args(self) -> dict[str, Any]:
        """The keyword arguments of `commitment_answer` these answers stand for."""
        data = self.cleaned_data
        committed = data["answer"] == Answer.COMMITTED
        return {
            "answer": data["answer"],
            "join_by": data.get("join_by") if committed else None,
            "reason": data.get("late_reason" if committed else "decline_reason", ""),
        }

    def attach(self, error: ValidationError) -> None:
        committed = self.cleaned_data.get("answer") == Answer.COMMITTED
        attach(
            self,
            error,
            {
                "answer": "answer",
                "join_by": "join_by",
                "reason": "late_reason" if committed else "decline_reason",
            },
        )

    @property
    def join_by_parts(self) -> list[str]:
        return date_parts(self["join_by"])
