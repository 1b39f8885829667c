"""Sign up, log in, log out (session authentication)."""

from __future__ import annotations

from django.contrib.auth import authenticate, login, logout
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods, require_POST

from community.services import user_create
from frontend.forms import GENERAL, problems_by_field
from mola.errors import MolaError


def _next_url(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or "/"
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return "/"
    return target


@require_http_methods(["GET", "POST"])
def signup(request: HttpRequest) -> HttpResponse:
    errors: dict = {}
    values = {"username": request.POST.get("username", ""), "email": request.POST.get("email", "")}
    if request.method == "POST":
        username = values["username"].strip()
        if not username:
            errors = {"username": [{"message": "Choose a username."}]}
        else:
            try:
                user, _token = user_create(
                    username=username,
                    password=request.POST.get("password", ""),
                    email=values["email"].strip(),
                )
            except MolaError as exc:
                errors = problems_by_field(exc.problems)
            else:
                login(request, user, backend="django.contrib.auth.backends.ModelBackend")
                return redirect(_next_url(request))
    return render(
        request,
        "frontend/signup.html",
        {"errors": errors, "values": values, "next": _next_url(request)},
        status=400 if errors else 200,
    )


@require_http_methods(["GET", "POST"])
def login_view(request: HttpRequest) -> HttpResponse:
    errors: dict = {}
    username = request.POST.get("username", "")
    if request.method == "POST":
        user = authenticate(
            request, username=username.strip(), password=request.POST.get("password", "")
        )
        if user is None:
            errors = {GENERAL: [{"message": "Wrong username or password."}]}
        else:
            login(request, user)
            return redirect(_next_url(request))
    return render(
        request,
        "frontend/login.html",
        {"errors": errors, "username": username, "next": _next_url(request)},
        status=400 if errors else 200,
    )


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    logout(request)
    return redirect("frontend:home")
