"""Benchmark of the submission API (issue 5): bulk ingest over HTTP against PostgreSQL COPY.

1. Creates two fresh PostgreSQL databases (the API's, and an empty twin for the reference), runs
   the migrations, and makes a site, a submitter account and its API token.
2. Starts a real server — gunicorn, `--workers` processes, DEBUG off — on the API's database, and
   submits PATIENTS synthetic patients (6 visits each, every instrument: globals, damage, CMAS,
   FVC/DLCO, glucocorticoid dose, bilateral MMT-8 grades, all five enzymes, HAQ items with aids;
   autoantibodies and treatments) in documents of `--batch` patients, from `--clients` client
   threads. Documents are encoded before the clock starts.
3. Reference, in the same run: the rows the API stored (patients, autoantibodies, treatments,
   visits, MMT-8, labs, HAQ) copied with PostgreSQL COPY into the empty twin database (median
   of three rounds); the audit trail is copied and timed separately. Visits/s of both, and
   their ratio (goal ≥ 10 %).
4. Peak memory: a fresh one-worker server receives one document of about `--big-mb` MB; the
   worker's peak resident set (VmHWM) is printed (goal < 500 MB for 10 MB).

Scoring is queued to a real broker (Redis, `--broker`; no worker runs during the measurement) or,
with `--eager`, computed in the request. The output says which.

Run: `.venv/bin/python benchmarks/ingest.py [--patients 10000]`
(needs PostgreSQL at --pg, trust auth, and Redis unless --eager).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if sys.path and Path(sys.path[0] or ".").resolve() == Path(__file__).resolve().parent:
    sys.path[0] = str(ROOT)

GOAL_RATIO = 0.10
GOAL_PEAK_MB = 500
REFERENCE_ROUNDS = 3
SITE = "BEN"
CLINICAL_TABLES = (
    "registry_patient",
    "registry_autoantibodyresult",
    "registry_treatmentepisode",
    "crf_visit",
    "crf_mmt8",
    "crf_labresult",
    "crf_haq",
)
HAQ_ITEMS = (
    "dress",
    "shampoo",
    "stand",
    "bed",
    "cut_meat",
    "lift_cup",
    "open_carton",
    "walk",
    "climb_steps",
    "wash_body",
    "bath",
    "toilet",
    "reach_object",
    "pick_up_clothing",
    "car_doors",
    "open_jars",
    "faucets",
    "errands",
    "car_in_out",
    "chores",
)
MMT_GROUPS = (
    "deltoid",
    "biceps",
    "wrist_extensors",
    "gluteus_maximus",
    "gluteus_medius",
    "quadriceps",
    "ankle_dorsiflexors",
)
ANTIBODIES = (
    "anti-Jo-1",
    "anti-MDA5",
    "anti-Mi-2",
    "anti-TIF1-gamma",
    "anti-NXP2",
    "anti-SRP",
    "anti-HMGCR",
    "anti-Ro52",
)
DRUGS = ("prednisone", "methotrexate", "azathioprine", "mycophenolate", "rituximab", "ivig")
DIAGNOSES = (
    "dermatomyositis",
    "polymyositis",
    "antisynthetase_syndrome",
    "immune_mediated_necrotising_myopathy",
    "overlap_myositis",
)
ENZYMES = (("ck", 200), ("aldolase", 7.6), ("ldh", 250), ("ast", 40), ("alt", 45))


# --- synthetic documents ------------------------------------------------------------------------


def _tenth(rng: random.Random, low: float, high: float) -> float:
    return round(rng.uniform(low, high), 1)


def visit_document(rng: random.Random, when: date, kind: str, severity: float) -> dict[str, Any]:
    """A visit with every instrument; `severity` 1 (active) → 0 (remission)."""
    grade = lambda: max(0, min(10, round(10 - 4 * severity + rng.uniform(-1, 1))))  # noqa: E731
    return {
        "visit_date": when.isoformat(),
        "kind": kind,
        "physician_global": _tenth(rng, 0, 8 * severity + 1),
        "patient_global": _tenth(rng, 0, 8 * severity + 1),
        "extramuscular": _tenth(rng, 0, 6 * severity + 1),
        "physician_damage": _tenth(rng, 0, 3),
        "cmas": rng.randint(20, 52),
        "fvc_percent": _tenth(rng, 60, 110),
        "dlco_percent": _tenth(rng, 50, 100),
        "glucocorticoid_mg_per_day": rng.choice((0, 5, 7.5, 10, 20, 40, 60)),
        "mmt8": {
            "scale": "bilateral",
            "neck_flexors": grade(),
            **{g: {"right": grade(), "left": grade()} for g in MMT_GROUPS},
        },
        "labs": {
            name: {
                "value": round(uln * rng.uniform(0.5, 1 + 20 * severity), 1),
                "unit": "U/L",
                "uln": uln,
            }
            for name, uln in ENZYMES
        },
        "haq": {
            "items": {
                item: rng.randint(0, 3) if severity > 0.3 else rng.randint(0, 1)
                for item in HAQ_ITEMS
            },
            "aids": rng.sample(["arising", "walking", "grip", "hygiene"], k=rng.randint(0, 2)),
            "help": [],
        },
    }


def patient_document(rng: random.Random, number: int, visits: int) -> dict[str, Any]:
    onset = date(2012, 1, 1) + timedelta(days=rng.randint(0, 2500))
    first = onset + timedelta(days=rng.randint(30, 300))
    antibody = rng.choice(ANTIBODIES)
    document: dict[str, Any] = {
        "patient_id": f"{SITE}-{number:06d}",
        "sex": rng.choice(("female", "female", "male")),
        "birth_year_month": f"{rng.randint(1940, 1995)}-{rng.randint(1, 12):02d}",
        "diagnosis": rng.choice(DIAGNOSES),
        "onset_date": onset.isoformat(),
        "diagnosis_date": (onset + timedelta(days=rng.randint(10, 200))).isoformat(),
        "autoantibodies": [
            {
                "antibody": antibody,
                "result": "positive",
                "method": "line_blot",
                "sample_date": first.isoformat(),
            },
            {
                "antibody": "anti-Ro52",
                "result": rng.choice(("positive", "negative")),
                "method": "line_blot",
                "sample_date": first.isoformat(),
            },
        ][: 1 if antibody == "anti-Ro52" else 2],
        "treatments": [
            {
                "drug": "prednisone",
                "dose": 60,
                "dose_unit": "mg",
                "route": "oral",
                "frequency": "daily",
                "start_date": (first + timedelta(days=1)).isoformat(),
                "stop_date": None,
                "stop_reason": None,
            },
            {
                "drug": rng.choice(DRUGS[1:]),
                "dose": 15,
                "dose_unit": "mg",
                "route": "oral",
                "frequency": "weekly",
                "start_date": (first + timedelta(days=2)).isoformat(),
            },
        ],
        "visits": [],
    }
    severity, when = 1.0, first
    for index in range(visits):
        if index:
            when += timedelta(days=rng.randint(60, 120))
        document["visits"].append(
            visit_document(rng, when, "baseline" if index == 0 else "follow_up", severity)
        )
        severity = max(0.0, severity - rng.uniform(0.05, 0.3))
    return document


# --- PostgreSQL ----------------------------------------------------------------------------------


def pg_admin(pg: str):
    import psycopg

    return psycopg.connect(f"{pg}/postgres", autocommit=True)


def recreate_database(pg: str, name: str, template: str | None = None) -> None:
    with pg_admin(pg) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        suffix = f' TEMPLATE "{template}"' if template else ""
        conn.execute(f'CREATE DATABASE "{name}"{suffix}')


def drop_database(pg: str, name: str) -> None:
    with pg_admin(pg) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def copy_reference(pg: str, source: str, target: str) -> dict[str, Any]:
    """COPY the rows the API stored into the empty twin: seconds for clinical rows and audit."""
    import psycopg

    dumps: dict[str, bytes] = {}
    counts: dict[str, int] = {}
    with psycopg.connect(f"{pg}/{source}") as conn:
        for table in (*CLINICAL_TABLES, "registry_auditevent"):
            # The audit rows of the ingest only (not the token's).
            where = " WHERE patient_id IS NOT NULL" if table == "registry_auditevent" else ""
            query = f"SELECT * FROM {table}{where}"
            with conn.cursor() as cur:
                counts[table] = cur.execute(f"SELECT count(*) FROM ({query}) q").fetchone()[0]
                buffer = bytearray()
                with cur.copy(f"COPY ({query}) TO STDOUT (FORMAT binary)") as copy:
                    for chunk in copy:
                        buffer += chunk
                dumps[table] = bytes(buffer)
    # Three rounds into the emptied twin, the median of each: a short measurement on a shared
    # machine is easily thrown by a moment of someone else's load.
    rounds: dict[str, list[float]] = {"clinical": [], "audit": []}
    with psycopg.connect(f"{pg}/{target}") as conn:
        for _ in range(REFERENCE_ROUNDS):
            with conn.cursor() as cur:
                # TRUNCATE, not DELETE: the audit trail refuses DELETE (append-only trigger).
                everything = ", ".join((*CLINICAL_TABLES, "registry_auditevent"))
                cur.execute(f"TRUNCATE {everything} CASCADE")  # the twin's other tables: empty
            conn.commit()
            for group, tables in (
                ("clinical", CLINICAL_TABLES),
                ("audit", ("registry_auditevent",)),
            ):
                started = time.perf_counter()
                with conn.transaction(), conn.cursor() as cur:
                    for table in tables:
                        with cur.copy(f"COPY {table} FROM STDIN (FORMAT binary)") as copy:
                            copy.write(dumps[table])
                rounds[group].append(time.perf_counter() - started)
    timings = {group: statistics.median(times) for group, times in rounds.items()}
    return {"seconds": timings, "rows": counts}


# --- server --------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def server_env(database_url: str, broker: str | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("CELERY_BROKER_URL", "DATABASE_URL")}
    env.update(
        DATABASE_URL=database_url,
        DEBUG="false",
        SECRET_KEY="benchmark-only-secret-key-not-for-production-use-0123456789",
        ALLOWED_HOSTS="127.0.0.1,localhost",
        SECURE_SSL_REDIRECT="false",
        SESSION_COOKIE_SECURE="false",
        CSRF_COOKIE_SECURE="false",
        API_MAX_BODY_BYTES=str(64 * 1024 * 1024),
        LOG_LEVEL="ERROR",
    )
    if broker:
        env["CELERY_BROKER_URL"] = broker
    return env


class Server:
    def __init__(self, env: dict[str, str], workers: int) -> None:
        self.port = free_port()
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "config.wsgi:application",
                "--bind",
                f"127.0.0.1:{self.port}",
                "--workers",
                str(workers),
                "--timeout",
                "900",
                "--log-level",
                "warning",
            ],
            cwd=ROOT,
            env=env,
        )
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return
            except OSError:
                if self.process.poll() is not None:
                    raise RuntimeError("the server did not start") from None
                time.sleep(0.2)
        raise RuntimeError("the server did not start in 60 s")

    def workers(self) -> list[int]:
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        return [int(pid) for pid in children.read_text().split()]

    def peak_rss_mb(self) -> dict[int, float]:
        peaks = {}
        for pid in self.workers():
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    peaks[pid] = int(line.split()[1]) / 1024
        return peaks

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()


def post(conn: http.client.HTTPConnection, token: str, body: bytes) -> tuple[int, dict]:
    conn.request(
        "POST",
        "/api/v1/submissions/",
        body=body,
        headers={
            "Authorization": f"Token {token}",
            "Content-Type": "application/json",
        },
    )
    response = conn.getresponse()
    return response.status, json.loads(response.read())


# --- the run -------------------------------------------------------------------------------------


def setup_database(database_url: str) -> None:
    """Migrate, and create the site and the submitter account."""
    env = server_env(database_url, None)
    manage = [sys.executable, "manage.py"]
    subprocess.run(
        [*manage, "migrate", "--verbosity", "0", "--skip-checks"], cwd=ROOT, env=env, check=True
    )
    script = (
        "from registry.models import Site, Membership\n"
        "from django.contrib.auth import get_user_model\n"
        f"site = Site.objects.create(code={SITE!r}, name='Benchmark clinic', country='GB')\n"
        "user = get_user_model().objects.create_user('submit-ben')\n"
        "Membership.objects.create(user=user, site=site, role='submitter')\n"
    )
    subprocess.run(
        [*manage, "shell", "-c", script], cwd=ROOT, env=env, check=True, capture_output=True
    )


def issue_token(database_url: str) -> str:
    command = [sys.executable, "manage.py", "api_token", "--skip-checks", "submit-ben"]
    env = server_env(database_url, None)
    done = subprocess.run(command, cwd=ROOT, env=env, check=True, capture_output=True, text=True)
    return done.stdout.strip()


def ingest(port: int, token: str, bodies: list[bytes], clients: int) -> tuple[float, dict]:
    queue = list(enumerate(bodies))
    lock = threading.Lock()
    totals = {"visits": 0, "patients": 0, "errors": 0, "statuses": set()}

    def work() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=900)
        while True:
            with lock:
                if not queue:
                    break
                _, body = queue.pop(0)
            status, answer = post(conn, token, body)
            with lock:
                totals["statuses"].add(status)
                totals["patients"] += len(answer.get("patients", []))
                totals["errors"] += answer.get("summary", {}).get("patients", {}).get("error", 0)
                if answer.get("errors") and not totals.get("example"):
                    totals["example"] = answer["errors"][:3]
                totals["visits"] += answer.get("summary", {}).get("visits", {}).get("created", 0)
        conn.close()

    threads = [threading.Thread(target=work) for _ in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - started, totals


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--patients", type=int, default=10_000)
    parser.add_argument("--visits", type=int, default=6, help="visits per patient")
    parser.add_argument("--batch", type=int, default=100, help="patients per document")
    parser.add_argument("--workers", type=int, default=3, help="gunicorn worker processes")
    parser.add_argument("--clients", type=int, default=3, help="concurrent client threads")
    parser.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432")
    parser.add_argument("--database", default="registry_bench_ingest")
    parser.add_argument("--broker", default="redis://127.0.0.1:6379/13")
    parser.add_argument("--eager", action="store_true", help="score in the request (no broker)")
    parser.add_argument("--big-mb", type=float, default=10.0, help="size of the memory test")
    parser.add_argument("--keep", action="store_true", help="keep the databases afterwards")
    args = parser.parse_args()
    broker = None if args.eager else args.broker
    api_db, ref_db, mem_db = args.database, f"{args.database}_ref", f"{args.database}_mem"

    rng = random.Random(20240601)
    documents = [patient_document(rng, n, args.visits) for n in range(args.patients)]
    bodies = [
        json.dumps({"site": SITE, "patients": documents[i : i + args.batch]}).encode()
        for i in range(0, len(documents), args.batch)
    ]
    total_mb = sum(len(b) for b in bodies) / 2**20
    print(
        f"{args.patients} patients, {args.patients * args.visits} visits with every instrument,"
        f" {len(bodies)} documents of {args.batch} patients ({total_mb:.1f} MB of JSON)"
    )
    mode = "eager (computed in the request)" if broker is None else f"queued to {broker}"
    print(
        f"scoring: {mode}; server: gunicorn, {args.workers} workers, DEBUG off; "
        f"{args.clients} client threads"
    )

    recreate_database(args.pg, api_db)
    if broker:
        import redis

        redis.Redis.from_url(broker).flushdb()
    setup_database(f"{args.pg}/{api_db}")
    # The reference's empty twin: same schema, same site and user rows, no clinical rows.
    recreate_database(args.pg, ref_db, template=api_db)
    token = issue_token(f"{args.pg}/{api_db}")
    recreate_database(args.pg, mem_db, template=api_db)

    server = Server(server_env(f"{args.pg}/{api_db}", broker), args.workers)
    try:
        seconds, totals = ingest(server.port, token, bodies, args.clients)
        peak = server.peak_rss_mb()
    finally:
        server.stop()
    if totals["statuses"] != {200} or totals["errors"]:
        print(
            f"unexpected answers: statuses {totals['statuses']}, {totals['errors']} errors, "
            f"e.g. {totals.get('example')}"
        )
        return 1
    api_rate = totals["visits"] / seconds
    print(
        f"API: {totals['patients']} patients, {totals['visits']} visits created in "
        f"{seconds:.1f} s = {api_rate:,.0f} visits/s (worker peak RSS "
        f"{max(peak.values()):.0f} MB)"
    )

    reference = copy_reference(args.pg, api_db, ref_db)
    rows = reference["rows"]
    clinical_rows = sum(rows[t] for t in CLINICAL_TABLES)
    copy_s = reference["seconds"]["clinical"]
    copy_rate = rows["crf_visit"] / copy_s
    with_audit = rows["crf_visit"] / (copy_s + reference["seconds"]["audit"])
    print(
        f"COPY: the same {clinical_rows:,} clinical rows ({rows['crf_visit']:,} visits) in "
        f"{copy_s:.2f} s = {copy_rate:,.0f} visits/s; with the "
        f"{rows['registry_auditevent']:,} audit rows "
        f"{copy_s + reference['seconds']['audit']:.2f} s = {with_audit:,.0f} visits/s"
    )
    ratio = api_rate / copy_rate
    print(
        f"ratio API / COPY: {ratio:.1%} (goal ≥ {GOAL_RATIO:.0%}: "
        f"{'met' if ratio >= GOAL_RATIO else 'NOT met'}); "
        f"against COPY with the audit rows: {api_rate / with_audit:.1%}"
    )

    # Peak memory of one worker receiving one big document.
    big: list[dict[str, Any]] = []
    body = b""
    rng = random.Random(7)
    while len(body) < args.big_mb * 2**20:
        big += [patient_document(rng, 900_000 + len(big) + n, args.visits) for n in range(50)]
        body = json.dumps({"site": SITE, "patients": big}).encode()
    server = Server(server_env(f"{args.pg}/{mem_db}", broker), 1)
    try:
        before = max(server.peak_rss_mb().values())
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=900)
        started = time.perf_counter()
        status, answer = post(conn, token, body)
        elapsed = time.perf_counter() - started
        after = max(server.peak_rss_mb().values())
    finally:
        server.stop()
    visits = answer.get("summary", {}).get("visits", {}).get("created", 0)
    print(
        f"memory: one document of {len(body) / 2**20:.1f} MB ({len(big)} patients, {visits} "
        f"visits; HTTP {status}, {elapsed:.1f} s): worker peak RSS {after:.0f} MB "
        f"(idle {before:.0f} MB; goal < {GOAL_PEAK_MB} MB: "
        f"{'met' if after < GOAL_PEAK_MB else 'NOT met'})"
    )

    if not args.keep:
        for name in (api_db, ref_db, mem_db):
            drop_database(args.pg, name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
