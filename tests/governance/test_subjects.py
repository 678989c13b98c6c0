"""A case's kind and subject: an exit case holds its exit request and no other kind does
(a database constraint), and a kind without a registered subject is a configuration error
that names it, not a case shown to nobody."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import IntegrityError, transaction
from django.utils import timezone

from governance.models import Case, CaseKind
from governance.subjects import UNKNOWN_KIND, registered_kinds, subject_for


def _case(**fields) -> Case:
    now = timezone.now()
    return Case(opened_at=now, closes_at=now + datetime.timedelta(days=14), **fields)


def test_an_exit_case_holds_its_exit_request_and_no_other_kind_does(world, case):
    request = case.exit_request
    assert Case.objects.get(pk=case.pk).kind == CaseKind.EXIT
    with pytest.raises(IntegrityError), transaction.atomic():
        _case(kind=CaseKind.EXIT).save()
    case.delete()
    with pytest.raises(IntegrityError), transaction.atomic():
        _case(kind=CaseKind.PROGRAMME, exit_request=request).save()
    assert not Case.objects.filter(exit_request=request).exists()


def test_the_exit_subject_is_registered_when_django_starts():
    assert CaseKind.EXIT in registered_kinds()
    assert subject_for(CaseKind.EXIT).kind == CaseKind.EXIT


def test_a_kind_without_a_subject_is_a_configuration_error_that_names_it():
    with pytest.raises(ImproperlyConfigured) as refused:
        subject_for("referendum")
    assert str(refused.value) == UNKNOWN_KIND.format(kind="referendum")


def test_the_subject_names_the_case(world, case):
    assert str(case) == f"Case {case.pk}: LCS asks to leave PAY-PSOA"
