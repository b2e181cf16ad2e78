"""Benchmark of seeding (issue 2): how fast `seed_demo` makes a synthetic cohort.

Seeds PATIENTS patients with `seed_demo --no-scoring` — generate (crf.demo), validate with the
submission readers, bulk-insert with one audit event per row (crf.submission) — and prints patients
per second, with two references measured in the same run: generating the documents alone (pure
Python, no database), and storing patients of the same cohort one by one through the per-patient
write service that the submission API uses (crf.submission.patient_document_save). Scoring is left
out of both (`rescore --all` does it afterwards).

The database is the one DATABASE_URL names (SQLite when unset), but never its data: like the test
runner, the benchmark creates a fresh "test_<name>" database beside it and drops it at the end
(--keep leaves it, seeded, for other benchmarks).

Run: ``.venv/bin/python benchmarks/seed.py [PATIENTS] [--sites K] [--reference N] [--keep]``,
e.g. ``DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench .venv/bin/python benchmarks/seed.py
100000 --sites 30``.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import TypeVar

# Run as a script, this file's directory heads sys.path: look in the repository root instead.
_HERE = Path(__file__).resolve().parent
if sys.path and Path(sys.path[0] or ".").resolve() == _HERE:
    sys.path[0] = str(_HERE.parent)

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("LOG_LEVEL", "ERROR")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402

from crf.demo.accounts import demo_sites_ensure  # noqa: E402
from crf.demo.cohort import CohortGenerator  # noqa: E402
from crf.demo.sites import demo_sites  # noqa: E402
from crf.models import Visit  # noqa: E402
from crf.submission import patient_document_save  # noqa: E402
from registry.audit import Actor  # noqa: E402
from registry.models import AuditEvent  # noqa: E402
from registry.signals import scoring_inputs_changed  # noqa: E402

SEED = 2026
T = TypeVar("T")
TODAY = date.today()


def _load() -> str:
    try:
        return "load average " + " ".join(f"{x:.1f}" for x in os.getloadavg())
    except OSError:
        return "load average unknown"


def _engine() -> str:
    if connection.vendor == "postgresql":
        return f"PostgreSQL {connection.pg_version // 10000}.{connection.pg_version % 10000}"
    return f"SQLite {connection.Database.sqlite_version}"


def _timed(function: Callable[[], T]) -> tuple[T, float, float]:
    """The result, wall-clock seconds and CPU seconds of this process."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = function()
    return result, time.perf_counter() - wall, time.process_time() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("patients", type=int, nargs="?", default=10_000)
    parser.add_argument("--sites", type=int, default=20)
    parser.add_argument(
        "--reference",
        type=int,
        default=100,
        help="patients stored one by one through the service (100)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the seeded database")
    options = parser.parse_args()

    database = settings.DATABASES["default"]
    if connection.vendor == "sqlite":
        # The test runner's default is an in-memory database, which would flatter the figures.
        folder = tempfile.mkdtemp(prefix="seed-bench-")
        database.setdefault("TEST", {})["NAME"] = str(Path(folder) / "bench.sqlite3")
    old_name = database["NAME"]
    name = connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    engine = _engine()
    print(
        f"seed benchmark: {options.patients:,} patients, {options.sites} sites, "
        f"{engine} database {name}, {os.cpu_count()} CPUs, {_load()}"
    )
    # Scoring is excluded from every figure: nothing listens for "scoring inputs changed".
    receivers, scoring_inputs_changed.receivers = scoring_inputs_changed.receivers, []
    try:
        profiles = demo_sites(options.sites)

        # 1. Generating the documents alone (pure Python).
        count = min(options.patients, 20_000)
        generator = CohortGenerator(seed=SEED, sites=profiles, today=TODAY)
        _, wall, _ = _timed(lambda: sum(1 for _ in generator.patients(count)))
        generation = count / wall
        print(
            f"  generate documents only (no database)   {count:>9,} patients {wall:8.1f} s"
            f"  {generation:9,.1f} patients/s"
        )

        # 2. seed_demo: generate, validate, bulk insert, audit.
        with open(os.devnull, "w") as quiet:
            _, wall, cpu = _timed(
                lambda: call_command(
                    "seed_demo",
                    patients=options.patients,
                    sites=options.sites,
                    seed=SEED,
                    today=TODAY,
                    no_scoring=True,
                    stdout=quiet,
                )
            )
        visits = Visit.objects.count()
        events = AuditEvent.objects.count()
        seeded = options.patients / wall
        print(
            f"  seed_demo --no-scoring (bulk)           {options.patients:>9,} patients"
            f" {wall:8.1f} s"
            f"  {seeded:9,.1f} patients/s  ({visits:,} visits, {visits / wall:,.0f}/s; "
            f"{events:,} rows and as many audit events; {cpu:.0f} s CPU in this process)"
        )

        # 3. Reference: the same kind of patients through the per-patient write service.
        reference = [replace(p, code=f"R{p.code}", name=f"{p.name} (reference)") for p in profiles]
        sites = demo_sites_ensure(profiles=reference)
        documents = list(
            CohortGenerator(seed=SEED + 1, sites=reference, today=TODAY).patients(options.reference)
        )
        actor = Actor(user=None, source="command", reason="benchmark")

        def one_by_one() -> None:
            for patient in documents:
                patient_document_save(
                    actor=actor, site=sites[patient.site_code], data=patient.document
                )

        _, wall, _ = _timed(one_by_one)
        service = options.reference / wall
        print(
            f"  reference: patient_document_save        {options.reference:>9,} patients"
            f" {wall:8.1f} s"
            f"  {service:9,.1f} patients/s"
        )
        print(
            f"  ratio seed_demo / per-patient service: {seeded / service:.1f}x;"
            f" seed_demo / generation alone: {seeded / generation:.2f}; {_load()}"
        )
        print(f"  100,000 patients at this rate: {100_000 / seeded / 60:.1f} min")
    finally:
        scoring_inputs_changed.receivers = receivers
        if options.keep:
            print(f"  kept the seeded database {name}")
        else:
            connection.creation.destroy_test_db(old_name, verbosity=0)


if __name__ == "__main__":
    main()
