"""Learning from text: the example side reads the examples' words (text.py), rules on text
fire through the matcher, and explanations name the words that pushed an answer and the
teachers behind them."""

from __future__ import annotations

import numpy as np

from mola.engine.language import compile_condition
from mola.engine.learning import ExampleSpec, RuleSpec, Snapshot, TaughtModel, fit
from mola.engine.schema import Schema
from mola.engine.table import table_from_rows

SCHEMA = Schema.from_dicts(
    [{"name": "comment", "kind": "text"}], [{"name": "spam"}, {"name": "ham"}]
)
SPAM_TEXTS = [
    "check out my channel please",
    "subscribe to my channel for free gifts",
    "visit my page http link",
    "free gift card check my video",
    "please subscribe and share my channel",
    "my new video is out, subscribe",
    "click this link for free money",
    "check my channel and subscribe",
]
HAM_TEXTS = [
    "this song is so beautiful",
    "love this song so much",
    "best music video ever",
    "her voice is amazing in this song",
    "i still listen to this song in 2015",
    "such a great dance and music",
    "this song brings back memories",
    "the beat of this song is great",
]


def examples(author_spam: str = "anna", author_ham: str = "ben") -> list[ExampleSpec]:
    items = [(t, "spam", author_spam) for t in SPAM_TEXTS] + [
        (t, "ham", author_ham) for t in HAM_TEXTS
    ]
    return [
        ExampleSpec(id=i, features={"comment": t}, label=label, author=a, expertise="expert")
        for i, (t, label, a) in enumerate(items, start=1)
    ]


def table(*texts: str):
    return table_from_rows(SCHEMA, [{"comment": t} for t in texts])


def test_the_examples_words_decide_where_no_rule_speaks():
    model = fit(Snapshot(schema=SCHEMA, examples=tuple(examples())))
    assert model.text_ is not None and "text_mass" in model.metrics_["parameters"]
    assert model.predict(table("please subscribe to my channel", "what a song, love it")) == [
        "spam",
        "ham",
    ]


def test_a_phrase_rule_changes_the_answers_it_covers():
    rule = RuleSpec(
        id=100,
        label="spam",
        author="carl",
        expertise="master",
        condition=compile_condition('comment contains "song lyrics"', SCHEMA),
    )
    before = fit(Snapshot(schema=SCHEMA, examples=tuple(examples())))
    after = fit(Snapshot(schema=SCHEMA, rules=(rule,), examples=tuple(examples())))
    cases = table("get the song lyrics at my site", "this song is beautiful")
    assert before.predict_proba(cases)[0, 0] < after.predict_proba(cases)[0, 0]
    assert after.predict(cases)[1] == "ham"  # the rule does not fire there
    fired = after.explain(cases)[0].rules
    assert [r["id"] for r in fired] == [100]


def test_explanations_name_the_words_that_pushed_and_their_teachers():
    model = fit(Snapshot(schema=SCHEMA, examples=tuple(examples())))
    [explanation] = model.explain(table("subscribe to my channel"))
    assert explanation.label == "spam"
    words = [w["word"] for w in explanation.words]
    assert words and set(words) <= {
        "subscribe",
        "to",
        "my",
        "channel",
        "my channel",
        "subscribe to",
        "to my",
    }
    assert "subscribe" in words or "channel" in words or "my channel" in words
    assert all(w["weight"] > 0 for w in explanation.words)
    assert all(w["teachers"] == ["anna"] for w in explanation.words if w["word"] != "to")
    assert "anna" in explanation.contributors
    assert explanation.as_dict()["explanation"]["words"] == explanation.words


def test_a_text_model_stores_and_answers_the_same():
    model = fit(Snapshot(schema=SCHEMA, examples=tuple(examples())))
    cases = table("check out my channel", "nice song", "")
    again = TaughtModel.from_bytes(model.to_bytes())
    assert np.allclose(again.predict_proba(cases), model.predict_proba(cases))


def test_few_examples_read_no_text_but_the_model_still_answers():
    few = examples()[:2] + examples()[8:10]
    model = fit(Snapshot(schema=SCHEMA, examples=tuple(few)))
    assert model.text_ is None
    assert len(model.predict(table("anything"))) == 1


def test_a_space_mixing_text_and_numbers_learns_from_both():
    schema = Schema.from_dicts(
        [{"name": "comment", "kind": "text"}, {"name": "links", "kind": "number", "min": 0}],
        [{"name": "spam"}, {"name": "ham"}],
    )
    items = [
        ExampleSpec(
            id=i,
            features={"comment": t, "links": 3 if label == "spam" else 0},
            label=label,
            author="anna",
            expertise="expert",
        )
        for i, (t, label) in enumerate(
            [(t, "spam") for t in SPAM_TEXTS] + [(t, "ham") for t in HAM_TEXTS], start=1
        )
    ]
    model = fit(Snapshot(schema=schema, examples=tuple(items)))
    cases = table_from_rows(schema, [{"comment": "subscribe now", "links": 3}])
    assert model.predict(cases) == ["spam"]
