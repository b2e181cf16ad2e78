"""Benchmark of the REDCap import (issue 16) next to the JSON submission path, same records.

1. Generates N patients of the demo cohort (crf.demo) — adults with the bilateral MMT-8, which
   the example project's mapping (docs/examples/redcap/) describes — and flattens each patient
   document into REDCap rows with that mapping: a baseline event, follow-up and unscheduled
   visits as repeating events, treatments and autoantibodies as repeating instruments, HAQ aids
   and help as checkbox columns, dates in the mapping's formats. The flat CSV is written before
   the clock starts.
2. Times `import_redcap` of that CSV into an empty site (records/s), then, into another empty
   site, the writer the API's submission calls (crf.submission.store_patients) on the same
   documents (patients/s), both with scoring queued (not computed) as with a broker.
3. Prints and returns both rates and their ratio (goal ≥ 50 %), after checking the two sites
   hold the same numbers of visits.

Run: ``DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench .venv/bin/python
benchmarks/interop_redcap.py [PATIENTS]``. Like benchmarks/seed.py it creates a fresh
"test_<name>" database beside the one named and drops it at the end.
"""

from __future__ import annotations

import csv
import io
import os
import sys
import time
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any

_HERE = Path(__file__).resolve().parent
if sys.path and Path(sys.path[0] or ".").resolve() == _HERE:
    sys.path[0] = str(_HERE.parent)
EXAMPLE = _HERE.parent / "docs" / "examples" / "redcap"
GOAL_RATIO = 0.5
SEED = 2026
BASELINE, FOLLOW_UP, UNSCHEDULED = "baseline_arm_1", "follow_up_arm_1", "unscheduled_arm_1"
EVENT_OF_KIND = {"baseline": BASELINE, "follow_up": FOLLOW_UP, "unscheduled": UNSCHEDULED}


def _raw(leaf: Any, value: Any) -> str:
    """A document value as REDCap exports it, by the mapping's leaf (the import's inverse)."""
    if leaf.values is not None:
        return next(code for code, mapped in leaf.values.items() if mapped == value)
    if leaf.target == "date":
        return date.fromisoformat(value).strftime(leaf.date_format)
    if leaf.target == "year_month":
        return datetime.strptime(value + "-01", "%Y-%m-%d").strftime(leaf.date_format)
    return str(value)


def _fill(template: dict[str, Any], data: dict[str, Any], row: dict[str, str], dictionary: Any,
          ) -> None:  # fmt: skip
    for key, node in template.items():
        value = data.get(key)
        if isinstance(node, dict):
            _fill(node, value if isinstance(value, dict) else {}, row, dictionary)
        elif node.field and node.target == "list":
            for code in dictionary.fields[node.field].choices:
                row[f"{node.field}___{code}"] = "1" if node.values[code] in (value or []) else "0"
        elif node.field and value not in (None, ""):
            row[node.field] = _raw(node, value)


def flatten(document: dict[str, Any], record: str, dag: str, mapping: Any, dictionary: Any,
            ) -> Iterator[dict[str, str]]:  # fmt: skip
    """The flat export's rows of one patient document, by the mapping."""
    head = {"record_id": record, "redcap_data_access_group": dag}
    visits = document.get("visits", [])
    baseline = next((v for v in visits if v["kind"] == "baseline"), None)
    first = {**head, "redcap_event_name": BASELINE}
    _fill(mapping.patient, document, first, dictionary)
    if baseline is not None:
        _fill(mapping.visit, baseline, first, dictionary)
    yield first
    for instrument, (target, template) in mapping.repeating.items():
        for instance, entry in enumerate(document.get(target, []), start=1):
            row = {**head, "redcap_event_name": BASELINE, "redcap_repeat_instrument": instrument,
                   "redcap_repeat_instance": str(instance)}  # fmt: skip
            _fill(template, entry, row, dictionary)
            yield row
    instances: dict[str, int] = {}
    for visit in visits:
        if visit is baseline:
            continue
        event = EVENT_OF_KIND[visit["kind"]]
        instances[event] = instances.get(event, 0) + 1
        row = {**head, "redcap_event_name": event, "redcap_repeat_instance": str(instances[event])}
        _fill(mapping.visit, visit, row, dictionary)
        yield row


