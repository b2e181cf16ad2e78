"""`rescore [--all | --patient ID | --stale]` (docs/operations.md "Management commands"): queue
re-scoring, or run it in-process when there is no broker (the embedded default), with progress.

--all and --patient recompute every record of those patients, current or not (after a fix, say);
--stale runs the reconciliation sweep now: only patients with a visit never scored, pending or
scored from data that changed since.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from registry.models import Patient
from scoring import selectors, tasks
from scoring.management.progress import Progress


class Command(BaseCommand):
    help = "Re-score response records: every patient, some patients, or only what is stale."

    def add_arguments(self, parser: CommandParser) -> None:
        which = parser.add_mutually_exclusive_group(required=True)
        which.add_argument("--all", action="store_true", help="Every patient with a visit.")
        which.add_argument(
            "--patient",
            action="append",
            metavar="ID",
            help="A patient by database id or as SITE/PATIENT_ID (repeatable).",
        )
        which.add_argument(
            "--stale",
            action="store_true",
            help="Only visits never scored, pending, or scored from data changed since.",
        )
        parser.add_argument(
            "--batch-size",
            type=int,
            default=tasks.BATCH_SIZE,
            help=f"Patients per task (default {tasks.BATCH_SIZE}).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        batch = options["batch_size"]
        if batch < 1:
            raise CommandError("--batch-size must be at least 1.")
        self.eager = bool(tasks.score_patients.app.conf.task_always_eager)
        self.totals: Counter[str] = Counter()
        self.tasks = 0
        verb = "scoring" if self.eager else "queueing"
        if options["patient"]:
            ids = self._patient_ids(options["patient"])
            progress = Progress(self.stderr, len(ids), "patients", verb)
            for start in range(0, len(ids), batch):
                self._run(ids[start : start + batch], force=True, batch=batch)
                progress.advance(len(ids[start : start + batch]))
        elif options["all"]:
            progress = Progress(self.stderr, selectors.patients_with_visits(), "patients", verb)
            for chunk in selectors.patient_id_chunks(batch):
                self._run(chunk, force=True, batch=batch)
                progress.advance(len(chunk))
        else:
            progress = Progress(
                self.stderr, selectors.patients_with_visits(), "patients", f"sweep, {verb}"
            )
            for scanned, needing in selectors.patients_needing_scoring():
                for start in range(0, len(needing), batch):
                    self._run(needing[start : start + batch], force=False, batch=batch)
                progress.advance(scanned)
        progress.finish()
        self._report()

    def _patient_ids(self, values: list[str]) -> list[int]:
        ids = []
        for value in values:
            if value.isascii() and value.isdigit():  # "²" is a digit to isdigit(), not to int()
                found = Patient.objects.filter(pk=int(value))
            elif "/" in value:
                site, _, patient_id = value.partition("/")
                found = Patient.objects.filter(site__code=site, patient_id=patient_id)
            else:
                raise CommandError(
                    f"--patient {value!r}: give a database id or SITE/PATIENT_ID (MAN/MAN-0001)."
                )
            pk = found.values_list("pk", flat=True).first()
            if pk is None:
                raise CommandError(f"--patient {value!r}: no such patient.")
            ids.append(pk)
        return sorted(set(ids))

    def _run(self, ids: list[int], *, force: bool, batch: int) -> None:
        if not ids:
            return
        results = tasks.enqueue(ids, force=force, batch_size=batch)
        self.tasks += len(results)
        if self.eager:
            for result in results:
                # Eager results hold the task's return value, or re-raise its error here.
                for key, value in result.get().items():
                    self.totals[key] += value
        else:
            self.totals["patients"] += len(ids)

    def _report(self) -> None:
        totals = self.totals
        if self.eager:
            self.stdout.write(
                f"Scored {totals['patients']} patients: {totals['written']} records written, "
                f"{totals['unchanged']} unchanged, {totals['deleted']} deleted, "
                f"{totals['failed']} failed, {totals['frozen']} frozen (locked visits)."
            )
        else:
            self.stdout.write(
                f"Queued {totals['patients']} patients in {self.tasks} tasks; the workers score "
                "them (`scoring_status` shows how far they are)."
            )
