from django.apps import AppConfig


class WebConfig(AppConfig):
    """The site as a whole: its URLs, the home page and the commands that span the apps.

    It sits above every domain app (clusters, budgets, servicelevels, defection,
    governance) and may import them all; nothing imports it.
    """

    name = "web"
    verbose_name = "The site"
