from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "reports"

    def ready(self) -> None:
        # Registers the export task with Celery in every process, the web's included:
        # reports.services queues it by name (reports.tasks imports the services, not back).
        from reports import tasks  # noqa: F401
