"""The data dictionary: every column of every download, with what it means.

The CSV headers, the XLSX "Data dictionary" sheet, the PDF's notes and the page's help are all
made from these lists, so a column cannot be added to a download without being described.
"""

from __future__ import annotations

from dataclasses import dataclass

from reports.disclosure import MIN_PATIENTS, SUPPRESSED
from reports.selectors import WEEK_TOLERANCE_DAYS, WEEKS


@dataclass(frozen=True)
class Column:
    name: str
    description: str


RULES: tuple[tuple[str, str], ...] = (
    (
        "Treatment episode",
        "One drug from its start date to its stop date (ongoing without one). Episodes are "
        "counted in the period when their start date falls within it.",
    ),
    (
        "Baseline of an episode",
        "The latest visit from 30 days before the start date up to the start date (docs/scoring.md "
        "§7). Without such a visit the episode has no baseline and is not evaluable.",
    ),
    (
        "Follow-up visits of an episode",
        "Visits after the start date and no later than 30 days after the stop date (every later "
        "visit while the episode is ongoing), each scored against the episode's baseline.",
    ),
    (
        "Evaluable",
        "A baseline and at least one follow-up visit. Outcome percentages are of the evaluable "
        "episodes.",
    ),
    (
        "Which scores count",
        "Only response records with status done. An evaluable episode whose records are pending "
        "or failed counts as not meeting the outcome (non-responder imputation); the numbers of "
        "pending and failed records are reported beside the counts.",
    ),
    (
        "Signed visits",
        "A signed (locked) visit keeps the scores it was signed with. When an episode's start, "
        "stop or baseline visit changes afterwards, a signed score against a baseline the "
        "episode no longer has, or of a visit outside its window, is not counted for the "
        "episode (the visit's page marks it as signed against an earlier baseline); the "
        "comparisons the episode now calls for are scored as usual.",
    ),
    (
        "Small cells",
        f"For anyone but a data manager, a row computed from fewer than {MIN_PATIENTS} patients, "
        "at least one of them at a site you are not a member of, is suppressed: its figures "
        f'show as "{SUPPRESSED}" (null in the API, which marks the row "suppressed") and the '
        "charts leave it out; so are the report's totals when the whole report is such a row. "
        "Rows of your own sites' patients alone are always shown.",
    ),
    (
        "Overlapping treatments",
        "Each episode is evaluated on its own against its own baseline: a patient on two "
        "overlapping treatments contributes to both, and the registry does not attribute a "
        "response to either drug.",
    ),
    (
        "IMACS definition of improvement (DOI)",
        "imacs-doi-2004: at least 3 of 6 core set measures improved by 20 % or more, at most 2 "
        "worse by 25 % or more, and manual muscle testing not among the worse (Rider 2004).",
    ),
    (
        "ACR/EULAR total improvement score (TIS)",
        "acr-eular-2016: 0–100; adults minimal ≥ 20, moderate ≥ 40, major ≥ 60; juvenile "
        "minimal ≥ 30, moderate ≥ 45, major ≥ 70 (Aggarwal 2017, Rider 2017). Best: the highest "
        "TIS at any follow-up visit of the episode.",
    ),
    (
        "Weeks 12, 24 and 52",
        f"The follow-up visit nearest to that many weeks after the start date, within ±"
        f"{WEEK_TOLERANCE_DAYS // 7} weeks (the earlier of two equally near); missing without "
        "one.",
    ),
    (
        "Confirmed response",
        "At least minimal ACR/EULAR improvement at two consecutive follow-up visits of the "
        "episode (as in the ProDERM trial).",
    ),
    (
        "Confirmed deterioration",
        "proderm-worsening-2022 at two consecutive follow-up visits of the episode (Aggarwal "
        "2022).",
    ),
    (
        "Time to first DOI",
        "Days from the start date to the first follow-up visit meeting the DOI. Episodes "
        "without one are censored at their last scored follow-up visit, which is never later "
        "than the end of the episode's window. Kaplan–Meier estimate; the median is the first "
        "time the estimate is 0.5 or below.",
    ),
    (
        "Glucocorticoid change",
        "Daily prednisone-equivalent dose (mg/day) at the last follow-up visit minus at the "
        "baseline visit, when both are recorded.",
    ),
    (
        "Intervals and medians",
        "95 % Wilson score intervals for proportions; medians and quartiles by linear "
        "interpolation (R's and NumPy's default).",
    ),
    (
        "Endpoints",
        "A named, versioned endpoint (NAME, or NAME@VERSION for an older version): the measure "
        "(IMACS DOI met, TIS at least a threshold, or ACR/EULAR category at least a level) at the "
        "episode's visit nearest to the horizon within ± the window (of two equally near, the "
        "earlier); optionally also at the visit before it (two consecutive visits), and "
        "optionally no confirmed deterioration up to the horizon. Episodes without a scored "
        "visit in the window are not evaluable for it; a record not computed counts as not "
        "meeting the measure. Built in: proderm (TIS ≥ 20 at week 16 ± 4, no confirmed "
        "deterioration up to week 16).",
    ),
    (
        "Predictors of response",
        "For a drug and an endpoint, among the episodes evaluable for it: responders per level "
        "of serological group, diagnosis, adult or juvenile, physician global damage at the "
        "baseline visit (tertiles of the episodes that have it; a value equal to a cut point in "
        "the lower tertile), disease duration at the episode's start from symptom onset (< 2 "
        "years: fewer than 731 days; ≥ 2 years), refractory at start and EULAR/ACR subgroup. "
        "Each level against its factor's largest level (the reference; of two as large, the "
        "first): odds ratio with its 95 % Woolf (logit) interval, 0.5 added to every cell of "
        "the 2×2 table when one is zero (Haldane). A multivariable logistic regression "
        "(statsmodels Logit, same reference levels) only when every level of every factor with "
        "two levels or more has at least 10 episodes. A level's odds ratio is withheld when its "
        "own row or its reference's is suppressed.",
    ),
    (
        "Adult or juvenile",
        "By the age at symptom onset, in whole years from the first day of the birth month: "
        "juvenile under 18.",
    ),
)


