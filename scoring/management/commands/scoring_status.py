"""`scoring_status [--json]` (docs/operations.md "Management commands"): counts of visits and their
scoring state.

A visit is scored when every response record it should have is current; pending when one is
not computed yet (queued, or never scored); stale when one was computed from data that has
changed since; failed when one failed on the current data. `--json` prints exactly the integer
keys visits, scored, pending, stale and failed.
"""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from scoring import selectors
from scoring.management.progress import Progress


class Command(BaseCommand):
    help = "Count visits by scoring state: scored, pending, stale, failed."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--json", action="store_true", help="One JSON object on stdout.")

    def handle(self, *args: Any, **options: Any) -> None:
        progress = None
        # Only on a terminal: a script reading --json, or a log, wants the answer alone.
        if self.stderr.isatty():
            progress = Progress(
                self.stderr, selectors.patients_with_visits(), "patients", "reading"
            )
        counts = selectors.scoring_counts(progress=progress.advance if progress else None)
        if progress:
            progress.finish()
        if options["json"]:
            self.stdout.write(json.dumps(counts))
            return
        width = max(len(str(value)) for value in counts.values())
        for key, value in counts.items():
            self.stdout.write(f"{key:<8} {value:>{width}}")
        if counts["stale"] or counts["pending"]:
            self.stdout.write("`rescore --stale` scores the pending and stale visits now.")
