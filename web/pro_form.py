"""The patient's questionnaire (issue 17) ⇄ the answers in the visit document's shape.

The item texts are the visit form's (web.labels); the answers are read by the same readers as
every visit (crf.invitations → crf.documents), whose JSON-path errors land on the question of
that name ("haq.items.walk", "patient_global").
"""

from dataclasses import dataclass, field
from typing import Any

from django.http import QueryDict

from crf.models import HAQ
from crf.pro_models import ProInvitation
from scoring.instruments import CHAQ_CATEGORIES, HAQ_CATEGORIES
from web.labels import CHAQ_ITEM_LABELS, HAQ_ANSWERS, HAQ_CATEGORY_LABELS, HAQ_ITEM_LABELS
from web.visit_form import parse_number

# The answers in plain words: "0 – no difficulty" → "No difficulty".
ANSWERS = [(code, text.split(" – ", 1)[1].capitalize()) for code, text in HAQ_ANSWERS]
NOT_APPLICABLE = ("na", "Does not apply (too young, or never does it)")
GLOBALS = {
    "patient_global": (
        "How active is your illness today?",
        "Think of everything your myositis does to you today. "
        "0 means not active at all, 10 means as active as it could be.",
    ),
    "patient_global_damage": (
        "How much lasting damage has your illness done?",
        "Think of the harm that stays even when the illness is calm (for example weakness "
        "that does not go away). 0 means no damage, 10 means the most damage possible.",
    ),
}


def dom_id(name: str) -> str:
    return "q-" + name.replace(".", "-").replace("_", "-")


@dataclass
class Option:
    value: str
    label: str
    checked: bool = False


@dataclass
class Question:
    name: str
    label: str
    options: list[Option] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    value: str = ""
    hint: str = ""

    @property
    def id(self) -> str:
        return dom_id(self.name)


@dataclass
class Category:
    code: str
    label: str
    items: list[Question]
    aids: bool = False
    help: bool = False


class ProForm:
    """What the patient's page shows, filled from saved or posted answers."""

    def __init__(self, invitation: ProInvitation, answers: dict[str, Any] | None = None) -> None:
        self.invitation = invitation
        self.answers = answers or {}
        self.errors: dict[str, list[str]] = {}
        self.summary: list[tuple[str, str]] = []

    @property
    def is_chaq(self) -> bool:
        return self.invitation.haq_instrument == HAQ.Instrument.CHAQ

    @property
    def asks_haq(self) -> bool:
        return "haq" in self.invitation.instruments

    def add_errors(self, errors: list[tuple[str, str]]) -> None:
        for path, message in errors:
            # A CHAQ's answers are read at "chaq" when a patient app sent them under that key.
            key = "haq" + path[4:] if path.startswith("chaq") else path
            self.errors.setdefault(key, []).append(message)
            self.summary.append((dom_id(self._anchor(key)), message))

    def _anchor(self, path: str) -> str:
        if path.startswith("haq.aids") or path.startswith("haq.help"):
            return "haq"
        return path or "questions"

    @property
    def categories(self) -> list[Category]:
        spec = CHAQ_CATEGORIES if self.is_chaq else HAQ_CATEGORIES
        labels = CHAQ_ITEM_LABELS if self.is_chaq else HAQ_ITEM_LABELS
        haq = self.answers.get("haq") or {}
        items = haq.get("items") or {}
        aids = set(haq.get("aids") or ())
        helped = set(haq.get("help") or ())
        choices = [*ANSWERS, NOT_APPLICABLE] if self.is_chaq else ANSWERS
        result = []
        for code, names in spec.items():
            questions = []
            for item in names:
                given = items.get(item)
                given = "" if given is None else str(given)
                name = f"haq.items.{item}"
                questions.append(
                    Question(
                        name=name,
                        label=labels[item],
                        options=[Option(v, text, v == given) for v, text in choices],
                        errors=self.errors.get(name, []),
                    )
                )
            result.append(
                Category(
                    code=code,
                    label=HAQ_CATEGORY_LABELS[code],
                    items=questions,
                    aids=code in aids,
                    help=code in helped,
                )
            )
        return result

    @property
    def globals(self) -> list[Question]:
        result = []
        for name, (label, hint) in GLOBALS.items():
            if name not in self.invitation.instruments:
                continue
            value = self.answers.get(name)
            result.append(
                Question(
                    name=name,
                    label=label,
                    hint=hint,
                    value="" if value is None else str(value),
                    errors=self.errors.get(name, []),
                )
            )
        return result

    @property
    def respondent(self) -> Question:
        given = self.answers.get("respondent") or ""
        return Question(
            name="respondent",
            label="Who is answering?",
            options=[
                Option("patient", "The child or young person", given == "patient"),
                Option("parent", "A parent or carer", given == "parent"),
            ],
            errors=self.errors.get("respondent", []),
        )

    @property
    def category_errors(self) -> list[str]:
        return self.errors.get("haq", []) + [
            m for k, v in self.errors.items() if k.startswith(("haq.aids", "haq.help")) for m in v
        ]


def answers_from_post(invitation: ProInvitation, post: QueryDict) -> dict[str, Any]:
    """The posted form as answers in the document's shape; text that is not a number is passed
    on as typed, so that the reader names it rather than the form dropping it."""
    answers: dict[str, Any] = {}
    if "haq" in invitation.instruments:
        items: dict[str, Any] = {}
        spec = (
            CHAQ_CATEGORIES if invitation.haq_instrument == HAQ.Instrument.CHAQ else HAQ_CATEGORIES
        )
        for names in spec.values():
            for item in names:
                raw = post.get(f"haq.items.{item}", "").strip()
                if raw:
                    items[item] = raw if raw == "na" else parse_number(raw)
        answers["haq"] = {
            "items": items,
            "aids": post.getlist("haq.aids"),
            "help": post.getlist("haq.help"),
        }
        if invitation.haq_instrument == HAQ.Instrument.CHAQ and post.get("respondent"):
            answers["respondent"] = post.get("respondent")
    for name in GLOBALS:
        if name in invitation.instruments:
            value = parse_number(post.get(name, ""))
            if value is not None:
                answers[name] = value
    return answers
