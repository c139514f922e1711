"""Voting (docs/method.md §6), checked against plain-Python implementations of the rules."""

from __future__ import annotations

import math
import pickle

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import patarm
from patarm import MajorityVote, majority_vote, majority_vote_verdicts, mean_vote

NAN = math.nan


# Plain-Python statements of the METHOD rules, written independently of the Rust code.
def expected_mean(row):
    valid = [v for v in row if not math.isnan(v)]
    return sum(valid) / len(valid) if valid else NAN


def expected_majority(chosen_row, rejected_row):
    chosen_votes = sum(1 for c, r in zip(chosen_row, rejected_row, strict=True) if c > r)  # NaN compares False
    rejected_votes = sum(1 for c, r in zip(chosen_row, rejected_row, strict=True) if r > c)
    return chosen_votes > rejected_votes, chosen_votes, rejected_votes


def same_float(a, b):
    return (math.isnan(a) and math.isnan(b)) or math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-12)


# Scores 0..10 in half steps (ties happen often) or NaN for an invalid judgement.
score = st.one_of(st.just(NAN), st.integers(0, 20).map(lambda k: k / 2))


def score_matrix(rows, cols):
    return hnp.arrays(np.float64, (rows, cols), elements=score)


@settings(max_examples=150, deadline=None)
@given(st.integers(0, 12), st.integers(0, 9), st.data())
def test_mean_vote_matches_reference(rows, cols, data):
    scores = data.draw(score_matrix(rows, cols))
    means = mean_vote(scores)
    assert means.shape == (rows,) and means.dtype == np.float64
    for row, got in zip(scores.tolist(), means.tolist(), strict=True):
        assert same_float(got, expected_mean(row))
    if cols:
        k = data.draw(st.integers(1, cols))
        prefix = mean_vote(scores, rounds=k)
        for row, got in zip(scores.tolist(), prefix.tolist(), strict=True):
            assert same_float(got, expected_mean(row[:k]))


@settings(max_examples=150, deadline=None)
@given(st.integers(0, 12), st.integers(0, 9), st.data())
def test_majority_vote_matches_reference(rows, cols, data):
    chosen = data.draw(score_matrix(rows, cols))
    rejected = data.draw(score_matrix(rows, cols))
    result = majority_vote(chosen, rejected)
    assert result.chosen_wins.dtype == np.bool_ and result.chosen_votes.dtype == np.int64
    assert len(result) == rows and result.rounds == cols
    for p in range(rows):
        wins, c, r = expected_majority(chosen[p].tolist(), rejected[p].tolist())
        assert (bool(result.chosen_wins[p]), int(result.chosen_votes[p]), int(result.rejected_votes[p])) == (wins, c, r)
    # Swapping the sides swaps the votes; a pair can never be won by both sides.
    swapped = majority_vote(rejected, chosen)
    assert np.array_equal(swapped.chosen_votes, result.rejected_votes)
    assert not np.any(swapped.chosen_wins & result.chosen_wins)
    for k in range(1, cols + 1):
        prefix = majority_vote(chosen, rejected, rounds=k)
        assert np.array_equal(prefix.chosen_wins, majority_vote(chosen[:, :k], rejected[:, :k]).chosen_wins)


@settings(max_examples=150, deadline=None)
@given(st.integers(0, 10), st.integers(1, 8), st.data())
def test_verdict_vote_matches_reference(rows, cols, data):
    choices = data.draw(
        st.lists(
            st.lists(st.sampled_from(["A", "B", None]), min_size=cols, max_size=cols), min_size=rows, max_size=rows
        )
    )
    correct = data.draw(st.lists(st.sampled_from(["A", "B"]), min_size=rows, max_size=rows))
    result = (
        majority_vote_verdicts(choices, correct) if rows else majority_vote_verdicts(np.empty((0, cols), object), [])
    )
    for p in range(rows):
        c = sum(1 for v in choices[p] if v == correct[p])
        r = sum(1 for v in choices[p] if v is not None and v != correct[p])
        assert (bool(result.chosen_wins[p]), int(result.chosen_votes[p]), int(result.rejected_votes[p])) == (
            c > r,
            c,
            r,
        )


