"""The outbox in the admin: what waits, what was handed over, and what failed and why.

Read-only: an item is written by the change that wanted the work and moved on by the
dispatcher (`sharedsvc.outbox`); an administrator reads it, nobody edits it by hand.
"""

from __future__ import annotations

from django.contrib import admin
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from sharedsvc.models import OutboxItem

# django-otp's own admin pages show each secret (and its QR code) and edit devices without
# the services: two-factor is set up and turned off by its person ("Your account") only.
admin.site.unregister(TOTPDevice)
admin.site.unregister(StaticDevice)


@admin.register(OutboxItem)
class OutboxItemAdmin(admin.ModelAdmin):
    list_display = ["key", "task", "status", "attempts", "last_error", "created_at", "sent_at"]
    list_filter = ["status", "task"]
    search_fields = ["key", "task", "request_id"]
    date_hierarchy = "created_at"
    readonly_fields = [
        "key",
        "task",
        "kwargs",
        "status",
        "attempts",
        "next_attempt_at",
        "last_error",
        "created_at",
        "sent_at",
        "request_id",
    ]

    def has_module_permission(self, request) -> bool:
        return request.user.has_perm("sharedsvc.use_admin")

    def has_view_permission(self, request, obj=None) -> bool:
        return request.user.has_perm("sharedsvc.use_admin")

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
