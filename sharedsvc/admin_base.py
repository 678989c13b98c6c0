"""Admin classes whose saves and deletes go through the apps' named services.

The admin is one more door: it must hold every rule the pages and the API hold, so it
calls the same service functions (`cluster_update`, `membership_create`, ...) with the
signed-in administrator as the actor, never `Model.save()`. The admin's model forms run
the models' and the database constraints' checks first (and its delete page lists
protected objects), so people see clear errors in the form; a rule the form cannot see
(a race, a rule across rows) comes back from the service as a message on the page.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.core.exceptions import ValidationError
from django.http import HttpResponseRedirect
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

from sharedsvc.errors import Conflict


class ServiceModelAdmin(admin.ModelAdmin):
    """Subclasses name their services, like the API's `ReferenceViewSet`:
    `create_service(actor=, **fields)`, `update_service(actor=, <instance_kwarg>=, **changed)`
    and `delete_service(actor=, <instance_kwarg>=)`."""

    create_service: ClassVar[Callable[..., Any]]
    update_service: ClassVar[Callable[..., Any]]
    delete_service: ClassVar[Callable[..., Any]]
    instance_kwarg: ClassVar[str]

    def _service(self, name: str) -> Callable[..., Any]:
        # Looked up on the class so that a plain function is not bound as a method.
        return type(self).__dict__.get(name) or getattr(type(self), name)

    def _model_fields(self, form) -> dict[str, Any]:
        names = {f.name for f in self.model._meta.get_fields() if getattr(f, "concrete", False)}
        return {k: v for k, v in form.cleaned_data.items() if k in names}

    def save_model(self, request, obj, form, change) -> None:
        data = self._model_fields(form)
        if change:
            # The form has already set its values on `obj`; the service gets the row as
            # stored and only what changed, so its checks compare before with after.
            stored = type(obj)._default_manager.get(pk=obj.pk)
            changed = {name: data[name] for name in form.changed_data if name in data}
            saved = self._service("update_service")(
                actor=request.user, **{self.instance_kwarg: stored}, **changed
            )
        else:
            saved = self._service("create_service")(actor=request.user, **data)
        obj.pk = saved.pk
        obj._state.adding = False

    def save_related(self, request, form, formsets, change) -> None:
        # Many-to-many fields (a user's groups) are saved by the form after the service.
        form.save_m2m()
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)

    def delete_model(self, request, obj) -> None:
        self._service("delete_service")(actor=request.user, **{self.instance_kwarg: obj})

    def delete_queryset(self, request, queryset) -> None:
        for obj in queryset:
            self.delete_model(request, obj)

    def action_checkbox(self, obj) -> SafeString:
        # Django's markup, without a widget template rendered for every row of the list
        # (a third of a membership list's time).
        return format_html(
            '<input type="checkbox" name="{}" value="{}" class="action-select" aria-label="{}">',
            ACTION_CHECKBOX_NAME,
            str(obj.pk),
            format_html(_("Select this object for an action - {}"), str(obj)),
        )

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except (ValidationError, Conflict) as exc:
            # A rule only the service could check (a race, a rule across rows): the
            # admin's view is atomic, so nothing was saved. Say why, on the same page.
            messages.error(request, " ".join(_messages(exc)))
            return HttpResponseRedirect(request.get_full_path())


def _messages(exc: ValidationError | Conflict) -> list[str]:
    if isinstance(exc, ValidationError):
        return exc.messages
    return [exc.message]
