"""Reads of the reports: treatment episodes with their outcomes, in set-based queries.

One query gives every treatment episode of a report with its outcome columns (`episode_outcomes`):
the episode's reference visits come from the visits (docs/scoring.md §7), its
responses from the response records the scoring pipeline linked to it (scoring.ResponseEpisode),
aggregated per episode in the database. A link counts only while it holds for the episode as it is
now (reports.expressions.measures_episode): a signed visit's records keep the links they were
signed with, and after the episode's baseline or window changes those are not its response. Only
records with status "done" give outcomes; records still pending (or failed) are counted so that
the report can say how much is not scored yet.

Every count in a report is then an aggregate of these rows, streamed once (reports.outcomes);
the drill-down pages, the episodes sheet and the long export read the same columns restricted to
the caller's own sites (registry.access, Action.READ).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db import DatabaseError, connection
from django.db.models import (
    Case,
    Count,
    Exists,
    ExpressionWrapper,
    F,
    FilteredRelation,
    IntegerField,
    JSONField,
    Max,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
    Window,
)
from django.db.models.functions import Abs, Cast, Coalesce, Lag
from django.db.models.lookups import GreaterThan

from crf.models import LungStatus, Visit
from registry.access import Action, restrict
from registry.errors import InputError
from registry.models import Site, TreatmentEpisode
from registry.vocabularies import DRUG_CLASS
from reports.expressions import (
    AddDays,
    DaysBetween,
    baseline_visits,
    measures_episode,
    population,
    window_visits,
)
from reports.filters import CLASSIFICATION_CATEGORIES, ReportFilters
from scoring.instruments import refractory
from scoring.models import EpisodeRefractory, ResponseEpisode, ResponseRecord

DOI = ResponseRecord.Algorithm.IMACS_DOI
TIS = ResponseRecord.Algorithm.ACR_EULAR
WORSENING = ResponseRecord.Algorithm.WORSENING
DONE = ResponseRecord.Status.DONE

# Issue 7: TIS and category at weeks 12, 24 and 52 from the start of treatment, taken at the
# visit nearest to the target day within ±4 weeks.
WEEKS: tuple[int, ...] = (12, 24, 52)
WEEK_TOLERANCE_DAYS = 28

# ACR/EULAR categories in order (scoring.instruments.tis); "at least minimal improvement" is a
# rank of 1 or more.
CATEGORIES: tuple[str, ...] = ("none", "minimal", "moderate", "major")
RANK = {name: rank for rank, name in enumerate(CATEGORIES)}
IMPROVED = CATEGORIES[1:]


def _rank(field: str) -> Case:
    """The rank of an ACR/EULAR category column (None when not computed)."""
    return Case(
        *[When(**{field: name}, then=Value(rank)) for name, rank in RANK.items()],
        default=None,
        output_field=IntegerField(),
    )


# ---------------------------------------------------------------------------------------------
# Which episodes


def validate_sites(filters: ReportFilters) -> None:
    """An unknown site code is an error rather than an empty report."""
    if not filters.sites:
        return
    known = set(Site.objects.filter(code__in=filters.sites).values_list("code", flat=True))
    unknown = [code for code in filters.sites if code not in known]
    if unknown:
        raise InputError([("site", f"Unknown site code(s): {', '.join(unknown)}.")])


def episodes_matching(filters: ReportFilters) -> QuerySet[TreatmentEpisode]:
    """The treatment episodes a report with these filters counts (no access rule applied)."""
    episodes = TreatmentEpisode.objects.all()
    if filters.sites:
        episodes = episodes.filter(patient__site__code__in=filters.sites)
    if filters.diagnoses:
        episodes = episodes.filter(patient__diagnosis__in=filters.diagnoses)
    if filters.serology:
        episodes = episodes.filter(patient__serology_group__in=filters.serology)
    if filters.drugs:
        episodes = episodes.filter(drug__in=filters.drugs)
    if filters.drug_classes:
        drugs = [drug for drug, klass in DRUG_CLASS.items() if klass in filters.drug_classes]
        episodes = episodes.filter(drug__in=drugs)
    if filters.start_from:
        episodes = episodes.filter(start_date__gte=filters.start_from)
    if filters.start_to:
        episodes = episodes.filter(start_date__lte=filters.start_to)
    if filters.population:
        episodes = episodes.alias(population=population("patient__")).filter(
            population=filters.population
        )
    if filters.classification:
        wanted = {c for code in filters.classification for c in CLASSIFICATION_CATEGORIES[code]}
        episodes = episodes.filter(**{f"{CLASSIFICATION_CATEGORY}__in": sorted(wanted)})
    if filters.classification_subgroups:
        episodes = episodes.filter(
            **{f"{CLASSIFICATION_SUBGROUP}__in": filters.classification_subgroups}
        )
    if filters.refractory:
        at_start = refractory_at_start()
        episodes = episodes.filter(at_start if filters.refractory == "yes" else ~at_start)
    if filters.lung:
        episodes = episodes.filter(**LUNG_LOOKUPS[filters.lung])
    return episodes


# The lookups of each `lung=` choice (reports.filters.LUNG_CHOICES) on the patient's lung record.
LUNG_LOOKUPS: dict[str, dict[str, object]] = {
    "ild": {"patient__lung__ild": LungStatus.Ild.YES},
    "rp_ild": {
        "patient__lung__ild": LungStatus.Ild.YES,
        "patient__lung__rapidly_progressive": True,
    },
    "no_ild": {"patient__lung__ild": LungStatus.Ild.NO},
}


def refractory_at_start(outer: str = "pk") -> Exists:
    """Whether the outer episode's patient was refractory (refractory_v1 candidate or confirmed)
    at the episode's start, as the scoring pipeline stored it (scoring.EpisodeRefractory); an
    episode it has not computed yet counts as not refractory."""
    return Exists(
        EpisodeRefractory.objects.filter(
            episode_id=OuterRef(outer),
            definition=refractory.DEFINITION,
            status__in=[refractory.CANDIDATE, refractory.CONFIRMED],
        )
    )


# The patient's 2017 EULAR/ACR category and subgroup, from its classification record (one join;
# null without a record).
CLASSIFICATION_CATEGORY = "patient__classification_record__category"
CLASSIFICATION_SUBGROUP = "patient__classification_record__subgroup"


# ---------------------------------------------------------------------------------------------
# Per-episode outcomes


def measuring_links() -> QuerySet[ResponseEpisode]:
    """The links of response records to the episodes whose response they measure now."""
    return ResponseEpisode.objects.filter(measures_episode("record__", "episode__"))


def episode_records(episode_id: int) -> QuerySet[ResponseRecord]:
    """The response records that measure one episode's response now (its detail page)."""
    return ResponseRecord.objects.filter(
        pk__in=measuring_links().filter(episode_id=episode_id).values("record_id")
    )


