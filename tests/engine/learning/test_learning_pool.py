"""Learning from the unlabelled case pool (pool.py): the rules' agreements on it correct a
rule the examples never tested, clear example evidence is never overridden, the pool never
becomes examples, and the texts' regression reads it only where it helps."""

from __future__ import annotations

import numpy as np

from mola.engine.language import compile_condition
from mola.engine.learning import ExampleSpec, RuleSpec, Snapshot, fit
from mola.engine.learning.pool import MAX_POOL_ROWS
from mola.engine.schema import Schema
from mola.engine.table import table_from_rows

SCHEMA = Schema.from_dicts(
    [{"name": "x", "kind": "number", "min": 0, "max": 100}], [{"name": "a"}, {"name": "b"}]
)


def _rule(id: int, text: str, label: str, expertise: str = "expert") -> RuleSpec:
    return RuleSpec(
        id=id,
        label=label,
        author=f"author{id}",
        expertise=expertise,
        condition=compile_condition(text, SCHEMA),
    )


def _example(id: int, x: float) -> ExampleSpec:
    return ExampleSpec(
        id=id, features={"x": x}, label="a" if x < 50 else "b", author="eve", expertise="expert"
    )


# The truth: a below 50, b from 50. Rules 1 and 2 say so; rule 3 (a below 80) is wrong on
# [50, 80), where no example was taught — only the pool shows it disagreeing with rule 2.
RULES = (
    _rule(1, "x < 50", "a"),
    _rule(2, "x >= 50", "b"),
    _rule(3, "x < 80", "a"),
)
EXAMPLES = tuple(_example(100 + i, x) for i, x in enumerate([5, 15, 25, 35, 85, 95]))
POOL = tuple({"x": float(x)} for x in np.linspace(0.5, 99.5, 400))


def _snapshot(pool=(), examples=EXAMPLES, rules=RULES) -> Snapshot:
    return Snapshot(schema=SCHEMA, rules=rules, examples=examples, revision=3, pool=pool)


def _reliability(model, rule_id: int) -> float:
    return next(r["reliability"] for r in model.metrics_["rules"] if r["id"] == rule_id)


def test_the_pool_shows_a_rule_wrong_where_no_example_tested_it():
    without = fit(_snapshot())
    with_pool = fit(_snapshot(POOL))
    assert _reliability(with_pool, 3) < _reliability(without, 3) - 0.1
    # The good rules keep (or gain) their trust.
    assert _reliability(with_pool, 2) >= _reliability(without, 2) - 0.02
    at_65 = table_from_rows(SCHEMA, [{"x": 65.0}])
    b = SCHEMA.label_names.index("b")
    assert with_pool.predict_proba(at_65)[0, b] > without.predict_proba(at_65)[0, b]
    assert with_pool.predict(at_65) == ["b"]
    summary = with_pool.metrics_["pool"]
    assert summary["cases"] == len(POOL) and summary["rules_used"] >= 1


def test_clear_example_evidence_is_not_overridden():
    # Ten examples in [50, 80) say label a there: the world is "a below 80" after all, and
    # rule 3 is right. The pool (where rules 2 and 3 disagree) must not talk it down.
    taught = EXAMPLES + tuple(
        ExampleSpec(id=200 + i, features={"x": x}, label="a", author="eve", expertise="expert")
        for i, x in enumerate(np.linspace(52, 78, 10))
    )
    without = fit(_snapshot(examples=taught))
    with_pool = fit(_snapshot(POOL, examples=taught))
    assert _reliability(with_pool, 3) >= _reliability(without, 3) - 0.02


def test_the_pool_never_becomes_examples():
    model = fit(_snapshot(POOL))
    assert model.metrics_["n_examples"] == len(EXAMPLES)
    explanation = model.explain(table_from_rows(SCHEMA, [{"x": 60.0}]))[0]
    taught_ids = {e.id for e in EXAMPLES}
    named = [item["id"] for item in explanation.examples]
    assert named and set(named) <= taught_ids
    assert set(model.metrics_["rules"][0]) >= {"agree", "disagree"}


def test_a_pool_case_equal_to_an_example_is_left_out_and_a_large_pool_sampled():
    repeated = tuple({"x": float(e.features["x"])} for e in EXAMPLES)
    model = fit(_snapshot(POOL + repeated))
    assert model.metrics_["pool"]["cases"] == len(POOL)
    large = tuple({"x": float(x)} for x in np.linspace(0.1, 99.9, MAX_POOL_ROWS + 500))
    assert fit(_snapshot(large)).metrics_["pool"]["cases"] == MAX_POOL_ROWS


