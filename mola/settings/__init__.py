"""Settings for development, the demo and tests; production hardening is in ``production``."""

from .base import *  # noqa: F403
