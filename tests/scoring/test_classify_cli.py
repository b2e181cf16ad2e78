"""``python -m scoring.classify [FILE]``: the 2017 EULAR/ACR criteria, run as a subprocess."""

import json
import os
import subprocess
import sys
from pathlib import Path

from scoring.instruments import CLASSIFICATION_EXAMPLE_CASE

REPO = Path(__file__).resolve().parents[2]

K2 = {"age_at_onset": 52, "muscle_biopsy": False,
      "items": {"heliotrope": True, "gottron_sign": True, "weakness_proximal_upper": False,
                "weakness_proximal_lower": False, "neck_flexors_weaker": False,
                "legs_proximal_weaker_than_distal": False}}  # fmt: skip
K3 = {"age_at_onset": 70, "muscle_biopsy": True,
      "items": {"legs_proximal_weaker_than_distal": True, "enzymes_raised": True,
                "rimmed_vacuoles": True, "endomysial_infiltrate": True}}  # fmt: skip


def run(*args, stdin=""):
    env = {key: value for key, value in os.environ.items() if key != "DJANGO_SETTINGS_MODULE"}
    return subprocess.run(
        [sys.executable, "-m", "scoring.classify", *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=REPO,
        env=env,
        timeout=60,
    )


def test_one_case_from_stdin():
    done = run(stdin=json.dumps(K2))
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {
        "rule": "eular-acr-2017", "column": "no_biopsy", "score": "8.5", "complete": False,
        "missing": ["gottron_papules", "dysphagia", "anti_jo1", "enzymes_raised"],
        "category": "definite", "probability": 0.9608, "subgroup": "adm",
        "biopsy_recommended": False,
    }  # fmt: skip
    assert done.stderr == ""


def test_a_list_from_a_file(tmp_path):
    path = tmp_path / "cases.json"
    path.write_text(json.dumps([K2, K3, CLASSIFICATION_EXAMPLE_CASE]))
    done = run(str(path))
    assert done.returncode == 0, done.stderr
    results = json.loads(done.stdout)
    assert [(r["score"], r["subgroup"]) for r in results] == [
        ("8.5", "adm"), ("9.6", "ibm"), ("9.2", "dm"),
    ]  # fmt: skip


def test_invalid_input_exits_2_with_one_line_per_problem():
    bad = {"age_at_onset": 121, "muscle_biopsy": False, "items": {"rimmed_vacuoles": True},
           "colour": "blue"}  # fmt: skip
    done = run(stdin=json.dumps([K2, bad]))
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.splitlines() == [
        "error: [1].colour: unknown key; expected one of age_at_onset, muscle_biopsy, items, "
        "finger_flexor_weakness, treatment_response",
        "error: [1].age_at_onset: must be between 0 and 120 years",
        "error: [1].items.rimmed_vacuoles: is a biopsy finding: give it only with muscle_biopsy "
        "true",
    ]


def test_numbers_that_are_not_ages_are_refused_with_the_field_named():
    for age in ("NaN", "52.5", "1e999999999", "9" * 5000):
        done = run(stdin=f'{{"age_at_onset": {age}, "muscle_biopsy": false, "items": {{}}}}')
        assert done.returncode == 2, age
        assert done.stderr.startswith("error: "), age
        assert len(done.stderr.splitlines()) == 1


def test_malformed_json_and_a_missing_file_exit_2(tmp_path):
    done = run(stdin="{")
    assert (done.returncode, done.stderr.startswith("error: invalid JSON")) == (2, True)
    done = run(str(tmp_path / "absent.json"))
    assert (done.returncode, done.stderr.startswith("error: cannot read")) == (2, True)
