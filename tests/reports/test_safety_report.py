"""GET /api/v1/reports/safety/ on tests/reports/outcome_cohort.py: every count, exposure, rate
and interval known in advance."""

import csv
import io

import pytest
from openpyxl import load_workbook

pytestmark = pytest.mark.django_db

URL = "/api/v1/reports/safety/"


@pytest.fixture
def dm(client, people):
    client.force_login(people["dm"])
    return client


def rows_of(body):
    return {row["treatment"]: row for row in body["rows"]}


def test_tacrolimus_counts_exposure_and_rates(dm, outcome_cohort):
    body = dm.get(URL).json()
    assert body["episodes"] == 13
    tacrolimus = rows_of(body)["tacrolimus"]
    # Exposure: 100 + 100 + 100 + 200 (to the deaths and last contact of ongoing episodes)
    # + 300 (stopped) + 800 (ongoing, last known alive) = 1600 days.
    assert tacrolimus["patient_years"] == round(1600 / 365.25, 2)
    assert {
        key: tacrolimus[key]
        for key in ("patients_exposed", "episodes", "patients_with_ae", "patients_with_serious_ae",
                    "patients_with_related_ae", "patients_withdrawn_for_ae",
                    "patients_with_fatal_ae", "deaths", "events")
    } == {
        "patients_exposed": 6, "episodes": 6, "patients_with_ae": 4,
        "patients_with_serious_ae": 2, "patients_with_related_ae": 2,
        "patients_withdrawn_for_ae": 1, "patients_with_fatal_ae": 1, "deaths": 3, "events": 4,
    }  # fmt: skip
    # 4 events in 1600/365.25 patient-years; Garwood: χ²(0.025; 8)/2 = 1.0899,
    # χ²(0.975; 10)/2 = 10.2416.
    per = 100 * 365.25 / 1600
    assert tacrolimus["events_per_100_patient_years"] == {
        "estimate": pytest.approx(4 * per, abs=0.01),
        "ci_low": pytest.approx(1.0899 * per, abs=0.01),
        "ci_high": pytest.approx(10.2416 * per, abs=0.02),
    }
    # 4 of 6 with a Wilson interval: (0.3000, 0.9032).
    assert tacrolimus["percentages"]["patients_with_ae"] == {
        "estimate": 66.7,
        "ci_low": 30.0,
        "ci_high": 90.3,
    }
    assert tacrolimus["deaths_by_cause"] == {
        "interstitial_lung_disease": 1,
        "infection": 1,
        "malignancy": 1,
    }
    infection = tacrolimus["by_category"]["infection"]
    assert {key: infection[key] for key in ("patients_with_ae", "patients_with_serious_ae",
            "patients_with_related_ae", "patients_with_fatal_ae", "events")} == {
        "patients_with_ae": 2, "patients_with_serious_ae": 2, "patients_with_related_ae": 1,
        "patients_with_fatal_ae": 1, "events": 2,
    }  # fmt: skip
    hepatic = tacrolimus["by_category"]["hepatotoxicity"]
    assert (hepatic["events"], hepatic["patients_withdrawn_for_ae"]) == (1, 1)
    # Before the start and not related: the cytopenia is not treatment-emergent.
    assert tacrolimus["by_category"]["cytopenia"]["events"] == 0
    assert tacrolimus["by_category"]["hyperglycaemia"]["events"] == 1


def test_an_event_related_to_two_overlapping_episodes_counts_for_both(dm, outcome_cohort):
    rows = rows_of(dm.get(URL).json())
    ciclosporin, methotrexate = rows["ciclosporin"], rows["methotrexate"]
    assert (ciclosporin["events"], ciclosporin["patients_with_related_ae"]) == (1, 1)
    assert (methotrexate["events"], methotrexate["patients_with_related_ae"]) == (1, 1)
    # 50 + 150 + 300 + 365 + 500 days; methotrexate 2019-12-01 to 2020-02-01.
    assert ciclosporin["patient_years"] == round(1365 / 365.25, 2)
    assert methotrexate["patient_years"] == round(62 / 365.25, 2)
    assert (ciclosporin["deaths"], ciclosporin["deaths_by_cause"]) == (4, {"myositis": 4})
    # C1 died on 2020-02-20, within 30 days of methotrexate's stop.
    assert methotrexate["deaths"] == 1
    ivig = rows["ivig"]
    assert (ivig["patients_exposed"], ivig["events"], ivig["patient_years"]) == (
        1,
        0,
        round(60 / 365.25, 2),
    )
    assert ivig["percentages"]["patients_with_ae"] == {
        "estimate": 0.0,
        "ci_low": 0.0,
        "ci_high": 79.3,  # Wilson for 0 of 1: 0.7935
    }


def test_small_cells_are_suppressed(client, people, outcome_cohort):
    client.force_login(people["inv_a"])
    rows = rows_of(client.get(URL).json())
    ivig = rows["ivig"]
    assert (ivig["suppressed"], ivig["patients_exposed"], ivig["events"], ivig["deaths"]) == (
        True,
        None,
        None,
        None,
    )
    assert ivig["by_category"]["infection"]["events"] is None
    assert ivig["deaths_by_cause"] is None
    assert rows["tacrolimus"]["suppressed"] is False
    text = client.get(URL, {"format": "csv"}).content.decode()
    found = next(r for r in csv.DictReader(io.StringIO(text)) if r["treatment"] == "ivig")
    assert (found["patients_exposed"], found["events"]) == ("< 5", "< 5")


def test_filters_strata_and_files(dm, outcome_cohort):
    body = dm.get(URL, {"site": "AAA"}).json()
    assert list(rows_of(body)) == ["tacrolimus"]
    strata = dm.get(URL, {"stratify": "site", "group_by": "drug_class"}).json()["rows"]
    assert {(r["stratum"], r["treatment"]) for r in strata} >= {("AAA", "calcineurin_inhibitor")}
    response = dm.get(URL, {"format": "xlsx"})
    book = load_workbook(io.BytesIO(response.content), read_only=True)
    assert book.sheetnames == ["Safety", "About"]
    header = next(book["Safety"].iter_rows(values_only=True))
    assert "thromboembolic_events_per_100py" in header
    assert dm.get(URL, {"start_from": "2030-13-01"}).status_code == 400
