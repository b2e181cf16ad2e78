"""A patient's records as FHIR R4 resources (docs: README "FHIR R4"), built as plain dicts from
the models as interchange.fhir.selectors loads them: nothing here queries the database.

Resource ids are the registry's own and stable between exports: `Patient/<patient id>`,
`Condition/<patient id>-diagnosis`, `Observation/<visit id>-<code>` for a visit's measures and
enzymes, `Observation/score-<response record id>`, `QuestionnaireResponse/<visit id>-haq`,
`MedicationStatement/<treatment episode id>`, `AdverseEvent/<adverse event id>`. References
between them are relative (`Patient/12`), so they resolve within a Bundle and within the NDJSON
files of one export.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Any

from crf.models import HAQ, MMT8, LabResult, Visit, VitalStatus
from interchange.fhir.questionnaires import questionnaire_response, response_id
from interchange.fhir.terminology import (
    ASSERTED_DATE,
    CM,
    CONDITION_VERIFICATION,
    DATA_ABSENT_REASON,
    DIAGNOSIS_SNOMED,
    ENZYME_LOINC,
    FVC_PERCENT_LOINC,
    INTERPRETATION,
    LAB_UNITS,
    LOINC,
    PERCENT,
    SCORE,
    SNOMED,
    UCUM,
    Unit,
    category,
    coding,
    measure,
    patient_system,
    site_reference,
)
from registry.models import Patient, TreatmentEpisode
from registry.vocabularies import StopReason
from scoring.instruments import InstrumentError
from scoring.models import ResponseRecord
from scoring.planning import DOI, TIS

ENZYME_TEXT = {"ck": "CK", "aldolase": "Aldolase", "ldh": "LDH", "ast": "AST", "alt": "ALT"}


def number(value: Decimal | Fraction | int | float) -> int | float:
    """A JSON number for a stored value: 2000.000 is 2000, 15.200 is 15.2."""
    if isinstance(value, Fraction):
        value = Decimal(value.numerator) / Decimal(value.denominator)
        value = round(value, 3)
    if isinstance(value, Decimal):
        value = value.normalize()
        return int(value) if value == value.to_integral_value() else float(value)
    return value


def _reference(resource_type: str, ident: Any) -> dict[str, str]:
    return {"reference": f"{resource_type}/{ident}"}


def _one(visit: Visit, name: str) -> Any:
    """A visit's one-to-one instrument (mmt8, haq), or None."""
    try:
        return getattr(visit, name)
    except (MMT8.DoesNotExist, HAQ.DoesNotExist):
        return None


# ---------------------------------------------------------------------------------------------
# Patient, Condition


def patient_resource(patient: Patient) -> dict[str, Any]:
    """No names and no full identifiers: the site's pseudonymous id, sex, year-month of birth,
    and deceasedDateTime from the vital status of a patient who died (YYYY-MM when only the
    year and month are known; the vital status prefetched, selectors.VITAL_STATUS)."""
    site = patient.site
    resource = {
        "resourceType": "Patient",
        "id": str(patient.pk),
        "meta": {"lastUpdated": patient.updated_at.isoformat()},
        "identifier": [{"system": patient_system(site.code), "value": patient.patient_id}],
        "gender": patient.sex,  # the registry's codes are AdministrativeGender's
        "birthDate": f"{patient.birth_year:04d}-{patient.birth_month:02d}",
        "managingOrganization": site_reference(site.code, site.name),
    }
    vital = _vital_status(patient)
    if vital is not None and vital.status == VitalStatus.Status.DEAD and vital.death_date:
        death = vital.death_date.isoformat()
        if vital.death_date_precision == VitalStatus.Precision.MONTH:
            death = death[:7]
        resource["deceasedDateTime"] = death
    return resource


def _vital_status(patient: Patient) -> VitalStatus | None:
    try:
        return patient.vital_status
    except VitalStatus.DoesNotExist:
        return None