def test_no_pool_or_an_empty_one_changes_nothing():
    plain = fit(_snapshot())
    empty = fit(_snapshot(()))
    table = table_from_rows(SCHEMA, [{"x": float(x)} for x in range(0, 100, 7)])
    assert np.array_equal(plain.predict_proba(table), empty.predict_proba(table))
    assert plain.metrics_["pool"]["cases"] == 0


def test_one_spaces_pool_never_moves_another_spaces_model():
    # Two fits of the same teachings with different pools: each model depends on its own
    # snapshot's pool only (the learner keeps nothing between fits without a cache).
    other_pool = tuple({"x": float(x)} for x in np.linspace(50, 80, 300))
    first = fit(_snapshot(POOL))
    fit(_snapshot(other_pool))
    again = fit(_snapshot(POOL))
    table = table_from_rows(SCHEMA, [{"x": float(x)} for x in range(0, 100, 3)])
    assert np.array_equal(first.predict_proba(table), again.predict_proba(table))


TEXT = Schema.from_dicts([{"name": "comment", "kind": "text"}], [{"name": "spam"}, {"name": "ham"}])
SPAM = ["check my channel", "subscribe to my channel", "free money at my page", "visit my site"]
HAM = ["lovely song", "this song is great", "her voice is amazing", "best music ever"]


def test_texts_read_the_pool_only_where_the_held_out_examples_say_it_helps():
    rng = np.random.default_rng(0)
    taught = [
        ExampleSpec(id=i, features={"comment": text}, label=label, author="eve", expertise="expert")
        for i, (text, label) in enumerate(
            [(t, "spam") for t in SPAM * 3] + [(t, "ham") for t in HAM * 3]
        )
    ]
    words_spam = ["channel", "subscribe", "money", "page", "free", "visit", "link"]
    words_ham = ["song", "voice", "music", "dance", "great", "lovely", "beat"]
    pool = tuple(
        {"comment": " ".join(rng.choice(words, 4))} for words in [words_spam, words_ham] * 100
    )
    rule = RuleSpec(
        id=1,
        label="spam",
        author="ann",
        expertise="expert",
        condition=compile_condition('comment contains any ["channel", "subscribe"]', TEXT),
    )
    snapshot = Snapshot(schema=TEXT, rules=(rule,), examples=tuple(taught), pool=pool)
    model = fit(snapshot)
    texts = model.metrics_["pool"]["texts"]
    assert texts["pseudo_labelled"] > 0
    assert len(texts["text_log_loss"]) == 2
    # Kept only when the whole blend's held-out log loss is lower with it.
    if texts["kept"]:
        assert texts["blend_log_loss"][1] < texts["blend_log_loss"][0]
    again = fit(snapshot)
    probe = table_from_rows(TEXT, [{"comment": "my channel"}, {"comment": "great beat"}])
    assert np.array_equal(model.predict_proba(probe), again.predict_proba(probe))
    assert model.predict(probe) == ["spam", "ham"]


def test_the_end_model_reads_words_only_the_pool_taught():
    # Taught spam always names the channel; the pool's spam does too, with words no example
    # holds (money, prize...). Only a model of the words trained on the pool's probable
    # labels knows those words without the channel.
    rng = np.random.default_rng(0)
    taught_spam = ["channel", "subscribe", "visit", "link"]
    pool_spam = ["money", "free", "win", "cash", "prize"]
    ham = ["song", "voice", "music", "dance", "great", "lovely", "beat", "love", "she", "sings"]

    def words(vocabulary, k):
        return " ".join(rng.choice(vocabulary, k))

    taught = [
        ExampleSpec(id=i, features={"comment": text}, label=label, author="eve", expertise="expert")
        for i, (text, label) in enumerate(
            [("my channel " + words(taught_spam, 3), "spam") for _ in range(20)]
            + [(words(ham, 4), "ham") for _ in range(20)]
        )
    ]
    pool = tuple({"comment": "my channel " + words(pool_spam, 3)} for _ in range(150)) + tuple(
        {"comment": words(ham, 4)} for _ in range(200)
    )
    rule = RuleSpec(
        id=1,
        label="spam",
        author="ann",
        expertise="expert",
        condition=compile_condition('comment contains "channel"', TEXT),
    )
    plain = fit(Snapshot(schema=TEXT, rules=(rule,), examples=tuple(taught)))
    model = fit(Snapshot(schema=TEXT, rules=(rule,), examples=tuple(taught), pool=pool))
    probe = table_from_rows(TEXT, [{"comment": "free cash prize"}, {"comment": "lovely voice"}])
    assert plain.predict(probe) == ["ham", "ham"]
    assert model.predict(probe) == ["spam", "ham"]
    end = model.metrics_["pool"]["texts"]["end_model"]
    assert end["kept"] == (end["mean_difference"] <= 2 * end["standard_error"])
    assert end["kept"] and model.trees_ is None
    assert model.metrics_["parameters"]["tree_mass"] == 0.0
