"""A hand-built cohort for the survival and safety reports, every figure known in advance.

Every episode starts on 2020-01-01 (day 0) unless said otherwise; days are counted from it.
Written through the outcome services (crf.outcomes), then scored once by the pipeline, which
derives the survival times and treatment-emergent events the reports count.

Tacrolimus, site AAA, six patients (overall survival from the start):
    T1 dies day 100 (ILD, cause interstitial lung disease; onset day −30, FVC 80 on day −5);
       a serious infection on day 20, possibly related.
    T2 dies day 100 (the tie), of a fatal infection that began on day 90 (unlikely related).
    T3 alive, last known day 100: censored at the time of two deaths (ILD, onset day −30; FVC
       80 on day −5, 70 on day 50: progression).
    T4 dies day 200 with no visit after the start (cause malignancy); a cytopenia on day −20,
       before the start, not related: not treatment-emergent.
    T5 stopped day 300 for definite hepatotoxicity (day 290, withdrawn); alive, last known
       day 400.
    T6 alive, last known day 800; an infection on day −10 (not related: not emergent) and
       hyperglycaemia on day 500 (ongoing episode: emergent).
Ciclosporin, site BBB, five patients: deaths on days 50 (C1), 150 (C2), 300 (C3) and 500 (C5),
    C4 alive, last known day 365. C1 also took methotrexate from 2019-12-01 to 2020-02-01 and
    had an infection on 2020-01-20 related to both episodes (possible, probable).
IVIG, site BBB, one patient (I1): 2020-01-01 to 2020-03-01, alive, last known 2020-06-01.
"""

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from crf.outcomes import RelationValues, adverse_event_upsert, lung_save, vital_status_save
from registry.audit import Actor
from scoring.services import score_patients
from tests.factories import PatientFactory, SiteFactory, TreatmentFactory, VisitFactory

START = date(2020, 1, 1)
ACTOR = Actor(user=None, source="command", reason="test cohort")


def day(n: int) -> date:
    return START + timedelta(days=n)


def _alive(patient: Any, last: int) -> None:
    vital_status_save(
        actor=ACTOR, patient=patient, values={"status": "alive", "last_known_alive": day(last)}
    )


def _dead(patient: Any, when: int, cause: str) -> None:
    vital_status_save(
        actor=ACTOR,
        patient=patient,
        values={"status": "dead", "death_date": day(when), "cause_category": cause},
    )


def _event(patient: Any, onset: int, category: str, relations=(), **values: Any) -> None:
    adverse_event_upsert(
        actor=ACTOR,
        patient=patient,
        values={
            "term": f"{category} on day {onset}",
            "category": category,
            "onset_date": day(onset),
            "end_date": None,
            "severity": "moderate",
            "serious": False,
            "outcome": "recovering",
            **values,
        },
        relations=list(relations),
    )


def _ild(patient: Any, *fvc: tuple[int, str]) -> None:
    lung_save(actor=ACTOR, patient=patient, values={"ild": "yes", "ild_onset_date": day(-30)})
    for when, value in fvc:
        VisitFactory(patient=patient, visit_date=day(when), fvc_percent=Decimal(value))


def build() -> dict[str, int]:
    aaa, bbb = SiteFactory(code="AAA"), SiteFactory(code="BBB")
    ids: dict[str, int] = {}
    episodes: dict[str, Any] = {}

    def patient(name: str, site: Any, drug: str, stop: int | None = None, reason: str = "") -> Any:
        found = PatientFactory(site=site, patient_id=name)
        ids[name] = found.pk
        episodes[name] = TreatmentFactory(
            patient=found,
            drug=drug,
            start_date=START,
            stop_date=None if stop is None else day(stop),
            stop_reason=reason,
        )
        return found

    t1 = patient("T1", aaa, "tacrolimus")
    _ild(t1, (-5, "80"))
    _event(t1, 20, "infection", [RelationValues(episodes["T1"], "possible", "none")],
           serious=True, criterion_hospitalisation=True)  # fmt: skip
    _dead(t1, 100, "interstitial_lung_disease")
    t2 = patient("T2", aaa, "tacrolimus")
    _dead(t2, 100, "infection")
    _event(t2, 90, "infection", [RelationValues(episodes["T2"], "unlikely", "none")],
           end_date=day(100), serious=True, criterion_death=True, outcome="fatal",
           severity="severe", ctcae_grade=5)  # fmt: skip
    t3 = patient("T3", aaa, "tacrolimus")
    _ild(t3, (-5, "80"), (50, "70"))
    _alive(t3, 100)
    t4 = patient("T4", aaa, "tacrolimus")
    _event(t4, -20, "cytopenia", [RelationValues(episodes["T4"], "not_related", "none")])
    _dead(t4, 200, "malignancy")
    t5 = patient("T5", aaa, "tacrolimus", stop=300, reason="adverse_event")
    _event(t5, 290, "hepatotoxicity", [RelationValues(episodes["T5"], "definite", "withdrawn")])
    _alive(t5, 400)
    t6 = patient("T6", aaa, "tacrolimus")
    _event(t6, -10, "infection")
    _event(t6, 500, "hyperglycaemia")
    _alive(t6, 800)

    for name, death in (("C1", 50), ("C2", 150), ("C3", 300), ("C4", None), ("C5", 500)):
        found = patient(name, bbb, "ciclosporin")
        if death is None:
            _alive(found, 365)
        else:
            _dead(found, death, "myositis")
    c1 = episodes["C1"].patient
    methotrexate = TreatmentFactory(patient=c1, drug="methotrexate", start_date=date(2019, 12, 1),
                                    stop_date=date(2020, 2, 1))  # fmt: skip
    episodes["C1-MTX"] = methotrexate
    _event(c1, 19, "infection", [RelationValues(episodes["C1"], "possible", "none"),
                                 RelationValues(methotrexate, "probable", "none")])  # fmt: skip
    i1 = patient("I1", bbb, "ivig", stop=60)
    _alive(i1, 152)
    score_patients(patient_ids=list(ids.values()))
    ids.update({f"E-{name}": episode.pk for name, episode in episodes.items()})
    return ids
