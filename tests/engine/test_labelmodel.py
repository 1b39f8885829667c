"""The label model recovers rule accuracies from agreement on unlabelled cases, keeps a rule
it has little evidence on near its author's prior, and lets labelled examples anchor it."""

import numpy as np

from mola.engine.labelmodel import EXPERTISE_PRIOR, fit_label_model


def _world(seed: int, accuracies: list[float], n_cases: int = 4000, n_labels: int = 3):
    rng = np.random.default_rng(seed)
    truth = rng.integers(0, n_labels, n_cases)
    labels = np.arange(len(accuracies)) % n_labels
    votes = np.zeros((len(accuracies), n_cases), dtype=bool)
    for j, accuracy in enumerate(accuracies):
        fires = rng.random(n_cases) < 0.35
        right = truth == labels[j]
        # Fire on its own label's cases and on others' so that accuracy holds where it fires.
        keep_right = fires & right
        n_wrong = int(keep_right.sum() * (1 - accuracy) / accuracy)
        wrong = rng.permutation(np.flatnonzero(fires & ~right))[:n_wrong]
        votes[j] = keep_right
        votes[j, wrong] = True
    return truth, labels, votes


def test_it_recovers_accuracies_from_agreement_alone():
    accuracies = [0.9, 0.85, 0.9, 0.8, 0.9, 0.85, 0.45, 0.5, 0.4]
    truth, labels, votes = _world(0, accuracies)
    model = fit_label_model(votes, labels, ["intermediate"] * len(accuracies), 3)
    measured = [float((truth[votes[j]] == labels[j]).mean()) for j in range(len(accuracies))]
    assert np.max(np.abs(model.reliability - measured)) < 0.1
    assert model.reliability[:6].min() > model.reliability[6:].max()
    covered = votes.any(axis=0)
    label_model = (model.posteriors.argmax(axis=1) == truth)[covered].mean()
    counts = np.zeros((votes.shape[1], 3))
    for j in range(len(accuracies)):
        counts[votes[j], labels[j]] += 1
    majority = (counts.argmax(axis=1) == truth)[covered].mean()
    assert label_model > majority
    assert np.allclose(model.agree + model.disagree, votes.sum(axis=1))


def test_little_evidence_stays_near_the_authors_prior():
    truth, labels, votes = _world(1, [0.9, 0.9, 0.9, 0.9, 0.9, 0.9])
    rare = np.zeros((2, votes.shape[1]), dtype=bool)
    rare[:, :3] = True  # two rules firing on three cases only, both wrong there
    rare_labels = np.array([(truth[0] + 1) % 3, (truth[0] + 1) % 3])
    votes = np.vstack([votes, rare])
    labels = np.concatenate([labels, rare_labels])
    model = fit_label_model(votes, labels, ["expert"] * 6 + ["master", "novice"], 3)
    master_prior = EXPERTISE_PRIOR["master"][0] / sum(EXPERTISE_PRIOR["master"])
    novice_prior = EXPERTISE_PRIOR["novice"][0] / sum(EXPERTISE_PRIOR["novice"])
    assert abs(model.reliability[6] - master_prior) < 0.2
    assert model.reliability[6] > model.reliability[7]
    assert model.reliability[7] < novice_prior


def test_examples_anchor_the_estimate():
    accuracies = [0.5, 0.5, 0.5, 0.5]
    _, labels, votes = _world(2, accuracies, n_cases=600)
    # Examples: rule 0 right everywhere it covers them, rule 1 wrong.
    examples = np.zeros((4, 40), dtype=bool)
    examples[0, :20] = True
    examples[1, 20:] = True
    example_labels = np.concatenate([np.full(20, labels[0]), np.full(20, (labels[1] + 1) % 3)])
    without = fit_label_model(votes, labels, ["intermediate"] * 4, 3)
    anchored = fit_label_model(
        votes, labels, ["intermediate"] * 4, 3, examples=examples, example_labels=example_labels
    )
    assert anchored.reliability[0] > without.reliability[0]
    assert anchored.reliability[1] < without.reliability[1]
    own = example_labels[None, :] == labels[:, None]
    counted = fit_label_model(
        votes,
        labels,
        ["intermediate"] * 4,
        3,
        example_counts=(
            (examples & own).sum(axis=1),
            examples.sum(axis=1),
            np.bincount(example_labels, minlength=3),
        ),
    )
    assert np.allclose(counted.reliability, anchored.reliability)


def test_no_rules_or_no_cases():
    empty = fit_label_model(np.zeros((0, 5), bool), np.zeros(0, np.int64), [], 3)
    assert empty.posteriors.shape == (5, 3) and np.allclose(empty.posteriors, 1 / 3)
    none = fit_label_model(np.zeros((2, 0), bool), np.array([0, 1]), ["novice", "master"], 3)
    assert np.allclose(none.reliability, [0.7, 15 / 16])


def _correlated_world(seed: int, n_cases: int):
    """Spam (0) and ham (1); a link (spam) is always a short comment (ham): the two rules
    fire together on every link, which the model's independence assumption does not allow."""
    rng = np.random.default_rng(seed)
    truth = (rng.random(n_cases) < 0.5).astype(np.int64)
    spam, ham = truth == 0, truth == 1

    def share(p):
        return rng.random(n_cases) < p

    link = (spam & share(0.3)) | (ham & share(0.02))
    short = (ham & share(0.4)) | link | (spam & share(0.05))
    mine = (spam & share(0.3)) | (ham & share(0.06))
    song = (ham & share(0.3)) | (spam & share(0.08))
    check = (spam & share(0.25)) | (ham & share(0.005))
    return truth, np.array([link, short, mine, song, check])


def test_examples_anchor_the_rates_of_rules_that_fire_together():
    labels = np.array([0, 1, 0, 1, 0])
    for seed in range(3):
        truth, votes = _correlated_world(seed, 1500)
        taught, taught_votes = _correlated_world(100 + seed, 100)
        own = taught[None, :] == labels[:, None]
        counts = ((taught_votes & own).sum(axis=1), taught_votes.sum(axis=1), np.bincount(taught))
        measured = np.array([(truth[votes[j]] == labels[j]).mean() for j in range(5)])
        alone = fit_label_model(
            votes, labels, ["expert"] * 5, 2, example_counts=counts, example_weight=0
        )
        anchored = fit_label_model(votes, labels, ["expert"] * 5, 2, example_counts=counts)
        error_alone = np.abs(alone.reliability - measured).mean()
        error_anchored = np.abs(anchored.reliability - measured).mean()
        assert error_anchored < 0.12 and error_anchored < error_alone / 2, (seed, error_anchored)
        right_alone = (alone.posteriors.argmax(axis=1) == truth).mean()
        right_anchored = (anchored.posteriors.argmax(axis=1) == truth).mean()
        assert right_anchored > right_alone + 0.15, (seed, right_alone, right_anchored)
