"""The patient-level records of an ODM Snapshot -> the submission document's `classification`,
`vital_status`, `lung`, `hrct` and `adverse_events` (spec: docs/outcomes.md,
docs/classification.md).

Called by interchange/odm/reader.py for each such FormData of a subject. A suspect treatment
(FORM.AE_RELATION) names its adverse event and its treatment by their FormRepeatKeys: it becomes
a `related_to` entry (the treatment's drug and start date) once the whole subject is read.
"""

from __future__ import annotations

from typing import Any

from crf.outcome_documents import HRCT_KEYS, LUNG_KEYS, SERIOUS_CRITERIA, VITAL_STATUS_KEYS
from crf.outcome_models import VitalStatus
from scoring.instruments.classification import BIOPSY, COLUMN_ITEM_KEYS, NO_BIOPSY

_AE_KEYS = ("term", "category", "onset_date", "end_date", "severity", "ctcae_grade", "outcome")


def _keyed(subject: Any, form: Any, rel: str, keys: tuple[str, ...]) -> dict[str, Any]:
    """The named items of a form as a document object (its paths mapped); absent ones left out."""
    subject.paths[rel] = form.path
    doc = {}
    for key in keys:
        form.map(subject, f"{rel}.{key}", key)
        if form.get(key) is not None:
            doc[key] = form.get(key)
    return doc


def _once(subject: Any, form: Any, key: str) -> bool:
    if key in subject.patient:
        subject.errors.append((form.path, f"{form.spec.oid} is given twice for this subject."))
        return False
    return True


def _classification(subject: Any, form: Any) -> dict[str, Any]:
    doc = _keyed(
        subject, form, "classification",
        ("assessed_on", "muscle_biopsy", "finger_flexor_weakness", "treatment_response"),
    )  # fmt: skip
    column = BIOPSY if form.get("muscle_biopsy") is True else NO_BIOPSY
    names = dict.fromkeys(COLUMN_ITEM_KEYS[column])
    names.update(dict.fromkeys(k for k in COLUMN_ITEM_KEYS[BIOPSY] if form.get(k) is not None))
    for name in names:
        form.map(subject, f"classification.items.{name}", name)
    doc["items"] = {name: form.get(name) for name in names}
    return doc


def _vital_status(subject: Any, form: Any) -> dict[str, Any]:
    doc = _keyed(subject, form, "vital_status", VITAL_STATUS_KEYS)
    death = doc.get("death_date")
    if isinstance(death, str) and form.get("death_date_precision") == VitalStatus.Precision.MONTH:
        doc["death_date"] = death[:7]  # a year-month date of death, as the document gives it
    return doc


def _adverse_event(subject: Any, form: Any) -> dict[str, Any]:
    events = subject.patient.setdefault("adverse_events", [])
    rel = f"adverse_events[{len(events)}]"
    doc = _keyed(subject, form, rel, (*_AE_KEYS, "serious"))
    doc["serious_criteria"] = [c for c in SERIOUS_CRITERIA if form.get(f"criterion_{c}") is True]
    for code in SERIOUS_CRITERIA:
        form.map(subject, f"{rel}.serious_criteria", f"criterion_{code}")
    doc["related_to"] = []
    events.append(doc)
    if form.key is not None:
        subject.adverse_events[form.key] = (doc, rel)
    return doc


def read(subject: Any, form: Any) -> None:
    """One FormData of FORM.CLASSIFICATION, VITAL_STATUS, LUNG, HRCT, ADVERSE_EVENT or
    AE_RELATION into the subject's patient document."""
    oid = form.spec.oid
    if oid == "FORM.CLASSIFICATION" and _once(subject, form, "classification"):
        subject.patient["classification"] = _classification(subject, form)
    elif oid == "FORM.VITAL_STATUS" and _once(subject, form, "vital_status"):
        subject.patient["vital_status"] = _vital_status(subject, form)
    elif oid == "FORM.LUNG" and _once(subject, form, "lung"):
        subject.patient["lung"] = _keyed(subject, form, "lung", LUNG_KEYS)
    elif oid == "FORM.HRCT":
        scans = subject.patient.setdefault("hrct", [])
        scans.append(_keyed(subject, form, f"hrct[{len(scans)}]", HRCT_KEYS))
    elif oid == "FORM.ADVERSE_EVENT":
        _adverse_event(subject, form)
    elif oid == "FORM.AE_RELATION":
        subject.relations.append(form)


def resolve(subject: Any) -> None:
    """Each suspect treatment as a `related_to` entry of its adverse event: the treatment's drug
    and start date, the relatedness and the action taken."""
    for form in subject.relations:
        event_key, episode_key = form.get("adverse_event_id"), form.get("episode_id")
        found = subject.adverse_events.get(str(event_key))
        if found is None:
            where = form.values.get("adverse_event_id", (None, None, form.path))[2]
            subject.errors.append((where, f"No FORM.ADVERSE_EVENT of FormRepeatKey {event_key}."))
            continue
        treatment = subject.treatments.get(str(episode_key))
        if treatment is None:
            where = form.values.get("episode_id", (None, None, form.path))[2]
            subject.errors.append((where, f"No FORM.TREATMENT of FormRepeatKey {episode_key}."))
            continue
        event, rel = found
        related = f"{rel}.related_to[{len(event['related_to'])}]"
        subject.paths[related] = form.path
        entry = {"drug": treatment.get("drug"), "start_date": treatment.get("start_date")}
        for key in ("relatedness", "action"):
            form.map(subject, f"{related}.{key}", key)
            entry[key] = form.get(key)
        event["related_to"].append(entry)
