"""The registry's ODM forms: each a model and a list of its fields (interchange/odm/metadata.py
reads their items off the models). Adding a form is one entry of PATIENT_FORMS or VISIT_FORMS.

OIDs are a contract with whoever maps their data to ours (an ODM import): extend, never rename.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import models

from crf.models import (
    ALL_HAQ_ITEMS,
    HAQ,
    MMT8,
    AdverseEvent,
    AdverseEventRelation,
    ClassificationAssessment,
    DataQuery,
    HRCTAssessment,
    LabResult,
    LungStatus,
    ProInvitation,
    RefractoryAttestation,
    Signature,
    Visit,
    VitalStatus,
)
from registry.models import AutoantibodyResult, Patient, TreatmentEpisode
from scoring.classification_records import OUTCOME_FIELDS as CLASSIFICATION_OUTCOME
from scoring.models import (
    ClassificationRecord,
    EpisodeAdverseEvent,
    EpisodeRefractory,
    EpisodeSurvival,
    FollowUp,
    LungProgression,
    RefractoryRecord,
    ResponseRecord,
)


@dataclass(frozen=True)
class Method:
    oid: str
    name: str
    description: str


METHODS = (
    Method(
        "MT.SEROLOGY_GROUP",
        "Serological group",
        "Derived from the positive myositis-specific antibodies (registry.vocabularies."
        "serology_group): one group, 'multiple' for two groups, MAA only, seronegative.",
    ),
    Method(
        "MT.MMT8_TOTAL",
        "MMT-8 total",
        "Sum of the Kendall 0-10 grades of the 8 IMACS muscle groups: unilateral 0-80, "
        "bilateral 0-150 (docs/scoring.md §1); the legacy total when only that is known.",
    ),
    Method(
        "MT.HAQ_DI",
        "HAQ-DI / CHAQ disability index",
        "Mean of the 8 category scores (highest item per category, raised to 2 with aids or "
        "help), Fries 1980 (HAQ-DI) and Singh 1994 (CHAQ) (docs/scoring.md §5).",
    ),
    Method(
        "MT.DOI",
        "IMACS definition of improvement",
        "imacs-doi-2004: at least 3 of 6 core set measures improved by 20 % or more, at most 2 "
        "worse by 25 % or more, manual muscle testing not among the worse (Rider 2004).",
    ),
    Method(
        "MT.TIS",
        "ACR/EULAR total improvement score",
        "acr-eular-2016: 0-100 from the absolute percent change of the 6 core set measures; "
        "categories minimal, moderate, major (Aggarwal 2017, Rider 2017).",
    ),
    Method(
        "MT.CLASSIFICATION",
        "EULAR/ACR classification",
        "eular-acr-2017: the weighted items of the patient's classification assessment, the "
        "probability of myositis and its category and subgroup (Lundberg 2017).",
    ),
    Method(
        "MT.REFRACTORY",
        "Refractory status",
        "refractory_v1: the treatment history's qualifying episodes, confirmed by an "
        "investigator's attestation (docs/outcomes.md).",
    ),
    Method(
        "MT.OUTCOMES",
        "Derived outcomes",
        "Follow-up, lung progression, survival times and treatment-emergent adverse events "
        "from the patient's visits, vital status, lung data and adverse events (docs/outcomes.md).",
    ),
    Method(
        "MT.WORSENING",
        "ProDERM worsening",
        "proderm-worsening-2022: worsening at a visit, confirmed at two consecutive visits "
        "(Aggarwal 2022).",
    ),
)


@dataclass(frozen=True)
class Derived:
    """An item computed by the registry from the form's data (never imported)."""

    name: str
    data_type: str
    question: str
    method: str
    unit: str | None = None


@dataclass(frozen=True, eq=False)  # hashed by identity: the forms are a fixed table
class FormSpec:
    oid: str
    name: str
    model: type[models.Model]
    prefix: str  # of the item OIDs: IT.<prefix>.<FIELD>
    fields: tuple[str, ...]  # attnames of the model, each an item
    repeating: bool = False
    # Items kept by the registry itself (workflow state, derived values): exported, ignored on
    # import, and never an error there.
    managed: frozenset[str] = frozenset()
    methods: dict[str, str] = field(default_factory=dict)  # attname -> MethodDef OID
    derived: tuple[Derived, ...] = ()

    @property
    def group_oid(self) -> str:
        return "IG." + self.oid.removeprefix("FORM.")

    @property
    def object_type(self) -> str:
        return self.model._meta.label_lower


MMT_FIELDS = ("scale", "side", "legacy_total", "neck_flexors") + tuple(
    name
    for name in (f.attname for f in MMT8._meta.concrete_fields)
    if name.endswith(("_right", "_left"))
)

