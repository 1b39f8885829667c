import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent.parent


def _manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "mola.settings.production", **env},
        timeout=120,
    )


def test_production_refuses_the_demo_secret():
    result = _manage("check", SECRET_KEY="")
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


def test_check_deploy_passes_with_a_real_secret():
    secret = "k" * 20 + "Zq9!x@Lr#v2$Wm%Tn^8&Pb*Hs(4)Gd_Fy+" + "u" * 10
    result = _manage("check", "--deploy", "--fail-level", "WARNING", SECRET_KEY=secret)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.django_db(transaction=True)
def test_a_request_end_keeps_the_database_connection():
    """What Django runs when a request finishes leaves the connection open for the next one
    (opening one per request was ~14 % of a one-instance predict on SQLite)."""
    from django.contrib.auth import get_user_model
    from django.db import close_old_connections, connection

    connection.close()  # a fresh one: an older one than CONN_MAX_AGE is rightly closed
    get_user_model().objects.exists()
    kept = connection.connection
    close_old_connections()
    assert kept is not None and connection.connection is kept
