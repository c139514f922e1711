"""patarm.group_par_rewards: group-relative PAR for policy groups (docs/method.md §9), checked
against a Fraction reference of the rule, in any row order."""

import math
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import patarm

NAN = math.nan


def reference(rows, groups):
    """The rule of docs/method.md §9, in Fractions (scores as their shortest decimals)."""
    f = patarm.Graded()
    exact = [[Fraction(repr(s)) for s in row if not math.isnan(s)] for row in rows]
    out = []
    for i, own in enumerate(exact):
        if not own:
            out.append(None)
            continue
        others = [s for j, row in enumerate(exact) if j != i and groups[j] == groups[i] for s in row]
        if not others:
            out.append(0.0)
            continue
        gap = sum(own) / len(own) - sum(others) / len(others)
        out.append(f(float(gap)) if gap > 0 else 0.0)
    return out


def test_the_documented_example():
    out = patarm.group_par_rewards([[9, 9], [5, NAN], [4, 4], [8]], ["p", "p", "p", "q"])
    assert out["par"].tolist() == [1.4, 0.0, 0.0, 0.0]  # 9 against (5 + 4 + 4) / 3
    assert out["judged"].tolist() == [True] * 4 and out["mean"].tolist() == [9.0, 5.0, 4.0, 8.0]
    snapped = patarm.group_par_rewards([[9, 9], [5, NAN], [4, 4]], [0, 0, 0], float32_safe=True)
    assert snapped["par"].tolist() == [1.400390625, 0.0, 0.0]


def test_exact_thresholds_and_ties():
    assert patarm.group_par_rewards([[4.4], [2.4]], [1, 1])["par"].tolist() == [1.2, 0.0]  # gap exactly 2
    assert patarm.group_par_rewards([[0.15], [0.1, 0.2]], [1, 1])["par"].tolist() == [0.0, 0.0]  # exact tie


def test_a_completion_without_a_valid_score_is_a_judge_failure_and_a_callable_f_gets_the_gap():
    out = patarm.group_par_rewards([[NAN, NAN], [], [7.0], [3.0]], ["p"] * 4, f=lambda gap: gap / 10)
    assert out["judged"].tolist() == [False, False, True, True]
    assert np.isnan(out["par"][:2]).all()
    assert out["par"][2:].tolist() == [0.4, 0.0] and out["gap"].tolist() == [0.0, 0.0, 4.0, 0.0]


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.integers(0, 2),
            st.lists(st.one_of(st.just(NAN), st.integers(0, 100).map(lambda v: v / 10)), min_size=1, max_size=4),
        ),
        min_size=1,
        max_size=9,
    ),
    st.randoms(use_true_random=False),
)
def test_matches_the_fraction_reference_in_any_row_order(rows, rng):
    groups = [g for g, _ in rows]
    scores = [s for _, s in rows]
    expected = reference(scores, groups)
    got = patarm.group_par_rewards(scores, groups)["par"].tolist()
    assert [None if math.isnan(v) else v for v in got] == expected
    order = list(range(len(rows)))
    rng.shuffle(order)
    shuffled = patarm.group_par_rewards([scores[i] for i in order], [groups[i] for i in order])["par"]
    np.testing.assert_array_equal(shuffled[np.argsort(order)], got)  # NaN where not judged, in both


def test_caller_mistakes_name_the_argument():
    with pytest.raises(ValueError, match="groups has 1 entries for 2 completions"):
        patarm.group_par_rewards([[1.0], [2.0]], ["p"])
    with pytest.raises(TypeError, match=r"groups\[0\] is a list"):
        patarm.group_par_rewards([[1.0]], [["p"]])
    with pytest.raises(ValueError, match="completion 1, judgement 0 is not finite"):
        patarm.group_par_rewards([[1.0], [math.inf]], ["p", "p"])
