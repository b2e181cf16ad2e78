from django.apps import AppConfig


class WebConfig(AppConfig):
    """The server-rendered pages: above every domain app, imported by none of them."""

    name = "web"
    verbose_name = "Web pages"
