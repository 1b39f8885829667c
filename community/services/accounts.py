"""Writes about people: accounts and their API tokens."""

from __future__ import annotations

from django.contrib.auth import authenticate, get_user_model
from django.contrib.auth.models import AbstractUser
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from rest_framework.authtoken.models import Token

from mola.errors import Conflict, InvalidInput

User = get_user_model()


def user_create(*, username: str, password: str, email: str = "") -> tuple[AbstractUser, str]:
    """Create an account and its API token. Refuses a taken name or a weak password."""
    if User.objects.filter(username__iexact=username).exists():
        raise Conflict("That username is taken.", code="username_taken", field="username")
    candidate = User(username=username, email=email)
    try:
        validate_password(password, user=candidate)
    except ValidationError as exc:
        raise InvalidInput(
            problems=[
                {"field": "password", "code": "weak_password", "message": message}
                for message in exc.messages
            ]
        ) from exc
    try:
        with transaction.atomic():
            user = User.objects.create_user(username=username, password=password, email=email)
            token = Token.objects.create(user=user)
    except IntegrityError as exc:  # lost a race for the same name
        raise Conflict("That username is taken.", code="username_taken", field="username") from exc
    return user, token.key


def token_obtain(*, username: str, password: str) -> str:
    """The user's API token, created on first use. Wrong credentials are one error for both."""
    user = authenticate(username=username, password=password)
    if user is None or not user.is_active:
        raise InvalidInput("Wrong username or password.", code="invalid_credentials", field=None)
    token, _ = Token.objects.get_or_create(user=user)
    return token.key
