"""ClinicalData of a Snapshot file: the current data of a chunk of patients, one SubjectData each.

StudyEventData per visit (StudyEventRepeatKey = the visit's id), repeating FormData for
autoantibodies, treatments, HRCT scans, adverse events and their suspect treatments, labs and
response scores (FormRepeatKey = the record's id; a suspect treatment names its adverse event and
its treatment by theirs), ItemData with a Value or IsNull="Yes", MeasurementUnitRef where the
item has a unit, and a Signature on each signed visit.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from decimal import Decimal
from typing import Any

from django.core.exceptions import ObjectDoesNotExist
from django.db.models import Prefetch

from crf.models import Signature, Visit
from interchange.odm import metadata as md
from interchange.odm.define import SIGNATURE_DEFS, location_oid, user_oid
from interchange.odm.xml import attr_value, element, empty, timestamp
from registry.audit import value_text
from registry.models import Patient
from scoring.models import ResponseRecord


def subject_key(patient: Patient) -> str:
    return f"{patient.site.code}/{patient.patient_id}"


def text_value(item: md.ItemSpec, value: Any) -> str | None:
    """A model value as ItemData's Value; None for no value (IsNull)."""
    kind = type(value)
    if kind is str:
        return value or None
    if value is None:
        return None
    if kind is int:
        return user_oid(value) if item.person else str(value)
    if kind is bool:
        return "true" if value else "false"
    if kind is list:
        return " ".join(str(code) for code in value) or None
    return value_text(value)  # decimals normalised, dates in ISO 8601


def item_data(item: md.ItemSpec, value: str | None, unit: str | None = None) -> str:
    """A Snapshot's ItemData (OIDs are the registry's constants: never escaped)."""
    if value is None:
        return f'<ItemData ItemOID="{item.oid}" IsNull="Yes"/>'
    if unit is None:
        return f'<ItemData ItemOID="{item.oid}" Value={attr_value(value)}/>'
    return (
        f'<ItemData ItemOID="{item.oid}" Value={attr_value(value)}>'
        f'<MeasurementUnitRef MeasurementUnitOID="{unit}"/></ItemData>'
    )


def _unit(form: md.FormSpec, item: md.ItemSpec, instance: Any) -> str | None:
    if not item.units:
        return None
    if len(item.units) == 1:
        return item.units[0]
    return md.LAB_UNITS[instance.unit]  # a lab's value and ULN: the lab's own unit


def form_data(form: md.FormSpec, instance: Any, derived: dict[str, Any] | None = None) -> str:
    items = []
    for item in md.items_of(form):
        if item.derived and item.name not in form.fields:
            value = (derived or {}).get(item.name)
            if value is None:
                continue
            items.append(item_data(item, value_text(value)))
            continue
        value = text_value(item, getattr(instance, item.name))
        items.append(item_data(item, value, _unit(form, item, instance) if value else None))
    group = element("ItemGroupData", items, ItemGroupOID=form.group_oid)
    return element(
        "FormData", group, FormOID=form.oid, FormRepeatKey=instance.pk if form.repeating else None
    )


def _haq_index(haq: Any) -> str | None:
    score = haq.score
    if score is None:
        return None
    return format(Decimal(score.numerator) / Decimal(score.denominator), ".3f")


def _visit_forms(visit: Visit, records: Sequence[ResponseRecord]) -> list[str]:
    out = [form_data(md.FORM_BY_OID["FORM.VISIT"], visit)]
    mmt = _related(visit, "mmt8")
    if mmt is not None:
        out.append(form_data(md.FORM_BY_OID["FORM.MMT8"], mmt, {"total": mmt.total}))
    for lab in visit.labs.all():
        out.append(form_data(md.FORM_BY_OID["FORM.LAB"], lab))
    haq = _related(visit, "haq")
    if haq is not None:
        index = _haq_index(haq)
        out.append(form_data(md.FORM_BY_OID["FORM.HAQ"], haq, {"disability_index": index}))
    for record in records:
        out.append(form_data(md.FORM_BY_OID["FORM.RESPONSE"], record))
    return out


