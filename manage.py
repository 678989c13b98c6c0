#!/usr/bin/env python
import os
import sys

# Commands that read the models and migrations only: they sign, serve and store nothing,
# so they run without the SECRET_KEY a server needs (a fresh shell, a pre-commit hook).
OFFLINE_COMMANDS = {"makemigrations", "showmigrations", "sqlmigrate"}


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sharedsvc.settings")
    if len(sys.argv) > 1 and sys.argv[1] in OFFLINE_COMMANDS:
        os.environ.setdefault("SECRET_KEY", "offline-command-signs-nothing")
    from django.conf import settings
    from django.core.exceptions import ImproperlyConfigured
    from django.core.management import execute_from_command_line

    try:
        settings.INSTALLED_APPS  # noqa: B018 (load the settings now)
    except ImproperlyConfigured as refusal:
        # Said here: Django would go on without settings and fail later with an error that
        # hides this one ("Models aren't loaded yet").
        sys.exit(f"ImproperlyConfigured: {refusal}")
    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
