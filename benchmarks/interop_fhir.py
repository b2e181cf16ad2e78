"""Benchmark of the FHIR R4 bulk export (issue 16): NDJSON of every resource type of an
already-seeded database, streamed to /dev/null by a fresh process.

`bench_fhir(database_url, patients)` exports the first `patients` patients (by id) — every
resource type, one after the other, as `export_fhir` does — in a new Python process, and returns
the rate (patients/s, resources/s), the time and resource count of each type and the process's
peak resident memory. It runs a second process on a quarter of the patients, so that the result
shows whether memory stays flat as the cohort grows (goal: < 300 MB, flat).

Seed the database first, e.g.::

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/reg_fhir_bench python manage.py migrate
    DATABASE_URL=... python manage.py seed_demo --patients 2000 --sites 10 --no-scoring
    DATABASE_URL=... python manage.py rescore --all

Run: ``.venv/bin/python benchmarks/interop_fhir.py --database-url URL --patients 2000``.
benchmarks/interop.py composes it with the ODM and REDCap figures.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
MEMORY_GOAL_MB = 300

# What the fresh process runs: Django set up, every type streamed to /dev/null, figures as JSON.
CHILD = r"""
import json, os, resource, sys, time
import django
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django.setup()
from interchange.fhir.export import RESOURCE_TYPES, ndjson
from registry.models import Patient

limit = int(sys.argv[1])
ids = Patient.objects.order_by("pk").values_list("pk", flat=True)
last = ids[min(limit, ids.count()) - 1]
patients = Patient.objects.filter(pk__lte=last)
count = patients.count()
by_type = {}
started = time.perf_counter()
with open(os.devnull, "wb") as sink:
    for name in RESOURCE_TYPES:
        begin, lines, size = time.perf_counter(), 0, 0
        for line in ndjson(name, patients):
            sink.write(line)
            lines += 1
            size += len(line)
        by_type[name] = {
            "resources": lines, "megabytes": round(size / 2**20, 1),
            "seconds": round(time.perf_counter() - begin, 2),
        }
seconds = time.perf_counter() - started
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kilobytes on Linux
print(json.dumps({"patients": count, "seconds": seconds, "peak_rss_mb": peak, "by_type": by_type}))
"""


def _run(database_url: str, patients: int) -> dict[str, Any]:
    env = {**os.environ, "DATABASE_URL": database_url}
    done = subprocess.run(
        [sys.executable, "-c", CHILD, str(patients)],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def bench_fhir(database_url: str, patients: int) -> dict[str, Any]:
    """The NDJSON export of every resource type of the first `patients` patients of an
    already-seeded database, each run in a fresh process streaming to /dev/null."""
    full = _run(database_url, patients)
    quarter = _run(database_url, max(1, patients // 4))
    resources = sum(kind["resources"] for kind in full["by_type"].values())
    return {
        "patients": full["patients"],
        "seconds": round(full["seconds"], 1),
        "patients_per_s": round(full["patients"] / full["seconds"], 1),
        "resources": resources,
        "resources_per_s": round(resources / full["seconds"]),
        "peak_rss_mb": round(full["peak_rss_mb"], 1),
        "peak_rss_mb_quarter": round(quarter["peak_rss_mb"], 1),
        "quarter_patients": quarter["patients"],
        "memory_goal_mb": MEMORY_GOAL_MB,
        "memory_ok": full["peak_rss_mb"] < MEMORY_GOAL_MB,
        "by_type": full["by_type"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL", ""))
    parser.add_argument("--patients", type=int, default=2000)
    options = parser.parse_args()
    if not options.database_url:
        parser.error("--database-url (or DATABASE_URL) names the seeded database")
    print(json.dumps(bench_fhir(options.database_url, options.patients), indent=2))


if __name__ == "__main__":
    main()
