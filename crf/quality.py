"""Plausibility rules: conditions that are possible but unlikely enough that a person should
look. Each raises a data query on the visit by itself and closes it when the data are corrected.

The thresholds are registry decisions (issue 8), chosen to catch typing slips — a CK entered in
the wrong unit, a grade typed on the wrong patient — without flooding monitors.
"""

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from django.db.models import Prefetch
from django.utils import timezone

from crf.models import HAQ, MMT8, DataQuery, LabResult, Visit
from registry.audit import Actor, audit_events, audit_write, snapshot
from registry.models import Patient


@dataclass(frozen=True)
class Finding:
    visit_id: int
    rule: str
    field: str
    text: str


def _haq_score(visit: Visit):
    try:
        return visit.haq.score
    except HAQ.DoesNotExist:
        return None


def _mmt(visit: Visit) -> MMT8 | None:
    try:
        return visit.mmt8
    except MMT8.DoesNotExist:
        return None


def findings(visits: list[Visit]) -> Iterator[Finding]:
    """Rule violations among one patient's visits (in date order, instruments prefetched)."""
    for visit in visits:
        for lab in visit.labs.all():
            if lab.enzyme == LabResult.Enzyme.CK and lab.value > 100 * lab.uln:
                yield Finding(
                    visit.pk,
                    "ck_above_100_uln",
                    "labs.ck.value",
                    f"CK {lab.value.normalize():f} {lab.unit} is more than 100 × the "
                    f"upper limit of normal ({lab.uln.normalize():f}). Unit or typing "
                    f"error?",
                )
        haq = _haq_score(visit)
        if haq == 0 and visit.physician_global is not None and visit.physician_global >= 8:
            yield Finding(
                visit.pk,
                "haq_zero_high_physician_global",
                "haq",
                f"Disability index 0 with physician global activity "
                f"{visit.physician_global} cm (≥ 8). Is the HAQ complete?",
            )
    # MMT-8 total changing by more than 30 % within 14 days: strength does not move that fast.
    for earlier, later in zip(visits, visits[1:], strict=False):
        if later.visit_date - earlier.visit_date > timedelta(days=14):
            continue
        a, b = _mmt(earlier), _mmt(later)
        if a is None or b is None or a.scale != b.scale:
            continue
        before, after = a.total, b.total
        if before is None or after is None or before == 0:
            continue
        if abs(Decimal(after - before)) * 100 > 30 * Decimal(before):
            yield Finding(
                later.pk,
                "mmt_change_30pct_14d",
                "mmt8",
                f"MMT-8 total changed from {before} to {after} within "
                f"{(later.visit_date - earlier.visit_date).days} days (> 30 %).",
            )


def rules_apply(*, actor: Actor, patient: Patient) -> None:
    """Open a query for each new finding; close rule queries whose finding is gone.

    Called inside the writing service's transaction, so queries and data never disagree.
    """
    visits = list(
        Visit.objects.filter(patient=patient)
        .select_related("mmt8", "haq")
        .prefetch_related(Prefetch("labs", queryset=LabResult.objects.order_by("enzyme")))
        .order_by("visit_date")
    )
    current = {(f.visit_id, f.rule, f.field): f for f in findings(visits)}
    open_queries = {
        (q.visit_id, q.rule, q.field): q
        for q in DataQuery.objects.filter(visit__patient=patient)
        .exclude(rule="")
        .exclude(status=DataQuery.Status.CLOSED)
    }
    ids = {"site_id": patient.site_id, "patient_id": patient.pk}
    rule_actor = Actor(user=actor.user, source=actor.source, reason="plausibility rule")
    events = []
    now = timezone.now()
    for key, query in open_queries.items():
        if key not in current:
            before = snapshot(query)
            query.status = DataQuery.Status.CLOSED
            query.closed_at = now
            query.close_note = "Closed automatically: the data were corrected."
            query.save(update_fields=["status", "closed_at", "close_note"])
            events += audit_events(rule_actor, query, before, snapshot(query), **ids)
    for key, finding in current.items():
        if key not in open_queries:
            query = DataQuery.objects.create(
                visit_id=finding.visit_id,
                field=finding.field,
                text=finding.text,
                rule=finding.rule,
            )
            events += audit_events(rule_actor, query, None, snapshot(query), **ids)
    audit_write(events)
