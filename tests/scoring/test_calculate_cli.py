"""``python -m scoring.calculate [FILE]`` (docs/scoring.md §6), run as a subprocess."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from scoring.instruments import EXAMPLE_CASE

REPO = Path(__file__).resolve().parents[2]

CASE = EXAMPLE_CASE  # docs/scoring.md §6


def run(*args, stdin=""):
    env = {key: value for key, value in os.environ.items() if key != "DJANGO_SETTINGS_MODULE"}
    return subprocess.run(
        [sys.executable, "-m", "scoring.calculate", *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=REPO,
        env=env,
        timeout=60,
    )


def test_one_case_from_stdin():
    done = run(stdin=json.dumps(CASE))
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["imacs_doi"]["met"] is True
    assert result["acr_eular"]["score"] == 57.5
    assert result["acr_eular"]["category"] == "moderate"
    assert done.stderr == ""


def test_a_list_from_a_file(tmp_path):
    juvenile = {**CASE, "population": "juvenile"}
    path = tmp_path / "cases.json"
    path.write_text(json.dumps([CASE, juvenile]))
    done = run(str(path))
    assert done.returncode == 0, done.stderr
    results = json.loads(done.stdout)
    assert [r["acr_eular"]["population"] for r in results] == ["adult", "juvenile"]


def test_decimals_are_read_exactly():
    # 7.3 → 6.8 is exactly 5 %: 0 points, not 2.5 as binary floats would give.
    text = json.dumps(CASE).replace('"physician_global": 6.0', '"physician_global": 7.3', 1)
    text = text.replace('"physician_global": 3.0', '"physician_global": 6.8', 1)
    done = run(stdin=text)
    result = json.loads(done.stdout)
    assert result["acr_eular"]["measures"]["physician_global"] == {
        "percent_improvement": 5.0,
        "points": 0.0,
    }


def test_invalid_input_exits_2_naming_the_field():
    bad = json.loads(json.dumps(CASE))
    bad["baseline"]["mmt"]["max"] = 100
    bad["followup"]["haq"] = 4
    done = run(stdin=json.dumps([CASE, bad]))
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.splitlines() == [
        "error: [1].baseline.mmt.max: must be one of 80, 150 or 260 (got 100)",
        "error: [1].followup.haq: must be between 0 and 3 (got 4)",
    ]


def test_nan_is_rejected_with_the_field_named():
    text = json.dumps(CASE).replace('"haq": 1.0', '"haq": NaN')
    done = run(stdin=text)
    assert done.returncode == 2
    assert "followup.haq" in done.stderr


@pytest.mark.parametrize("text", ["{", "", "[1, 2"])
def test_malformed_json_exits_2(text):
    done = run(stdin=text)
    assert done.returncode == 2
    assert done.stderr.startswith("error: invalid JSON")


def test_a_missing_file_exits_2(tmp_path):
    done = run(str(tmp_path / "absent.json"))
    assert done.returncode == 2
    assert "cannot read" in done.stderr
