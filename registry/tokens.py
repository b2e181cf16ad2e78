"""API tokens (stored only as hashes; the models are in registry/models.py): issue, revoke,
authenticate; and the idempotency records of submissions.

A token is 256 random bits shown once, when it is issued. Only its SHA-256 digest is stored, so a
copy of the database (a backup, a dump for a bug report) holds no usable credential. A fast hash
is enough here — unlike passwords, a random 256-bit secret cannot be guessed from its digest — and
it makes authentication one indexed equality lookup.
"""

import hashlib
import json
import secrets
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from registry.audit import Actor, audit_write
from registry.models import PREFIX_LENGTH, ApiToken, AuditEvent, IdempotencyRecord

TOKEN_BYTES = 32
# last_used_at is written at most this often per token: an API client making thousands of calls
# a minute must not turn every read into a write.
LAST_USED_RESOLUTION = timedelta(minutes=1)
# How long a submission's answer is replayed for its Idempotency-Key; later, the key is free.
IDEMPOTENCY_TTL = timedelta(hours=24)


def token_digest(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8", "surrogatepass")).hexdigest()


def _token_event(actor: Actor, token: ApiToken, action: str, **values: Any) -> AuditEvent:
    # The digest is left out of the trail on purpose: it is the credential's only trace.
    return AuditEvent(
        actor_id=actor.user_id,
        source=actor.source,
        action=action,
        object_type=ApiToken._meta.label_lower,
        object_id=token.pk,
        field="" if action == AuditEvent.Action.CREATE else "revoked_at",
        new_value=json.dumps(values, sort_keys=True, default=str),
        reason=actor.reason,
    )


@transaction.atomic
def api_token_issue(*, actor: Actor, user: Any, revoke_others: bool = True) -> tuple[ApiToken, str]:
    """Issue a new token for `user`; return it and the secret, which is never shown again.

    With `revoke_others` the user's earlier tokens stop working: a service account has one live
    token, and a leaked one is retired by issuing the next.
    """
    if revoke_others:
        for token in ApiToken.objects.select_for_update().filter(user=user, revoked_at=None):
            api_token_revoke(actor=actor, token=token)
    raw = secrets.token_urlsafe(TOKEN_BYTES)
    token = ApiToken.objects.create(user=user, prefix=raw[:PREFIX_LENGTH], digest=token_digest(raw))
    audit_write(
        [
            _token_event(
                actor, token, AuditEvent.Action.CREATE, user=user.username, prefix=token.prefix
            )
        ]
    )
    return token, raw


@transaction.atomic
def api_token_revoke(*, actor: Actor, token: ApiToken) -> ApiToken:
    token = ApiToken.objects.select_for_update().get(pk=token.pk)
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        audit_write(
            [
                _token_event(
                    actor, token, AuditEvent.Action.UPDATE, revoked_at=token.revoked_at.isoformat()
                )
            ]
        )
    return token


def api_token_authenticate(raw: str) -> ApiToken | None:
    """The active token with this secret (its user loaded), or None."""
    if not raw or len(raw) > 200:
        return None
    token = (
        ApiToken.objects.select_related("user")
        .filter(digest=token_digest(raw), revoked_at=None)
        .first()
    )
    if token is None or not token.user.is_active:
        return None
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_RESOLUTION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return token


def request_digest(*parts: bytes) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return digest.hexdigest()


def idempotency_purge_expired(*, user: Any) -> None:
    IdempotencyRecord.objects.filter(
        user=user, created_at__lt=timezone.now() - IDEMPOTENCY_TTL
    ).delete()