def test_worked_examples():
    chosen = [[8, 5, NAN, 6], [3, 3, 9, 1], [5, 5, 5, 5]]
    rejected = [[7, 6, 9, 2], [4, 3, 2, 1], [5, NAN, 5, 5]]
    result = majority_vote(chosen, rejected)
    assert result.chosen_votes.tolist() == [2, 1, 0]
    assert result.rejected_votes.tolist() == [1, 1, 0]
    assert result.chosen_wins.tolist() == [True, False, False]  # ties are not a win
    assert result.ties.tolist() == [False, True, True]
    assert result.accuracy == pytest.approx(1 / 3)
    assert majority_vote(chosen, rejected, rounds=1).chosen_wins.tolist() == [True, False, False]


def test_mean_vote_shapes_and_none():
    assert mean_vote([7.0, None, 9.0]) == 8.0
    assert isinstance(mean_vote([1, 2]), float)
    assert math.isnan(mean_vote([None, NAN]))
    assert math.isnan(mean_vote([]))
    ragged = mean_vote([[1, 2, 3], [4], []])  # rows may differ: missing judgements are invalid
    assert ragged[:2].tolist() == [2.0, 4.0] and math.isnan(ragged[2])
    assert mean_vote(np.arange(6, dtype=np.int32).reshape(2, 3)).tolist() == [1.0, 4.0]
    assert mean_vote(np.zeros((3, 4), dtype=np.float32)).dtype == np.float64
    # Non-contiguous views (prefixes, transposes) are read correctly.
    scores = np.arange(12, dtype=np.float64).reshape(3, 4)
    assert mean_vote(scores[:, ::2]).tolist() == [1.0, 5.0, 9.0]
    assert mean_vote(scores.T).tolist() == [4.0, 5.0, 6.0, 7.0]


def test_large_batch_is_thread_count_independent():
    rng = np.random.default_rng(0)
    chosen = rng.integers(0, 11, size=(50_000, 8)).astype(float)
    rejected = rng.integers(0, 11, size=(50_000, 8)).astype(float)
    chosen[rng.random(chosen.shape) < 0.1] = NAN
    one = majority_vote(chosen, rejected, num_threads=1)
    two = majority_vote(chosen, rejected, num_threads=2)
    assert np.array_equal(one.chosen_votes, two.chosen_votes)
    assert np.array_equal(
        one.chosen_wins, (np.nan_to_num(chosen, nan=-1) > rejected).sum(1) > ((rejected > chosen).sum(1))
    )
    means = mean_vote(chosen, num_threads=2)
    with np.errstate(invalid="ignore"):
        assert np.allclose(means, np.nanmean(chosen, axis=1), equal_nan=True)


def test_verdict_inputs():
    result = majority_vote_verdicts([["A", "B", "A"], ["A", None, "B"], ["", "B", float("nan")]], ["A", "B", "B"])
    assert result.chosen_votes.tolist() == [2, 1, 1]
    assert result.rejected_votes.tolist() == [1, 1, 0]
    assert result.chosen_wins.tolist() == [True, False, True]
    codes = majority_vote_verdicts(np.array([[1, 2, 1], [1, 0, 2]]), np.array([1, 2]))
    assert codes.chosen_votes.tolist() == [2, 1]
    single = majority_vote_verdicts(["B", "B", "A"], "B")  # one pair
    assert single.chosen_wins.tolist() == [True]
    assert majority_vote_verdicts([["A", "B"]], ["A"], rounds=1).chosen_wins.tolist() == [True]


