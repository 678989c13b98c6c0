from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin

from clusters import services, users
from clusters.models import Cluster, Department, Membership, Provider, Service, Standard
from sharedsvc.admin_base import ServiceModelAdmin
from sharedsvc.models import User

admin.site.site_header = "Shared services administration"
admin.site.site_title = "Shared services"


@admin.register(Department)
class DepartmentAdmin(ServiceModelAdmin):
    create_service = services.department_create
    update_service = services.department_update
    delete_service = services.department_delete
    instance_kwarg = "department"
    list_display = ["code", "name", "is_main", "deputy_minister", "active"]
    list_filter = ["is_main", "active"]
    search_fields = ["code", "name"]
    list_select_related = ["deputy_minister"]
    autocomplete_fields = ["deputy_minister"]


@admin.register(Provider)
class ProviderAdmin(ServiceModelAdmin):
    create_service = services.provider_create
    update_service = services.provider_update
    delete_service = services.provider_delete
    instance_kwarg = "provider"
    list_display = ["code", "name", "kind", "host_department"]
    list_filter = ["kind"]
    search_fields = ["code", "name"]
    list_select_related = ["host_department"]


class StandardInline(admin.TabularInline):
    model = Standard
    extra = 0


@admin.register(Service)
class ServiceAdmin(ServiceModelAdmin):
    create_service = services.service_create
    update_service = services.service_update
    delete_service = services.service_delete
    instance_kwarg = "service"
    list_display = ["code", "name", "category", "purpose", "audience", "lifecycle", "charging_unit"]
    list_filter = ["category", "purpose", "audience", "lifecycle"]
    search_fields = ["code", "name"]
    inlines = [StandardInline]

    def save_formset(self, request, form, formset, change) -> None:
        # The standards inline, through the standards' services like StandardAdmin.
        formset.save(commit=False)
        for obj in formset.deleted_objects:
            services.standard_delete(actor=request.user, standard=obj)
        for inline_form in formset.forms:
            if inline_form in formset.deleted_forms or not inline_form.has_changed():
                continue
            data = {
                name: inline_form.cleaned_data[name]
                for name in ("name", "kind", "unit", "target", "direction")
            }
            if inline_form.instance.pk is None:
                services.standard_create(actor=request.user, service=form.instance, **data)
            else:
                stored = Standard.objects.get(pk=inline_form.instance.pk)
                services.standard_update(actor=request.user, standard=stored, **data)


@admin.register(Standard)
class StandardAdmin(ServiceModelAdmin):
    create_service = services.standard_create
    update_service = services.standard_update
    delete_service = services.standard_delete
    instance_kwarg = "standard"
    list_display = ["name", "service", "kind", "unit", "target", "direction"]
    list_filter = ["kind", "direction", "service"]
    list_select_related = ["service"]


@admin.register(Cluster)
class ClusterAdmin(ServiceModelAdmin):
    create_service = services.cluster_create
    update_service = services.cluster_update
    delete_service = services.cluster_delete
    instance_kwarg = "cluster"
    list_display = [
        "code",
        "name",
        "service",
        "provider",
        "notice_days",
        "capacity",
        "fixed_cost_ratio",
    ]
    list_filter = ["service", "provider"]
    search_fields = ["code", "name"]
    list_select_related = ["service", "provider"]

    def save_model(self, request, obj, form, change) -> None:
        if not change and "notice_days" not in form.changed_data:
            # Left at its default: `cluster_create` chooses it from the service.
            form.cleaned_data.pop("notice_days", None)
        super().save_model(request, obj, form, change)


class MembershipAdminForm(forms.ModelForm):
    """Checks the no-overlap rule in the form too, so the admin shows it as an error."""

    class Meta:
        model = Membership
        fields = [
            "department",
            "cluster",
            "joined_on",
            "leaves_on",
            "usage_units",
            "baseline_annual_cost",
        ]

    def _get_validation_exclusions(self):
        # The service is not a form field, but it must take part in the overlap check.
        exclude = super()._get_validation_exclusions()
        exclude.discard("service")
        return exclude

    def clean(self):
        cleaned = super().clean()
        cluster = cleaned.get("cluster")
        if cluster is not None:
            self.instance.service_id = cluster.service_id
        return cleaned


@admin.register(Membership)
class MembershipAdmin(ServiceModelAdmin):
    create_service = services.membership_create
    update_service = services.membership_update
    delete_service = services.membership_delete
    instance_kwarg = "membership"
    form = MembershipAdminForm
    list_display = [
        "department",
        "cluster",
        "joined_on",
        "leaves_on",
        "usage_units",
        "baseline_annual_cost",
    ]
    list_filter = ["cluster__service", "cluster"]
    search_fields = ["department__code", "cluster__code"]
    list_select_related = ["department", "cluster"]
    date_hierarchy = "joined_on"


# Django's permission tables, which nothing reads (see UserAdmin.fieldsets).
TABLES = {"groups", "user_permissions"}


def _without_tables(fieldsets: Any) -> list[Any]:
    return [
        (name, {**options, "fields": [f for f in options["fields"] if f not in TABLES]})
        for name, options in fieldsets
    ]


@admin.register(User)
class UserAdmin(ServiceModelAdmin, DjangoUserAdmin):
    """Users through `clusters.users`: a new user gets its role's ties checked, and a new
    deputy minister becomes their department's deputy minister."""

    update_service = users.user_update
    delete_service = users.user_delete
    instance_kwarg = "user"
    list_display = ["username", "email", "role", "department", "provider", "is_active"]
    list_filter = ["role", "is_active", "department", "provider"]
    list_select_related = ["department", "provider"]
    # Django's, less its groups and per-user permissions: a role grants every permission
    # (the apps' rules; sharedsvc.backends reads no permission table), so those boxes
    # would change nothing, and the permissions box alone listed every permission there is.
    fieldsets = (
        *_without_tables(DjangoUserAdmin.fieldsets or ()),  # Django's are set
        ("Role", {"fields": ("role", "department", "provider", "break_glass")}),
    )
    filter_horizontal = ()
    add_fieldsets = (
        *DjangoUserAdmin.add_fieldsets,
        ("Role", {"fields": ("role", "department", "provider")}),
    )

    def save_model(self, request, obj, form, change) -> None:
        if change:
            super().save_model(request, obj, form, change)
            return
        # The add form has the password in two fields; `user_create` takes it checked.
        data = form.cleaned_data
        saved = users.user_create(
            actor=request.user,
            username=data["username"],
            role=data["role"],
            department=data.get("department"),
            provider=data.get("provider"),
            password=data.get("password1") or None,
        )
        obj.pk = saved.pk
        obj._state.adding = False
