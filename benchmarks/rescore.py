"""Benchmark of the scoring pipeline (issue 4): re-score 100,000 visits with real Celery workers.

On PostgreSQL and a Redis broker, in a database of its own (created, migrated and seeded with
`seed_demo --no-scoring` on the first run, then reused), it

1. starts two `celery -A config worker` processes (solo pool: one process each),
2. scores the cohort once if it has no records yet (`rescore --all`, timed but not the headline),
3. times `rescore --all` — every record recomputed and rewritten — from the first task queued to
   the last one acknowledged: the headline visits/s;
4. measures the input/output floor in the same run, before and after the workers' pass (the
   faster is kept): reading the same inputs (patients, visits, MMT-8, HAQ, labs, treatment
   episodes) and bulk-writing the same number of result rows, the very rows the workers wrote —
   rewritten in place (COPY into a staging table, one INSERT … ON CONFLICT DO UPDATE: what a
   re-score must write) and, stricter, appended to an empty table like the records' with COPY —
   plain SQL from one client, no Python scoring at all;
5. prints both and the ratios (goal: at least 30 % of the floor).

Run: ``.venv/bin/python benchmarks/rescore.py`` (``--help`` for the database, broker, size).
"""

from __future__ import annotations

import argparse
import io
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

# Run as a script, this file's directory heads sys.path and benchmarks/scoring.py would shadow
# the scoring package: look in the repository root instead.
ROOT = Path(__file__).resolve().parent.parent
if sys.path and Path(sys.path[0] or ".").resolve() == ROOT / "benchmarks":
    sys.path[0] = str(ROOT)

GOAL = 0.30
DEFAULT_DATABASE = "postgres://postgres@127.0.0.1:5432/registry_bench_rescore"
DEFAULT_BROKER = "redis://127.0.0.1:6379/13"
# seed_demo makes about 6.5 visits per patient; with this seed and date, 15,400 patients make
# just over 100,000 visits.
DEFAULT_PATIENTS = 15_400
SEED = 20160101
TODAY = "2025-06-30"

FLOOR_READS = (
    "SELECT id, birth_year, birth_month, onset_date FROM registry_patient",
    "SELECT id, patient_id, visit_date, kind, updated_at, physician_global, patient_global, "
    "extramuscular, cmas FROM crf_visit",
    "SELECT * FROM crf_mmt8",
    "SELECT * FROM crf_haq",
    "SELECT visit_id, enzyme, value, unit, uln FROM crf_labresult",
    "SELECT id, patient_id, start_date, stop_date FROM registry_treatmentepisode",
)
RECORD_COLUMNS = (
    "id, patient_id, visit_id, reference_visit_id, previous_visit_id, algorithm, reference_kind, "
    "status, error, inputs, fingerprint, result, met, score, category, complete, worsened, "
    "confirmed, requested_at, computed_at, computed_by"
)


def parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=DEFAULT_DATABASE)
    parser.add_argument("--broker-url", default=DEFAULT_BROKER)
    parser.add_argument("--patients", type=int, default=DEFAULT_PATIENTS)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=100, help="patients per task")
    parser.add_argument("--reseed", action="store_true", help="drop and seed the database again")
    return parser.parse_args()


