from django.apps import AppConfig


class RegistryConfig(AppConfig):
    name = "registry"
    verbose_name = "Registry: sites, people, patients"

    def ready(self) -> None:
        from registry import security  # noqa: F401  (connects its login receiver)
