"""The submission document's outcome records (vital status, lung disease, HRCT scans, adverse
events) in the OpenAPI schema."""

from api.schema.examples import OUTCOME_EXAMPLE
from api.schema.fields import (
    Schema,
    date_field,
    enum_field,
    number_field,
    object_field,
    text_field,
)
from crf.models import (
    AdverseEvent,
    AdverseEventRelation,
    HRCTAssessment,
    LungStatus,
    VitalStatus,
)
from crf.outcome_documents import (
    SERIOUS_CRITERIA,
)
from registry.vocabularies import (
    Drug,
)


def vital_status_schema() -> Schema:
    return {
        **object_field(
            {
                "status": enum_field(
                    VitalStatus.Status, "Lost to follow-up: unknown, with the last contact date."
                ),
                "last_known_alive": date_field("Last date known alive.", nullable=True),
                "death_date": {
                    "type": "string",
                    "nullable": True,
                    "pattern": r"^\d{4}-\d{2}(-\d{2})?$",
                    "description": "Date of death, YYYY-MM-DD, or YYYY-MM when only the month is "
                    "known (the 15th is used for analysis). Required when dead, only then.",
                },
                "cause_category": enum_field(
                    VitalStatus.Cause, "Cause of death; only when dead.", nullable=True
                ),
                "cause_text": text_field(200, "Cause of death, verbatim; only when dead."),
                "source": enum_field(
                    VitalStatus.Source, "Source of the information.", nullable=True
                ),
            },
            ["status"],
            "Vital status. A fatal adverse event needs it dead, on or after the event's onset.",
        ),
        "example": OUTCOME_EXAMPLE["vital_status"],
    }


def lung_schema() -> Schema:
    return {
        **object_field(
            {
                "ild": enum_field(LungStatus.Ild, "Interstitial lung disease present."),
                "ild_onset_date": date_field("ILD onset; only when `ild` is yes.", nullable=True),
                "rapidly_progressive": {
                    "type": "boolean",
                    "nullable": True,
                    "description": "Rapidly progressive ILD; only when `ild` is yes.",
                },
            },
            ["ild"],
            "Interstitial lung disease (FVC and DLCO are on the visits).",
        ),
        "example": OUTCOME_EXAMPLE["lung"],
    }


def hrct_schema() -> Schema:
    return {
        **object_field(
            {
                "date": date_field("Date of the scan: its key within the patient."),
                "pattern": enum_field(HRCTAssessment.Pattern),
                "progression": {
                    "type": "boolean",
                    "nullable": True,
                    "description": "Radiological progression against the previous scan.",
                },
            },
            ["date", "pattern"],
            "An HRCT assessment.",
        ),
        "example": OUTCOME_EXAMPLE["hrct"][0],
    }


def adverse_event_schema() -> Schema:
    related = object_field(
        {
            "drug": enum_field(Drug),
            "start_date": date_field("Start date of the episode."),
            "relatedness": enum_field(AdverseEventRelation.Relatedness),
            "action": enum_field(AdverseEventRelation.Action, "Action taken with the treatment."),
        },
        ["drug", "start_date", "relatedness", "action"],
        "A suspect treatment episode, named by drug and start date: one of the patient's "
        "treatments, in this document or stored.",
    )
    return {
        **object_field(
            {
                "term": text_field(200, "Verbatim term.", nullable=False),
                "category": enum_field(AdverseEvent.Category),
                "onset_date": date_field("Onset date."),
                "end_date": date_field("End date; null while ongoing.", nullable=True),
                "severity": enum_field(AdverseEvent.Severity, "Intensity."),
                "ctcae_grade": number_field(
                    1, 5, "Optional CTCAE grade; 5 is fatal.", integer=True
                ),
                "serious": {
                    "type": "boolean",
                    "description": "Serious (ICH E2A): exactly when a criterion is given.",
                },
                "serious_criteria": {
                    "type": "array",
                    "nullable": True,
                    "items": {"type": "string", "enum": list(SERIOUS_CRITERIA)},
                    "description": "ICH E2A criteria; `death` exactly when the outcome is fatal.",
                },
                "related_to": {
                    "type": "array",
                    "nullable": True,
                    "items": related,
                    "description": "Relatedness and action per suspect treatment episode; the "
                    "event's relations are replaced by these.",
                },
                "outcome": enum_field(AdverseEvent.Outcome),
            },
            ["term", "category", "onset_date", "severity", "serious", "outcome"],
            "An adverse event (after CDISC SDTM AE); severity is intensity, seriousness is "
            "consequence.",
        ),
        "example": OUTCOME_EXAMPLE["adverse_events"][0],
    }
