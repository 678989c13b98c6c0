from django.apps import AppConfig


class SharedsvcConfig(AppConfig):
    verbose_name = "Users and audit"
    name = "sharedsvc"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from sharedsvc.api.strict import install

        install()

        from sharedsvc.signin import connect_receivers

        connect_receivers()

        # Stamps the sign-in time of every new session (its receiver connects on import).
        import sharedsvc.sessions  # noqa: F401
