"""No patient data in the logs: clinical values, birth dates, free text, patient codes, passwords.

Real paths are driven end to end with every logger at DEBUG (a superset of LOG_LEVEL=INFO, and of
production's WARNING), and what the handlers of settings.LOGGING write is searched for values
planted in the data. Alongside, a handler without the filter records what the same paths would
have logged: where a path would have leaked (an exception message carrying a value), the test
says so, so that it shows the filter at work rather than a path that never logs.

django.db.backends logs SQL with its parameters only at DEBUG and only while settings.DEBUG is
on (never in production); a test forces it on and checks the filter withholds the statement.
"""

from __future__ import annotations

import io
import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from django.db import IntegrityError, connection, transaction
from django.urls import reverse
from rest_framework.test import APIClient

from crf.models import Visit
from registry.logging import WITHHELD, PatientDataFilter, describe, format_exception
from registry.models import Patient
from reports.models import ExportJob
from scoring.models import ResponseRecord
from tests.api.conftest import patient_document, token_client
from tests.factories import MembershipFactory, PatientFactory, SiteFactory, UserFactory
from tests.registry.test_settings import ROOT
from tests.web.conftest import form_data, visit_doc

# Values planted in the data, each distinctive enough not to turn up in a log by chance.
CK = 98765  # U/L
QUERY_TEXT = "SECRET-TEXT-123"
REASON = "REASON-TEXT-4471"
BIRTH = "1931-07"
CODE = "ZZQ-7731"  # the site's patient id
PASSWORD = "PASSWORD-5531-never-logged"
TOKEN = "TOKEN-8822-never-logged"
PLANTED = (str(CK), QUERY_TEXT, REASON, BIRTH, CODE, PASSWORD, TOKEN)


class RawHandler(logging.Handler):
    """What a handler without the filter would write: runs before the configured ones."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        text = record.getMessage()
        if record.exc_info:
            text += "\n" + logging.Formatter().formatException(record.exc_info)
        self.lines.append(text)


@dataclass
class Logs:
    stream: io.StringIO
    raw_handler: RawHandler

    @property
    def written(self) -> str:
        """What the configured handlers wrote."""
        return self.stream.getvalue()

    @property
    def raw(self) -> str:
        return "\n".join(self.raw_handler.lines)

    def assert_clean(self) -> None:
        found = [value for value in PLANTED if value in self.written]
        assert not found, f"{found} in the log:\n{self.written}"


def configured_handlers() -> list[logging.Handler]:
    """The handlers that write somewhere, on every logger: settings.LOGGING's (not pytest's, and
    not the NullHandlers libraries add to stay quiet)."""
    loggers = [logging.getLogger()] + [
        logging.getLogger(name)
        for name, item in logging.root.manager.loggerDict.items()
        if isinstance(item, logging.Logger)
    ]
    handlers = {
        id(handler): handler
        for logger in loggers
        for handler in logger.handlers
        if not type(handler).__module__.startswith("_pytest")
        and not isinstance(handler, logging.NullHandler)
    }
    return list(handlers.values())


@pytest.fixture
def logs(caplog: pytest.LogCaptureFixture) -> Iterator[Logs]:
    caplog.set_level(logging.DEBUG)  # the root logger, and so every logger without a level
    streams = [h for h in configured_handlers() if isinstance(h, logging.StreamHandler)]
    assert streams, "settings.LOGGING configured no handler"
    buffer = io.StringIO()
    before = [(handler, handler.setStream(buffer)) for handler in streams]
    raw = RawHandler()
    root = logging.getLogger()
    root.handlers.insert(0, raw)
    try:
        yield Logs(buffer, raw)
    finally:
        root.removeHandler(raw)
        for handler, stream in before:
            handler.setStream(stream)


@pytest.fixture(autouse=True)
def _eager_celery() -> Iterator[None]:
    # The tasks run in-process, so that their logging is under test here.
    from config.celery import app as celery_app

    before = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = before


@pytest.fixture
def site(db):
    return SiteFactory(code="MAN")


@pytest.fixture
def coordinator(site):
    return MembershipFactory(
        site=site, role="coordinator", user=UserFactory(username="coord-man")
    ).user


@pytest.fixture
def patient(site):
    return PatientFactory(site=site, patient_id=CODE, birth_year=1931, birth_month=7)


# --- the configuration ---------------------------------------------------------------------------


def test_every_configured_handler_has_the_filter():
    handlers = configured_handlers()
    assert handlers
    for handler in handlers:
        assert any(isinstance(f, PatientDataFilter) for f in handler.filters), handler
    # Django's defaults (a console handler, AdminEmailHandler) are gone from "django": its
    # records go to the root's filtered handler.
    django = logging.getLogger("django")
    assert django.handlers == [] and django.propagate


def _python(code: str, **env: str) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items() if k not in {"LOG_LEVEL", "DEBUG"}}
    environment.update(DJANGO_SETTINGS_MODULE="config.settings", **env)
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=600,
    )


WORKER = f"""
import logging, django
django.setup()
from config.celery import app
app.log.setup(loglevel="INFO")  # what `celery worker --loglevel=INFO` does
for name in ["", "celery.task", "multiprocessing", "django.server"]:
    for handler in logging.getLogger(name).handlers:
        names = [type(f).__name__ for f in handler.filters]
        assert "PatientDataFilter" in names, (name, handler)