def signed_against_earlier_baseline(visit_ids: Iterable[int]) -> dict[int, set[int]]:
    """Per signed visit, the reference visits of its frozen records that are linked to a
    treatment episode they no longer measure (`measures_episode`: the episode's baseline or
    window has changed since the signing). The reports leave these out; the visit page says so.
    One query."""
    stale = (
        ResponseEpisode.objects.filter(
            record__visit_id__in=list(visit_ids), record__visit__status=Visit.Status.LOCKED
        )
        .exclude(measures_episode("record__", "episode__"))
        .values_list("record__visit_id", "record__reference_visit_id")
        .distinct()
    )
    found: dict[int, set[int]] = {}
    for visit_id, reference_id in stale:
        found.setdefault(visit_id, set()).add(reference_id)
    return found


def _confirmed_responses(episodes: QuerySet) -> QuerySet:
    """Ids of episodes with at least minimal ACR/EULAR improvement at two consecutive follow-up
    visits (issue 7's confirmed response, as in the ProDERM trial).

    Consecutive means next to each other among the episode's scored visits whatever their
    status: a visit whose record is pending sits between its neighbours and breaks the pair, as
    its outcome is not known yet. One pass over the TIS records linked to these episodes with a
    window function, not a query per episode.
    """
    flag = Case(
        When(Q(record__status=DONE, record__category__in=IMPROVED), then=Value(1)),
        default=Value(0),
        output_field=IntegerField(),
    )
    previous = Window(
        Lag(flag, default=Value(0)),
        partition_by=[F("episode_id")],
        order_by=[F("record__visit__visit_date").asc()],
    )
    # One expression holding the window, so that the filter applies after the window is
    # computed (a filter on `flag` alone would drop rows before LAG sees them). The links are
    # narrowed to the patients of these episodes, not to the episodes themselves: SQLite answers
    # `episode_id IN (subquery)` here by probing the link table once per listed episode for
    # every record, and the caller keeps only these episodes anyway.
    return (
        measuring_links()
        .filter(record__algorithm=TIS, episode__patient__in=episodes.values("patient_id"))
        .annotate(pair=ExpressionWrapper(flag + previous, output_field=IntegerField()))
        .filter(pair=2)
        .values("episode_id")
    )