def _proportion(name: str, what: str, of: str) -> list[Column]:
    return [
        Column(name, f"Number of episodes {what}."),
        Column(f"{name}_pct", f"{name} as a percentage of {of}."),
        Column(f"{name}_ci_low", f"Lower end of the 95 % Wilson interval of {name}_pct."),
        Column(f"{name}_ci_high", f"Upper end of the 95 % Wilson interval of {name}_pct."),
    ]


def _summary(name: str, what: str) -> list[Column]:
    return [
        Column(f"{name}_n", f"Number of evaluable episodes with {what}."),
        Column(f"{name}_median", f"Median {what}."),
        Column(f"{name}_q1", f"First quartile of {what}."),
        Column(f"{name}_q3", f"Third quartile of {what}."),
    ]


CATEGORY_NAMES = ("none", "minimal", "moderate", "major")

# Added to the summary table when an endpoint is chosen (`endpoint=NAME`, reports.endpoints).
ENDPOINT_COLUMNS: tuple[Column, ...] = (
    Column(
        "endpoint_evaluable",
        "Episodes evaluable for the endpoint: a scored visit within its window around its horizon.",
    ),
    *_proportion(
        "endpoint_responders",
        "responding to the endpoint (non-responder imputation for records not computed)",
        "endpoint_evaluable",
    ),
)

SUMMARY_COLUMNS: tuple[Column, ...] = (
    Column("stratum", "Code of the stratum (site, diagnosis, serological group or population)."),
    Column("stratum_label", "Name of the stratum."),
    Column("treatment", "Code of the drug or drug class."),
    Column("treatment_label", "Name of the drug or drug class."),
    Column("episodes", "Treatment episodes matching the filters."),
    *_proportion("with_baseline", "with a baseline visit", "episodes"),
    *_proportion("evaluable", "with a baseline and a follow-up visit", "episodes"),
    *_proportion("doi_responders", "meeting the IMACS DOI at any visit", "evaluable"),
    *_proportion(
        "confirmed_responders",
        "with at least minimal improvement at two consecutive visits",
        "evaluable",
    ),  # fmt: skip
    *_proportion("confirmed_deteriorations", "with confirmed deterioration (ProDERM)", "evaluable"),
    *[
        column
        for name in (*CATEGORY_NAMES, "not_computed")
        for column in _proportion(
            f"best_{name}",
            f"whose best ACR/EULAR category is {name}"
            if name != "not_computed"
            else "evaluable whose TIS could not be computed",
            "evaluable",
        )
    ],
    *_summary("tis", "the best TIS"),
    *[
        column
        for week in WEEKS
        for column in (
            *_summary(f"week_{week}_tis", f"the TIS at week {week}"),
            *[
                Column(
                    f"week_{week}_{name}", f"Episodes in ACR/EULAR category {name} at week {week}."
                )  # fmt: skip
                for name in CATEGORY_NAMES
            ],
        )
    ],
    Column("time_to_doi_n", "Evaluable episodes with a scored follow-up visit (Kaplan–Meier)."),
    Column("time_to_doi_events", "Of those, episodes meeting the DOI."),
    Column("time_to_doi_median_days", "Kaplan–Meier median days to the first DOI."),
    *_summary("gc_change", "the change of glucocorticoid dose (mg/day)"),
    Column("pending_records", "Linked response records not computed yet (pending)."),
    Column("failed_records", "Linked response records that failed (invalid data)."),
)

