"""The survival and safety reports in benchmarks/reports.py: each timed next to a hand-written SQL
statement that computes the same counts over the same tables, results compared.

When the seeded cohort holds no outcome data (vital status, lung status, adverse events), some
is added first — deterministic, at plausible rates — and the patients concerned are scored again
with the real pipeline, so that the derived tables (scoring.FollowUp, EpisodeSurvival,
EpisodeAdverseEvent) hold what the pipeline makes of it.
"""

from __future__ import annotations

import random
import time
from datetime import date, timedelta
from typing import Any

# Overall survival from the episode's start, per drug: the numbers of the Kaplan–Meier estimate
# (n, events, median, survival and numbers at risk at 183, 364 and 728 days) in SQL, as
# reports.survival.survival_report computes them with lifelines.
SURVIVAL_SQL = """
WITH obs AS (
    SELECT e.drug, s.patient_id, s.os_days AS t, s.os_event AS event
    FROM scoring_episodesurvival s JOIN registry_treatmentepisode e ON e.id = s.episode_id
    WHERE s.time_zero = 'episode' AND s.definition = 'relative_fvc10_dlco15'
),
times AS (
    SELECT drug, t, count(*) FILTER (WHERE event) AS events, count(*) AS leaving
    FROM obs GROUP BY drug, t
),
risk AS (
    SELECT drug, t, events, sum(leaving) OVER (PARTITION BY drug ORDER BY t DESC) AS at_risk
    FROM times
),
curve AS (
    SELECT drug, t, events,
           CASE WHEN bool_or(events = at_risk) OVER w THEN 0.0
                ELSE exp(sum(ln(nullif(1 - events::float8 / at_risk, 0))) OVER w) END AS survival
    FROM risk
    WINDOW w AS (PARTITION BY drug ORDER BY t)
),
reads AS (
    SELECT d.drug, r.day,
           (SELECT count(*) FROM obs o WHERE o.drug = d.drug AND o.t >= r.day) AS at_risk,
           coalesce((SELECT c.survival FROM curve c WHERE c.drug = d.drug AND c.t <= r.day
                     ORDER BY c.t DESC LIMIT 1), 1.0) AS survival
    FROM (SELECT DISTINCT drug FROM obs) d CROSS JOIN (VALUES (183), (364), (728)) r(day)
)
SELECT o.drug,
       count(DISTINCT o.patient_id) AS patients,
       count(*) AS episodes,
       count(*) FILTER (WHERE o.event) AS events,
       (SELECT min(c.t) FROM curve c
        WHERE c.drug = o.drug AND c.events > 0 AND c.survival <= 0.5 + 1e-12) AS median_days,
       (SELECT json_object_agg(r.day, json_build_array(
            CASE WHEN r.at_risk = 0 AND r.survival > 1e-12 THEN NULL ELSE r.survival END,
            r.at_risk))
        FROM reads r WHERE r.drug = o.drug) AS reads
FROM obs o
GROUP BY o.drug
ORDER BY o.drug
"""

# Safety per drug, as reports.safety.safety_report counts it.
SAFETY_SQL = """
WITH ep AS (
    SELECT e.id, e.drug, e.patient_id, e.start_date, e.stop_date, e.stop_reason,
           f.last_follow_up, f.death_date,
           EXISTS (SELECT 1 FROM scoring_episodeadverseevent x WHERE x.episode_id = e.id) AS ae,
           EXISTS (SELECT 1 FROM scoring_episodeadverseevent x
                   JOIN crf_adverseevent a ON a.id = x.adverse_event_id
                   WHERE x.episode_id = e.id AND a.serious) AS serious,
           EXISTS (SELECT 1 FROM scoring_episodeadverseevent x
                   WHERE x.episode_id = e.id AND x.related) AS related,
           EXISTS (SELECT 1 FROM scoring_episodeadverseevent x
                   WHERE x.episode_id = e.id AND x.withdrawn) AS withdrawn,
           EXISTS (SELECT 1 FROM scoring_episodeadverseevent x
                   JOIN crf_adverseevent a ON a.id = x.adverse_event_id
                   WHERE x.episode_id = e.id AND a.outcome = 'fatal') AS fatal
    FROM registry_treatmentepisode e
    LEFT JOIN scoring_followup f ON f.patient_id = e.patient_id
)
SELECT drug,
       count(DISTINCT patient_id) AS exposed,
       count(*) AS episodes,
       sum(greatest(coalesce(stop_date, last_follow_up) - start_date, 0)) AS exposure_days,
       count(DISTINCT patient_id) FILTER (WHERE ae) AS patients_with_ae,
       count(DISTINCT patient_id) FILTER (WHERE serious) AS patients_with_serious_ae,
       count(DISTINCT patient_id) FILTER (WHERE related) AS patients_with_related_ae,
       count(DISTINCT patient_id) FILTER (WHERE withdrawn OR stop_reason = 'adverse_event')
           AS patients_withdrawn_for_ae,
       count(DISTINCT patient_id) FILTER (WHERE fatal) AS patients_with_fatal_ae,
       count(DISTINCT patient_id) FILTER (
           WHERE death_date >= start_date
             AND (stop_date IS NULL OR death_date <= stop_date + 30)) AS deaths,
       (SELECT count(*) FROM scoring_episodeadverseevent x
        JOIN registry_treatmentepisode e2 ON e2.id = x.episode_id
        WHERE e2.drug = ep.drug) AS events
FROM ep
GROUP BY drug
ORDER BY drug
"""

