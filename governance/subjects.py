"""What a board case is about, and what its decision does: one entry per kind of case.

Seats, quorum, the tie rule, early close, lapse at `closes_at` and reminders are the same
for every case (`governance.services`). What differs with the subject is said here, once
per kind, and nowhere else:

- `parties(case)`: the departments whose seats are recused, each with why;
- `visible(user)`: a `Q` on the cases of the kind that this user may read (the subject's
  own gate; `Case.objects.visible_to` joins them);
- `notify(case, recipients, ...)`: tell people of the case, each as much of the subject as
  they may read;
- `decided(case, actor, now)`: what the decision does, in the transaction that reaches it;
- `title(case)`: the case in a few words;
- `summary_template` and `page_context(case, user, record=...)`: what the case page and
  the printable decision record show of the subject, where an exit case shows its
  request (the template is included with the page's context plus `page_context`'s).

A subject may also name, in an optional attribute `related`, the `select_related` paths
from `Case` that its `title` and `page_context` read: the case pages and the case list
fetch them with the cases, so naming a case costs no query per case. It may name, in
`title_related`, the fewer paths that `title` alone reads, for lists that show only
titles (the home page's): a join of every subject's every path costs PostgreSQL more to
plan than to run.

The exit subject is the governance app's own. An app above it that brings the board
another kind of question registers that kind's subject when Django starts
(`register_subject` in its `AppConfig.ready`), so the board does not import the apps that
ask it.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, Protocol

from django.core.exceptions import ImproperlyConfigured
from django.db.models import Q

if TYPE_CHECKING:
    from governance.models import Case
    from sharedsvc.models import User

UNKNOWN_KIND = "No subject is registered for board cases of kind {kind!r}."


class Subject(Protocol):
    kind: str

    def parties(self, case: Case) -> dict[int, list[str]]:
        """Department id -> the reasons its seat is recused on this case."""

    def visible(self, user: Any) -> Q:
        """The cases of this kind that a signed-in, active user may read."""

    def notify(
        self,
        case: Case,
        recipients: Iterable[User],
        *,
        subject: str,
        kind: str,
        link: str,
        footer: str = "",
    ) -> None:
        """Tell each recipient of the case, with what they may read of its subject."""

    def recipients_of_decision(self, case: Case) -> Iterable[User]:
        """Who hears the decision, beside the seats."""

    def decided(self, case: Case, *, actor: Any, now: datetime.datetime) -> None:
        """The case was just decided (approved, rejected or lapsed): act on it."""

    def title(self, case: Case) -> str:
        """The case in a few words, e.g. 'LCS asks to leave PAY-PSOA'."""

    summary_template: str
    """The template the case page and the decision record include where they show what
    the case is about."""

    def page_context(self, case: Case, user: Any, *, record: bool = False) -> dict[str, Any]:
        """What `summary_template` needs, as `user` may read it; `record` on the printable
        decision record (where the case page's evidence is left out)."""


_subjects: dict[str, Subject] = {}
_related: dict[str, tuple[str, ...]] = {}
_title_related: dict[str, tuple[str, ...]] = {}


def register_subject(subject: Subject) -> None:
    """Register the subject of one kind of case (registering a kind again replaces it)."""
    _subjects[subject.kind] = subject
    # Optional, so that a subject without it still registers (its pages query per case).
    _related[subject.kind] = tuple(getattr(subject, "related", ()))
    _title_related[subject.kind] = tuple(getattr(subject, "title_related", _related[subject.kind]))


def subject_related() -> list[str]:
    """Every registered subject's `select_related` paths from `Case`."""
    return sorted({path for paths in _related.values() for path in paths})


def subject_title_related() -> list[str]:
    """Every registered subject's `select_related` paths from `Case` for its `title`."""
    return sorted({path for paths in _title_related.values() for path in paths})


def subject_of(case: Case) -> Subject:
    return subject_for(case.kind)


def subject_for(kind: str) -> Subject:
    try:
        return _subjects[kind]
    except KeyError:
        raise ImproperlyConfigured(UNKNOWN_KIND.format(kind=kind)) from None


def registered_kinds() -> list[str]:
    return list(_subjects)
