"""The Celery app. Configuration comes from Django settings (CELERY_* names)."""

import os
from typing import Any

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

# Without CELERY_BROKER_URL tasks run eagerly, in-process (config/settings.py). Celery still
# takes a producer from its pool to serialise an eager task's arguments as a publish would, and
# with no broker URL that pool's connection is Celery's default, host-less amqp:// one: kombu
# warns "No hostname was supplied. Reverting to default 'localhost'" on the first task. The
# in-memory transport is the broker of the in-process mode: nothing leaves the process. Its host
# is named because kombu gives the same warning for any URL without one, memory:// included.
IN_PROCESS_BROKER = "memory://localhost/"

app = Celery("registry")
app.config_from_object("django.conf:settings", namespace="CELERY")


@app.on_after_configure.connect
def _in_process_broker(sender: Celery, source: Any, **kwargs: Any) -> None:
    if not sender.conf.broker_url:
        sender.conf.broker_url = IN_PROCESS_BROKER


app.autodiscover_tasks()