CATEGORIES = {
    "ivig": ("thromboembolic", "infusion_reaction"),
    "cyclophosphamide": ("infection", "cytopenia"),
    "rituximab": ("infection", "infusion_reaction"),
    "prednisone": ("hyperglycaemia", "osteoporotic_fracture"),
}


def add_outcome_data(seed: int) -> int:
    """Vital status for every patient with an episode, ILD for a third, adverse events for about
    a fifth of the episodes; returns the patients given data (0 when some was there)."""
    from django.db.models import Max

    from crf.models import AdverseEvent, AdverseEventRelation, LungStatus, Visit, VitalStatus
    from registry.models import TreatmentEpisode

    if VitalStatus.objects.exists():
        return 0
    rng = random.Random(seed)
    today = date.today()
    last_visit = dict(
        Visit.objects.values("patient_id")
        .order_by()
        .annotate(last=Max("visit_date"))
        .values_list("patient_id", "last")
    )
    episodes = list(
        TreatmentEpisode.objects.values_list("pk", "patient_id", "drug", "start_date", "stop_date")
    )
    first_start: dict[int, date] = {}
    for _, patient, _, start, _ in episodes:
        first_start[patient] = min(start, first_start.get(patient, start))
    vitals, lungs, events, relations = [], [], [], []
    for patient, start in first_start.items():
        last = max(last_visit.get(patient, start), start)
        if rng.random() < 0.08:
            death = min(last + timedelta(days=rng.randint(0, 400)), today)
            vitals.append(
                VitalStatus(
                    patient_id=patient,
                    status="dead",
                    death_date=death,
                    death_date_precision="day",
                    last_known_alive=last,
                    cause_category=rng.choice(VitalStatus.Cause.values),
                )
            )
        else:
            vitals.append(VitalStatus(patient_id=patient, status="alive", last_known_alive=last))
        if rng.random() < 0.33:
            lungs.append(
                LungStatus(
                    patient_id=patient,
                    ild="yes",
                    ild_onset_date=start - timedelta(days=rng.randint(0, 300)),
                )
            )
    keyed = {}
    for pk, patient, drug, start, stop in episodes:
        if rng.random() >= 0.2:
            continue
        end = stop or today
        onset = start + timedelta(days=rng.randint(0, max((end - start).days, 0)))
        onset = min(onset, today)
        category = rng.choice(CATEGORIES.get(drug, ("infection", "other")))
        serious = rng.random() < 0.25
        event = AdverseEvent(
            patient_id=patient,
            term=f"{category} {pk}",
            category=category,
            onset_date=onset,
            end_date=None,
            severity="moderate",
            serious=serious,
            criterion_hospitalisation=serious,
            outcome="recovering",
        )
        events.append(event)
        keyed[event.term] = (pk, rng.random())
    VitalStatus.objects.bulk_create(vitals, batch_size=2000)
    LungStatus.objects.bulk_create(lungs, batch_size=2000)
    AdverseEvent.objects.bulk_create(events, batch_size=2000)
    for event in AdverseEvent.objects.only("pk", "term"):
        episode, draw = keyed[event.term]
        if draw < 0.5:
            relatedness = "probable" if draw < 0.3 else "unlikely"
            action = "withdrawn" if draw < 0.05 else "none"
            relations.append(
                AdverseEventRelation(
                    adverse_event_id=event.pk,
                    episode_id=episode,
                    relatedness=relatedness,
                    action=action,
                )
            )
    AdverseEventRelation.objects.bulk_create(relations, batch_size=2000)
    return len(first_start)


def derive(batch: int = 500) -> float:
    """Score every patient with an episode again: the pipeline writes the derived outcomes."""
    from registry.models import TreatmentEpisode
    from scoring.services import score_patients

    ids = sorted(set(TreatmentEpisode.objects.values_list("patient_id", flat=True)))
    started = time.perf_counter()
    for index in range(0, len(ids), batch):
        score_patients(patient_ids=ids[index : index + batch], computed_by="benchmark")
    return time.perf_counter() - started


def _close(a: Any, b: Any, tolerance: float = 1e-6) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return abs(float(a) - float(b)) < tolerance