# The outer episode's links to the response records that measure its response now: its links,
# restricted in the join to those of `measuring_links` (a FilteredRelation whose condition is
# one uncorrelated subquery, which the database evaluates once for the whole query, instead of
# the rule written into each of the aggregates below).
_LINKS = "measuring_links"


def _link(name: str) -> str:
    """The lookup from an episode to a field of its response records (`_LINKS`)."""
    return f"{_LINKS}__record__{name}"


# Packing of `_week_key`: distance × 2 (+1) × _DISTANCE_UNIT + rank × _RANK_UNIT + score in tenths.
_RANK_UNIT = 10_000
_DISTANCE_UNIT = 100_000
_UNKNOWN_RANK = 4
_UNKNOWN_SCORE = 1001


def _week_key(week: int) -> Min:
    """The TIS record nearest to week `week` of treatment, as one number.

    An aggregate cannot return "the outcome of the row at the least distance", so the distance
    and the outcome are packed into one integer whose minimum over the episode's TIS records is
    the nearest one: the distance in days × 2, plus 1 after the target day (of two visits equally
    near, the earlier wins), in the high digits; the category rank (4 when unknown) and the score
    in tenths (1001 when unknown: not computed, or the record not done) below. `unpack_week`
    reverses it.
    """
    day = DaysBetween(F(_link("visit__visit_date")), F("start_date"))
    target = week * 7
    after = Case(
        When(GreaterThan(day, target), then=Value(1)),
        default=Value(0),
        output_field=IntegerField(),
    )
    distance = Abs(day - Value(target)) * Value(2) + after
    done = Q(**{_link("status"): DONE})
    rank = Case(
        *[When(done & Q(**{_link("category"): name}), then=Value(v)) for name, v in RANK.items()],
        default=Value(_UNKNOWN_RANK),
        output_field=IntegerField(),
    )
    score = Case(
        When(
            done & Q(**{_link("score__isnull"): False}),
            then=Cast(F(_link("score")) * Value(10), IntegerField()),
        ),
        default=Value(_UNKNOWN_SCORE),
        output_field=IntegerField(),
    )
    earliest = AddDays(F("start_date"), target - WEEK_TOLERANCE_DAYS)
    latest = AddDays(F("start_date"), target + WEEK_TOLERANCE_DAYS)
    near = Q(
        **{
            _link("algorithm"): TIS,
            _link("visit__visit_date__gte"): earliest,
            _link("visit__visit_date__lte"): latest,
        }
    )
    return Min(
        distance * Value(_DISTANCE_UNIT) + rank * Value(_RANK_UNIT) + score,
        filter=near,
        output_field=IntegerField(),
    )


