"""Prepared statements (thueringen_portal/settings.py): PostgreSQL plans a repeated statement once.

The suite runs on the settings operators deploy, so every test exercises the
server-side parameter binding that prepared statements need; these tests
check that the statements are really prepared, and that the switch for a
deployment behind a transaction-mode pooler turns it off.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

from submissions.models import Submission

ROOT = Path(__file__).resolve().parents[2]


def prepared_here() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        return [row[0] for row in cursor.fetchall()]


@pytest.mark.django_db
def test_a_statement_run_repeatedly_is_prepared_once_per_connection():
    for reference in range(7):
        assert not Submission.objects.filter(reference=f"TH-NONE-{reference}").exists()
    statements = [s for s in prepared_here() if '"submissions_submission"."reference"' in s]
    # One plan for all seven runs, whatever the value: the values are bound apart from the SQL.
    assert len(statements) == 1, statements
    assert "$1" in statements[0]


@pytest.mark.parametrize(("value", "expected"), [("", True), ("false", False)])
def test_deployments_behind_a_transaction_pooler_can_turn_them_off(value, expected):
    script = (
        "import django; django.setup(); from django.conf import settings; "
        "options = settings.DATABASES['default'].get('OPTIONS', {}); "
        "print(options.get('server_side_binding', False), options.get('prepare_threshold'))"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "thueringen_portal.settings"}
    env["DATABASE_PREPARED_STATEMENTS"] = value
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == (["True", "5"] if expected else ["False", "None"])
