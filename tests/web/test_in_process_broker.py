"""Without a broker (the demo, the embedded default) tasks run in-process and nothing warns about
a broker: Celery's eager path takes a producer whose connection must not be the default,
host-less amqp:// one ("No hostname was supplied. Reverting to default 'localhost'")."""

import os
import subprocess
import sys
from pathlib import Path

from config.celery import IN_PROCESS_BROKER

ROOT = Path(__file__).resolve().parents[2]

# The demo command's path to Celery (rescore -> scoring.tasks.enqueue): one eager task.
SCRIPT = """
import os, django
os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
django.setup()
from config.celery import app
from scoring import tasks
result = tasks.score_patients.apply_async(args=[[]])
print(app.conf.task_always_eager, app.conf.broker_url, result.state)
"""


def test_an_eager_task_without_a_broker_does_not_warn(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("CELERY_BROKER_URL", "DATABASE_URL")}
    env.update(REGISTRY_DATA_DIR=str(tmp_path), PYTHONPATH=str(ROOT))
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT], cwd=ROOT, env=env, capture_output=True, text=True,
        timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["True", IN_PROCESS_BROKER, "SUCCESS"]
    assert "hostname" not in done.stderr.lower()
    assert "WARNING" not in done.stderr


def test_a_configured_broker_is_left_alone(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(
        REGISTRY_DATA_DIR=str(tmp_path),
        PYTHONPATH=str(ROOT),
        CELERY_BROKER_URL="redis://127.0.0.1:1/0",
    )
    script = (
        "import os, django; os.environ['DJANGO_SETTINGS_MODULE'] = 'config.settings'; "
        "django.setup(); from config.celery import app; "
        "print(app.conf.task_always_eager, app.conf.broker_url)"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True,
        timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["False", "redis://127.0.0.1:1/0"]