@pytest.mark.parametrize(
    "call, error, match",
    [
        (lambda: majority_vote([[1, 2]], [[1, 2, 3]]), ValueError, r"shape \[1, 2\].*\[1, 3\]"),
        (lambda: majority_vote([[1, 2]], [[1], [2]]), ValueError, "same shape"),
        (lambda: mean_vote(np.zeros((2, 2, 2))), ValueError, "1-D .* or 2-D"),
        (lambda: mean_vote(["a", "b"]), TypeError, "numbers"),
        (lambda: mean_vote([1.0, "x"]), TypeError, "numbers"),
        (lambda: mean_vote([[1.0], ["x", 2]]), TypeError, "str"),
        (lambda: mean_vote([True, False]), TypeError, "dtype bool"),
        (lambda: mean_vote("12"), TypeError, "array-like"),
        (lambda: mean_vote([1j]), TypeError, "complex"),
        (lambda: mean_vote([[1, 2]], rounds=3), ValueError, "rounds=3 is out of range"),
        (lambda: mean_vote([[1, 2]], rounds=0), ValueError, "rounds=0"),
        (lambda: mean_vote([[1, 2]], rounds=1.5), TypeError, "rounds"),
        (lambda: mean_vote([[1, 2]], rounds=True), TypeError, "rounds is bool; pass a positive int"),
        (lambda: majority_vote([[1]], [[2]], rounds=-1), ValueError, "rounds is -1; pass a positive int"),
        (
            lambda: patarm.mean_vote_gaps([[1, 2]], [[1, 2, 3]]),
            ValueError,
            r"the chosen scores have shape \[1, 2\] but the rejected scores have shape \[1, 3\]: pass two",
        ),
        (lambda: patarm.mean_vote_gaps([[1.0]], [[2.0]], margin=math.inf), ValueError, "margin is inf; pass a finite"),
        (lambda: patarm.mean_vote_gaps([[1.0]], [[2.0]], margin=math.nan), ValueError, "margin is NaN; pass a finite"),
        (lambda: patarm.mean_vote_gaps([[1.0]], [[2.0]], rounds=2), ValueError, "rounds=2 is out of range"),
        (lambda: majority_vote_verdicts([["A", "C"]], ["A"]), ValueError, "'C'"),
        (lambda: majority_vote_verdicts([["A"]], [None]), ValueError, "correct"),
        (lambda: majority_vote_verdicts([["A"], ["B"]], ["A"]), ValueError, "correct has 1"),
        (lambda: majority_vote_verdicts([[1, 7]], [1]), ValueError, "verdict code 7 at pair 0: valid codes are"),
        (lambda: majority_vote_verdicts([[1, 2], [1, 1]], [1, 3]), ValueError, "correct verdict of pair 1 is 3, not A"),
        (lambda: majority_vote_verdicts([[1, 257]], [1]), ValueError, "choices holds verdict codes outside int8"),
        (lambda: majority_vote_verdicts([[1, 2]], [-255]), ValueError, "correct holds verdict codes outside int8"),
    ],
)
def test_caller_mistakes(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_result_pickles_and_has_short_repr():
    result = majority_vote(np.ones((1000, 8)), np.zeros((1000, 8)))
    assert repr(result) == "MajorityVote(pairs=1000, rounds=8, accuracy=1.0000)"
    clone = pickle.loads(pickle.dumps(result))
    assert isinstance(clone, MajorityVote)
    assert np.array_equal(clone.chosen_wins, result.chosen_wins) and clone.rounds == 8
    empty = majority_vote(np.zeros((0, 4)), np.zeros((0, 4)))
    assert math.isnan(empty.accuracy) and "pairs=0" in repr(empty)


def test_accuracy_at_growing_n_from_one_sample_set():
    # The evaluation pattern: accuracy at n = 1, 2, 4, 8 from one [pairs, 8] array per side.
    rng = np.random.default_rng(1)
    chosen = rng.normal(6.0, 2.0, size=(400, 8)).round()
    rejected = rng.normal(5.0, 2.0, size=(400, 8)).round()
    accuracy = {k: majority_vote(chosen, rejected, rounds=k).accuracy for k in (1, 2, 4, 8)}
    mean_accuracy = {k: float(np.mean(mean_vote(chosen, rounds=k) > mean_vote(rejected, rounds=k))) for k in (1, 8)}
    assert accuracy[8] > accuracy[1] and mean_accuracy[8] > mean_accuracy[1]
    assert set(patarm.__all__) >= {"mean_vote", "majority_vote", "majority_vote_verdicts", "MajorityVote"}


@pytest.mark.parametrize(
    "call",
    [
        lambda threads: mean_vote([1.0, 2.0], num_threads=threads),
        lambda threads: majority_vote([1.0], [2.0], num_threads=threads),
        lambda threads: majority_vote_verdicts(["A"], ["A"], num_threads=threads),
    ],
)
def test_num_threads_is_checked_and_capped(call):
    with pytest.raises(ValueError, match="num_threads is -1"):
        call(-1)
    call(2**62)  # capped, not 2**62 threads
