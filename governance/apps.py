from django.apps import AppConfig


class GovernanceConfig(AppConfig):
    name = "governance"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Imported here, not at the top: apps.py loads before any model may be imported
        # (Django's documented place for start-up wiring, not a dodged cycle).
        from defection.board import register_board
        from governance.exits import EXIT_SUBJECT
        from governance.services import BOARD
        from governance.subjects import register_subject

        register_board(BOARD)
        register_subject(EXIT_SUBJECT)
