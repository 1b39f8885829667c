"""Examples: the table's filters and the "right, wrong, right" form."""

from __future__ import annotations

from teaching.models import Example
from tests.factories import SPACE_PAGES as S


def _row(prefix: str, *, toss: str, label: str, **extra: str) -> dict[str, str]:
    return {
        f"{prefix}toss_height_cm": toss,
        f"{prefix}elbow_angle": "120",
        f"{prefix}serve_type": "float",
        f"{prefix}label": label,
        **{f"{prefix}{k}": v for k, v in extra.items()},
    }


def test_right_wrong_right_saves_an_example_a_counterexample_and_an_example(client_as, taught):
    rule = taught["rule"]  # high_toss (toss_height_cm > 90) → toss in front
    data = {
        **_row("e0-", toss="50", label="no cue"),
        **_row(
            "e1-",
            toss="120",
            label="high elbow",
            refutes=str(rule.pk),
            note="high, but the elbow is the problem",
            fatigued="on",
        ),
        **_row("e2-", toss="55", label="no cue", evaluation="on"),
    }
    response = client_as("teacher").post(f"{S}/examples/new/", data)
    assert response.status_code == 302
    new = list(Example.objects.exclude(pk=taught["example"].pk).order_by("id"))
    assert [e.label for e in new] == ["no cue", "high elbow", "no cue"]
    assert new[1].refutes_id == rule.pk and new[1].features["fatigued"] is True
    assert new[1].features["toss_height_cm"] == 120
    assert new[2].evaluation is True


def test_a_wrong_counterexample_saves_nothing_and_is_shown_in_its_row(client_as, taught):
    rule = taught["rule"]
    data = {
        **_row("e0-", toss="50", label="no cue"),
        **_row("e1-", toss="40", label="high elbow", refutes=str(rule.pk)),
    }
    response = client_as("teacher").post(f"{S}/examples/new/", data)
    assert response.status_code == 400
    assert "cannot refute it" in response.content.decode()
    assert Example.objects.count() == 1


def test_a_missing_value_is_shown_by_its_input(client_as, taught):
    data = _row("e0-", toss="", label="no cue")
    response = client_as("teacher").post(f"{S}/examples/new/", data)
    assert response.status_code == 400
    assert 'id="id_e0-toss_height_cm-errors"' in response.content.decode()


def test_an_empty_form_asks_for_a_label(client_as, taught):
    response = client_as("teacher").post(f"{S}/examples/new/", {})
    assert response.status_code == 400
    assert "Choose a label" in response.content.decode()


def test_the_table_filters_by_label(client_as, taught):
    client = client_as("teacher")
    client.post(f"{S}/examples/new/", _row("e0-", toss="50", label="no cue"))
    shown = client.get(f"{S}/examples/?label=no+cue").context["examples"]
    assert [e.label for e in shown] == ["no cue"]
    assert client.get(f"{S}/examples/?author=owner").context["examples"].paginator.count == 0


def test_a_refuted_rule_that_is_no_number_is_refused_in_its_row(client_as, taught):
    for refutes in ("abc", "99999999999999999999", "-3"):
        data = {
            **_row("e0-", toss="50", label="no cue"),
            **_row("e1-", toss="100", label="no cue", refutes=refutes),
        }
        response = client_as("teacher").post(f"{S}/examples/new/", data)
        assert response.status_code == 400, refutes
        assert "a rule&#x27;s number" in response.content.decode(), refutes
    assert Example.objects.count() == 1  # the taught one: nothing half-saved


def test_with_many_rules_the_refuted_rule_is_typed_by_number(client_as, taught, space):
    from teaching.models import Rule, Status

    page = client_as("teacher").get(f"{S}/examples/").content.decode()
    assert '<select id="id_e1-refutes"' in page  # a few rules: a list
    Rule.objects.bulk_create(
        [
            Rule(
                space=space,
                author=taught["rule"].author,
                condition=f"toss_height_cm > {h}",
                label="no cue",
                status=Status.ACTIVE,
            )
            for h in range(70)
        ]
    )
    page = client_as("teacher").get(f"{S}/examples/").content.decode()
    assert '<input id="id_e1-refutes" name="e1-refutes" type="number"' in page
    assert page.count("<option") < 100  # not 3 x 73 rules
    rule = taught["rule"]
    data = {**_row("e1-", toss="40", label="high elbow", refutes=str(rule.pk))}
    response = client_as("teacher").post(f"{S}/examples/new/", data)
    assert response.status_code == 400 and "cannot refute it" in response.content.decode()
