from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin

from sharedsvc.admin_base import ServiceModelAdmin
from sharedsvc.models import User

admin.site.site_header = "Shared services administration"
admin.site.site_title = "Shared services"


@admin.register(User)
class UserAdmin(ServiceModelAdmin, DjangoUserAdmin):
    list_display = ["username", "email", "role", "department", "provider", "is_active"]
    list_filter = ["role", "is_active", "department", "provider"]
    list_select_related = ["department", "provider"]
    fieldsets = (
        *DjangoUserAdmin.fieldsets,
        ("Role", {"fields": ("role", "department", "provider")}),
    )
    add_fieldsets = (
        *DjangoUserAdmin.add_fieldsets,
        ("Role", {"fields": ("role", "department", "provider")}),
    )
