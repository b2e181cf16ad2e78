"""`seed_demo --patients N [--sites K] [--seed S]`: a synthetic demo cohort (docs/operations.md
"Management commands").

Sites from a catalogue of real myositis centres, the demo logins of every role, and N patients
made by crf.demo (diagnoses, serology, treatments and visit courses as a rheumatologist would
expect them, locked visits signed by the site's investigator), written by crf.demo.store in
chunks: each chunk is one transaction, validated with the submission readers, audited, and
(unless --no-scoring) queued for scoring.
"""

import time
from datetime import date
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from crf.demo.accounts import demo_people_ensure, demo_sites_ensure
from crf.demo.cohort import CohortGenerator
from crf.demo.options import DEFAULT_PATIENTS, DEFAULT_SEED, DEFAULT_SITES, positive_number
from crf.demo.sites import demo_sites
from crf.demo.store import demo_patients_create
from registry.audit import Actor
from registry.errors import InputError
from registry.models import Patient


class Command(BaseCommand):
    help = (
        "Seed an empty registry with a realistic synthetic cohort: sites, the demo logins of "
        "every role (password DEMO_PASSWORD), and patients with diagnoses, autoantibodies, "
        "treatment episodes and visits. The same --seed and --today give the same data. "
        "Use --no-scoring for benchmark-sized runs (e.g. 100,000 patients) and score later "
        "with `manage.py rescore --all`."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--patients",
            type=positive_number,
            default=DEFAULT_PATIENTS,
            help=f"Number of patients (default {DEFAULT_PATIENTS}).",
        )
        parser.add_argument(
            "--sites",
            type=positive_number,
            default=DEFAULT_SITES,
            help=f"Number of sites (default {DEFAULT_SITES}).",
        )
        parser.add_argument(
            "--seed", type=int, default=DEFAULT_SEED, help=f"Random seed (default {DEFAULT_SEED})."
        )
        parser.add_argument(
            "--today",
            type=date.fromisoformat,
            default=None,
            help="The date the cohort ends, YYYY-MM-DD (default: today; not in the future).",
        )
        parser.add_argument(
            "--no-scoring",
            action="store_true",
            help="Do not ask for scoring of the new patients (benchmark-sized runs: scoring "
            "100,000 patients in-process takes long); run `manage.py rescore --all` later.",
        )
        parser.add_argument(
            "--chunk-size",
            type=positive_number,
            default=1000,
            help="Patients per transaction (default 1000).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        today = options["today"] or date.today()
        if today > date.today():
            raise CommandError("--today cannot be in the future: visits would be refused.")
        existing = Patient.objects.count()
        if existing:
            raise CommandError(
                f"The registry has {existing} patients already; seed_demo seeds an empty "
                "registry only (empty it with `manage.py flush` first)."
            )
        count, chunk = options["patients"], options["chunk_size"]
        profiles = demo_sites(options["sites"])
        sites = demo_sites_ensure(profiles=profiles)
        people = demo_people_ensure(sites=sites, password=settings.DEMO_PASSWORD)
        self.stdout.write(f"{len(sites)} sites, {len(people)} demo logins.")

        generator = CohortGenerator(seed=options["seed"], sites=profiles, today=today)
        actor = Actor(
            user=None,
            source="command",
            reason=f"seed_demo: synthetic demo data (seed {options['seed']})",
        )
        totals: dict[str, int] = {}
        started = time.perf_counter()
        for first in range(0, count, chunk):
            batch = list(generator.patients(min(chunk, count - first), start=first))
            try:
                created = demo_patients_create(
                    actor=actor, sites=sites, patients=batch, score=not options["no_scoring"]
                )
            except InputError as exc:  # a generator bug: say exactly what it made wrong
                raise CommandError(f"Generated data refused: {exc}") from None
            for kind, number in created.items():
                totals[kind] = totals.get(kind, 0) + number
            done = first + len(batch)
            if count > chunk:
                rate = done / (time.perf_counter() - started)
                self.stdout.write(f"  {done:,}/{count:,} patients ({rate:,.0f} patients/s)")
        elapsed = time.perf_counter() - started
        self.stdout.write(
            self.style.SUCCESS(
                f"Seeded {totals.get('patients', 0):,} patients in {elapsed:.1f} s: "
                + ", ".join(
                    f"{number:,} {kind.replace('_', ' ')}"
                    for kind, number in totals.items()
                    if kind != "patients"
                )
                + (" (scoring not requested)." if options["no_scoring"] else ".")
            )
        )
