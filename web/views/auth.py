"""Logging in and out (Django's views; the backend throttles and locks out) and switching site."""

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_POST

from web.forms import LoginForm
from web.state import ALL_SITES, SESSION_KEY, web_state
from web.views.common import safe_next


class LoginView(auth_views.LoginView):
    form_class = LoginForm
    template_name = "registration/login.html"
    redirect_authenticated_user = True


class LogoutView(auth_views.LogoutView):
    """POST only (Django 5): a link cannot log anyone out."""


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