def _outcome_forms(patient: Patient) -> Iterator[str]:
    """The patient's classification assessment, vital status, lung disease, HRCT scans and
    adverse events with their suspect treatments (load_patients)."""
    for name, oid in (
        ("classification", "FORM.CLASSIFICATION"),
        ("vital_status", "FORM.VITAL_STATUS"),
        ("lung", "FORM.LUNG"),
    ):
        record = _related(patient, name)
        if record is not None:
            yield form_data(md.FORM_BY_OID[oid], record)
    for scan in patient.hrct_assessments.all():
        yield form_data(md.FORM_BY_OID["FORM.HRCT"], scan)
    for event in patient.adverse_events.all():
        yield form_data(md.FORM_BY_OID["FORM.ADVERSE_EVENT"], event)
        for relation in event.relations.all():
            yield form_data(md.FORM_BY_OID["FORM.AE_RELATION"], relation)


def _signature(signature: Signature, site_code: str) -> str:
    return element(
        "Signature",
        [
            empty("UserRef", UserOID=user_oid(signature.signer_id)),
            empty("LocationRef", LocationOID=location_oid(site_code)),
            empty("SignatureRef", SignatureOID=SIGNATURE_DEFS[signature.meaning]),
            element("DateTimeStamp", timestamp(signature.signed_at)),
        ],
    )


def load_patients(patient_ids: Iterable[int]) -> list[Patient]:
    """A chunk of patients with everything a Snapshot shows, in a fixed number of queries."""
    visits = (
        Visit.objects.order_by("visit_date")
        .select_related("mmt8", "haq")
        .prefetch_related(
            "labs",
            Prefetch(
                "signatures", Signature.objects.filter(voided_at=None), to_attr="odm_signatures"
            ),
        )
    )
    return list(
        Patient.objects.filter(pk__in=list(patient_ids))
        .select_related("site")
        .select_related("classification", "vital_status", "lung")
        .prefetch_related(
            "autoantibodies",
            "treatments",
            "hrct_assessments",
            "adverse_events__relations",
            Prefetch("visits", visits, to_attr="odm_visits"),
        )
        .order_by("site__code", "patient_id")
    )


def _records(patient_ids: list[int]) -> dict[int, list[ResponseRecord]]:
    by_visit: dict[int, list[ResponseRecord]] = defaultdict(list)
    records = ResponseRecord.objects.filter(
        patient_id__in=patient_ids, status=ResponseRecord.Status.DONE
    ).order_by("visit_id", "reference_visit_id", "algorithm")
    for record in records:
        by_visit[record.visit_id].append(record)
    return by_visit


def subjects(patients: list[Patient]) -> Iterator[str]:
    """The SubjectData of a chunk of patients (load_patients), one string per patient."""
    records = _records([patient.pk for patient in patients])
    for patient in patients:
        code = patient.site.code
        events = [
            element(
                "StudyEventData",
                [
                    form_data(md.FORM_BY_OID["FORM.PATIENT"], patient),
                    *(form_data(md.FORM_BY_OID["FORM.AUTOANTIBODY"], r) for r in
                      patient.autoantibodies.all()),
                    *(form_data(md.FORM_BY_OID["FORM.TREATMENT"], t) for t in
                      patient.treatments.all()),
                    *_outcome_forms(patient),
                ],
                StudyEventOID=md.PATIENT_EVENT,
            )
        ]  # fmt: skip
        for visit in patient.odm_visits:
            signature = [_signature(s, code) for s in visit.odm_signatures[:1]]
            events.append(
                element(
                    "StudyEventData",
                    [*signature, *_visit_forms(visit, records.get(visit.pk, ()))],
                    StudyEventOID=md.VISIT_EVENTS[visit.kind],
                    StudyEventRepeatKey=visit.pk,
                )
            )
        yield (
            element(
                "SubjectData",
                [empty("SiteRef", LocationOID=location_oid(code)), *events],
                SubjectKey=subject_key(patient),
            )
        )


def _related(instance: Any, name: str) -> Any:
    """A visit's MMT-8 or HAQ, a patient's vital status… (select_related), or None."""
    try:
        return getattr(instance, name)
    except ObjectDoesNotExist:
        return None
