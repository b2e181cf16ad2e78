"""The patient's page (issue 17): /p/<token>/, without an account.

The token is the only credential, and the only thing in the URL. The page:
- answers 404 to an unknown token (and counts the guess: too many from one address get 429),
  410 to a link submitted, expired or revoked, 409 when the visit no longer takes answers;
- shows the questionnaire, saves the answers given so far (the draft is shown again only to the
  browser session that saved it) and submits them (crf.invitations);
- takes the same answers as JSON, for patient apps.

CSRF: the form carries a token bound to the session (checked here), so that the page sets no
cookie beyond the session cookie of the resume. The JSON POST needs none: no cookie
authenticates it — the link's token in the URL does, and another site cannot know it.

Every response carries a strict Content-Security-Policy (django-csp): same-origin style sheet
and script only, no inline code, no framing. The logs never see the token (registry.logging
withholds the paths under /p/).
"""

import hmac
import json
import secrets
from functools import wraps
from typing import Any

from csp.constants import NONE, SELF
from csp.decorators import csp
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from crf.invitations import (
    InvitationGone,
    VisitClosed,
    pro_invitation_find,
    pro_invitation_open,
    pro_invitation_save_draft,
    pro_invitation_submit,
)
from crf.models import ProInvitation
from registry.errors import InputError
from registry.security import guess_failed, guesses_blocked_for
from web.pro_form import ProForm, answers_from_post

STRICT_POLICY = {
    "DIRECTIVES": {
        "default-src": [NONE],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF],
        "connect-src": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
        "base-uri": [NONE],
    }
}
SESSION_INVITATIONS = "pro_invitations"
SESSION_CSRF = "pro_csrf"


def strict(view):
    """The patients' pages: the strict policy, never cached, no Referer (it holds the token)."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        response = view(request, *args, **kwargs)
        response["Referrer-Policy"] = "no-referrer"
        return response

    return csp(STRICT_POLICY["DIRECTIVES"])(never_cache(wrapped))


# --- guesses ----------------------------------------------------------------------------------


# Guesses of invitation links: the API's limits, counted apart from its token failures.
GUESSES = "pro:token-failures"


# --- answers ----------------------------------------------------------------------------------


def _wants_json(request: HttpRequest) -> bool:
    return request.content_type == "application/json"


def _json_error(status: int, code: str, detail: str, errors: list | None = None) -> JsonResponse:
    body: dict[str, Any] = {"detail": detail, "code": code}
    if errors is not None:
        body["errors"] = [{"field": path, "message": message} for path, message in errors]
    return JsonResponse(body, status=status)


def _page(request: HttpRequest, template: str, context: dict, status: int = 200) -> HttpResponse:
    return render(request, f"web/{template}", context, status=status)


def _gone(request: HttpRequest, invitation: ProInvitation) -> HttpResponse:
    state = invitation.state
    if _wants_json(request):
        return _json_error(410, "gone", f"This link no longer works (it is {state}).")
    return _page(request, "pro_gone.html", {"state": state, "site": invitation.patient.site}, 410)


def _closed(request: HttpRequest, invitation: ProInvitation) -> HttpResponse:
    if _wants_json(request):
        return _json_error(409, "visit_closed", "The visit no longer takes answers.")
    return _page(request, "pro_closed.html", {"invitation": invitation}, 409)


def _session_token(request: HttpRequest) -> str:
    token = request.session.get(SESSION_CSRF)
    if not token:
        token = secrets.token_urlsafe(32)
        request.session[SESSION_CSRF] = token
    return token


def _csrf_ok(request: HttpRequest) -> bool:
    expected = request.session.get(SESSION_CSRF) or ""
    given = request.POST.get("csrf", "")
    return bool(expected) and hmac.compare_digest(expected.encode(), given.encode())


def _remember(request: HttpRequest, invitation: ProInvitation) -> None:
    mine = request.session.get(SESSION_INVITATIONS) or []
    if invitation.pk not in mine:
        request.session[SESSION_INVITATIONS] = [*mine, invitation.pk][-20:]


def _form_page(
    request: HttpRequest, invitation: ProInvitation, form: ProForm, status: int = 200, **extra: Any
) -> HttpResponse:
    context = {
        "invitation": invitation,
        "site": invitation.patient.site,
        "form": form,
        "csrf": _session_token(request),
        **extra,
    }
    return _page(request, "pro_form.html", context, status)


def _json_answers(request: HttpRequest, invitation: ProInvitation) -> HttpResponse:
    try:
        data = json.loads(request.body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return _json_error(400, "parse_error", "The body is not valid JSON.", [("", "Not JSON.")])
    try:
        invitation = pro_invitation_submit(invitation=invitation, data=data)
    except InputError as exc:
        return _json_error(400, "invalid", "Invalid answers: see `errors`.", exc.errors)
    return JsonResponse(
        {
            "state": invitation.state,
            "visit_date": invitation.visit_date.isoformat(),
            "submitted_at": invitation.submitted_at.isoformat(),
        },
        status=201,
    )


@csrf_exempt  # the form's token is checked against the session here; see the module's text
@strict
@require_http_methods(["GET", "POST"])
def pro_answer(request: HttpRequest, token: str) -> HttpResponse:
    if guesses_blocked_for(GUESSES, request) is not None:
        if _wants_json(request):
            return _json_error(429, "throttled", "Too many unknown links from this address.")
        return _page(request, "pro_gone.html", {"state": "throttled"}, 429)
    invitation = pro_invitation_find(token)
    if invitation is None:
        guess_failed(GUESSES, request)
        if _wants_json(request):
            return _json_error(404, "not_found", "No such link.")
        return _page(request, "pro_gone.html", {"state": "unknown"}, 404)
    if not invitation.is_pending:
        return _gone(request, invitation)
    try:
        if request.method == "POST" and _wants_json(request):
            return _json_answers(request, invitation)
        if request.method == "GET":
            pro_invitation_open(invitation=invitation)
            mine = invitation.pk in (request.session.get(SESSION_INVITATIONS) or [])
            if invitation.visit is not None and invitation.visit.status != "draft":
                raise VisitClosed("closed")
            return _form_page(
                request, invitation, ProForm(invitation, invitation.draft if mine else {})
            )
        if not _csrf_ok(request):
            form = ProForm(invitation, answers_from_post(invitation, request.POST))
            return _form_page(
                request, invitation, form, 403, notice="The page had expired. Please send again."
            )
        answers = answers_from_post(invitation, request.POST)
        form = ProForm(invitation, answers)
        if request.POST.get("action") == "save":
            try:
                pro_invitation_save_draft(invitation=invitation, data=answers)
            except InputError as exc:
                form.add_errors(exc.errors)
                return _form_page(request, invitation, form, 400)
            _remember(request, invitation)
            return _form_page(
                request,
                invitation,
                form,
                notice="Your answers are saved on this device. Come back to this link to finish.",
            )
        try:
            invitation = pro_invitation_submit(invitation=invitation, data=answers)
        except InputError as exc:
            form.add_errors(exc.errors)
            return _form_page(request, invitation, form, 400)
        request.session.pop(SESSION_INVITATIONS, None)
        return _page(
            request, "pro_done.html", {"invitation": invitation, "site": invitation.patient.site}
        )
    except VisitClosed:
        return _closed(request, invitation)
    except InvitationGone:
        invitation.refresh_from_db()
        return _gone(request, invitation)
