"""Learning from text: the example side reads the examples' words (text.py), rules on text
fire through the matcher, and explanations name the words that pushed an answer and the
teachers behind them."""

from __future__ import annotations

import numpy as np

from mola.engine.language import compile_condition
from mola.engine.learning import ExampleSpec, RuleSpec, Snapshot, TaughtModel, fit
from mola.engine.learning.scoring import log_loss
from mola.engine.learning.text import (
    LINK_TOKEN,
    REPRESENTATIONS,
    TextReader,
    mark_links_and_digits,
)
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


def test_each_space_reads_its_texts_as_its_own_held_out_examples_prefer():
    """Two readings (text.REPRESENTATIONS) are weighed per space by out-of-fold log loss: where
    the label sits in word order ("alice pays bob" against "bob pays alice": the same words)
    only the word pairs tell the labels apart, and that reading is kept."""
    payers, payees = ["alice", "bob", "carol", "dave"], ["erin", "frank", "gina", "hugo"]
    items = []
    for a in payers:
        for b in payees:
            items += [(f"{a} pays {b}", "spam"), (f"{b} pays {a}", "ham")]
    specs = [
        ExampleSpec(id=i, features={"comment": t}, label=label, author="anna", expertise="expert")
        for i, (t, label) in enumerate(items, start=1)
    ]
    model = fit(Snapshot(schema=SCHEMA, examples=tuple(specs)))
    assert model.metrics_["parameters"]["text_representation"] == "pairs"
    assert model.predict(table("alice pays frank", "frank pays alice")) == ["spam", "ham"]


def test_the_reader_keeps_the_reading_with_the_lowest_out_of_fold_loss():
    documents = SPAM_TEXTS + HAM_TEXTS + ["see http://bit.ly/x9 now", "win 500 at www.prize.com"]
    labels = np.array([0] * len(SPAM_TEXTS) + [1] * len(HAM_TEXTS) + [0, 0])
    reader = TextReader(["comment"], 2)
    chosen = reader.choose(documents, labels, None, 0)
    losses = {}
    for representation in REPRESENTATIONS:
        reader.representation = representation
        losses[representation.name] = log_loss(
            reader.out_of_fold(documents, labels, None, 0), labels
        )
    best = min(losses, key=losses.get)
    assert log_loss(chosen, labels) == losses[best]
    assert len(set(losses.values())) == 2  # the two readings differ here


def test_links_are_marked_and_digits_read_alike_in_the_marked_reading():
    marked = mark_links_and_digits("call 555-0192 or see http://bit.ly/a1b2 and www.x.com")
    assert marked.split().count(LINK_TOKEN) == 2
    assert "000-0000" in marked and "http://bit.ly/a0b0" in marked
    assert mark_links_and_digits("no link here, 2 songs") == "no link here, 0 songs"
