from django.apps import AppConfig


class ApiConfig(AppConfig):
    """The HTTP API: above every domain app, imported by none of them."""

    name = "api"
    verbose_name = "HTTP API"
