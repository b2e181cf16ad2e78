"""Logging in and out (Django's views; django-axes locks out, registry.security), the lockout page,
and switching site."""

from typing import Any

from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from web.forms import LoginForm, locked_out_message
from web.state import ALL_SITES, SESSION_KEY, web_state
from web.views.common import safe_next


class LoginView(auth_views.LoginView):
    form_class = LoginForm
    template_name = "registration/login.html"
    redirect_authenticated_user = True


class LogoutView(auth_views.LogoutView):
    """POST only (Django 5): a link cannot log anyone out."""


def lockout_response(
    request: HttpRequest, original_response: HttpResponse | None, credentials: Any
) -> HttpResponse:
    """AXES_LOCKOUT_CALLABLE: what answers the failed password (a login, the admin's login, a
    signature's) that has just locked its account or address out, unless the page answering it
    says so itself (LoginForm). A session that was guessing its own user's password at signing is
    ended with it: whoever typed may not be that user."""
    if original_response is not None and getattr(request, "lockout_shown", False):
        return original_response
    signed_in = request.user.is_authenticated
    if signed_in:
        logout(request)
    context = {"message": locked_out_message(), "logged_out": signed_in}
    return render(request, "registration/locked_out.html", context, status=429)


@login_required
def home(request: HttpRequest) -> HttpResponse:
    return redirect("web:patients")


@login_required
@require_POST
def site_switch(request: HttpRequest) -> HttpResponse:
    state = web_state(request)
    chosen = request.POST.get("site", "")
    if chosen == ALL_SITES and len(state.sites) > 1:
        request.session[SESSION_KEY] = None
        messages.info(request, "Showing all your sites.")
    else:
        site = next((s for s in state.sites if str(s.pk) == chosen), None)
        if site is None:
            # Not a site of theirs: say nothing about whether it exists.
            messages.error(request, "Choose one of your sites.")
        else:
            request.session[SESSION_KEY] = site.pk
            messages.info(request, f"Now working at {site.code} — {site.name}.")
    return redirect(safe_next(request, reverse("web:patients")))
