"""Writes about people: accounts, logins and their API tokens.

Both doors (the API and the web pages) come here, so both get the same limits:

- failed logins are counted per account and per client address (``LOGIN_FAILURES_PER_*``);
  past either, even the right password is refused until the window ends (429): guessing a
  password takes days, not minutes (60 wrong API and 30 wrong web attempts used to be
  followed by a working one);
- sign-ups are counted per client address (``SIGNUP_RATE``), on the web page as on the API;
- a token is stored as a hash (django-rest-knox), expires (``USER_TOKEN_TTL_DAYS``, renewed
  while in use), each login gets a new one, and a token — or all of a user's — can be
  revoked; changing the password revokes them all, and Django's session hash signs the
  user's web sessions out.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import authenticate, get_user_model
from django.contrib.auth.models import AbstractUser
from django.contrib.auth.password_validation import validate_password
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator
from django.db import IntegrityError, transaction
from knox.models import AuthToken

from mola.clients import limit_clear, limit_reached
from mola.errors import Conflict, InvalidInput, RateLimited

User = get_user_model()
USERNAME_MAX = 150


def _weak(exc: ValidationError, field: str) -> InvalidInput:
    return InvalidInput(
        problems=[{"field": field, "code": "weak_password", "message": m} for m in exc.messages]
    )


def token_create(*, user) -> str:
    """A new API token for ``user`` (only its hash is stored; the token is shown once)."""
    _, token = AuthToken.objects.create(user=user)
    return token


def signup_check(*, address: str) -> None:
    """Refuse a sign-up past ``SIGNUP_RATE`` from this client address."""
    wait = limit_reached("signup", address, settings.SIGNUP_RATE)
    if wait:
        raise RateLimited(f"Too many sign-ups from here; try again in {wait} s.", retry_after=wait)


def username_check(*, username: str, email: str = "") -> None:
    """The rules for a username (and an email) at either door: 1 to 150 letters, digits and
    @ . + - _ (a ``/`` in a name broke every page that links to the member), and a valid
    email of at most 254 characters when one is given."""
    problems = []
    if not isinstance(username, str) or not 1 <= len(username) <= USERNAME_MAX:
        problems.append(
            {
                "field": "username",
                "code": "invalid",
                "message": f"A username has 1 to {USERNAME_MAX} characters.",
            }
        )
    else:
        try:
            UnicodeUsernameValidator()(username)
        except ValidationError as exc:
            problems.append({"field": "username", "code": "invalid", "message": exc.messages[0]})
    if email:
        try:
            if len(email) > 254:
                raise ValidationError("Ensure this field has no more than 254 characters.")
            EmailValidator()(email)
        except ValidationError as exc:
            problems.append({"field": "email", "code": "invalid", "message": exc.messages[0]})
    if problems:
        raise InvalidInput(problems=problems)


def user_create(
    *, username: str, password: str, email: str = "", address: str = "unknown"
) -> tuple[AbstractUser, str]:
    """Create an account and its API token. Refuses a name or email against the rules
    (``username_check``), a taken name, a weak password, and more than ``SIGNUP_RATE``
    sign-ups from one client address."""
    signup_check(address=address)
    username_check(username=username, email=email)
    if User.objects.filter(username__iexact=username).exists():
        raise Conflict("That username is taken.", code="username_taken", field="username")
    candidate = User(username=username, email=email)
    try:
        validate_password(password, user=candidate)
    except ValidationError as exc:
        raise _weak(exc, "password") from exc
    try:
        with transaction.atomic():
            user = User.objects.create_user(username=username, password=password, email=email)
            token = token_create(user=user)
    except IntegrityError as exc:  # lost a race for the same name
        raise Conflict("That username is taken.", code="username_taken", field="username") from exc
    return user, token


def login_check(*, username: str, password: str, address: str, request=None):
    """The user whose credentials these are, or an error: 429 while the account or the
    address is past its failed-login limit (checked before the password), else 400 for
    wrong credentials (one error for both, counted against the account and the address)."""
    account = username.strip().lower()
    for name, key, rate in (
        ("login-account", account, settings.LOGIN_FAILURES_PER_ACCOUNT),
        ("login-address", address, settings.LOGIN_FAILURES_PER_ADDRESS),
    ):
        wait = limit_reached(name, key, rate, count=False)
        if wait:
            raise RateLimited(f"Too many failed logins; try again in {wait} s.", retry_after=wait)
    user = authenticate(request, username=username, password=password)
    if user is None or not user.is_active:
        limit_reached("login-account", account, settings.LOGIN_FAILURES_PER_ACCOUNT)
        limit_reached("login-address", address, settings.LOGIN_FAILURES_PER_ADDRESS)
        raise InvalidInput("Wrong username or password.", code="invalid_credentials", field=None)
    limit_clear("login-account", account, settings.LOGIN_FAILURES_PER_ACCOUNT)
    return user


def token_obtain(*, username: str, password: str, address: str = "unknown") -> str:
    """A new API token for these credentials (each login rotates: older tokens keep working
    until they expire or are revoked)."""
    user = login_check(username=username, password=password, address=address)
    return token_create(user=user)


def token_revoke(*, token: AuthToken) -> None:
    token.delete()


def tokens_revoke_all(*, user) -> int:
    """Revoke every API token of ``user``; returns how many there were."""
    return AuthToken.objects.filter(user=user).delete()[0]


def password_change(*, user, password: str, new_password: str) -> str:
    """Change the password (the current one is required), revoke every token and return a
    new one; the user's web sessions end (Django checks each session's password hash)."""
    if not user.check_password(password):
        raise InvalidInput(
            "The current password is wrong.", code="invalid_credentials", field="password"
        )
    try:
        validate_password(new_password, user=user)
    except ValidationError as exc:
        raise _weak(exc, "new_password") from exc
    with transaction.atomic():
        user.set_password(new_password)
        user.save(update_fields=["password"])
        tokens_revoke_all(user=user)
        return token_create(user=user)