def flat_csv(rows: list[dict[str, str]], dictionary: Any) -> str:
    """Rows as REDCap's flat CSV: its fixed columns, then every field (checkboxes expanded)."""
    columns = ["record_id", "redcap_event_name", "redcap_repeat_instrument",
               "redcap_repeat_instance", "redcap_data_access_group"]  # fmt: skip
    for name, found in dictionary.fields.items():
        if name == "record_id":
            continue
        if found.is_checkbox:
            columns += [f"{name}___{code}" for code in found.choices]
        else:
            columns.append(name)
    out = io.StringIO()
    writer = csv.DictWriter(out, columns, restval="", lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def fits(document: dict[str, Any]) -> bool:
    """Whether the example mapping describes this patient (bilateral MMT-8, HAQ not CHAQ)."""
    return all(
        visit.get("mmt8", {}).get("scale", "bilateral") == "bilateral" and "chaq" not in visit
        for visit in document["visits"]
    )


def demo_documents(patients: int) -> list[dict[str, Any]]:
    from crf.demo.cohort import CohortGenerator
    from crf.demo.sites import demo_sites

    generator = CohortGenerator(seed=SEED, sites=demo_sites(15), today=date.today())
    documents: list[dict[str, Any]] = []
    start = 0
    while len(documents) < patients:
        for patient in generator.patients(patients, start):
            if fits(patient.document) and len(documents) < patients:
                documents.append(patient.document)
        start += patients
    return documents


def example_project() -> tuple[Any, Any, str]:
    from interchange.redcap.dictionary import read_dictionary
    from interchange.redcap.mapping import load_mapping

    text = (EXAMPLE / "mapping.yaml").read_text()
    dictionary = read_dictionary((EXAMPLE / "data_dictionary.csv").read_text())
    return dictionary, load_mapping(text, dictionary), text


def bench_redcap(database_url: str, patients: int) -> dict[str, Any]:
    """Time the REDCap import of `patients` synthetic records next to the JSON writer."""
    os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("LOG_LEVEL", "ERROR")
    os.environ.setdefault("CELERY_BROKER_URL", "memory://")  # scoring queued, never run here
    import django

    django.setup()
    from django.db import connection

    from crf.models import Visit
    from crf.submission import read_patient_document, store_patients
    from interchange.redcap.importing import import_redcap
    from registry.audit import Actor
    from registry.models import Site

    creation = connection.creation
    old_name = connection.settings_dict["NAME"]
    creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False)
    try:
        dictionary, mapping, mapping_text = example_project()
        documents = demo_documents(patients)
        Site.objects.create(code="RCP", name="REDCap import", country="GB")
        for code in mapping.sites.values():  # the example's DAGs' sites (unused: --site RCP)
            Site.objects.get_or_create(code=code, defaults={"name": code, "country": "GB"})
        json_site = Site.objects.create(code="JSN", name="JSON writer", country="GB")
        rows = [row for index, document in enumerate(documents)
                for row in flatten(document, str(index + 1), "", mapping, dictionary)]  # fmt: skip
        records = flat_csv(rows, dictionary)
        dictionary_text = (EXAMPLE / "data_dictionary.csv").read_text()
        mapping_text = mapping_text.replace(
            'patient_id: "{site}-{record}"', 'patient_id: "P{record}"'
        )

        # Warm both paths up (first queries, caches) on five other patients, at other sites.
        warm = [{**d, "patient_id": f"W{i}"} for i, d in enumerate(demo_documents(5))]
        warm_rows = [row for i, d in enumerate(warm) for row in flatten(d, f"W{i}", "", mapping,
                     dictionary)]  # fmt: skip
        Site.objects.create(code="WRC", name="warm-up", country="GB")
        import_redcap(dictionary=dictionary_text, records=flat_csv(warm_rows, dictionary),
                      mapping=mapping_text, site="WRC")  # fmt: skip
        store_patients(actor=Actor(None, "api"), site=Site.objects.create(code="WJS", name="w"),
                       reads=[read_patient_document(d) for d in warm])  # fmt: skip

        started = time.perf_counter()
        report = import_redcap(dictionary=dictionary_text, records=records, mapping=mapping_text,
                               site="RCP")  # fmt: skip
        redcap_seconds = time.perf_counter() - started
        summary = report.summary()
        assert summary["created"] == patients, (summary, report.csv()[:2000])

        started = time.perf_counter()
        for first in range(0, len(documents), 200):
            batch = [{**d, "patient_id": f"P{first + i + 1}"}
                     for i, d in enumerate(documents[first : first + 200])]  # fmt: skip
            reads = [read_patient_document(d) for d in batch]
            outcomes = store_patients(actor=Actor(None, "api"), site=json_site, reads=reads)
            assert all(o.status == "created" for o in outcomes)
        json_seconds = time.perf_counter() - started
        visits = {code: Visit.objects.filter(patient__site__code=code).count()
                  for code in ("RCP", "JSN")}  # fmt: skip
        assert visits["RCP"] == visits["JSN"], visits

        started = time.perf_counter()
        again = import_redcap(dictionary=dictionary_text, records=records, mapping=mapping_text,
                              site="RCP").summary()  # fmt: skip
        rerun_seconds = time.perf_counter() - started
        assert again["unchanged"] == patients, again
        result = {
            "engine": connection.vendor,
            "patients": patients,
            "visits": visits["RCP"],
            "csv_rows": len(rows),
            "redcap_seconds": round(redcap_seconds, 2),
            "redcap_records_per_s": round(patients / redcap_seconds, 1),
            "json_seconds": round(json_seconds, 2),
            "json_patients_per_s": round(patients / json_seconds, 1),
            "ratio": round(json_seconds / redcap_seconds, 3),
            "goal_ratio": GOAL_RATIO,
            "rerun_unchanged_records_per_s": round(patients / rerun_seconds, 1),
        }
    finally:
        creation.destroy_test_db(old_name, verbosity=0)
    return result


def main() -> None:
    patients = int(sys.argv[1]) if len(sys.argv) > 1 else 500
    url = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/bench")
    result = bench_redcap(url, patients)
    for key, value in result.items():
        print(f"{key:32} {value}")
    verdict = "met" if result["ratio"] >= GOAL_RATIO else "NOT met"
    print(f"goal: REDCap import ≥ {GOAL_RATIO:.0%} of the JSON writer's rate — {verdict}")


if __name__ == "__main__":
    main()
