"""PATCH of a visit: a JSON merge patch (RFC 7386) of what was read, made against its version."""

from typing import Any

from crf.documents import VISIT_KEYS, visit_document
from crf.models import Visit
from crf.services import visit_save
from registry.access import Action, require
from registry.audit import Actor
from registry.documents import MISSING, Errors, expect_object, number, required, text
from registry.errors import InputError

PATCH_KEYS = ("version", "reason", "visit_date", "kind", "instruments")
INSTRUMENT_KEYS = frozenset(VISIT_KEYS) - {"visit_date", "kind", "reason"}


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386: objects merge key by key, null removes a key, anything else replaces."""
    if not isinstance(patch, dict):
        return patch
    merged = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = merge_patch(merged.get(key), value)
    return merged


def _as_patch_path(path: str) -> str:
    """A visit document's error path as the path of the field in the PATCH body."""
    head = path.split(".", 1)[0].split("[", 1)[0]
    if head in ("", "visit_date", "kind", "reason", "version"):
        return path
    return f"instruments.{path}"


def visit_patch(*, user: Any, visit: Visit, patch: Any) -> Visit:
    """Apply a patch to a visit the user can see; PermissionDenied if the role may not write."""
    require(user, Action.WRITE, visit.patient.site_id)
    errors = Errors()
    obj = expect_object(errors, "", patch, PATCH_KEYS)
    if obj is None:
        errors.raise_if_any()
    assert obj is not None
    version = required(errors, obj, "", "version")
    if version is not MISSING:
        version = number(errors, "version", version, minimum=1, integer=True)
    reason = text(errors, "reason", obj.get("reason"), max_length=2000) or ""
    instruments = obj.get("instruments")
    if instruments is not None:
        expect_object(errors, "instruments", instruments, INSTRUMENT_KEYS)
    errors.raise_if_any()

    document = visit_document(visit)
    current = {key: value for key, value in document.items() if key in INSTRUMENT_KEYS}
    merged = merge_patch(current, instruments or {})
    for key in ("visit_date", "kind"):
        if key in obj:
            document[key] = obj[key]
    data = {"visit_date": document["visit_date"], "kind": document["kind"], **merged}
    try:
        updated, _ = visit_save(
            actor=Actor(user=user, source="api", reason=reason),
            patient=visit.patient,
            data=data,
            visit=visit,
            expected_version=int(version),
        )
    except InputError as exc:
        raise InputError(
            [(_as_patch_path(path), message) for path, message in exc.errors]
        ) from None
    return updated
