"""The audit trail's admin list, read from the event tables themselves when it is the whole
trail (`sharedsvc.admin.EventsPaginator`): the same count and the same pages, in the same
order, as pghistory's events view gives."""

from __future__ import annotations

from django.core.paginator import Paginator
from pghistory import config

from clusters.models import Department
from sharedsvc.admin import EventsPaginator
from tests.factories import DepartmentFactory, MembershipFactory

FIELDS = ["pgh_slug", "pgh_model", "pgh_id", "pgh_label", "pgh_obj_model", "pgh_obj_id"]


def whole(event) -> tuple:
    """What the admin's list shows of an event, and what it is."""
    return (
        *(getattr(event, name) for name in FIELDS),
        event.pgh_created_at,
        event.pgh_data,
        event.pgh_diff,
        event.pgh_context_id,
        event.pgh_context,
    )


def test_the_whole_trail_is_paged_as_the_view_pages_it(world):
    # Many events in one transaction share one time: the slug orders them.
    for n in range(30):
        MembershipFactory(department=DepartmentFactory(code=f"EV{n:02d}"), cluster=world.pay_psoa)
    # Changes, whose diffs are made against the object's event before (on another page).
    for department in Department.objects.filter(code__startswith="EV")[:5]:
        department.name = f"{department.name} (renamed)"
        department.save()
    trail = config.admin_queryset().order_by("-pgh_created_at", "-pk")
    fast, view = EventsPaginator(trail, 7), Paginator(trail, 7)
    assert fast._tables() is not None
    assert fast.count == view.count == trail.count() > 60
    for number in [1, 2, 5, fast.num_pages]:
        # Whole events: their data, their diff and their context, read across the page's
        # own event tables, as the view across every table gives them.
        assert [whole(e) for e in fast.page(number)] == [whole(e) for e in view.page(number)], (
            number
        )
    every = [e for number in fast.page_range for e in fast.page(number)]
    diffs = [e.pgh_diff for e in every if e.pgh_model == "clusters.DepartmentEvent" and e.pgh_diff]
    renamed = [diff["name"] for diff in diffs if "name" in diff]
    assert len(renamed) == 5 and all(new == f"{old} (renamed)" for old, new in renamed)


def test_a_filtered_trail_is_read_through_the_view(world):
    filtered = config.admin_queryset().filter(pgh_label="insert").order_by("-pgh_created_at", "-pk")
    paginator = EventsPaginator(filtered, 7)
    assert paginator._tables() is None
    assert paginator.count == filtered.count() > 0
    assert all(e.pgh_label == "insert" for e in paginator.page(1))