EPISODE_COLUMNS: tuple[Column, ...] = (
    Column("episode_id", "Registry id of the treatment episode."),
    Column("site", "Site code."),
    Column("patient_id", "The site's pseudonymous patient id."),
    Column("diagnosis", "Diagnosis code."),
    Column("serology_group", "Serological group derived from the autoantibodies."),
    Column("population", "adult or juvenile (age at symptom onset)."),
    Column("drug", "Drug code."),
    Column("drug_other", "Name of the drug when the code is other."),
    Column("drug_class", "Drug class code."),
    Column("start_date", "Start date of the episode."),
    Column("stop_date", "Stop date (empty while ongoing)."),
    Column("baseline_date", "Date of the episode's baseline visit (empty: none)."),
    Column("last_visit_date", "Date of the last follow-up visit of the episode."),
    Column("has_baseline", "1 when the episode has a baseline visit."),
    Column("evaluable", "1 with a baseline and a follow-up visit."),
    Column("doi_met", "1 when the IMACS DOI is met at any follow-up visit."),
    Column("days_to_doi", "Days from the start to the first visit meeting the DOI."),
    Column("days_observed", "Days from the start to the last scored follow-up visit."),
    Column("best_tis", "Highest TIS at any follow-up visit."),
    Column("best_category", "ACR/EULAR category of the best TIS."),
    *[
        column
        for week in WEEKS
        for column in (
            Column(f"tis_week_{week}", f"TIS at the visit nearest to week {week}."),
            Column(f"category_week_{week}", f"ACR/EULAR category at week {week}."),
        )
    ],
    Column("confirmed_response", "1 with at least minimal improvement at two consecutive visits."),
    Column("confirmed_deterioration", "1 with confirmed deterioration (ProDERM)."),
    Column("baseline_gc_mg_per_day", "Glucocorticoid dose at the baseline visit (mg/day)."),
    Column("last_gc_mg_per_day", "Glucocorticoid dose at the last follow-up visit (mg/day)."),
    Column("gc_change_mg_per_day", "last_gc_mg_per_day − baseline_gc_mg_per_day."),
    Column("pending_records", "Linked response records not computed yet."),
    Column("failed_records", "Linked response records that failed."),
)

