"""What a patient's records are computed from and the fingerprints they must carry
(scoring.planning). Pure: plain values in, no database."""

import json
from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal
from fractions import Fraction

import pytest

from scoring.planning import (
    ALGORITHMS,
    DOI,
    TIS,
    WORSENING,
    EpisodeKey,
    PatientInputs,
    StoredVisit,
    exact_text,
    expected_rows,
    patient_inputs,
    row_inputs,
    row_inputs_json,
    visit_inputs,
)

SAVED = datetime(2020, 6, 1, tzinfo=UTC)


def stored(visit_id, day, kind="follow_up", physician="6.0", **changes):
    """A visit as scoring.selectors reads it: docs/data-dictionary.md's example visit, CK 2000
    (ULN 200)."""
    visit = StoredVisit(
        visit_id, date.fromisoformat(day), kind, SAVED, Decimal(physician), Decimal("5.0"),
        Decimal("4.0"), None, False, mmt_total=119, mmt_max=150, haq=Fraction(13, 8),
        labs=[("ck", Decimal("2000.000"), "U/L", Decimal("200.000"))],
    )  # fmt: skip
    return replace(visit, **changes)


def patient(*visits, population="adult", episodes=()):
    inputs = PatientInputs(1, population, "" if population else "onset: is before birth")
    for visit in visits:
        inputs.add_visit(visit_inputs(visit))
    inputs.episodes.extend(episodes)
    return inputs


def fingerprints(inputs):
    return {row.key: row.fingerprint for row in expected_rows(inputs)}


def test_snapshot_holds_the_measures_as_exact_text_and_its_canonical_json():
    visit = visit_inputs(stored(3, "2020-01-08", "baseline"))
    assert visit.snapshot == {
        "id": 3,
        "date": "2020-01-08",
        "measures": {
            "physician_global": "6", "patient_global": "5", "extramuscular": "4",
            "haq": "1.625", "mmt": {"total": 119, "max": 150}, "cmas": None,
            "enzymes": {"ck": {"value": "2000", "uln": "200", "unit": "U/L"}},
        },
    }  # fmt: skip
    assert visit.canonical == json.dumps(visit.snapshot, sort_keys=True, separators=(",", ":"))
    assert (visit.error, visit.locked, visit.key.kind) == ("", False, "baseline")
    assert visit.measures.physician_global == 6
    assert visit.measures.enzyme_ratio("ck") == 10


def test_microkatal_labs_are_scored_in_units_per_litre_and_stored_as_entered():
    visit = visit_inputs(
        stored(1, "2020-01-08", labs=[("ck", Decimal("5"), "ukat/L", Decimal("3"))])
    )
    assert visit.snapshot["measures"]["enzymes"]["ck"] == {
        "value": "5",
        "uln": "3",
        "unit": "ukat/L",
    }
    assert visit.measures.enzymes["ck"] == (300, 180)


def test_an_unknown_unit_fails_the_visit_and_is_part_of_its_inputs():
    visit = visit_inputs(
        stored(1, "2020-01-08", labs=[("ck", Decimal("5"), "mg/dL", Decimal("3"))])
    )
    assert visit.error == "labs.ck.unit: unknown unit 'mg/dL'"
    assert visit.snapshot["error"] == visit.error
    assert visit.measures is None


def test_an_instrument_that_could_not_be_read_comes_first_and_leaves_its_total_out():
    visit = visit_inputs(
        stored(
            1, "2020-01-08", haq=None, reading_error="haq.aids: unknown aid 'levitation'",
            labs=[("ck", Decimal("5"), "mg/dL", Decimal("3"))],
        )
    )  # fmt: skip
    assert visit.error == visit.snapshot["error"] == "haq.aids: unknown aid 'levitation'"
    assert visit.snapshot["measures"]["haq"] is None


def test_a_value_out_of_scale_fails_when_scored_not_in_the_fingerprint():
    visit = visit_inputs(stored(1, "2020-01-08", physician="11"))
    assert "physician_global" in visit.error and visit.measures is None
    assert "error" not in visit.snapshot
    assert visit_inputs(stored(1, "2020-01-08", physician="11"), with_measures=False).error == ""


