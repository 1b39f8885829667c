"""Production settings: the base settings, hardened, refusing the public demo secret."""

from django.core.exceptions import ImproperlyConfigured

from mola.env import env_bool, env_int

from .base import *  # noqa: F403
from .base import DEMO_SECRET_KEY, SECRET_KEY

if SECRET_KEY == DEMO_SECRET_KEY or len(SECRET_KEY) < 50:
    raise ImproperlyConfigured(
        "Production needs its own SECRET_KEY (50+ random characters); the demo key is public."
    )

DEBUG = False
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SECURE_CONTENT_TYPE_NOSNIFF = True
