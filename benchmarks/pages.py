"""Benchmark of the coordinator's pages (issue 6): server time of the patient list, the patient
page and the visit form on a registry of 100,000 patients and about 600,000 visits in PostgreSQL.

Run:
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/web_pages_bench \
        .venv/bin/python benchmarks/pages.py [--patients 100000] [--samples 60]

If the database holds fewer patients than asked, it is seeded first with `seed_demo --patients N
--no-scoring` (about 6.5 visits per patient; scoring 100,000 patients in-process would take long),
then the patients whose pages are timed are scored (`scoring.services.score_patients`) so that
their pages show real scores, as in production.

Server time is the whole request handled in-process by Django's test client — middleware, session,
access checks, queries, templates — without a network or browser. Each page is timed on
`--samples` different patients (or visits) after a warm-up; the median and p95 are printed, and
the login page (a template without data) is measured in the same run as the reference, as a
ratio. Goal: p95 under 150 ms for each page.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

_HERE = Path(__file__).resolve().parent
if sys.path and Path(sys.path[0] or ".").resolve() == _HERE:
    sys.path[0] = str(_HERE.parent)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from crf.models import Visit  # noqa: E402
from registry.models import Membership, Patient  # noqa: E402

GOAL_P95_MS = 150.0
WARM_UP = 5
SEED = 6


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


def _time(client: Client, urls: list[str]) -> tuple[list[float], int]:
    """Milliseconds per request, and the most queries one request ran."""
    for url in urls[:WARM_UP]:
        assert client.get(url).status_code == 200, url
    times, most = [], 0
    for url in urls:
        with CaptureQueriesContext(connection) as queries:
            start = time.perf_counter()
            response = client.get(url)
            elapsed = (time.perf_counter() - start) * 1000
        assert response.status_code == 200, (url, response.status_code)
        times.append(elapsed)
        most = max(most, len(queries))
    return times, most


def _ensure_data(patients: int) -> None:
    have = Patient.objects.count()
    if have >= patients:
        return
    if have:
        sys.exit(
            f"The database holds {have:,} patients, fewer than {patients:,}: use an empty one."
        )
    print(f"Seeding {patients:,} patients (seed_demo --no-scoring); this takes a while…")
    call_command("seed_demo", patients=patients, no_scoring=True, seed=1, verbosity=1)


def _score(patient_ids: list[int]) -> None:
    # The scoring app is above crf; the benchmark may use it (it is not part of the app).
    from scoring import services

    services.score_patients(patient_ids=patient_ids, computed_by="benchmarks/pages.py")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--patients", type=int, default=100_000)
    parser.add_argument("--samples", type=int, default=60)
    args = parser.parse_args()
    engine = settings.DATABASES["default"]["ENGINE"]
    if "postgresql" not in engine:
        print("warning: not PostgreSQL; the goal is stated for PostgreSQL", file=sys.stderr)
    # Queries are captured to report the count per page; that needs the cursor wrapper.
    settings.DEBUG = False

    _ensure_data(args.patients)
    rng = random.Random(SEED)
    coordinator = (
        Membership.objects.filter(role=Membership.Role.COORDINATOR)
        .select_related("user", "site")
        .first()
    )
    manager = (
        Membership.objects.filter(role=Membership.Role.DATA_MANAGER).select_related("user").first()
    )
    assert coordinator is not None and manager is not None, "seed_demo makes the demo people"
    site = coordinator.site
    site_patients = list(Patient.objects.filter(site=site).values_list("pk", flat=True))
    sample = rng.sample(site_patients, min(args.samples, len(site_patients)))
    started = time.perf_counter()
    _score(sample)
    print(f"Scored the {len(sample)} sampled patients in {time.perf_counter() - started:.1f} s.")
    # The latest visit of each sampled patient that is not locked (a locked one cannot be edited).
    visits = list(
        Visit.objects.filter(patient_id__in=sample)
        .exclude(status=Visit.Status.LOCKED)
        .order_by("patient_id", "-visit_date")
        .distinct("patient_id")
        .values_list("pk", flat=True)
    )

    client = Client()
    client.force_login(coordinator.user)
    pages = int(Patient.objects.filter(site=site).count() / 50) or 1
    page_numbers = [rng.randint(1, pages) for _ in range(args.samples)]
    # A prefix of a real id less its last character: matches about ten patients.
    ids = list(Patient.objects.filter(pk__in=sample).values_list("patient_id", flat=True))
    searches = [pid[:-1] for pid in ids]
    cases: list[tuple[str, Callable[[], tuple[list[float], int]]]] = [
        ("login page (reference)", lambda: _time(Client(), ["/accounts/login/"] * args.samples)),
        (
            f"patient list, {site.code}, random page of {pages:,}",
            lambda: _time(client, [f"/patients/?page={n}" for n in page_numbers]),
        ),
        (
            "patient list, search by id",
            lambda: _time(client, [f"/patients/?q={q}" for q in searches]),
        ),
        (
            "patient list, overdue + diagnosis",
            lambda: _time(
                client, ["/patients/?overdue=1&diagnosis=dermatomyositis"] * args.samples
            ),
        ),
        (
            "patient list, has a visit awaiting verification",
            lambda: _time(client, ["/patients/?status=submitted"] * args.samples),
        ),
        ("patient page", lambda: _time(client, [f"/patients/{pk}/" for pk in sample])),
        (
            "visit form, new visit",
            lambda: _time(client, [f"/patients/{pk}/visits/new/" for pk in sample]),
        ),
        (
            "visit form, edit a visit",
            lambda: _time(client, [f"/visits/{pk}/edit/" for pk in visits]),
        ),
    ]
    manager_client = Client()
    manager_client.force_login(manager.user)
    all_pages = int(Patient.objects.count() / 50)
    cases.append(
        (
            f"patient list, data manager, all sites, random page of {all_pages:,}",
            lambda: _time(
                manager_client,
                [f"/patients/?page={rng.randint(1, all_pages)}" for _ in range(args.samples)],
            ),
        )
    )

    total_visits = Visit.objects.count()
    print(
        f"\n{Patient.objects.count():,} patients, {total_visits:,} visits "
        f"({engine.rsplit('.', 1)[-1]}); {args.samples} samples per page after {WARM_UP} warm-up"
    )
    print(f"{'page':<62} {'median':>8} {'p95':>8} {'×ref':>6} {'queries':>8}  goal")
    reference = None
    failed = False
    for label, run in cases:
        times, queries = run()
        median, p95 = statistics.median(times), _percentile(times, 0.95)
        if reference is None:
            reference = median
            verdict = ""
        else:
            ok = p95 < GOAL_P95_MS
            failed |= not ok
            verdict = "ok" if ok else f"MISSED (p95 ≥ {GOAL_P95_MS:.0f} ms)"
        ratio = p95 / reference
        print(f"{label:<62} {median:7.1f}ms {p95:7.1f}ms {ratio:6.1f} {queries:8d}  {verdict}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