def test_the_sweep_without_measures_computes_the_fingerprints_of_the_tasks():
    visits = [stored(1, "2020-01-08", "baseline"), stored(2, "2020-04-08", physician="3")]
    compared = PatientInputs(1, "adult", "")
    for visit in visits:
        compared.add_visit(visit_inputs(visit, with_measures=False))
    assert all(v.measures is None for v in compared.visits)
    assert fingerprints(compared) == fingerprints(patient(*visits))


def test_population_is_by_age_at_onset_or_the_reason_it_is_unknown():
    assert patient_inputs(1, 1968, 5, date(2019, 1, 1), 4).population == "adult"
    assert patient_inputs(1, 2010, 5, date(2019, 1, 1)).population == "juvenile"
    unknown = patient_inputs(1, 2010, 5, date(2009, 1, 1))
    assert unknown.population is None and "onset" in unknown.population_error


def test_every_comparison_has_a_record_per_algorithm_in_writing_order():
    inputs = patient(
        stored(1, "2020-01-08", "baseline"), stored(2, "2020-03-08"), stored(3, "2020-05-08")
    )
    assert ALGORITHMS == (DOI, TIS, WORSENING)
    assert [row.key for row in expected_rows(inputs)] == [
        (2, 1, DOI), (2, 1, TIS), (2, 1, WORSENING), (3, 1, DOI), (3, 1, TIS), (3, 1, WORSENING),
    ]  # fmt: skip


def test_fingerprints_change_with_exactly_what_a_record_is_computed_from():
    visits = [stored(1, "2020-01-08", "baseline"), stored(2, "2020-03-08"), stored(3, "2020-05-08")]
    before = fingerprints(patient(*visits))
    assert len(set(before.values())) == len(before)
    # Visit 2 is scored itself and is the "previous" of visit 3's worsening only.
    changed = fingerprints(patient(visits[0], replace(visits[1], physician_global=1), visits[2]))
    assert {key for key in before if before[key] != changed[key]} == {
        (2, 1, DOI), (2, 1, TIS), (2, 1, WORSENING), (3, 1, WORSENING)}  # fmt: skip
    # The population decides the TIS only.
    juvenile = fingerprints(patient(*visits, population="juvenile"))
    assert {key[2] for key in before if before[key] != juvenile[key]} == {TIS}
    # The episodes a comparison measures are part of it.
    treated = fingerprints(patient(*visits, episodes=[EpisodeKey(9, date(2020, 1, 10), None)]))
    assert all(before[key] != treated[key] for key in before)
    assert fingerprints(patient(*visits)) == before


def test_inputs_text_is_the_inputs_document():
    inputs = patient(
        stored(1, "2020-01-08", "baseline"),
        stored(2, "2020-03-08", labs=[]),
        stored(3, "2020-05-08", physician="9.5"),
        population=None,
    )
    rows = expected_rows(inputs)
    for row in rows:
        comparison = row.comparison
        assert json.loads(row_inputs_json(inputs, comparison, row.algorithm)) == row_inputs(
            inputs, comparison, row.algorithm
        )
    tis = row_inputs(inputs, rows[1].comparison, TIS)
    assert (tis["population"], tis["population_error"]) == (None, "onset: is before birth")
    assert row_inputs(inputs, rows[5].comparison, WORSENING)["previous"]["id"] == 2
    assert row_inputs(inputs, rows[2].comparison, WORSENING)["previous"] is None


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (None, None), (Decimal("6.0"), "6"), (Decimal("15.200"), "15.2"), (Decimal("100"), "100"),
        (Decimal("0.000"), "0"), (Decimal("-0.0"), "0"), (Decimal("1E+3"), "1000"),
        (Fraction(13, 8), "1.625"), (Fraction(1, 3), "1/3"), (Fraction(4), "4"),
    ],
)  # fmt: skip
def test_exact_text(value, text):
    assert exact_text(value) == text
