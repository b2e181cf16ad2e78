"""What every view needs: the actor, and records fetched with the access rule applied
(another site's record answers 404 — as if it did not exist — before a role's 403)."""

from typing import Any

from django.http import Http404, HttpRequest
from django.utils.http import url_has_allowed_host_and_scheme

from crf.models import DataQuery, Visit
from registry.access import Action, NotVisible, Step, require
from registry.audit import Actor
from registry.errors import InputError
from registry.models import AutoantibodyResult, Patient, TreatmentEpisode
from web.selectors import visit_with_instruments
from web.state import web_state


def actor(request: HttpRequest, reason: str = "") -> Actor:
    return Actor(user=request.user, source="web", reason=reason.strip())


def check(request: HttpRequest, action: Action | str, site_id: int) -> None:
    """registry.access.require, with "not visible" answered as 404."""
    try:
        require(request.user, action, site_id, grants=web_state(request).grants)
    except NotVisible:
        raise Http404("No such record.") from None


def get_patient(request: HttpRequest, pk: int, action: Action | str = Action.READ) -> Patient:
    patient = Patient.objects.select_related("site").filter(pk=pk).first()
    if patient is None:
        raise Http404("No such patient.")
    check(request, action, patient.site_id)
    return patient


def get_visit(request: HttpRequest, pk: int, action: Action | str = Action.READ) -> Visit:
    visit = visit_with_instruments(pk)
    if visit is None:
        raise Http404("No such visit.")
    check(request, action, visit.patient.site_id)
    return visit


def get_query(request: HttpRequest, pk: int, action: Action | str = Action.READ) -> DataQuery:
    query = DataQuery.objects.select_related("visit__patient__site").filter(pk=pk).first()
    if query is None:
        raise Http404("No such query.")
    check(request, action, query.visit.patient.site_id)
    return query


def get_antibody(
    request: HttpRequest, pk: int, action: Action | str = Action.READ
) -> AutoantibodyResult:
    result = AutoantibodyResult.objects.select_related("patient__site").filter(pk=pk).first()
    if result is None:
        raise Http404("No such result.")
    check(request, action, result.patient.site_id)
    return result


def get_episode(
    request: HttpRequest, pk: int, action: Action | str = Action.READ
) -> TreatmentEpisode:
    episode = TreatmentEpisode.objects.select_related("patient__site").filter(pk=pk).first()
    if episode is None:
        raise Http404("No such treatment episode.")
    check(request, action, episode.patient.site_id)
    return episode


def safe_next(request: HttpRequest, fallback: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return fallback


def errors_text(errors: list[tuple[str, str]]) -> str:
    return " ".join(message for _, message in errors)


def reason_errors(form: Any, exc: InputError) -> None:
    """A service's errors on a form with a `reason` field: a missing reason at the field."""
    for path, message in exc.errors:
        form.add_error("reason" if path == "reason" else None, message)


def permissions(request: HttpRequest, site_id: int) -> dict[str, Any]:
    state = web_state(request)
    return {
        "can_write": state.can(Action.WRITE, site_id),
        "can_query": state.can(Action.QUERY, site_id),
        "can_sign": state.can(Step.SIGN, site_id),
        "can_answer": state.can(Step.ANSWER_QUERY, site_id),
        "can_unlock": state.can(Step.UNLOCK, site_id),
        "can_verify": state.can(Step.VERIFY, site_id),
    }
