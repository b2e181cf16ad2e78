"""Benchmark of the CDISC ODM 1.3.2 Snapshot export (issue 16) on an already-seeded database.

`bench_odm(database_url, patients)` streams the whole registry's Snapshot — the code behind
`GET /api/v1/exports/odm/`, the exports page and `export_odm` — to /dev/null in a fresh process
(so that its peak memory is the export's alone) and returns patients per second, bytes, seconds
and the peak resident set size. It does not seed: run
``DATABASE_URL=... manage.py migrate && manage.py seed_demo --patients N --no-scoring`` first.
benchmarks/interop.py composes it with the FHIR and REDCap figures.
Run alone: ``.venv/bin/python benchmarks/interop_odm.py DATABASE_URL PATIENTS``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
GOAL_MEMORY_MB = 300

CHILD = """
import json, resource, time
import django
django.setup()
from interchange.odm.export import odm_export
from registry.models import Patient
def rss_kb():
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmRSS:"))
before = rss_kb()
started = time.perf_counter()
export = odm_export(user=None, kind="snapshot", source="command", trusted=True)
size = 0
with open("/dev/null", "w", encoding="utf-8") as sink:
    for chunk in export.stream():
        size += len(chunk.encode("utf-8"))
        sink.write(chunk)
elapsed = time.perf_counter() - started
print(json.dumps({"patients": export.patients, "bytes": size, "seconds": elapsed,
                  "rss_before_kb": before,
                  "peak_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}))
"""


def bench_odm(database_url: str, patients: int) -> dict[str, Any]:
    """Time the Snapshot export of the seeded database at `database_url` in a fresh process.

    `patients` is how many the caller seeded (checked against the export's count).
    """
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "PYTHONPATH": str(ROOT),
    }
    child = subprocess.run(
        [sys.executable, "-c", CHILD], env=env, cwd=ROOT, check=True, capture_output=True, text=True
    )
    result = json.loads(child.stdout.strip().splitlines()[-1])
    if result["patients"] != patients:
        raise RuntimeError(f"The database holds {result['patients']} patients, not {patients}.")
    peak_mb = result["peak_kb"] / 1024
    return {
        "format": "ODM 1.3.2 Snapshot",
        "patients": result["patients"],
        "seconds": round(result["seconds"], 2),
        "patients_per_second": round(result["patients"] / result["seconds"], 1),
        "megabytes": round(result["bytes"] / 2**20, 1),
        "peak_rss_mb": round(peak_mb, 1),
        "rss_before_mb": round(result["rss_before_kb"] / 1024, 1),
        "memory_goal_met": peak_mb < GOAL_MEMORY_MB,
    }


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__.split("\n\n")[-1].strip())
    print(json.dumps(bench_odm(sys.argv[1], int(sys.argv[2])), indent=2))