def condition_resource(patient: Patient) -> dict[str, Any]:
    codings = []
    snomed = DIAGNOSIS_SNOMED.get(patient.diagnosis)
    if snomed:
        codings.append({"system": SNOMED, "code": snomed})
    codings.append(coding("diagnosis", patient.diagnosis))
    condition: dict[str, Any] = {
        "resourceType": "Condition",
        "id": f"{patient.pk}-diagnosis",
        "verificationStatus": {"coding": [{"system": CONDITION_VERIFICATION, "code": "confirmed"}]},
        "code": {"coding": codings, "text": patient.get_diagnosis_display()},
        "subject": _reference("Patient", patient.pk),
        "onsetDateTime": patient.onset_date.isoformat(),
    }
    if patient.diagnosis_date:
        condition["extension"] = [
            {"url": ASSERTED_DATE, "valueDateTime": patient.diagnosis_date.isoformat()}
        ]
    return condition


# ---------------------------------------------------------------------------------------------
# Observations of a visit


@dataclass(frozen=True, slots=True)
class VisitMeasure:
    """A value of the visit row exported as an Observation."""

    field: str  # crf's Visit field
    code: str  # the registry's measure code, or the LOINC code when `loinc`
    text: str
    unit: Unit
    category: str
    # the IMACS core set measure it is (docs/scoring.md §1), for derivedFrom
    core: str | None = None
    loinc: bool = False


VISIT_MEASURES = (
    VisitMeasure(
        "physician_global", "physician-global", "Physician global activity", CM, "exam",
        "physician_global",
    ),
    VisitMeasure(
        "patient_global", "patient-global", "Patient global activity", CM, "survey",
        "patient_global",
    ),
    VisitMeasure(
        "extramuscular", "extramuscular", "Extramuscular global activity", CM, "exam",
        "extramuscular",
    ),
    VisitMeasure("physician_damage", "physician-damage", "Physician global damage", CM, "exam"),
    VisitMeasure("cmas", "cmas", "CMAS", SCORE, "exam", "mmt"),
    VisitMeasure(
        "fvc_percent", FVC_PERCENT_LOINC, "FVC % predicted", PERCENT, "procedure", loinc=True
    ),
    VisitMeasure(
        "dlco_percent", "dlco-percent-predicted", "DLCO % predicted", PERCENT, "procedure"
    ),
)  # fmt: skip


def _observation(
    ident: str, visit: Visit, patient: Patient, code: dict[str, Any], kind: str | None
) -> dict[str, Any]:
    observation: dict[str, Any] = {
        "resourceType": "Observation",
        "id": ident,
        "meta": {"lastUpdated": visit.updated_at.isoformat()},
        # A draft visit's values may still change.
        "status": "preliminary" if visit.status == Visit.Status.DRAFT else "final",
    }
    if kind:
        observation["category"] = category(kind)
    observation.update(
        code=code,
        subject=_reference("Patient", patient.pk),
        effectiveDateTime=visit.visit_date.isoformat(),
    )
    return observation


def lab_observation(lab: LabResult, visit: Visit, patient: Patient) -> dict[str, Any]:
    code, unit = LAB_UNITS[lab.unit]
    quantity = {"system": UCUM, "code": code, "unit": unit}
    observation = _observation(
        f"{visit.pk}-{lab.enzyme}",
        visit,
        patient,
        {
            "coding": [{"system": LOINC, "code": ENZYME_LOINC[lab.enzyme]}],
            "text": ENZYME_TEXT[lab.enzyme],
        },
        "laboratory",
    )
    observation["valueQuantity"] = {"value": number(lab.value), **quantity}
    if lab.value > lab.uln:
        observation["interpretation"] = [
            {"coding": [{"system": INTERPRETATION, "code": "H", "display": "High"}]}
        ]
    observation["referenceRange"] = [{"high": {"value": number(lab.uln), **quantity}}]
    return observation


