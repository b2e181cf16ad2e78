from django.apps import AppConfig


class InterchangeConfig(AppConfig):
    name = "interchange"
    verbose_name = "Interchange: ODM, FHIR, REDCap"

    def ready(self) -> None:
        # Registers the import task with Celery in every process, the web's included:
        # interchange.redcap.jobs queues it by name (the task imports the jobs, not back).
        from interchange.redcap import tasks  # noqa: F401
