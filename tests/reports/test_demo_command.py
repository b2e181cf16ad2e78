"""`python manage.py demo` on a fresh machine: migrate, seed, score, print the logins."""

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

ROOT = Path(__file__).resolve().parents[2]


def run(*args: str, data_dir: Path) -> subprocess.CompletedProcess:
    """manage.py in a clean environment: the embedded SQLite under data_dir, eager Celery."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("DATABASE_URL", "CELERY_BROKER_URL", "DEMO_PASSWORD", "DEBUG")}  # fmt: skip
    env["REGISTRY_DATA_DIR"] = str(data_dir)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip


@pytest.mark.slow
def test_demo_seeds_and_scores_an_empty_registry_and_prints_the_logins(tmp_path):
    first = run("demo", "--no-server", data_dir=tmp_path)
    assert first.returncode == 0, first.stderr
    assert "http://127.0.0.1:8000/" in first.stdout
    for login in ("datamanager", "coord-xxx", "inv-xxx", "monitor-xxx", "submit-xxx"):
        assert login in first.stdout
    assert "password: demo" in first.stdout
    assert "man    Salford Royal Hospital, Manchester (GB)" in first.stdout

    database = sqlite3.connect(tmp_path / "registry.sqlite3")
    patients = database.execute("SELECT COUNT(*) FROM registry_patient").fetchone()[0]
    users = {row[0] for row in database.execute("SELECT username FROM auth_user")}
    database.close()
    assert patients == 240
    assert {"datamanager", "coord-man", "inv-sto", "monitor-pit", "submit-tok"} <= users

    status = run("scoring_status", "--json", data_dir=tmp_path)
    assert status.returncode == 0, status.stderr
    counts = json.loads(status.stdout)
    assert counts["visits"] > 1000 and counts["scored"] == counts["visits"]

    # A second run keeps the data: nothing is seeded twice.
    again = run("demo", "--no-server", "--port", "8123", data_dir=tmp_path)
    assert again.returncode == 0, again.stderr
    assert "not seeding" in again.stdout and "http://127.0.0.1:8123/" in again.stdout
    database = sqlite3.connect(tmp_path / "registry.sqlite3")
    assert database.execute("SELECT COUNT(*) FROM registry_patient").fetchone()[0] == 240
    database.close()


def test_demo_refuses_a_port_out_of_range():
    with pytest.raises(CommandError, match="--port"):
        call_command("demo", "--port", "70000", "--no-server")
