"""A one-page summary of a patient for the clinic: identity, the latest visit's measures and
response, the response per treatment episode, the treatments and autoantibodies, laid out to
print on one A4 page (no navigation). The same access as the patient page."""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from web import selectors
from web.timeline import build_timeline
from web.views.common import get_patient

# The summary shows the latest few visits and treatment episodes: with the other sections that
# is what one A4 page holds; the patient page has them all.
SUMMARY_VISITS = 6
SUMMARY_EPISODES = 10


@login_required
@require_GET
def patient_summary(request: HttpRequest, pk: int) -> HttpResponse:
    patient = get_patient(request, pk)
    visits = selectors.visits_with_instruments(patient)
    episodes = list(patient.treatments.order_by("start_date", "id"))
    timeline = build_timeline(visits, episodes, {})
    rows = timeline["rows"]
    latest = rows[-1] if rows else None
    latest_scored = next(
        (
            row
            for row in reversed(rows)
            if row.baseline_score is not None
            and not row.baseline_score.pending
            and not row.baseline_score.failed
        ),
        None,
    )
    per_episode = [
        {"group": group, "latest": group.rows[-1] if group.rows else None}
        for group in timeline["episodes"][-SUMMARY_EPISODES:]
    ]
    context = {
        "patient": patient,
        "latest": latest,
        "latest_scored": latest_scored,
        "recent": rows[-SUMMARY_VISITS:],
        "earlier_visits": max(0, len(rows) - SUMMARY_VISITS),
        "visit_count": len(rows),
        "per_episode": per_episode,
        "shown_episodes": episodes[-SUMMARY_EPISODES:],
        "earlier_episodes": max(0, len(episodes) - SUMMARY_EPISODES),
        "antibodies": list(patient.autoantibodies.order_by("antibody", "sample_date")),
        "population": patient.population,
        "printed_at": timezone.now(),
    }
    return render(request, "web/patient_summary.html", context)