LONG_COLUMNS: tuple[Column, ...] = (
    Column("site", "Site code."),
    Column("patient_id", "The site's pseudonymous patient id."),
    Column("diagnosis", "Diagnosis code."),
    Column("serology_group", "Serological group."),
    Column("population", "adult or juvenile (decides the TIS category thresholds)."),
    Column("visit_id", "Registry id of the scored visit."),
    Column("visit_date", "Date of the scored visit."),
    Column("reference_visit_id", "Registry id of the visit it is compared with."),
    Column("reference_date", "Date of the reference visit."),
    Column("reference_kind", "baseline (the patient's baseline) or treatment (an episode's)."),
    Column("days_from_reference", "Days from the reference visit to the scored visit."),
    Column(
        "episode_ids",
        "Treatment episodes whose baseline is the reference and whose window holds the visit, as "
        "the episodes are now (space-separated).",
    ),
    Column("episode_drugs", "Their drug codes, in the same order."),
    Column("glucocorticoid_mg_per_day", "Glucocorticoid dose at the scored visit (mg/day)."),
    Column(
        "measure",
        "Core set measure: physician_global, patient_global, extramuscular (VAS 0–10 cm), haq "
        "(HAQ-DI or CHAQ 0–3), mmt (strength: MMT-8 total or CMAS), enzyme (the most abnormal "
        "at the reference visit).",
    ),
    Column("instrument", "For mmt: mmt or cmas; for enzyme: which enzyme."),
    Column("reference_value", "Value at the reference visit, as scored (exact)."),
    Column("visit_value", "Value at the scored visit, as scored (exact)."),
    Column("scale_max", "For mmt: the scale maximum (80, 150, 260; 52 for CMAS)."),
    Column("reference_uln", "For enzyme: upper limit of normal at the reference visit."),
    Column("visit_uln", "For enzyme: upper limit of normal at the scored visit."),
    Column("unit", "For enzyme: unit of value and ULN."),
    Column("doi_percent_change", "IMACS DOI: percent change from the reference (+ is better)."),
    Column("doi_status", "IMACS DOI: improved, worsened or neither."),
    Column("tis_percent_improvement", "ACR/EULAR: absolute percent improvement."),
    Column("tis_points", "ACR/EULAR: points of this measure."),
    Column("worsening_percent", "ProDERM: percent worsening of this measure."),
    Column("doi_met", "IMACS DOI met at the visit (1/0; empty: not evaluable)."),
    Column("tis", "ACR/EULAR total improvement score at the visit."),
    Column("tis_category", "ACR/EULAR category at the visit."),
    Column("tis_complete", "1 when no core set measure was missing for the TIS."),
    Column("worsened", "ProDERM worsening at the visit (1/0)."),
    Column("confirmed_deterioration", "Worsening at this and the previous visit (1/0)."),
    Column("record_status", "done, pending or failed (scores only for done)."),
    Column("algorithms", "Algorithm identifiers of the three records."),
    Column("computed_at", "When the records were computed (UTC)."),
    Column("computed_by", "Which process computed them."),
)


# The survival and safety reports (reports.outcome_exports): their flat columns, a pattern line
# standing for each family of columns.
_LABEL_COLUMNS = (
    Column("treatment", "Drug or drug class code (group_by)."),
    Column("treatment_label", "Its name."),
    Column("stratum", "Stratum code (stratify), empty without."),
    Column("stratum_label", "Its name."),
)
SURVIVAL_DICTIONARY: tuple[Column, ...] = (
    *_LABEL_COLUMNS,
    Column("patients", "Distinct patients of the row's episodes."),
    Column("episodes", "Treatment episodes: the units of the Kaplan–Meier estimate."),
    Column("events", "Deaths (overall survival), or deaths and lung progressions (PFS)."),
    Column("censored", "Episodes without the event, censored at their last follow-up."),
    Column("median_weeks", "Kaplan–Meier median in weeks; empty when not reached."),
    Column(
        "at_W_weeks_estimate, _ci_low, _ci_high",
        "Survival at W = 26, 52, 104 weeks (read at 183, 364, 728 days), 95 % log-log "
        "interval; empty when nobody was followed that long.",
    ),
    Column("at_W_weeks_at_risk", "Episodes whose time is at least that many days."),
)
SAFETY_DICTIONARY: tuple[Column, ...] = (
    *_LABEL_COLUMNS,
    Column("patients_exposed", "Distinct patients with an episode of the row."),
    Column("episodes", "Treatment episodes."),
    Column("patient_years", "Exposure: (stop, or last follow-up) − start, days / 365.25."),
    Column("deaths", "Patients who died from an episode's start to 30 days after its stop."),
    Column(
        "patients_with_ae, _serious_ae, _related_ae, patients_withdrawn_for_ae, "
        "patients_with_fatal_ae",
        "Patients with ≥ 1 treatment-emergent adverse event of that kind; each with _percent, "
        "_ci_low, _ci_high (of the patients exposed, 95 % Wilson).",
    ),
    Column(
        "events, events_per_100py, _ci_low, _ci_high",
        "Treatment-emergent events, and per 100 patient-years with the exact Poisson interval.",
    ),
    Column("CATEGORY_…", "The same counts for each adverse-event category."),
    Column("deaths_CAUSE", "Deaths by cause."),
)
