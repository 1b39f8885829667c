"""The case pool: imports (JSON, NDJSON, CSV) all or nothing, listing with a condition,
deleting, the cap, and a pool that never leaks into another space."""

import orjson
import pytest

from cases.models import Case
from cases.services import pool as pool_service
from tests.factories import SPACE_API as S
from tests.factories import SPACE_FEATURES, SPACE_LABELS, row

pytestmark = pytest.mark.django_db


def _import(client, cases, slug="serve"):
    return client.post(f"/api/v1/spaces/{slug}/cases", {"cases": cases}, format="json")


def test_a_member_imports_cases_and_lists_them(api, teacher):
    client = api(teacher)
    response = _import(client, [row(toss_height_cm=float(h)) for h in (10, 100, 140)])
    assert response.status_code == 201, response.json()
    assert response.json() == {"imported": 3, "total": 3}
    assert _import(client, [row()]).json() == {"imported": 1, "total": 4}
    body = client.get(f"{S}/cases").json()
    assert body["count"] == 4
    first = body["results"][0]
    assert first["features"] == row(toss_height_cm=10.0)
    assert first["source"] == "import"
    assert first["answer"] is None


def test_one_bad_row_refuses_the_whole_import_and_names_it(api, teacher):
    cases = [row() for _ in range(20)]
    cases[17] = row(toss_height_cm=400.0)
    cases[3] = {**row(), "speed": 3}
    response = _import(api(teacher), cases)
    assert response.status_code == 400
    fields = [(e["field"], e["code"]) for e in response.json()["errors"]]
    assert fields == [
        ("cases[3].speed", "unknown_feature"),
        ("cases[17].toss_height_cm", "out_of_range"),
    ]
    assert Case.objects.count() == 0


def test_many_bad_rows_list_the_first_hundred_problems_and_count_the_rest(api, teacher):
    cases = [row(elbow_angle="x") for _ in range(500)]
    errors = _import(api(teacher), cases).json()["errors"]
    assert len(errors) == 101
    assert errors[0]["field"] == "cases[0].elbow_angle"
    assert errors[-1]["code"] == "rows_refused" and errors[-1]["refused"] == 500
    assert Case.objects.count() == 0


def test_an_import_must_be_a_non_empty_list_within_the_limit(api, teacher, monkeypatch):
    client = api(teacher)
    assert _import(client, []).json()["errors"][0]["field"] == "cases"
    assert client.post(f"{S}/cases", {"cases": "x"}, format="json").status_code == 400
    monkeypatch.setattr(pool_service, "MAX_IMPORT", 2)
    response = _import(client, [row(), row(), row()])
    assert response.status_code == 413
    assert response.json()["errors"][0]["code"] == "too_many"


def test_ndjson_and_csv_imports(api, teacher):
    client = api(teacher)
    ndjson = b"\n".join(orjson.dumps(row(toss_height_cm=float(h))) for h in (1, 2)) + b"\n\n"
    response = client.post(f"{S}/cases", ndjson, content_type="application/x-ndjson")
    assert response.status_code == 201, response.json()
    csv = "serve_type,toss_height_cm,elbow_angle,fatigued\njump,95.5,100,true\nfloat,20,170,no\n"
    response = client.post(f"{S}/cases", csv.encode(), content_type="text/csv")
    assert response.status_code == 201, response.json()
    assert response.json() == {"imported": 2, "total": 4}
    features = [c["features"] for c in client.get(f"{S}/cases").json()["results"]]
    assert features[2] == {
        "serve_type": "jump",
        "toss_height_cm": 95.5,
        "elbow_angle": 100,
        "fatigued": True,
    }
    assert features[3]["fatigued"] is False


def test_a_bad_csv_cell_or_header_is_named(api, teacher):
    client = api(teacher)
    csv = "toss_height_cm,elbow_angle,serve_type,fatigued\n50,120,float,false\n50,abc,float,false\n"
    response = client.post(f"{S}/cases", csv.encode(), content_type="text/csv")
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "cases[1].elbow_angle"
    csv = "toss_height_cm,elbow,serve_type,fatigued\n50,120,float,false\n"
    errors = client.post(f"{S}/cases", csv.encode(), content_type="text/csv").json()["errors"]
    assert {e["code"] for e in errors} == {"unknown_feature", "missing_feature"}
    bad_json = b'{"toss_height_cm": 50}\n{not json\n'
    response = client.post(f"{S}/cases", bad_json, content_type="application/x-ndjson")
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "cases[1]"
    assert Case.objects.count() == 0


