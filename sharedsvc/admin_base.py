"""Admin classes whose saves and deletes go through the service layer.

The admin's model forms already run the model's and the database constraints' checks
(and its delete page lists protected objects), so people see clear errors there; the
service layer adds the audit actor and turns a race into the same message.
"""

from __future__ import annotations

from django.contrib import admin

from sharedsvc.services import model_delete, validated_save


class ServiceModelAdmin(admin.ModelAdmin):
    def save_model(self, request, obj, form, change) -> None:
        validated_save(obj, actor=request.user)

    def delete_model(self, request, obj) -> None:
        model_delete(obj, actor=request.user)

    def delete_queryset(self, request, queryset) -> None:
        for obj in queryset:
            model_delete(obj, actor=request.user)
