from django.apps import AppConfig


class DefectionConfig(AppConfig):
    name = "defection"
    default_auto_field = "django.db.models.BigAutoField"