def test_every_import_format_gets_the_hostile_input_checks_of_json_bodies(api, teacher):
    """Depth, integer range and NUL are checked as for any JSON body (the import's own parser
    used to skip them: deep nesting was a 500, ids past 64 bits an overflow)."""
    client = api(teacher)
    deep = b'{"cases": [' + b"[" * 5000 + b"]" * 5000 + b"]}"
    response = client.post(f"{S}/cases", deep, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "too_deep"
    huge = b'{"cases": [{"toss_height_cm": 18446744073709551615}]}'
    response = client.post(f"{S}/cases", huge, content_type="application/json")
    assert (response.status_code, response.json()["errors"][0]) == (
        400,
        {**response.json()["errors"][0], "field": "cases.0.toss_height_cm", "code": "out_of_range"},
    )
    lines = orjson.dumps(row()) + b'\n{"toss_height_cm": 18446744073709551615}\n'
    response = client.post(f"{S}/cases", lines, content_type="application/x-ndjson")
    problem = response.json()["errors"][0]
    assert (problem["field"], problem["code"]) == ("cases[1].toss_height_cm", "out_of_range")
    nul = orjson.dumps({**row(), "serve_type": "float\u0000"})
    response = client.post(f"{S}/cases", nul, content_type="application/x-ndjson")
    problem = response.json()["errors"][0]
    assert (problem["field"], problem["code"]) == ("cases[0].serve_type", "invalid_text")
    csv = b"toss_height_cm,elbow_angle,serve_type,fatigued\n1e30,100,float,no\n"
    response = client.post(f"{S}/cases", csv, content_type="text/csv")
    problem = response.json()["errors"][0]
    assert (problem["field"], problem["code"]) == ("cases[0].toss_height_cm", "out_of_range")
    assert Case.objects.count() == 0


def test_the_pool_is_capped(api, teacher, settings):
    settings.CASE_POOL_MAX = 3
    client = api(teacher)
    assert _import(client, [row(), row()]).status_code == 201
    response = _import(client, [row(), row()])
    assert response.status_code == 409
    error = response.json()["errors"][0]
    assert error["code"] == "pool_full" and error["room"] == 1
    assert "at most 3" in error["message"]
    assert Case.objects.count() == 2
    assert _import(client, [row()]).status_code == 201


def test_where_filters_with_the_condition_language(api, teacher):
    client = api(teacher)
    _import(client, [row(toss_height_cm=float(h), fatigued=h > 100) for h in range(0, 150, 10)])
    body = client.get(f"{S}/cases", {"where": "toss_height_cm > 90 and not fatigued"}).json()
    assert [c["features"]["toss_height_cm"] for c in body["results"]] == [100.0]
    body = client.get(f"{S}/cases", {"where": "toss_height_cm >= 100", "page_size": 2}).json()
    assert body["count"] == 5 and len(body["results"]) == 2 and body["next"]
    page_two = client.get(body["next"]).json()
    assert [c["features"]["toss_height_cm"] for c in page_two["results"]] == [120.0, 130.0]


def test_a_bad_where_is_a_400_with_its_position(api, teacher):
    response = api(teacher).get(f"{S}/cases", {"where": "toss_heigth_cm > 3"})
    assert response.status_code == 400
    [error] = response.json()["errors"]
    assert error["field"] == "where"
    assert error["position"] == 0
    assert error["suggestion"] == "toss_height_cm"


def test_deleting_a_case(api, teacher, expert, moderator):
    _import(api(teacher), [row(), row()])
    first, second = Case.objects.order_by("id")
    assert api(expert).delete(f"{S}/cases/{first.pk}").status_code == 403
    assert api(teacher).delete(f"{S}/cases/{first.pk}").status_code == 204
    assert api(moderator).delete(f"{S}/cases/{second.pk}").status_code == 204
    assert api(teacher).delete(f"{S}/cases/{second.pk}").status_code == 404
    assert api(teacher).get(f"{S}/cases").json()["count"] == 0
    assert _import(api(teacher), [row()]).json()["total"] == 1


def test_a_pool_never_leaks_into_another_space(api, owner, teacher):
    from teaching.services.spaces import space_create

    space_create(
        user=owner, slug="other", name="Other", features=SPACE_FEATURES, labels=SPACE_LABELS
    )
    _import(api(owner), [row(toss_height_cm=1.0)], slug="other")
    _import(api(teacher), [row(toss_height_cm=2.0)])
    other = Case.objects.get(features__toss_height_cm=1.0)
    body = api(teacher).get(f"{S}/cases").json()
    assert [c["features"]["toss_height_cm"] for c in body["results"]] == [2.0]
    assert api(teacher).get(f"{S}/cases", {"where": "toss_height_cm < 5"}).json()["count"] == 1
    assert api(owner).get(f"{S}/cases/{other.pk}").status_code == 404
    assert api(owner).delete(f"{S}/cases/{other.pk}").status_code == 404
    assert api(teacher).get("/api/v1/spaces/other/cases").status_code == 403
    coverage = api(teacher).get(f"{S}/coverage").json()
    assert coverage["cases"] == 1


@pytest.mark.parametrize("role", ["anonymous", "outsider", "api_key"])
def test_only_members_see_or_import_cases(api, people, role):
    client = api(people[role])
    assert client.get(f"{S}/cases").status_code in (401, 403)
    assert _import(client, [row()]).status_code in (401, 403)
    assert client.get(f"{S}/coverage").status_code in (401, 403)
    assert Case.objects.count() == 0


def test_a_novice_may_import(api, novice):
    assert _import(api(novice), [row()]).status_code == 201


def test_a_space_that_opted_in_samples_prediction_inputs(api, space, owner, teacher):
    from teaching.services import traffic

    traffic.inputs_record(
        space_id=space.pk, rows=[row(toss_height_cm=7.0), row(toss_height_cm=8.0)]
    )
    assert api(teacher).get(f"{S}/cases").json()["count"] == 0  # not opted in
    api(owner).patch(S, {"settings": {"sample_predictions_into_pool": True}}, format="json")
    body = api(teacher).get(f"{S}/cases").json()
    assert body["count"] == 2
    assert {c["source"] for c in body["results"]} == {"traffic"}
    # At most once a minute, and a case the pool has is not added again.
    from cases.models import CasePool

    CasePool.objects.update(traffic_sampled_at=None)
    traffic.inputs_record(space_id=space.pk, rows=[row(toss_height_cm=9.0)])
    assert api(teacher).get(f"{S}/cases").json()["count"] == 3


def test_a_text_space_imports_filters_and_covers_its_comments(api, owner):
    from teaching.services.spaces import space_create

    space_create(
        user=owner,
        slug="spam",
        name="Spam",
        features=[{"name": "comment", "kind": "text", "max_length": 200}],
        labels=[{"name": "spam"}, {"name": "ham"}],
    )
    client = api(owner)
    url = "/api/v1/spaces/spam"
    client.post(
        f"{url}/rules",
        {"condition": 'comment contains "check out"', "label": "spam"},
        format="json",
    )
    csv = 'comment\n"Check out my channel!"\nlovely song\n"CHECK OUT\u200b this"\n'
    assert client.post(f"{url}/cases", csv.encode(), content_type="text/csv").status_code == 201
    too_long = client.post(f"{url}/cases", {"cases": [{"comment": "x" * 201}]}, format="json")
    assert too_long.json()["errors"][0]["field"] == "cases[0].comment"
    found = client.get(f"{url}/cases", {"where": 'comment contains "check out"'}).json()
    assert found["count"] == 2
    coverage = client.get(f"{url}/coverage").json()
    assert coverage["rules"][0]["counts"]["coverage"] == 2
    assert coverage["counts"]["uncovered"] == 1
    client.post(f"{url}/cases", {"cases": [{"comment": "please check out my page"}]}, format="json")
    assert client.get(f"{url}/coverage").json()["rules"][0]["counts"]["coverage"] == 3


def test_a_moderator_deletes_the_cases_a_condition_matches(api, teacher, moderator):
    _import(api(teacher), [row(toss_height_cm=float(h)) for h in (10, 50, 100, 140)])
    client = api(moderator)
    assert client.delete(f"{S}/cases").json()["errors"][0]["field"] == "where"
    assert api(teacher).delete(f"{S}/cases?where=true").status_code == 403
    bad = client.delete(f"{S}/cases?where=toss_heigth_cm+>+1")
    assert bad.status_code == 400 and bad.json()["errors"][0]["position"] == 0
    body = client.delete(f"{S}/cases?where=toss_height_cm+>+60").json()
    assert body == {"deleted": 2, "total": 2}
    left = [c["features"]["toss_height_cm"] for c in client.get(f"{S}/cases").json()["results"]]
    assert left == [10.0, 50.0]
    assert client.get(f"{S}/coverage").json()["cases"] == 2
    assert client.delete(f"{S}/cases?where=true").json() == {"deleted": 2, "total": 0}
    assert _import(api(teacher), [row()]).json()["total"] == 1