try:
    raise ValueError("CK {CK}")
except ValueError:
    logging.getLogger("scoring.tasks").info("task of patient 7 failed", exc_info=True)
"""


def test_a_celery_worker_keeps_the_filter_and_logs_no_value_at_info():
    result = _python(WORKER, LOG_LEVEL="INFO")
    assert result.returncode == 0, result.stderr
    assert "INFO scoring.tasks: task of patient 7 failed" in result.stderr
    assert "ValueError: [withheld]" in result.stderr
    assert str(CK) not in result.stderr


def test_log_level_is_read_from_the_environment_and_checked():
    shown = _python(
        "import django; django.setup(); import logging; print(logging.getLogger().level)",
        LOG_LEVEL="info",
    )
    assert shown.stdout.strip() == str(logging.INFO), shown.stderr
    bad = _python("import django; django.setup()", LOG_LEVEL="LOUD")
    assert bad.returncode != 0
    assert "ImproperlyConfigured" in bad.stderr and "LOG_LEVEL" in bad.stderr.splitlines()[-1]


# --- the filter itself ---------------------------------------------------------------------------


def _record(msg="export %s failed", args=(7,), exc=None, name="reports.services", **extra):
    exc_info = (type(exc), exc, exc.__traceback__) if exc is not None else None
    record = logging.LogRecord(name, logging.ERROR, __file__, 1, msg, args, exc_info)
    record.__dict__.update(extra)
    return record


def _raised(exc: BaseException) -> BaseException:
    try:
        raise exc
    except BaseException as caught:  # noqa: BLE001 - the test wants the exception with its frames
        return caught


def _raised_from(function) -> BaseException:
    try:
        function()
    except BaseException as caught:  # noqa: BLE001 - as _raised
        return caught
    raise AssertionError("did not raise")


def _format(record: logging.LogRecord, *, filtered: bool) -> str:
    if filtered:
        assert PatientDataFilter().filter(record) is True  # never drops a record
    return logging.Formatter("%(name)s: %(message)s").format(record)


PG_UNIQUE = (
    'duplicate key value violates unique constraint "registry_patient_site_id"\n'
    f"DETAIL:  Key (site_id, patient_id)=(3, {CODE}) already exists."
)


def test_a_database_error_keeps_its_constraint_and_traceback_and_loses_its_values():
    exc = _raised(IntegrityError(PG_UNIQUE))
    # Without the filter the key's values are in the log: the test can fail.
    assert CODE in _format(_record(exc=exc), filtered=False)
    text = _format(_record(exc=exc), filtered=True)
    assert CODE not in text
    assert text.startswith("reports.services: export 7 failed\nTraceback (most recent call last):")
    assert "in _raised" in text and "raise exc" in text  # the frame: file, function, code
    assert text.endswith(
        "django.db.utils.IntegrityError: duplicate key value violates unique constraint "
        '"registry_patient_site_id"'
    )


@pytest.mark.parametrize(
    ("message", "kept"),
    [
        # PostgreSQL's messages: names are kept, values withheld.
        (f'invalid input syntax for type numeric: "{CK}x"',
         f"invalid input syntax for type numeric: {WITHHELD}"),
        (f'value "{CK}{CK}" is out of range for type integer',
         f"value {WITHHELD} is out of range for type integer"),
        ('new row for relation "crf_lab" violates check constraint "crf_lab_value_range"\n'
         f"DETAIL:  Failing row contains (12, ck, {CK}, 200).",
         'new row for relation "crf_lab" violates check constraint "crf_lab_value_range"'),
        ('null value in column "visit_date" of relation "crf_visit" violates not-null constraint',
         'null value in column "visit_date" of relation "crf_visit" violates not-null constraint'),
        (f"invalid input value for enum sex: '{CODE}'",
         f"invalid input value for enum sex: {WITHHELD}"),
        # SQLite names the constraint only.
        ("UNIQUE constraint failed: registry_patient.site_id, registry_patient.patient_id",
         "UNIQUE constraint failed: registry_patient.site_id, registry_patient.patient_id"),
        ('connection to server at "127.0.0.1", port 5432 failed: Connection refused',
         'connection to server at "127.0.0.1", port 5432 failed: Connection refused'),
    ],
)  # fmt: skip
def test_database_messages_keep_names_and_lose_values(message, kept):
    assert describe(IntegrityError(message)) == f"django.db.utils.IntegrityError: {kept}"


@pytest.mark.parametrize(
    ("exc", "shown"),
    [
        (ValueError(f"Field 'ck' expected a number but got '{CK}x'."), f"ValueError: {WITHHELD}"),
        (KeyError(CODE), f"KeyError: {WITHHELD}"),
        (TypeError(f"unsupported value {BIRTH}"), f"TypeError: {WITHHELD}"),
        (AttributeError("'NoneType' object has no attribute 'pk'"),
         "AttributeError: 'NoneType' object has no attribute 'pk'"),
        (ConnectionRefusedError(111, "Connection refused"),
         "ConnectionRefusedError: [Errno 111] Connection refused"),
        (ValueError(), "ValueError"),
    ],
)  # fmt: skip
def test_only_messages_about_code_or_infrastructure_are_kept(exc, shown):
    assert describe(exc) == shown


def test_a_chained_exception_shows_both_types_and_frames_and_neither_value():
    def convert():
        try:
            int(f"{CK}x")
        except ValueError as exc:
            raise IntegrityError(PG_UNIQUE) from exc

    exc = _raised_from(convert)
    text = format_exception(exc)
    assert str(CK) not in text and CODE not in text
    assert (
        text.index(f"ValueError: {WITHHELD}")
        < text.index("direct cause")
        < text.index("IntegrityError: duplicate key")
    )
    assert text.count("Traceback (most recent call last):") == 2
    assert "in convert" in text


def test_arguments_requests_and_celery_contexts_are_scrubbed():
    # An exception or a model as an argument: "%s" would print its message, its str() (a
    # patient's is "MAN/<code>").
    record = _record("saving %s failed: %s", (Patient(pk=41, patient_id=CODE), ValueError(BIRTH)))
    assert _format(record, filtered=True) == (
        f"reports.services: saving Patient 41 failed: ValueError: {WITHHELD}"
    )

    # django.request attaches the request (and its POST body) for handlers that write it out.
    record = _record("Bad Request: %s", ("/api/v1/submissions/",), request=object())
    _format(record, filtered=True)
    assert record.request is None

    # Celery's failure and retry lines.
    exc = _raised(ValueError(f"CK {CK}"))
    context = {"name": "reports.tasks.build_export", "id": "abc", "exc": repr(exc),
               "traceback": f"Traceback …\nValueError: CK {CK}", "args": "[7]"}  # fmt: skip
    record = _record("Task %(name)s[%(id)s] raised unexpected: %(exc)s", (context,), exc=exc,
                     name="celery.app.trace", data=context)  # fmt: skip
    text = _format(record, filtered=True)
    assert str(CK) not in text and str(CK) not in repr(record.data)
    assert text.startswith(
        f"celery.app.trace: Task reports.tasks.build_export[abc] raised unexpected: "
        f"ValueError: {WITHHELD}\nTraceback"
    )
    retry = {"name": "scoring.tasks.score_patients", "id": "abc",
             "exc": f"Retry in 2s: OperationalError('deadlock at {CODE}')"}  # fmt: skip
    record = _record("Task %(name)s[%(id)s] retry: %(exc)s", (retry,), name="celery.app.trace")
    assert _format(record, filtered=True) == (
        "celery.app.trace: Task scoring.tasks.score_patients[abc] retry: "
        f"Retry in 2s: OperationalError({WITHHELD})"
    )


def test_a_traceback_formatted_before_the_filter_is_withheld():
    record = _record(exc=_raised(ValueError(CODE)))
    logging.Formatter().format(record)  # another handler ran first and cached exc_text
    assert CODE in record.exc_text
    assert CODE not in _format(record, filtered=True)
    # Filtering twice (two handlers) leaves the scrubbed text as it is.
    text = _format(record, filtered=True)
    assert "Traceback" in text and CODE not in text


# --- real paths ----------------------------------------------------------------------------------


def test_development_server_request_lines_lose_their_query_values(logs):
    # What django.core.servers.basehttp logs for every request of the demo's server.
    logging.getLogger("django.server").info(
        '"%s" %s %s',
        f"GET /patients/?q={CODE}&page=2 HTTP/1.1",
        "200",
        "5120",
        extra={"request": object(), "server_time": "01/Jan/2025 10:00:00", "status_code": 200},
    )
    assert f'"GET /patients/?q={WITHHELD}&page={WITHHELD} HTTP/1.1" 200 5120' in logs.written
    logs.assert_clean()


def test_sql_debug_logging_withholds_the_statement(logs, patient):
    # Only with settings.DEBUG on, which production never has; forced on here.
    connection.force_debug_cursor = True
    try:
        assert Patient.objects.filter(patient_id=CODE).exists()
    finally:
        connection.force_debug_cursor = False
    assert CODE in logs.raw  # the statement with its parameter, without the filter
    assert "django.db.backends: (" in logs.written and "SQL withheld" in logs.written
    logs.assert_clean()


def test_web_visit_form_with_bad_input(logs, client, coordinator, patient):
    client.force_login(coordinator)
    doc = visit_doc()
    doc["labs"]["ck"]["value"] = CK
    data = form_data(doc, physician_global=QUERY_TEXT)  # not a number
    response = client.post(reverse("web:visit-new", args=[patient.pk]), data)
    assert response.status_code == 400
    assert not Visit.objects.exists()
    assert (
        f"WARNING django.request: Bad Request: /patients/{patient.pk}/visits/new/" in logs.written
    )
    logs.assert_clean()


def test_web_amendment_with_a_reason_and_a_bad_grade(logs, client, coordinator, patient):
    client.force_login(coordinator)
    assert client.post(reverse("web:visit-new", args=[patient.pk]), form_data(visit_doc()))
    visit = Visit.objects.get()
    doc = visit_doc()
    doc["labs"]["ck"]["value"] = CK
    doc["mmt8"]["deltoid"]["left"] = 11
    data = form_data(doc, version=visit.version, reason=REASON)
    response = client.post(reverse("web:visit-edit", args=[visit.pk]), data)
    assert response.status_code == 400
    assert "Bad Request" in logs.written
    logs.assert_clean()


def test_web_data_query_with_its_text(logs, client, site, patient):
    monitor = MembershipFactory(site=site, role="monitor").user
    coordinator = MembershipFactory(site=site, role="coordinator").user
    client.force_login(coordinator)
    client.post(reverse("web:visit-new", args=[patient.pk]), form_data(visit_doc()))
    visit = Visit.objects.get()
    client.force_login(monitor)
    url = reverse("web:query-new", args=[visit.pk])
    for field_name in ("no-such-field", "physician_global"):
        response = client.post(url, {"field": field_name, "text": QUERY_TEXT})
        assert response.status_code < 500
    logs.assert_clean()


def _document(**changes):
    document = patient_document(CODE, birth_year_month=BIRTH, **changes)
    document["visits"][0]["labs"]["ck"]["value"] = CK
    return document


def test_api_submission_with_bad_input(logs, site):
    client = token_client(MembershipFactory(site=site, role="submitter").user)
    document = _document()
    document["visits"][0]["physician_global"] = 11  # out of range: every patient fails, 400
    document["visits"][0]["comment"] = QUERY_TEXT  # an unknown field, named in the answer
    response = client.post("/api/v1/submissions/", {"site": "MAN", "patients": [document]},
                           format="json")  # fmt: skip
    assert response.status_code == 400, response.content
    assert not Patient.objects.exists()
    assert "WARNING django.request: Bad Request: /api/v1/submissions/" in logs.written
    logs.assert_clean()


def _api_500(client: APIClient, document: dict):
    client.raise_request_exception = False  # answer 500, as a server does
    return client.post("/api/v1/submissions/", {"site": "MAN", "patients": [document]},
                       format="json")  # fmt: skip


def test_api_submission_failing_with_a_database_error_message_carrying_values(
    logs, site, monkeypatch
):
    # Input is validated before it reaches the database, so no document makes this happen
    # today; the stand-in is a future bug that lets a value through, failing the way PostgreSQL
    # fails (its message carries the row), whatever the test database is.
    def broken(site, patients):
        raise IntegrityError(
            'new row for relation "crf_lab" violates check constraint "crf_lab_value_range"\n'
            f"DETAIL:  Failing row contains ({CODE}, {BIRTH}, ck, {CK}, 200)."
        )

    monkeypatch.setattr("api.submissions.sort_patients", broken)
    client = token_client(MembershipFactory(site=site, role="submitter").user)
    response = _api_500(client, _document())
    assert response.status_code == 500
    assert CODE in logs.raw and str(CK) in logs.raw  # Django would have logged the row
    written = logs.written
    assert "ERROR django.request: Internal Server Error: /api/v1/submissions/" in written
    assert "in broken" in written  # the frame that raised
    assert (
        'django.db.utils.IntegrityError: new row for relation "crf_lab" violates check '
        'constraint "crf_lab_value_range"'
    ) in written
    logs.assert_clean()


def test_api_submission_failing_with_a_real_database_error(logs, site, monkeypatch):
    # The same with the database's own error (a patient inserted twice past the service's
    # checks): on PostgreSQL its DETAIL carries the patient code, on SQLite only the columns.
    def duplicate(site, patients):
        PatientFactory(site=site, patient_id=CODE)
        with transaction.atomic():
            PatientFactory.build(site=site, patient_id=CODE).save()

    monkeypatch.setattr("api.submissions.sort_patients", duplicate)
    client = token_client(MembershipFactory(site=site, role="submitter").user)
    response = _api_500(client, _document())
    assert response.status_code == 500
    if connection.vendor == "postgresql":
        assert f"{CODE}) already exists" in logs.raw
    assert "IntegrityError" in logs.written and "Internal Server Error" in logs.written
    assert "registry_patient" in logs.written  # the constraint's table, or its name
    logs.assert_clean()


def test_scoring_failure_logs_ids_only(
    logs, site, patient, monkeypatch, django_capture_on_commit_callbacks
):
    from crf.services import visit_save
    from registry.audit import Actor

    def failing(pairing):
        raise ValueError(f"CK {CK} of patient {CODE}")

    monkeypatch.setattr("scoring.compute.doi_from_pairing", failing)
    actor = Actor(user=None, source="command")
    with django_capture_on_commit_callbacks(execute=True):
        baseline, _ = visit_save(actor=actor, patient=patient, data=visit_doc())
    follow_up_doc = visit_doc(visit_date="2020-04-08", kind="follow_up", physician_global=2.0)
    follow_up_doc["labs"]["ck"]["value"] = CK
    with django_capture_on_commit_callbacks(execute=True):
        follow_up, _ = visit_save(actor=actor, patient=patient, data=follow_up_doc)
    failed = ResponseRecord.objects.get(visit=follow_up, algorithm="imacs-doi-2004")
    assert failed.status == "failed" and str(CK) in failed.error  # the message, kept in the DB
    line = (
        f"scoring imacs-doi-2004 of visit {follow_up.pk} against {baseline.pk} failed: ValueError"
    )
    assert line in logs.raw  # ids only at the source, before any filter
    assert f"WARNING scoring.compute: {line}" in logs.written
    assert str(CK) not in logs.raw and CODE not in logs.raw
    logs.assert_clean()


def _export_job(site):
    investigator = MembershipFactory(site=site, role="investigator").user
    return ExportJob.objects.create(user=investigator, kind=ExportJob.Kind.PDF, filters={})


def test_export_task_failure_logs_the_job_id_not_the_values(logs, site, patient, monkeypatch):
    from reports.tasks import build_export

    def failing(filters, **kwargs):
        raise ValueError(f"CK {CK} of patient {CODE}")

    monkeypatch.setattr("reports.services.outcomes_by_treatment", failing)
    job = _export_job(site)
    assert build_export.apply(args=[job.pk]).get() == ExportJob.Status.FAILED
    job.refresh_from_db()
    assert str(CK) in job.error  # the message, kept with the job for the person who asked
    assert str(CK) in logs.raw  # logger.exception's traceback would have carried it
    assert f"ERROR reports.services: report export {job.pk} failed\nTraceback" in logs.written
    assert f"ValueError: {WITHHELD}" in logs.written
    logs.assert_clean()


def test_a_task_raising_is_logged_by_celery_without_the_values(logs, site, monkeypatch):
    from reports.tasks import build_export

    def failing(*, job_id):
        raise ValueError(f"CK {CK} of patient {CODE}, born {BIRTH}")

    monkeypatch.setattr("reports.tasks.services.export_job_build", failing)
    job = _export_job(site)
    result = build_export.apply(args=[job.pk])
    assert result.failed()
    assert str(CK) in logs.raw  # Celery's "raised unexpected: ValueError('CK …')"
    assert "reports.tasks.build_export[" in logs.written
    assert f"raised unexpected: ValueError: {WITHHELD}" in logs.written
    logs.assert_clean()


def test_failed_logins_never_log_the_password(logs, client, coordinator, settings):
    settings.LOGIN_FAILURE_LIMIT = 2
    for _ in range(3):  # the last one is locked out
        response = client.post(
            reverse("web:login"), {"username": "coord-man", "password": PASSWORD}
        )
        assert response.status_code == 200
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {TOKEN}")
    assert api.get("/api/v1/sites/").status_code == 401
    assert "WARNING django.request: Unauthorized: /api/v1/sites/" in logs.written
    assert PASSWORD not in logs.raw and TOKEN not in logs.raw
    logs.assert_clean()


def test_invitation_links_and_answers_stay_out_of_the_logs(logs, client, coordinator, patient):
    """A patient's link carries its token in the path: withheld from Django's "Not Found" and
    "Gone" lines and the server's request lines; the answers are never logged."""
    from crf.invitations import pro_invitation_create, pro_invitation_revoke
    from registry.audit import Actor

    actor = Actor(user=coordinator, source="web")
    invitation, token = pro_invitation_create(
        actor=actor, patient=patient, visit_date="2020-01-08", instruments=["patient_global"]
    )
    answer = {"patient_global": "REASON-TEXT-4471"}
    assert client.post(f"/p/{token}/", answer, content_type="application/json").status_code == 400
    pro_invitation_revoke(actor=actor, invitation=invitation)
    assert client.get(f"/p/{token}/").status_code == 410
    assert client.get(f"/p/{TOKEN}/").status_code == 404
    logging.getLogger("django.server").info(
        '"%s" %s %s',
        f"GET /p/{token}/ HTTP/1.1",
        "410",
        "512",
        extra={"request": object(), "server_time": "01/Jan/2025 10:00:00", "status_code": 410},
    )
    assert token in logs.raw and "/p/[withheld]" in logs.written
    assert token not in logs.written
    logs.assert_clean()
