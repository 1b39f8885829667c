"""Sign up, log in, log out (session authentication)."""

from __future__ import annotations

from django.contrib.auth import login, logout
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods, require_POST

from community.services import user_create
from community.services.accounts import login_check
from frontend.forms import GENERAL, problems_by_field
from mola.clients import client_address
from mola.errors import MolaError, RateLimited


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
    status = 400
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
                    address=client_address(request),
                )
            except MolaError as exc:
                errors = problems_by_field(exc.problems)
                status = 429 if isinstance(exc, RateLimited) else 400
            else:
                login(request, user, backend="django.contrib.auth.backends.ModelBackend")
                return redirect(_next_url(request))
    return render(
        request,
        "frontend/signup.html",
        {"errors": errors, "values": values, "next": _next_url(request)},
        status=status if errors else 200,
    )


@require_http_methods(["GET", "POST"])
def login_view(request: HttpRequest) -> HttpResponse:
    errors: dict = {}
    status = 400
    username = request.POST.get("username", "")
    if request.method == "POST":
        try:
            user = login_check(
                username=username.strip(),
                password=request.POST.get("password", ""),
                address=client_address(request),
                request=request,
            )
        except MolaError as exc:  # wrong credentials, or too many failed logins (429)
            errors = {GENERAL: [{"message": exc.problems[0]["message"]}]}
            status = 429 if isinstance(exc, RateLimited) else 400
        else:
            login(request, user)
            return redirect(_next_url(request))
    return render(
        request,
        "frontend/login.html",
        {"errors": errors, "username": username, "next": _next_url(request)},
        status=status if errors else 200,
    )


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    logout(request)
    return redirect("frontend:home")