def visit_observations(
    visit: Visit, patient: Patient
) -> Iterator[tuple[dict[str, Any], str | None]]:
    """Every Observation of a visit, with the core set measure each is (or None): the globals,
    MMT-8 total, CMAS, FVC and DLCO, HAQ-DI/CHAQ-DI and the enzymes ("enzyme:<code>")."""
    for spec in VISIT_MEASURES:
        value = getattr(visit, spec.field)
        if value is None:
            continue
        code = (
            {"coding": [{"system": LOINC, "code": spec.code}], "text": spec.text}
            if spec.loinc
            else measure(spec.code)
        )
        observation = _observation(
            f"{visit.pk}-{spec.field.replace('_', '-')}", visit, patient, code, spec.category
        )
        observation["valueQuantity"] = spec.unit.quantity(number(value))
        yield observation, spec.core
    mmt = _one(visit, "mmt8")
    if mmt is not None:
        try:
            total = mmt.total
        except InstrumentError:  # corrupt grades written around the services: no total
            total = None
        if total is not None:
            observation = _observation(
                f"{visit.pk}-mmt8", visit, patient, measure("mmt8-total"), "exam"
            )
            observation["valueQuantity"] = SCORE.quantity(total)
            observation["component"] = [
                {"code": measure("mmt8-maximum"), "valueQuantity": SCORE.quantity(mmt.maximum)}
            ]
            yield observation, "mmt"
    haq = _one(visit, "haq")
    if haq is not None:
        observation = haq_observation(haq, visit, patient)
        if observation is not None:
            yield observation, "haq"
    for lab in visit.labs.all():
        yield lab_observation(lab, visit, patient), f"enzyme:{lab.enzyme}"


def haq_observation(haq: HAQ, visit: Visit, patient: Patient) -> dict[str, Any] | None:
    """The disability index, derived from the visit's QuestionnaireResponse (when items were
    recorded rather than only a legacy index); None when it cannot be computed."""
    try:
        score = haq.score
    except InstrumentError:
        return None
    if score is None:
        return None
    code = "chaq-di" if haq.instrument == HAQ.Instrument.CHAQ else "haq-di"
    observation = _observation(f"{visit.pk}-{code}", visit, patient, measure(code), "survey")
    observation["valueQuantity"] = SCORE.quantity(number(score))
    if haq.legacy_score is None:
        observation["derivedFrom"] = [_reference("QuestionnaireResponse", response_id(visit))]
    return observation


def visit_responses(visit: Visit, patient: Patient, *, entered_by_patient: bool) -> Iterator[dict]:
    haq = _one(visit, "haq")
    if haq is not None:
        response = questionnaire_response(
            haq, visit, patient, entered_by_patient=entered_by_patient
        )
        if response is not None:
            yield response


# ---------------------------------------------------------------------------------------------
# Scores


def score_observation(
    record: ResponseRecord,
    patient: Patient,
    visits: dict[int, Visit],
    core: dict[int, dict[str, list[str]]],
    enzyme: str | None,
) -> dict[str, Any]:
    """A stored TIS or DOI of a visit against its reference visit, derived from the core set
    Observations of both visits; of their enzymes, only the one the comparison followed when the
    TIS names it (docs/scoring.md §1: the most abnormal at the reference visit)."""
    visit, reference = visits[record.visit_id], visits[record.reference_visit_id]
    observation = _observation(
        f"score-{record.pk}", visit, patient, measure(record.algorithm), None
    )
    observation["status"] = "final"
    if record.computed_at is not None:
        observation["meta"] = {"lastUpdated": record.computed_at.isoformat()}
    if record.algorithm == TIS:
        if record.score is not None:
            observation["valueQuantity"] = SCORE.quantity(number(record.score))
        else:
            observation["dataAbsentReason"] = _absent(
                "Not computable: a core set measure is missing."
            )
    elif record.met is not None:
        observation["valueBoolean"] = record.met
    else:
        observation["dataAbsentReason"] = _absent("Not evaluable: fewer than 3 core set measures.")
    components = [
        {"code": measure("reference-date"), "valueDateTime": reference.visit_date.isoformat()}
    ]
    if record.algorithm == TIS and record.category:
        components.append({"code": measure("tis-category"), "valueString": record.category})
    observation["component"] = components
    derived = []
    for visit_id in (record.reference_visit_id, record.visit_id):
        for key, idents in core.get(visit_id, {}).items():
            if key.startswith("enzyme:") and enzyme and key != f"enzyme:{enzyme}":
                continue
            derived += [_reference("Observation", ident) for ident in idents]
    if derived:
        observation["derivedFrom"] = derived
    return observation


