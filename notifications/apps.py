from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    """A user's notifications: one row per recipient, written with the change it tells of;
    the emails go out from these rows through the outbox. Above `sharedsvc`, below every
    domain app (they all tell people things)."""

    name = "notifications"
    verbose_name = "Notifications"
    default_auto_field = "django.db.models.BigAutoField"