def unpack_week(packed: int | None) -> tuple[float | None, str | None]:
    """(TIS, category) from `_week_key`'s number; (None, None) without a visit near the week."""
    if packed is None:
        return None, None
    rank, score = divmod(packed % _DISTANCE_UNIT, _RANK_UNIT)
    return (
        None if score == _UNKNOWN_SCORE else score / 10,
        None if rank == _UNKNOWN_RANK else CATEGORIES[rank],
    )


def episode_outcomes(episodes: QuerySet[TreatmentEpisode]) -> QuerySet[TreatmentEpisode]:
    """`episodes` with one outcome column per question of issue 7, computed in one query.

    Days are counted from the episode's start date. Columns:
    - baseline_date, baseline_gc: the episode's baseline visit and its glucocorticoid dose;
    - last_visit_date, last_gc: the last visit in the episode's window and its dose;
    - scored: follow-up visits with a done DOI record; pending, failed: linked records not done;
    - doi_met (0/1), first_doi_day, last_scored_day: DOI at any visit, the first such visit, and
      the last visit with a done DOI record (where an episode without a DOI is censored);
    - best_score, best_rank: the best TIS and ACR/EULAR category (rank in CATEGORIES);
    - week_12, week_24, week_52: packed TIS and category at those weeks (`unpack_week`);
    - confirmed_response, confirmed_deterioration (booleans): at least minimal improvement, or
      ProDERM worsening, at two consecutive follow-up visits of the episode.
    """
    baseline = baseline_visits()
    window = window_visits()
    day = DaysBetween(F(_link("visit__visit_date")), F("start_date"))
    done = Q(**{_link("status"): DONE})
    doi = Q(**{_link("algorithm"): DOI}) & done
    tis = Q(**{_link("algorithm"): TIS}) & done
    measuring = measuring_links().filter(episode__in=episodes.values("pk")).values("pk")
    links = FilteredRelation("response_links", condition=Q(response_links__in=Subquery(measuring)))
    return episodes.alias(**{_LINKS: links}).annotate(
        baseline_date=Subquery(baseline.values("visit_date")[:1]),
        baseline_gc=Subquery(baseline.values("glucocorticoid_mg_per_day")[:1]),
        last_visit_date=Subquery(window.values("visit_date")[:1]),
        last_gc=Subquery(window.values("glucocorticoid_mg_per_day")[:1]),
        scored=Count(_link("id"), filter=doi),
        pending=Count(_link("id"), filter=Q(**{_link("status"): ResponseRecord.Status.PENDING})),
        failed=Count(_link("id"), filter=Q(**{_link("status"): ResponseRecord.Status.FAILED})),
        doi_met=Coalesce(
            Max(
                Case(When(Q(**{_link("met"): True}), then=Value(1)), default=Value(0)),
                filter=doi,
            ),
            Value(0),
        ),
        first_doi_day=Min(day, filter=doi & Q(**{_link("met"): True})),
        last_scored_day=Max(day, filter=doi),
        best_score=Max(_link("score"), filter=tis),
        best_rank=Max(_rank(_link("category")), filter=tis),
        **{f"week_{week}": _week_key(week) for week in WEEKS},
        confirmed_response=Q(pk__in=_confirmed_responses(episodes)),
        # The worsening record's previous visit is the one before it after the same reference;
        # for an episode's records that is the previous visit of the episode's window, as no
        # visit can fall between an episode's baseline and its start (the baseline is the
        # latest visit up to the start). So the stored `confirmed` is the episode's own.
        confirmed_deterioration=Coalesce(
            Max(
                Case(When(Q(**{_link("confirmed"): True}), then=Value(1)), default=Value(0)),
                filter=Q(**{_link("algorithm"): WORSENING}) & done,
            ),
            Value(0),
        ),
    )


# ---------------------------------------------------------------------------------------------
# Rows


