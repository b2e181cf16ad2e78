from typing import Any

from django.apps import AppConfig


class CrfConfig(AppConfig):
    name = "crf"
    verbose_name = "Case report forms: visits and instruments"

    def ready(self) -> None:
        from registry.signals import data_past_draft

        data_past_draft.connect(_has_visit_past_draft, dispatch_uid="crf.data_past_draft")


def _has_visit_past_draft(sender: Any, patient_id: int, **kwargs: Any) -> bool:
    from crf.models import Visit

    return Visit.objects.filter(patient_id=patient_id).exclude(status=Visit.Status.DRAFT).exists()