_PATIENT_RECORDS: tuple[FormSpec, ...] = (
    FormSpec(
        "FORM.PATIENT",
        "Demographics and diagnosis",
        Patient,
        "PATIENT",
        (
            "sex",
            "birth_year",
            "birth_month",
            "diagnosis",
            "onset_date",
            "diagnosis_date",
            "serology_group",
        ),
        managed=frozenset({"serology_group"}),
        methods={"serology_group": "MT.SEROLOGY_GROUP"},
    ),  # fmt: skip
    FormSpec(
        "FORM.AUTOANTIBODY",
        "Autoantibodies",
        AutoantibodyResult,
        "AUTOANTIBODY",
        ("antibody", "result", "method", "intensity", "sample_date"),
        repeating=True,
    ),
    FormSpec(
        "FORM.TREATMENT",
        "Treatments",
        TreatmentEpisode,
        "TREATMENT",
        (
            "drug",
            "drug_other",
            "dose",
            "dose_unit",
            "route",
            "frequency",
            "start_date",
            "stop_date",
            "stop_reason",
        ),
        repeating=True,
    ),  # fmt: skip
)

_VISIT_RECORDS: tuple[FormSpec, ...] = (
    FormSpec(
        "FORM.VISIT",
        "Visit: global activity, CMAS, lung function, glucocorticoids",
        Visit,
        "VISIT",
        (
            "visit_date",
            "kind",
            "status",
            "verified_by_id",
            "verified_at",
            "physician_global",
            "patient_global",
            "extramuscular",
            "physician_damage",
            "cmas",
            "fvc_percent",
            "dlco_percent",
            "glucocorticoid_mg_per_day",
        ),
        managed=frozenset({"status", "verified_by_id", "verified_at"}),
    ),  # fmt: skip
    FormSpec(
        "FORM.MMT8",
        "Manual muscle testing (MMT-8)",
        MMT8,
        "MMT8",
        MMT_FIELDS,
        derived=(Derived("total", "integer", "MMT-8 total", "MT.MMT8_TOTAL"),),
    ),
    FormSpec(
        "FORM.LAB",
        "Muscle enzymes",
        LabResult,
        "LAB",
        ("enzyme", "value", "unit", "uln"),
        repeating=True,
    ),
    FormSpec(
        "FORM.HAQ",
        "HAQ-DI / CHAQ",
        HAQ,
        "HAQ",
        ("instrument", "legacy_score", "aids", "help", "not_applicable", *ALL_HAQ_ITEMS),
        derived=(Derived("disability_index", "float", "Disability index (0-3)", "MT.HAQ_DI"),),
    ),
    FormSpec(
        "FORM.SIGNATURE",
        "Electronic signatures",
        Signature,
        "SIGNATURE",
        (
            "signer_id",
            "meaning",
            "signed_at",
            "visit_version",
            "voided_at",
            "voided_by_id",
            "void_reason",
        ),
        repeating=True,
        managed=frozenset(
            {
                "signer_id",
                "meaning",
                "signed_at",
                "visit_version",
                "voided_at",
                "voided_by_id",
                "void_reason",
            }
        ),
    ),  # fmt: skip
    FormSpec(
        "FORM.RESPONSE",
        "Response scores (derived)",
        ResponseRecord,
        "RESPONSE",
        (
            "algorithm",
            "reference_visit_id",
            "reference_kind",
            "previous_visit_id",
            "status",
            "met",
            "score",
            "category",
            "complete",
            "worsened",
            "confirmed",
            "error",
        ),
        repeating=True,
        managed=frozenset(
            {
                "algorithm",
                "reference_visit_id",
                "reference_kind",
                "previous_visit_id",
                "status",
                "met",
                "score",
                "category",
                "complete",
                "worsened",
                "confirmed",
                "error",
            }
        ),
        methods={
            "met": "MT.DOI",
            "score": "MT.TIS",
            "category": "MT.TIS",
            "complete": "MT.TIS",
            "worsened": "MT.WORSENING",
            "confirmed": "MT.WORSENING",
        },
    ),  # fmt: skip
)


_BOOKKEEPING = frozenset({"id", "patient_id", "created_at", "updated_at", "version"})


def columns(model: type[models.Model]) -> tuple[str, ...]:
    """The attnames of a record's data: every concrete field but its key and bookkeeping."""
    return tuple(f.attname for f in model._meta.concrete_fields if f.attname not in _BOOKKEEPING)


def _derived(
    oid: str,
    name: str,
    model: type[models.Model],
    prefix: str,
    fields: tuple[str, ...],
    method: str,
    *,
    repeating: bool = True,
) -> FormSpec:
    """A form of records the registry derives (scoring): every item managed, one method."""
    return FormSpec(
        oid, name, model, prefix, fields, repeating=repeating, managed=frozenset(fields),
        methods=dict.fromkeys(fields, method),
    )  # fmt: skip


