from django import forms
from django.contrib import admin

from clusters.models import Cluster, Department, Membership, Provider, Service, Standard
from clusters.services import default_notice_days
from sharedsvc.admin_base import ServiceModelAdmin
from sharedsvc.services import validated_save


@admin.register(Department)
class DepartmentAdmin(ServiceModelAdmin):
    list_display = ["code", "name", "is_main", "deputy_minister", "active"]
    list_filter = ["is_main", "active"]
    search_fields = ["code", "name"]
    list_select_related = ["deputy_minister"]
    autocomplete_fields = ["deputy_minister"]


@admin.register(Provider)
class ProviderAdmin(ServiceModelAdmin):
    list_display = ["code", "name", "kind", "host_department"]
    list_filter = ["kind"]
    search_fields = ["code", "name"]
    list_select_related = ["host_department"]


class StandardInline(admin.TabularInline):
    model = Standard
    extra = 0


@admin.register(Service)
class ServiceAdmin(ServiceModelAdmin):
    list_display = ["code", "name", "category", "purpose", "audience", "lifecycle", "charging_unit"]
    list_filter = ["category", "purpose", "audience", "lifecycle"]
    search_fields = ["code", "name"]
    inlines = [StandardInline]

    def save_formset(self, request, form, formset, change) -> None:
        instances = formset.save(commit=False)
        for obj in formset.deleted_objects:
            ServiceModelAdmin.delete_model(self, request, obj)
        for instance in instances:
            validated_save(instance, actor=request.user)


@admin.register(Standard)
class StandardAdmin(ServiceModelAdmin):
    list_display = ["name", "service", "kind", "unit", "target", "direction"]
    list_filter = ["kind", "direction", "service"]
    list_select_related = ["service"]


@admin.register(Cluster)
class ClusterAdmin(ServiceModelAdmin):
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
            obj.notice_days = default_notice_days(obj.service)
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
