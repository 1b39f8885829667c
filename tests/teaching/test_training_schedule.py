"""A teaching write whose retrain cannot be recorded at once (the database refuses) still
answers with its revision, and the model still trains: the task records it itself."""

from __future__ import annotations

import pytest
from django.db import OperationalError, connection

from mola.celery import app
from teaching.models import TrainingState
from teaching.selectors import model_status
from teaching.services.training import retrain_run

pytestmark = pytest.mark.django_db(transaction=True)

S = "/api/v1/spaces/serve"


@pytest.fixture
def eager_tasks():
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = False


def test_a_write_whose_retrain_record_is_refused_still_trains(eager_tasks, api, space, teacher):
    refused = []

    def refuse_the_web_record(execute, sql, params, many, context):
        # The first update of the queue row is the web process's, right after the commit.
        record = sql.startswith('UPDATE "teaching_trainingstate"') and "wanted_revision" in sql
        if record and not refused:
            refused.append(sql)
            raise OperationalError("database is locked")
        return execute(sql, params, many, context)

    with connection.execute_wrapper(refuse_the_web_record):
        response = api(teacher).post(
            f"{S}/rules", {"condition": "toss_height_cm > 90", "label": "no cue"}, format="json"
        )

    assert response.status_code == 201, response.json()
    assert refused
    revision = response.json()["teaching_revision"]
    state = TrainingState.objects.get(space=space)
    assert state.wanted_revision == state.trained_revision == revision
    space.refresh_from_db()
    assert model_status(space=space)["teaching_revision"] == revision


def test_a_task_that_outlived_its_space_does_nothing(space):
    gone = space.pk + 1000
    assert retrain_run(space_id=gone, revision=3) == 0
    assert not TrainingState.objects.filter(space_id=gone).exists()