@dataclass(frozen=True, slots=True)
class EpisodeOutcome:
    """One treatment episode with its outcomes (`episode_outcomes`' columns, unpacked)."""

    id: int
    patient_id: int
    drug: str
    start_date: date
    stop_date: date | None
    site: str
    diagnosis: str
    serology: str
    population: str
    baseline_date: date | None
    last_visit_date: date | None
    scored: int
    pending: int
    failed: int
    doi_met: bool
    first_doi_day: int | None
    last_scored_day: int | None
    best_score: float | None
    best_category: str | None
    weeks: dict[int, tuple[float | None, str | None]]
    confirmed_response: bool
    confirmed_deterioration: bool
    baseline_gc: float | None
    last_gc: float | None
    # Only in the drill-down and the episodes sheet (the caller's own sites).
    site_patient_id: str = ""
    drug_other: str = ""
    refractory: bool = False  # at the episode's start (`refractory_at_start`)
    # The patient's 2017 EULAR/ACR category and subgroup ("" without them).
    classification: str = ""
    classification_subgroup: str = ""

    @property
    def has_baseline(self) -> bool:
        return self.baseline_date is not None

    @property
    def evaluable(self) -> bool:
        """A baseline and at least one follow-up visit within the episode (issue 7)."""
        return self.baseline_date is not None and self.last_visit_date is not None

    @property
    def days_to_doi(self) -> tuple[int, bool] | None:
        """(days, event) for the Kaplan–Meier estimate: the first visit meeting the DOI, else
        censored at the last follow-up visit with a DOI record; None without any."""
        if not self.evaluable or self.last_scored_day is None:
            return None
        if self.doi_met and self.first_doi_day is not None:
            return self.first_doi_day, True
        return self.last_scored_day, False

    @property
    def glucocorticoid_change(self) -> float | None:
        """Daily prednisone-equivalent dose at the last follow-up visit minus at baseline."""
        if not self.evaluable or self.baseline_gc is None or self.last_gc is None:
            return None
        return self.last_gc - self.baseline_gc


_OUTCOME_COLUMNS = (
    "pk", "patient_id", "drug", "start_date", "stop_date", "patient__site__code",
    "patient__diagnosis", "patient__serology_group", "population", "baseline_date",
    "last_visit_date", "scored", "pending", "failed", "doi_met", "first_doi_day",
    "last_scored_day", "best_score", "best_rank", *(f"week_{week}" for week in WEEKS),
    "confirmed_response", "confirmed_deterioration", "baseline_gc", "last_gc", "refractory",
    CLASSIFICATION_CATEGORY, CLASSIFICATION_SUBGROUP,
)  # fmt: skip
_DETAIL_COLUMNS = ("patient__patient_id", "drug_other")


def _number(value: Any) -> float | None:
    return None if value is None else float(value)


# Whether to compile the outcome query just in time on PostgreSQL (see `_stream`).
JIT = False


def _stream(query: QuerySet, chunk_size: int) -> Iterator[Any]:
    """`query.iterator()`, with PostgreSQL's just-in-time compilation off while it runs.

    PostgreSQL compiles the expressions of a query whose estimated cost is high. The outcome
    query has some two hundred expressions; compiling them takes seconds, more than they take
    to evaluate over a 100,000-patient registry (benchmarks/reports.py), and a small registry
    would pay those seconds on every page view. The setting is this connection's, for this
    query only.
    """
    if connection.vendor != "postgresql" or JIT:
        yield from query.iterator(chunk_size=chunk_size)
        return
    with connection.cursor() as cursor:
        cursor.execute("SET jit = off")
    try:
        yield from query.iterator(chunk_size=chunk_size)
    finally:
        try:
            with connection.cursor() as cursor:
                cursor.execute("RESET jit")
        except DatabaseError:
            # The transaction failed already and its error is on its way up; the setting is
            # undone with its rollback.
            pass