# Patient-level records of the submission document (docs/outcomes.md, docs/classification.md).
OUTCOME_FORMS: tuple[FormSpec, ...] = (
    FormSpec(
        "FORM.CLASSIFICATION",
        "EULAR/ACR classification assessment",
        ClassificationAssessment,
        "CLASSIFICATION",
        columns(ClassificationAssessment),
    ),
    FormSpec("FORM.VITAL_STATUS", "Vital status", VitalStatus, "VITAL", columns(VitalStatus)),
    FormSpec("FORM.LUNG", "Lung disease", LungStatus, "LUNG", columns(LungStatus)),
    FormSpec(
        "FORM.HRCT",
        "HRCT assessments",
        HRCTAssessment,
        "HRCT",
        columns(HRCTAssessment),
        repeating=True,
    ),  # fmt: skip
    FormSpec(
        "FORM.ADVERSE_EVENT",
        "Adverse events",
        AdverseEvent,
        "AE",
        columns(AdverseEvent),
        repeating=True,
    ),  # fmt: skip
    # A suspect treatment episode of an adverse event: both by the FormRepeatKey of their forms.
    FormSpec(
        "FORM.AE_RELATION",
        "Adverse events: suspect treatments",
        AdverseEventRelation,
        "AE_RELATION",
        columns(AdverseEventRelation),
        repeating=True,
    ),
)

# Written by the data review and the patient invitation workflows: exported, never imported.
_QUERY = tuple(name for name in columns(DataQuery) if name != "visit_id")
DATA_QUERY_FORM = FormSpec(
    "FORM.DATA_QUERY", "Data queries", DataQuery, "QUERY", _QUERY, repeating=True,
    managed=frozenset(_QUERY),
)  # fmt: skip
# The link's digest is never in the audit trail (crf.invitations), nor here.
_INVITATION = tuple(name for name in columns(ProInvitation) if name != "digest")
_ATTESTATION = ("definition", "meaning", "statement", "attested_by_id", "attested_at")
# Written by the refractory workflow and by scoring: exported, never imported.
DERIVED_FORMS: tuple[FormSpec, ...] = (
    FormSpec(
        "FORM.PRO_INVITATION",
        "Patient-reported outcome invitations",
        ProInvitation,
        "INVITATION",
        _INVITATION,
        repeating=True,
        managed=frozenset(_INVITATION),
    ),
    FormSpec(
        "FORM.REFRACTORY_ATTESTATION",
        "Refractory attestations",
        RefractoryAttestation,
        "ATTESTATION",
        _ATTESTATION,
        repeating=True,
        managed=frozenset(_ATTESTATION),
    ),
    _derived(
        "FORM.CLASSIFICATION_RECORD",
        "Classification (derived)",
        ClassificationRecord,
        "CLASSIFICATION_RECORD",
        CLASSIFICATION_OUTCOME,
        "MT.CLASSIFICATION",
        repeating=False,
    ),  # fmt: skip
    _derived(
        "FORM.REFRACTORY",
        "Refractory status (derived)",
        RefractoryRecord,
        "REFRACTORY",
        ("definition", "as_of", "status", "episodes", "attestation_id"),
        "MT.REFRACTORY",
    ),  # fmt: skip
    _derived(
        "FORM.EPISODE_REFRACTORY",
        "Refractory status at treatment start (derived)",
        EpisodeRefractory,
        "EPISODE_REFRACTORY",
        columns(EpisodeRefractory),
        "MT.REFRACTORY",
    ),  # fmt: skip
    _derived(
        "FORM.FOLLOW_UP",
        "Follow-up (derived)",
        FollowUp,
        "FOLLOW_UP",
        ("last_known_alive", "death_date", "last_follow_up"),
        "MT.OUTCOMES",
        repeating=False,
    ),  # fmt: skip
    _derived(
        "FORM.LUNG_PROGRESSION",
        "Lung progression (derived)",
        LungProgression,
        "LUNG_PROGRESSION",
        columns(LungProgression),
        "MT.OUTCOMES",
    ),  # fmt: skip
    _derived(
        "FORM.EPISODE_SURVIVAL",
        "Survival per treatment episode (derived)",
        EpisodeSurvival,
        "SURVIVAL",
        columns(EpisodeSurvival),
        "MT.OUTCOMES",
    ),  # fmt: skip
    _derived(
        "FORM.EPISODE_AE",
        "Treatment-emergent adverse events (derived)",
        EpisodeAdverseEvent,
        "EPISODE_AE",
        columns(EpisodeAdverseEvent),
        "MT.OUTCOMES",
    ),  # fmt: skip
)

PATIENT_FORMS: tuple[FormSpec, ...] = _PATIENT_RECORDS + OUTCOME_FORMS + DERIVED_FORMS
VISIT_FORMS: tuple[FormSpec, ...] = _VISIT_RECORDS + (DATA_QUERY_FORM,)
