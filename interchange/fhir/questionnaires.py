"""The HAQ-DI and CHAQ as FHIR Questionnaires (exported once, in bulk), and each visit's answers as
a QuestionnaireResponse.

The structure is the instruments' own (scoring.instruments.haq): one group per category holding
its items, answered 0–3 (CHAQ items also "not applicable"), then the categories where aids or
devices and where help from another person were used — everything the disability index is
computed from, so that a receiving system can recompute it. Item texts are the registry's
(crf.wording), the words the patient read.
"""

from __future__ import annotations

from typing import Any

from crf.models import HAQ, Visit
from crf.wording import CHAQ_ITEM_LABELS, HAQ_CATEGORY_LABELS, HAQ_ITEM_LABELS
from interchange.fhir.terminology import (
    HAQ_ANSWER,
    HAQ_CATEGORY,
    coding,
    questionnaire_url,
    site_reference,
)
from registry.models import Patient
from scoring.instruments.haq import CHAQ_CATEGORIES, HAQ_CATEGORIES, NOT_APPLICABLE

# instrument → (Questionnaire id, title, categories, item texts)
INSTRUMENTS: dict[str, tuple[str, str, dict[str, tuple[str, ...]], dict[str, str]]] = {
    HAQ.Instrument.HAQ: (
        "haq-di",
        "Stanford Health Assessment Questionnaire disability index (HAQ-DI)",
        HAQ_CATEGORIES,
        HAQ_ITEM_LABELS,
    ),
    HAQ.Instrument.CHAQ: (
        "chaq",
        "Childhood Health Assessment Questionnaire (CHAQ)",
        CHAQ_CATEGORIES,
        CHAQ_ITEM_LABELS,
    ),
}
ANSWERS = ("0", "1", "2", "3")
AIDS, HELP = "aids", "help"
AIDS_TEXT = "Categories in which aids or devices are usually used"
HELP_TEXT = "Categories in which help from another person is usually needed"


def _options(codes: tuple[str, ...], system: str) -> list[dict[str, Any]]:
    return [{"valueCoding": coding(system, code)} for code in codes]


def questionnaire(instrument: str) -> dict[str, Any]:
    ident, title, categories, texts = INSTRUMENTS[instrument]
    answers = (*ANSWERS, NOT_APPLICABLE) if instrument == HAQ.Instrument.CHAQ else ANSWERS
    groups = [
        {
            "linkId": name,
            "text": HAQ_CATEGORY_LABELS[name],
            "type": "group",
            "item": [
                {
                    "linkId": item,
                    "text": texts[item],
                    "type": "choice",
                    "answerOption": _options(answers, HAQ_ANSWER),
                }
                for item in items
            ],
        }
        for name, items in categories.items()
    ]
    every_category = tuple(HAQ_CATEGORY_LABELS)
    flags = [
        {
            "linkId": link,
            "text": text,
            "type": "choice",
            "repeats": True,
            "answerOption": _options(every_category, HAQ_CATEGORY),
        }
        for link, text in ((AIDS, AIDS_TEXT), (HELP, HELP_TEXT))
    ]
    return {
        "resourceType": "Questionnaire",
        "id": ident,
        "url": questionnaire_url(ident),
        "name": ident.replace("-", "_").upper(),
        "title": title,
        "status": "active",
        "subjectType": ["Patient"],
        "item": [*groups, *flags],
    }


def questionnaires() -> list[dict[str, Any]]:
    return [questionnaire(instrument) for instrument in INSTRUMENTS]


def response_id(visit: Visit) -> str:
    return f"{visit.pk}-haq"


def questionnaire_response(
    haq: HAQ, visit: Visit, patient: Patient, *, entered_by_patient: bool
) -> dict[str, Any] | None:
    """The visit's HAQ/CHAQ answers, or None when only a legacy index was recorded (no items).

    `source` is the patient when the patient entered the answers themselves; otherwise the
    answers are the site's (`author`, the site as an Organization identifier).
    """
    ident, _, categories, texts = INSTRUMENTS[haq.instrument]
    answers = haq.items()
    groups = []
    for name, items in categories.items():
        answered = [
            {
                "linkId": item,
                "text": texts[item],
                "answer": [{"valueCoding": coding(HAQ_ANSWER, str(answers[item]))}],
            }
            for item in items
            if answers.get(item) is not None
        ]
        if answered:
            groups.append({"linkId": name, "text": HAQ_CATEGORY_LABELS[name], "item": answered})
    if not groups:
        return None
    flags = []
    for link, text, chosen in ((AIDS, AIDS_TEXT, haq.aids), (HELP, HELP_TEXT, haq.help)):
        # The readers allow only the categories; stored JSON written around them might not.
        names = [name for name in chosen or () if name in HAQ_CATEGORY_LABELS]
        if names:
            answer = [{"valueCoding": coding(HAQ_CATEGORY, name)} for name in names]
            flags.append({"linkId": link, "text": text, "answer": answer})
    subject = {"reference": f"Patient/{patient.pk}"}
    response: dict[str, Any] = {
        "resourceType": "QuestionnaireResponse",
        "id": response_id(visit),
        "questionnaire": questionnaire_url(ident),
        "status": "in-progress" if visit.status == Visit.Status.DRAFT else "completed",
        "subject": subject,
        "authored": visit.visit_date.isoformat(),
        "item": [*groups, *flags],
    }
    if entered_by_patient:
        response["source"] = subject
    else:
        response["author"] = site_reference(patient.site.code, patient.site.name)
    return response