def outcome_rows(
    episodes: QuerySet[TreatmentEpisode], *, detail: bool = False, chunk_size: int = 5000
) -> Iterator[EpisodeOutcome]:
    """Stream `episodes` with their outcomes, in one query (read in chunks, never all at once).

    `detail` adds the site's patient id and the name of an "other" drug, for pages and sheets
    that show single episodes (the caller's own sites only).
    """
    columns = _OUTCOME_COLUMNS + (_DETAIL_COLUMNS if detail else ())
    query = (
        episode_outcomes(
            episodes.annotate(population=population("patient__"), refractory=refractory_at_start())
        )
        .order_by("pk")
        .values_list(*columns, named=True)
    )
    for row in _stream(query, chunk_size):
        yield EpisodeOutcome(
            id=row.pk,
            patient_id=row.patient_id,
            drug=row.drug,
            start_date=row.start_date,
            stop_date=row.stop_date,
            site=row.patient__site__code,
            diagnosis=row.patient__diagnosis,
            serology=row.patient__serology_group,
            population=row.population,
            baseline_date=row.baseline_date,
            last_visit_date=row.last_visit_date,
            scored=row.scored,
            pending=row.pending,
            failed=row.failed,
            doi_met=bool(row.doi_met),
            first_doi_day=row.first_doi_day,
            last_scored_day=row.last_scored_day,
            best_score=_number(row.best_score),
            best_category=None if row.best_rank is None else CATEGORIES[row.best_rank],
            weeks={week: unpack_week(getattr(row, f"week_{week}")) for week in WEEKS},
            confirmed_response=bool(row.confirmed_response),
            confirmed_deterioration=bool(row.confirmed_deterioration),
            baseline_gc=_number(row.baseline_gc),
            last_gc=_number(row.last_gc),
            site_patient_id=row.patient__patient_id if detail else "",
            drug_other=row.drug_other if detail else "",
            refractory=bool(row.refractory),
            classification=getattr(row, CLASSIFICATION_CATEGORY) or "",
            classification_subgroup=getattr(row, CLASSIFICATION_SUBGROUP) or "",
        )


def episodes_for_drilldown(user: Any, filters: ReportFilters) -> QuerySet[TreatmentEpisode]:
    """The episodes of a report that `user` may open one by one: those of their own sites."""
    return restrict(episodes_matching(filters), user, Action.READ, site_field="patient__site")


# ---------------------------------------------------------------------------------------------
# The long export: one row per scored visit, reference visit and measure


def long_export_records(user: Any) -> QuerySet[ResponseRecord]:
    """Every response record of the caller's own sites, the three algorithms of a comparison
    next to each other (ordered as the unique index (visit, reference visit, algorithm), so
    PostgreSQL streams them without sorting)."""
    records = restrict(ResponseRecord.objects.all(), user, Action.READ, site_field="patient__site")
    # The three records of a comparison were computed from the same reference and visit
    # measures: read them once, from the DOI record (the worsening record's also hold a third
    # visit's), which halves what is read and decoded.
    measures = Case(
        When(algorithm=DOI, then=F("inputs")), default=Value(None), output_field=JSONField()
    )
    return (
        records.annotate(population=population("patient__"), measures=measures)
        .order_by("visit_id", "reference_visit_id", "algorithm")
        .values_list(
            "visit_id", "reference_visit_id", "algorithm", "status", "reference_kind",
            "patient__site__code", "patient__patient_id", "patient__diagnosis",
            "patient__serology_group", "population", "visit__visit_date",
            "reference_visit__visit_date", "visit__glucocorticoid_mg_per_day", "measures",
            "result", "computed_at", "computed_by",
            named=True,
        )
    )  # fmt: skip


def long_export_links(user: Any) -> QuerySet[ResponseEpisode]:
    """The episodes of the same comparisons, in the same order (one algorithm's links: the
    three records of a comparison are linked to the same episodes). Only the episodes whose
    response a comparison measures now: a signed visit's record keeps its row in the export,
    but not an episode whose baseline or window has changed since (`measuring_links`)."""
    links = restrict(
        measuring_links().filter(record__algorithm=DOI),
        user,
        Action.READ,
        site_field="record__patient__site",
    )
    return links.order_by(
        "record__visit_id", "record__reference_visit_id", "episode_id"
    ).values_list("record__visit_id", "record__reference_visit_id", "episode_id", "episode__drug")