def admin_url(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    return urlunsplit(parts._replace(path="/postgres")), name


def ensure_database(url: str, reseed: bool) -> bool:
    """Create the benchmark database if needed; True when it is new (to be seeded)."""
    import psycopg

    maintenance, name = admin_url(url)
    with psycopg.connect(maintenance, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if exists and reseed:
            conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
            exists = None
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')
            return True
    return False


class Workers:
    def __init__(self, count: int, env: dict[str, str], log_dir: Path) -> None:
        self.processes: list[tuple[subprocess.Popen[bytes], Path]] = []
        for number in range(count):
            log = log_dir / f"bench-worker-{number}.log"
            command = [
                sys.executable, "-m", "celery", "-A", "config", "worker", "--pool=solo",
                "--loglevel=WARNING", "-n", f"bench{number}@%h", "--without-gossip",
                "--without-mingle", "--without-heartbeat",
            ]  # fmt: skip
            with open(log, "wb") as out:
                process = subprocess.Popen(
                    command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT
                )
            self.processes.append((process, log))

    @staticmethod
    def check_alone(app: Any) -> None:
        """Workers of someone else on this broker database would take the benchmark's tasks
        (and score them against their own database)."""
        replies = app.control.ping(timeout=2.0) or []
        if replies:
            names = ", ".join(name for reply in replies for name in reply)
            raise SystemExit(
                f"other workers consume this broker database: {names}; use another --broker-url"
            )

    def wait_ready(self, app: Any, timeout: float = 90) -> None:
        names = {f"bench{n}" for n in range(len(self.processes))}
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            replies = app.control.ping(timeout=1.0) or []
            answered = {name.split("@")[0] for reply in replies for name in reply}
            if names <= answered:
                return
            for process, log in self.processes:
                if process.poll() is not None:
                    raise SystemExit(f"a worker exited:\n{log.read_text()[-3000:]}")
        raise SystemExit("workers did not start in time")

    def cpu_seconds(self) -> float:
        """User and system CPU time the worker processes have used so far (Linux /proc)."""
        total = 0.0
        for process, _ in self.processes:
            fields = Path(f"/proc/{process.pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        return total

    def stop(self) -> None:
        for process, _ in self.processes:
            if process.poll() is None:
                process.terminate()
        for process, _ in self.processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()


def wait_drained(broker_url: str, timeout: float = 3600) -> None:
    """Until the queue is empty and no message is held unacknowledged by a worker."""
    import redis

    client = redis.Redis.from_url(broker_url)
    deadline = time.monotonic() + timeout
    calm = 0
    while time.monotonic() < deadline:
        busy = client.llen("celery") + client.hlen("unacked")
        # Twice in a row: a message is briefly in neither place while a worker takes it.
        calm = calm + 1 if busy == 0 else 0
        if calm >= 2:
            return
        time.sleep(0.05)
    raise SystemExit("the workers did not finish in time")


def timed_rescore(broker_url: str, batch_size: int) -> float:
    from django.core.management import call_command

    started = time.perf_counter()
    call_command(
        "rescore", "--all", "--batch-size", str(batch_size), stdout=io.StringIO(),
        stderr=io.StringIO(),
    )  # fmt: skip
    wait_drained(broker_url)
    return time.perf_counter() - started


class Floor:
    """The input/output floor, in plain SQL from one client: read the same inputs, and write the
    same result rows (the very rows the workers wrote, taken beforehand) in two ways —

    - rewritten in place: COPY into a staging table, then one INSERT … ON CONFLICT DO UPDATE into
      the records' table, which is what a re-score has to do to its rows;
    - appended: COPY into an empty table like the records' (same indexes and checks, no foreign
      keys), the least any write of that many rows can cost.
    """

    def __init__(self, url: str) -> None:
        self.url = url
        self.read = self.rewrite = self.append = float("inf")
        self.rows = 0

    def measure(self) -> None:
        """One measurement; the fastest of several is kept, so a busy moment cannot flatter the
        ratio."""
        import psycopg

        columns = RECORD_COLUMNS.replace("id, ", "", 1)
        updates = ", ".join(
            f"{c} = EXCLUDED.{c}"
            for c in columns.split(", ")
            if c not in ("visit_id", "reference_visit_id", "algorithm")
        )
        with psycopg.connect(self.url) as conn, conn.cursor() as cur:
            buffer = io.BytesIO()
            with cur.copy(f"COPY (SELECT {columns} FROM scoring_responserecord) TO STDOUT") as c:
                for block in c:
                    buffer.write(block)
            data = buffer.getvalue()
            self.rows = cur.execute("SELECT count(*) FROM scoring_responserecord").fetchone()[0]
            cur.execute("DROP TABLE IF EXISTS bench_floor")
            cur.execute("CREATE TABLE bench_floor (LIKE scoring_responserecord INCLUDING ALL)")
            conn.commit()
            cur.execute("CHECKPOINT")

            started = time.perf_counter()
            for sql in FLOOR_READS:
                cur.execute(sql)
                cur.fetchall()
            self.read = min(self.read, time.perf_counter() - started)

            started = time.perf_counter()
            cur.execute(
                "CREATE TEMPORARY TABLE bench_staging ON COMMIT DROP AS "
                f"SELECT {columns} FROM scoring_responserecord WITH NO DATA"
            )
            self._copy(cur, "bench_staging", columns, data)
            cur.execute(
                f"INSERT INTO scoring_responserecord ({columns}) SELECT {columns} "
                "FROM bench_staging ON CONFLICT (visit_id, reference_visit_id, algorithm) "
                f"DO UPDATE SET {updates}"
            )
            conn.commit()
            self.rewrite = min(self.rewrite, time.perf_counter() - started)

            started = time.perf_counter()
            self._copy(cur, "bench_floor", columns, data)
            conn.commit()
            self.append = min(self.append, time.perf_counter() - started)
            cur.execute("DROP TABLE bench_floor")
            conn.commit()
        with psycopg.connect(self.url, autocommit=True) as conn:
            conn.execute("VACUUM scoring_responserecord")

    @staticmethod
    def _copy(cur: Any, table: str, columns: str, data: bytes) -> None:
        with cur.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
            for start in range(0, len(data), 1 << 20):
                copy.write(data[start : start + (1 << 20)])


def main() -> None:
    args = parse()
    new = ensure_database(args.database_url, args.reseed)
    env = {
        **os.environ,
        "DATABASE_URL": args.database_url,
        "CELERY_BROKER_URL": args.broker_url,
        # Production-like: no DEBUG query log in the workers.
        "DEBUG": "false",
        "SECRET_KEY": "benchmark-only-not-a-secret",
        "LOG_LEVEL": "WARNING",
        "PYTHONUNBUFFERED": "1",
    }
    os.environ.update(env)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from config.celery import app
    from crf.models import Visit
    from scoring import selectors
    from scoring.models import ResponseRecord

    call_command("migrate", verbosity=0)
    if new:
        print(f"seeding {args.patients:,} patients (once; reused by later runs) ...", flush=True)
        started = time.perf_counter()
        call_command(
            "seed_demo", "--patients", str(args.patients), "--sites", "12", "--seed", str(SEED),
            "--today", TODAY, "--no-scoring", stdout=io.StringIO(),
        )  # fmt: skip
        print(f"  seeded in {time.perf_counter() - started:.0f} s", flush=True)
    visits = Visit.objects.count()
    patients = selectors.patients_with_visits()

    Workers.check_alone(app)
    workers = Workers(args.workers, env, Path(tempfile.mkdtemp(prefix="bench-rescore-")))
    try:
        workers.wait_ready(app)
        app.control.purge()
        if not ResponseRecord.objects.exists():
            first = timed_rescore(args.broker_url, args.batch_size)
            print(f"first scoring: {visits:,} visits in {first:.1f} s = {visits / first:,.0f}/s")
        connection.close()
        floor = Floor(args.database_url)
        floor.measure()
        with psycopg_connection(args.database_url) as conn:
            conn.execute("VACUUM ANALYZE scoring_responserecord")
            conn.execute("CHECKPOINT")
        cpu = workers.cpu_seconds()
        load = os.getloadavg()[0]
        elapsed = timed_rescore(args.broker_url, args.batch_size)
        cpu = workers.cpu_seconds() - cpu
        load = max(load, os.getloadavg()[0])
    finally:
        workers.stop()
    records = ResponseRecord.objects.count()
    started = time.perf_counter()
    counts = selectors.scoring_counts()
    status_seconds = time.perf_counter() - started
    if counts["scored"] != visits:
        raise SystemExit(f"not every visit is scored: {counts}")
    floor.measure()
    assert floor.rows == records

    rate = visits / elapsed
    print(
        f"rescore: {visits:,} visits of {patients:,} patients, {records:,} records, "
        f"{args.workers} workers, {args.batch_size} patients/task"
    )
    print(
        f"  workers: {elapsed:.1f} s = {rate:,.0f} visits/s (CPU: {cpu:.0f} s in the worker "
        f"processes; machine load average {load:.1f} on {os.cpu_count()} CPUs)"
    )
    print(f"  floor in plain SQL, best of two: read the inputs {floor.read:.1f} s, then")
    for label, write in (
        ("rewrite the records in place", floor.rewrite),
        ("append them to an empty table", floor.append),
    ):
        floor_rate = visits / (floor.read + write)
        print(
            f"    {label} {write:.1f} s = {floor_rate:,.0f} visits/s: the workers reach "
            f"{rate / floor_rate:.0%} of it (goal {GOAL:.0%})"
        )
    print(f"  scoring_status over every visit (the sweep's scan): {status_seconds:.1f} s")


def psycopg_connection(url: str) -> Any:
    import psycopg

    return psycopg.connect(url, autocommit=True)


if __name__ == "__main__":
    main()
