from django.apps import AppConfig


class ServicelevelsConfig(AppConfig):
    name = "servicelevels"
    verbose_name = "Service levels and reports"
    default_auto_field = "django.db.models.BigAutoField"