def survival_differences(report: Any, rows: list[dict[str, Any]]) -> list[str]:
    from reports.survival import READ_AT

    by_drug = {row["drug"]: row for row in rows}
    if set(by_drug) != {row.treatment for row in report.rows}:
        return [f"drugs differ: {sorted(by_drug)}"]
    differences = []
    for row in report.rows:
        sql = by_drug[row.treatment]
        median = row.estimate.median
        ours = {
            "patients": row.patients,
            "episodes": row.episodes,
            "events": row.events,
            "median_days": median,
        }
        for key, value in ours.items():
            if not _close(value, sql[key]):
                differences.append(f"{row.treatment} {key}: report {value}, SQL {sql[key]}")
        for weeks, days in READ_AT.items():
            found = row.at_weeks(weeks)
            estimate, at_risk = sql["reads"][str(days)]
            if not (_close(found.estimate, estimate) and found.at_risk == at_risk):
                differences.append(
                    f"{row.treatment} {weeks} weeks: report {found.estimate}/{found.at_risk}, "
                    f"SQL {estimate}/{at_risk}"
                )
    return differences


def safety_differences(report: Any, rows: list[dict[str, Any]]) -> list[str]:
    by_drug = {row["drug"]: row for row in rows}
    if set(by_drug) != {row.treatment for row in report.rows}:
        return [f"drugs differ: {sorted(by_drug)}"]
    differences = []
    names = (
        "patients_with_ae",
        "patients_with_serious_ae",
        "patients_with_related_ae",
        "patients_withdrawn_for_ae",
        "patients_with_fatal_ae",
        "events",
    )
    for row in report.rows:
        sql = by_drug[row.treatment]
        ours = {
            "exposed": row.patients_exposed,
            "episodes": row.episodes,
            "deaths": row.deaths,
            "exposure_days": round(row.patient_years * 365.25),
            **{name: getattr(row.counts, name) for name in names},
        }
        for key, value in ours.items():
            if not _close(value, sql[key], 0.5 if key == "exposure_days" else 1e-6):
                differences.append(f"{row.treatment} {key}: report {value}, SQL {sql[key]}")
    return differences


def run(best: Any, repeat: int, seed: int, goal: float) -> None:
    """Add outcome data if needed, then time both reports against their SQL and compare."""
    from django.db import connection

    from reports.disclosure import Disclosure
    from reports.filters import ReportFilters
    from reports.safety import safety_report
    from reports.survival import SurvivalQuery, survival_report
    from scoring.models import EpisodeAdverseEvent, EpisodeSurvival

    added = add_outcome_data(seed)
    if added or not EpisodeSurvival.objects.exists():
        print(f"outcome data added for {added:,} patients; deriving…", flush=True)
        print(f"derived outcomes in {derive():,.0f} s", flush=True)
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    print(
        f"derived: {EpisodeSurvival.objects.count():,} survival rows, "
        f"{EpisodeAdverseEvent.objects.count():,} treatment-emergent event rows",
        flush=True,
    )

    def sql(statement: str) -> list[dict[str, Any]]:
        with connection.cursor() as cursor:
            cursor.execute(statement)
            names = [column.name for column in cursor.description]
            return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    everything = Disclosure.registry_wide()
    for name, report_of, statement, differences in (
        (
            "survival report (OS, lifelines)",
            lambda: survival_report(ReportFilters(), SurvivalQuery(), disclosure=everything),
            SURVIVAL_SQL,
            survival_differences,
        ),
        (
            "safety report",
            lambda: safety_report(ReportFilters(), disclosure=everything),
            SAFETY_SQL,
            safety_differences,
        ),
    ):
        report_time, report = best(report_of, repeat)
        sql_time, rows = best(lambda statement=statement: sql(statement), repeat)
        ratio = report_time / sql_time
        found = differences(report, rows)
        print(
            f"{name}: {report_time:7.2f} s; hand-written SQL: {sql_time:7.2f} s; "
            f"ratio {ratio:.2f} (goal <= {goal:g}) — {'met' if ratio <= goal else 'NOT met'}; "
            "results identical: " + ("yes" if not found else "NO\n  " + "\n  ".join(found[:20])),
            flush=True,
        )
    pages(best, repeat)


PAGE_GOAL_SECONDS = 2.0


def pages(best: Any, repeat: int) -> None:
    """The survival and safety pages as a data manager sees them (every site): the whole request
    in-process through Django's test client — middleware, access checks, the report, the
    Kaplan–Meier chart and the template — best of `repeat` after a warm-up. Goal: under 2 s."""
    from django.test import Client

    from registry.models import Membership

    manager = (
        Membership.objects.filter(role=Membership.Role.DATA_MANAGER).select_related("user").first()
    )
    if manager is None:
        print("report pages: no data manager in this registry; not timed")
        return
    client = Client()
    client.force_login(manager.user)
    for name, url in (
        ("survival page (OS by drug)", "/reports/survival/"),
        ("survival page (PFS, ILD onset)", "/reports/survival/?outcome=pfs&time_zero=ild_onset"),
        ("safety page", "/reports/safety/"),
    ):
        status: list[int] = []

        def get(url: str = url, status: list[int] = status) -> None:
            status.append(client.get(url).status_code)

        seconds, _ = best(get, repeat)
        print(
            f"{name}: {seconds:6.2f} s (goal < {PAGE_GOAL_SECONDS:g} s) — "
            f"{'met' if seconds < PAGE_GOAL_SECONDS else 'NOT met'}; HTTP {sorted(set(status))}",
            flush=True,
        )