def _absent(text: str) -> dict[str, Any]:
    return {"coding": [{"system": DATA_ABSENT_REASON, "code": "unknown"}], "text": text}


SCORED_ALGORITHMS = (TIS, DOI)


def observations(
    patient: Patient, visits: list[Visit], records: list[ResponseRecord]
) -> Iterator[dict]:
    """Every Observation of a patient: each visit's, then the scores."""
    core: dict[int, dict[str, list[str]]] = {}
    for visit in visits:
        measures: dict[str, list[str]] = {}
        for observation, key in visit_observations(visit, patient):
            yield observation
            if key is not None:
                measures.setdefault(key, []).append(observation["id"])
        core[visit.pk] = measures
    by_id = {visit.pk: visit for visit in visits}
    # The DOI and the TIS of a comparison follow the same enzyme; only the TIS's result names it.
    enzymes = {
        (record.visit_id, record.reference_visit_id): getattr(record, "enzyme", None)
        for record in records
        if record.algorithm == TIS
    }
    for record in records:
        if record.visit_id in by_id and record.reference_visit_id in by_id:
            enzyme = enzymes.get((record.visit_id, record.reference_visit_id))
            yield score_observation(record, patient, by_id, core, enzyme)


# ---------------------------------------------------------------------------------------------
# Treatments


def medication_statement(episode: TreatmentEpisode, patient: Patient) -> dict[str, Any]:
    """A treatment episode: active while ongoing; once stopped, `completed` when the course was
    completed (or no reason is known) and `stopped` with its reason otherwise."""
    if episode.stop_date is None:
        status = "active"
    elif episode.stop_reason in ("", StopReason.COMPLETED):
        status = "completed"
    else:
        status = "stopped"
    medication = {"coding": [coding("drug", episode.drug)], "text": episode.drug_label}
    period = {"start": episode.start_date.isoformat()}
    if episode.stop_date:
        period["end"] = episode.stop_date.isoformat()
    statement: dict[str, Any] = {
        "resourceType": "MedicationStatement",
        "id": str(episode.pk),
        "status": status,
        "medicationCodeableConcept": medication,
        "subject": _reference("Patient", patient.pk),
        "effectivePeriod": period,
    }
    if status == "stopped":
        reason = episode.stop_reason_other or StopReason(episode.stop_reason).label
        statement["statusReason"] = [
            {"coding": [coding("stop-reason", episode.stop_reason)], "text": reason}
        ]
    dosage = _dosage(episode)
    if dosage:
        statement["dosage"] = [dosage]
    return statement


def _dosage(episode: TreatmentEpisode) -> dict[str, Any]:
    parts = []
    dosage: dict[str, Any] = {}
    if episode.dose is not None:
        dose = number(episode.dose)
        parts.append(f"{dose} {episode.dose_unit}".strip())
        quantity: dict[str, Any] = {"value": dose}
        if episode.dose_unit:
            quantity["unit"] = episode.dose_unit
        dosage["doseAndRate"] = [{"doseQuantity": quantity}]
    if episode.route:
        label = episode.get_route_display()
        parts.append(label.lower())
        dosage["route"] = {"text": label}
    if episode.frequency:
        parts.append(episode.frequency)
        dosage["timing"] = {"code": {"text": episode.frequency}}
    if parts:
        dosage = {"text": " ".join(parts), **dosage}
    return dosage
