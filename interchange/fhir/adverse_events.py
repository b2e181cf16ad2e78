"""A patient's adverse events as FHIR R4 AdverseEvent resources (INTEROP "FHIR R4"), built from
the models as interchange.fhir.selectors loads them (nothing here queries the database).

`AdverseEvent/<adverse event id>`: actuality actual, the event as the registry's category with the
verbatim term as text, `date` the onset, seriousness (HL7 serious / non-serious, with the ICH E2A
criteria of a serious event as the registry's codes), severity and outcome in the HL7 code
systems, and a `suspectEntity` per suspect treatment episode: the MedicationStatement of the
episode with its causality (the WHO-UMC assessment where one corresponds, the registry's
relatedness always) and the action taken with the treatment (an extension, ACTION_TAKEN: R4 has no
element for it).
"""

from __future__ import annotations

from typing import Any

from crf.outcome_models import AdverseEvent, AdverseEventRelation
from interchange.fhir.terminology import (
    ACTION_TAKEN,
    AE_ACTION,
    AE_CATEGORY,
    AE_CAUSALITY,
    AE_OUTCOME,
    AE_SERIOUSNESS,
    AE_SEVERITY,
    RELATEDNESS,
    SERIOUS_CRITERION,
    coding,
)

# The registry's outcome -> http://terminology.hl7.org/CodeSystem/adverse-event-outcome.
OUTCOMES = {
    AdverseEvent.Outcome.RECOVERED: ("resolved", "Resolved"),
    AdverseEvent.Outcome.RECOVERING: ("recovering", "Recovering"),
    AdverseEvent.Outcome.NOT_RECOVERED: ("ongoing", "Ongoing"),
    AdverseEvent.Outcome.RECOVERED_WITH_SEQUELAE: (
        "resolvedWithSequelae",
        "Resolved with Sequelae",
    ),
    AdverseEvent.Outcome.FATAL: ("fatal", "Fatal"),
    AdverseEvent.Outcome.UNKNOWN: ("unknown", "Unknown"),
}
# The registry's relatedness -> the WHO-UMC causality categories (adverse-event-causality-assess);
# "not related" has none.
CAUSALITY = {
    AdverseEventRelation.Relatedness.DEFINITE: ("Certain", "Certain"),
    AdverseEventRelation.Relatedness.PROBABLE: ("Probably-Likely", "Probably/Likely"),
    AdverseEventRelation.Relatedness.POSSIBLE: ("Possible", "Possible"),
    AdverseEventRelation.Relatedness.UNLIKELY: ("Unlikely", "Unlikely"),
}


def _concept(system: str, code: str, display: str) -> dict[str, Any]:
    return {"coding": [{"system": system, "code": code, "display": display}], "text": display}


def _seriousness(event: AdverseEvent) -> dict[str, Any]:
    if not event.serious:
        return _concept(AE_SERIOUSNESS, "non-serious", "Non-serious")
    criteria = [coding(SERIOUS_CRITERION, code) for code in event.serious_criteria]
    text = "Serious: " + ", ".join(c["display"] for c in criteria)
    standard = {"system": AE_SERIOUSNESS, "code": "serious", "display": "Serious"}
    return {"coding": [standard, *criteria], "text": text}


def _causality(relation: AdverseEventRelation) -> dict[str, Any]:
    codings = []
    if relation.relatedness in CAUSALITY:
        code, display = CAUSALITY[relation.relatedness]
        codings.append({"system": AE_CAUSALITY, "code": code, "display": display})
    codings.append(coding(RELATEDNESS, relation.relatedness))
    return {"assessment": {"coding": codings, "text": relation.get_relatedness_display()}}


def _suspect(relation: AdverseEventRelation) -> dict[str, Any]:
    action = {
        "url": ACTION_TAKEN,
        "valueCodeableConcept": {
            "coding": [coding(AE_ACTION, relation.action)],
            "text": relation.get_action_display(),
        },
    }
    return {
        "extension": [action],
        "instance": {"reference": f"MedicationStatement/{relation.episode_id}"},
        "causality": [_causality(relation)],
    }


def adverse_event_resource(event: AdverseEvent, patient: Any) -> dict[str, Any]:
    """An adverse event with its suspect episodes (`event.relations` prefetched)."""
    outcome, outcome_text = OUTCOMES[event.outcome]
    resource: dict[str, Any] = {
        "resourceType": "AdverseEvent",
        "id": str(event.pk),
        "meta": {"lastUpdated": event.updated_at.isoformat()},
        "actuality": "actual",
        "event": {"coding": [coding(AE_CATEGORY, event.category)], "text": event.term},
        "subject": {"reference": f"Patient/{patient.pk}"},
        "date": event.onset_date.isoformat(),
        "seriousness": _seriousness(event),
        "severity": _concept(AE_SEVERITY, event.severity, event.get_severity_display()),
        "outcome": _concept(AE_OUTCOME, outcome, outcome_text),
    }
    suspects = [_suspect(relation) for relation in event.relations.all()]
    if suspects:
        resource["suspectEntity"] = suspects
    return resource
