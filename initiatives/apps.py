from django.apps import AppConfig


class InitiativesConfig(AppConfig):
    """Programmes that push a shared service forward, and pilots decided on evidence:
    both go to the deputy-minister board as kinds of case."""

    name = "initiatives"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Imported here, not at the top: apps.py loads before any model may be imported.
        from governance.subjects import register_subject
        from initiatives import rules  # noqa: F401  (registers the permissions)
        from initiatives.pilot_subject import PILOT_SUBJECT
        from initiatives.subjects import PROGRAMME_SUBJECT

        register_subject(PROGRAMME_SUBJECT)
        register_subject(PILOT_SUBJECT)
