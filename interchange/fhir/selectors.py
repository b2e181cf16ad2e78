"""Reads of the FHIR export: patients with what each resource type is built from, prefetched.

Each need (visits with their instruments, stored scores, treatments, the vital status, adverse
events with their suspect treatments) is one prefetch, run once per
chunk of patients by `QuerySet.iterator(chunk_size=...)`: a few queries per chunk whatever the
chunk holds, and memory bounded by the chunk, not by the registry.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from django.db.models import Prefetch, QuerySet
from django.db.models.fields.json import KT

from crf.models import AdverseEvent, AdverseEventRelation, LabResult, Visit, VitalStatus
from registry.access import Action, sites_for
from registry.models import Patient, Site, TreatmentEpisode
from scoring.models import ResponseRecord
from scoring.planning import DOI, TIS
from scoring.scores import DONE

VISITS, SCORES, TREATMENTS = "visits", "scores", "treatments"
VITAL_STATUS, ADVERSE_EVENTS = "vital_status", "adverse_events"


def _visits() -> Prefetch:
    labs = Prefetch("labs", queryset=LabResult.objects.order_by("enzyme"))
    visits = Visit.objects.select_related("mmt8", "haq").prefetch_related(labs)
    return Prefetch("visits", queryset=visits.order_by("visit_date", "id"), to_attr="fhir_visits")


def _scores() -> Prefetch:
    # Only what the Observations say: the outcome columns and, from the calculator's JSON, the
    # enzyme the TIS followed (the inputs and the full result stay in the database).
    records = (
        ResponseRecord.objects.filter(status=DONE, algorithm__in=(TIS, DOI))
        .annotate(enzyme=KT("result__enzyme"))
        .defer("inputs", "result", "fingerprint", "error", "computed_by")
        .order_by("visit_id", "reference_visit_id", "algorithm")
    )
    return Prefetch("response_records", queryset=records, to_attr="fhir_scores")


def _treatments() -> Prefetch:
    episodes = TreatmentEpisode.objects.order_by("start_date", "id")
    return Prefetch("treatments", queryset=episodes, to_attr="fhir_treatments")


def _vital_status() -> Prefetch:
    return Prefetch("vital_status", queryset=VitalStatus.objects.all())


def _adverse_events() -> Prefetch:
    relations = AdverseEventRelation.objects.order_by("episode_id")
    events = AdverseEvent.objects.prefetch_related(Prefetch("relations", queryset=relations))
    return Prefetch(
        "adverse_events",
        queryset=events.order_by("onset_date", "id"),
        to_attr="fhir_adverse_events",
    )


# A fresh Prefetch per query: Django annotates the ones it is given.
PREFETCHES: dict[str, Callable[[], Prefetch]] = {
    VISITS: _visits,
    SCORES: _scores,
    TREATMENTS: _treatments,
    VITAL_STATUS: _vital_status,
    ADVERSE_EVENTS: _adverse_events,
}


def patients_for_export(patients: QuerySet[Patient], needs: Iterable[str]) -> QuerySet[Patient]:
    """`patients` (already scoped) in id order with the site and what `needs` names."""
    prefetches = [PREFETCHES[need]() for need in dict.fromkeys(needs)]
    return patients.select_related("site").prefetch_related(*prefetches).order_by("pk")


def export_site(user: object, code: str) -> Site | None:
    """The site of this code if `user` may read it (None: unknown, or not theirs)."""
    return sites_for(user, Action.READ).filter(code=code).first()
