"""Through the API and a real worker, on a space with a text feature: two members' phrase
rules contradict, and the contradiction carries a witness text both rules accept, and a
thread."""

import pytest

from mola.engine.language import compile_condition
from mola.engine.table import table_from_rows
from tests.conftest import _member
from tests.factories import TEXT_FEATURES as FEATURES
from tests.factories import TEXT_LABELS as LABELS
from tests.factories import TEXT_SPACE_API as S
from tests.worker import wait_for

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def tube(owner):
    from teaching.services.spaces import space_create

    return space_create(user=owner, slug="tube", name="Tube", features=FEATURES, labels=LABELS)


def test_contradicting_phrase_rules_get_a_witness_text_and_a_thread(
    api, celery_worker, tube, owner
):
    anna = _member(tube, owner, "anna", "teacher", "expert")
    ben = _member(tube, owner, "ben", "teacher", "expert")
    spam = 'comment contains any ["check out", "my channel"]'
    ham = 'comment contains "song" and not comment contains_text "http"'
    for user, condition, label in ((anna, spam, "spam"), (ben, ham, "ham")):
        response = api(user).post(
            f"{S}/rules", {"condition": condition, "label": label}, format="json"
        )
        assert response.status_code == 201, response.json()

    def open_items():
        return api(anna).get(f"{S}/contradictions?status=open").json()["results"]

    [found] = wait_for(open_items, timeout=60)
    assert found["kind"] == "rule_overlap" and found["thread"] is not None
    witness = found["witness"]["comment"]
    assert "song" in witness
    tube.refresh_from_db()
    for condition in (spam, ham):
        compiled = compile_condition(condition, tube.schema)
        assert compiled.evaluate(table_from_rows(tube.schema, [{"comment": witness}]))[0]
    thread = api(anna).get(f"/api/v1/threads/{found['thread']}")
    assert thread.status_code == 200
