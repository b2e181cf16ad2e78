"""A HAQ-DI or CHAQ as it was entered, item by item, for the visit page: a monitor compares it
with the paper questionnaire (source data verification), so every answer is shown as given,
unanswered items as blank, with each category's aids/devices and help and its score
(docs/scoring.md §5: the highest answer, raised to 2 by an aid or help)."""

from typing import Any

from crf.models import HAQ
from scoring.instruments import CHAQ_CATEGORIES, HAQ_CATEGORIES
from scoring.instruments.haq import AID_OR_HELP_MINIMUM, NOT_APPLICABLE
from web.labels import (
    CHAQ_ITEM_LABELS,
    CHAQ_NOT_APPLICABLE,
    HAQ_ANSWERS,
    HAQ_CATEGORY_LABELS,
    HAQ_ITEM_LABELS,
)

_ANSWER_LABELS = dict(HAQ_ANSWERS) | {CHAQ_NOT_APPLICABLE[0]: CHAQ_NOT_APPLICABLE[1]}


def haq_answers(haq: HAQ | None) -> list[dict[str, Any]]:
    """One entry per category: its items with the answer as entered ("" when unanswered), its
    aids/help, and its category score (None when no item is answered). Empty for no
    questionnaire or a legacy index entered without items."""
    if haq is None or haq.legacy_score is not None:
        return []
    chaq = haq.instrument == HAQ.Instrument.CHAQ
    categories = CHAQ_CATEGORIES if chaq else HAQ_CATEGORIES
    labels = CHAQ_ITEM_LABELS if chaq else HAQ_ITEM_LABELS
    not_applicable = set(haq.not_applicable or ())
    out = []
    for category, items in categories.items():
        rows = []
        answers = []
        for item in items:
            value = getattr(haq, item)
            if item in not_applicable:
                code = NOT_APPLICABLE
            elif value is None:
                code = ""
            else:
                code = str(value)
                answers.append(value)
            rows.append(
                {"item": item, "label": labels[item], "answer": _ANSWER_LABELS.get(code, code)}
            )
        aid = category in (haq.aids or ())
        helped = category in (haq.help or ())
        score = max(answers) if answers else None
        if score is not None and (aid or helped):
            score = max(score, AID_OR_HELP_MINIMUM)
        out.append(
            {
                "code": category,
                "label": HAQ_CATEGORY_LABELS[category],
                "items": rows,
                "aids": aid,
                "help": helped,
                "score": score,
            }
        )
    return out
