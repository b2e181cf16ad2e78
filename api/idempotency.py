"""The Idempotency-Key header of a submission: a retried request gets the first answer.

Follows the IETF draft "The Idempotency-Key HTTP Header Field": the first answer to a (user, key)
is stored with a digest of the request and replayed for 24 hours; the same key with a different
request is refused (422), and a retry that arrives while the first is still running gets 409.
"""

import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from rest_framework.request import Request
from rest_framework.response import Response

from registry.errors import InputError
from registry.models import IdempotencyRecord
from registry.tokens import idempotency_purge_expired, request_digest

HEADER = "Idempotency-Key"
KEY = re.compile(r"^[\x21-\x7e]{1,255}$")
# Longer than any submission within the size limit takes to process.
ABANDONED_AFTER = timedelta(minutes=15)


def _digest(request: Request) -> str:
    query = "&".join(
        sorted(f"{k}={v}" for k, values in request.query_params.lists() for v in values)
    )
    return request_digest(
        request.method.encode(),
        request.path.encode(),
        query.encode(),
        getattr(request, "body_sha256", "").encode(),
    )


def idempotent(request: Request, process: Callable[[], tuple[int, Any]]) -> Response:
    """Run `process` (returning status and body) at most once per Idempotency-Key."""
    key = request.headers.get(HEADER)
    if key is None:
        status, body = process()
        return Response(body, status=status)
    if not KEY.match(key):
        raise InputError([(HEADER, "Must be 1 to 255 printable ASCII characters, no spaces.")])
    digest = _digest(request)
    idempotency_purge_expired(user=request.user)
    try:
        with transaction.atomic():
            record = IdempotencyRecord.objects.create(
                user=request.user, key=key, request_digest=digest
            )
    except IntegrityError:
        return _replay(request, key, digest)
    try:
        status, body = process()
    except BaseException:
        # No answer to keep: free the key so that the retry is processed afresh.
        IdempotencyRecord.objects.filter(pk=record.pk).delete()
        raise
    IdempotencyRecord.objects.filter(pk=record.pk).update(status_code=status, response=body)
    return Response(body, status=status)


def _replay(request: Request, key: str, digest: str) -> Response:
    record = IdempotencyRecord.objects.filter(user=request.user, key=key).first()
    if record is None:  # expired and purged between our insert and this read: very unlikely
        return Response(
            {
                "detail": "The Idempotency-Key was just released; send the request again.",
                "code": "idempotency_key_in_progress",
            },
            status=409,
        )
    if record.request_digest != digest:
        return Response(
            {
                "detail": "This Idempotency-Key was used with a different request; use a new key "
                "for a new request.",
                "code": "idempotency_key_reused",
            },
            status=422,
        )
    if record.status_code is None:
        if timezone.now() - record.created_at > ABANDONED_AFTER:
            # The process that claimed the key died without answering (a killed worker): free
            # the key, so that the next retry is processed.
            record.delete()
        return Response(
            {
                "detail": "A request with this Idempotency-Key is still being processed; retry "
                "later.",
                "code": "idempotency_key_in_progress",
            },
            status=409,
        )
    return Response(
        record.response, status=record.status_code, headers={"Idempotent-Replayed": "true"}
    )
