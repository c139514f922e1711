"""Exact arithmetic wherever scores are averaged or compared (docs/method.md §4, "Exactness"),
checked against a reference written with fractions.Fraction (tests/par_reference.py), on
one- and two-decimal scores where ties and exact boundaries are common; and the float32-safe
option of the reward functions."""

import math
import random
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import par_reference as ref
import patarm
from patarm.workflow.data.filter import PairJudgements, rl_filter, sft_filter


def judgement(answer):
    return f"<think>t</think><generate_rubrics>r</generate_rubrics><eval>e</eval><answer>{answer}</answer>"


def pair_batch(chosen, rejected):
    texts = [judgement(s) for s in chosen] + [judgement(s) for s in rejected]
    sides = ["chosen"] * len(chosen) + ["rejected"] * len(rejected)
    return texts, [0] * len(texts), sides


# ---- the examples -------------------------------------------------------------------


def test_a_gap_of_exactly_two_is_in_the_lower_band():
    out = patarm.score_batch(*pair_batch(["4.4"], ["2.4"]))
    assert out["reward"].tolist() == [1.2, 1.2]
    pair = patarm.par_rewards([judgement("4.4")], [judgement("2.4")])
    assert pair.chosen.par.tolist() == [1.2] and pair.rejected.par.tolist() == [1.2]
    assert patarm.compute_score(None, {"chosen": [judgement("4.4")], "rejected": [judgement("2.4")]})["score"] == [
        1.2,
        1.2,
    ]


def test_a_mean_that_equals_the_other_score_is_a_tie():
    out = patarm.score_batch(*pair_batch(["0.1", "0.2"], ["0.15"]))
    assert out["par"].tolist() == [0.0, 1.2, 0.0]  # 0.15 against a chosen mean of exactly 0.15
    assert out["opposite_mean"][2] == 0.15


def test_digits_beyond_the_fast_form_stay_exact():
    above = "4.40000000000000000000000000000000000000000001"  # 4.4 + 1e-44: a gap just above 2
    out = patarm.score_batch(*pair_batch([above, "4.4"], ["2.4"]))
    # chosen: gaps 2 + 1e-44 (upper band) and exactly 2 (lower band); rejected: the chosen
    # mean is 4.4 + 5e-45, a gap just above 2.
    assert out["par"].tolist() == [1.4, 1.2, 1.4]
    assert out["score"][0] == 4.4 and out["opposite_mean"][2] == 4.4


def test_huge_verdicts_are_decided_in_linear_time():
    """A verdict's zeros cost nothing; a fraction beyond 4,096 digits is an invalid verdict
    (the bound that keeps the exact fallback fast on hostile input)."""
    zeros = "0" * 5_000_000
    limit = "3" * ref.MAX_DIGITS
    verdicts = [f"{zeros}7.5{zeros}", f"0.{limit}", f"0.{limit}3", "9" * 5_000_000]
    texts = [judgement(v) for v in verdicts]
    out = patarm.parse_judgements(texts)
    assert out["error_code"].tolist() == [0, 0, 2, 2]
    assert out["score"][0] == 7.5 and out["score"][1] == float(Fraction(f"0.{limit}"))
    assert [ref.parse(t)[1] for t in texts] == [0, 0, 2, 2]


def test_a_user_callable_gets_the_nearest_float_of_the_exact_gap():
    seen = []
    patarm.score_batch(*pair_batch(["4.4"], ["2.4"]), f=lambda gap: seen.append(gap) or 1.0)
    assert seen == [2.0, 2.0]


def test_float_thresholds_mean_their_shortest_decimal():
    f = patarm.Graded(thresholds=(0.3,), values=(1.0, 2.0))
    out = patarm.score_batch(*pair_batch(["0.4"], ["0.1"]), f=f)  # gap exactly 0.3
    assert out["par"].tolist() == [1.0, 1.0]
    assert f(0.1 + 0.2) == 2.0 and f(0.3) == 1.0  # 0.30000000000000004 is above 0.3


def test_mean_voting_ties_are_exact():
    gap, order = patarm.mean_vote_gaps([[0.1, 0.2]], [[0.15, 0.15]])
    assert order.tolist() == [0] and gap.tolist() == [0.0]
    assert patarm.mean_vote([0.1, 0.2]) == 0.15
    assert patarm.mean_vote([0.1, 0.2, 0.3]) == 0.2


def test_sft_filter_drops_a_gap_of_exactly_two():
    pairs = {
        (None, "exact"): PairJudgements((None, "exact"), chosen=[4.4], rejected=[2.4]),
        (None, "above"): PairJudgements((None, "above"), chosen=[4.5], rejected=[2.4]),
    }
    report = sft_filter(pairs)
    assert report.kept == [(None, "above")]
    assert report.stats[(None, "exact")]["score_gap"] == 2.0


def test_rl_filter_bounds_are_exact_fractions():
    def pair(name, correct, rounds):
        return PairJudgements(
            (None, name), chosen=[1.0] * correct + [0.0] * (rounds - correct), rejected=[0.5] * rounds
        )

    pairs = {p.key: p for p in (pair("1/8", 1, 8), pair("6/8", 6, 8), pair("7/8", 7, 8), pair("0/8", 0, 8))}
    assert rl_filter(pairs).kept == [(None, "1/8"), (None, "6/8")]
    # 0.1 means exactly 1/10: one correct in ten is inside [0.1, 0.2].
    assert rl_filter({(None, "x"): pair("x", 1, 10)}, low=0.1, high=0.2).kept == [(None, "x")]


# ---- properties against the Fraction reference ----------------------------------------------

ONE_DECIMAL = st.integers(0, 100).map(lambda k: f"{k / 10:g}")
TWO_DECIMALS = st.integers(0, 1000).map(lambda k: f"{k / 100:.2f}")
# 44 fractional digits: beyond the i128 fast form, so the big-integer fallback is exercised.
LONG = st.integers(0, 10**45).map(lambda k: f"{k // 10**44}.{k % 10**44:044d}")
NEAR_TWO_APART = st.sampled_from(
    ["4.4", "2.4", "4.40000000000000000000000000000000000000000001", "2.39999999999999999999999999999999999999999999"]
)
VERDICTS = st.one_of(
    ONE_DECIMAL, TWO_DECIMALS, LONG, NEAR_TWO_APART, st.sampled_from(["7.", "x", "11", "0.15", "2.4", "4.4"])
)
ROWS = st.lists(st.tuples(st.integers(0, 3), st.sampled_from(["chosen", "rejected"]), VERDICTS), max_size=40)


@settings(max_examples=400, deadline=None)
@given(rows=ROWS, seed=st.integers(0, 2**32), constant=st.booleans())
def test_score_batch_matches_fraction_reference_in_any_order(rows, seed, constant):
    texts = [judgement(v) for _, _, v in rows]
    ids, sides = [r[0] for r in rows], [r[1] for r in rows]
    f = patarm.Constant(1.3) if constant else patarm.Graded()
    ref_f = (lambda gap: 1.3) if constant else ref.graded
    expected = ref.score_batch(texts, ids, sides, f=ref_f)
    order = list(range(len(rows)))
    random.Random(seed).shuffle(order)
    out = patarm.score_batch([texts[i] for i in order], [ids[i] for i in order], [sides[i] for i in order], f=f)
    for key in ("reward", "par", "score", "opposite_mean", "error_code", "partner_found"):
        got = np.asarray(out[key], dtype=float)
        want = np.asarray([expected[key][i] for i in order], dtype=float)
        np.testing.assert_array_equal(got, want, err_msg=key)


@settings(max_examples=300, deadline=None)
@given(chosen=st.lists(VERDICTS, max_size=8), rejected=st.lists(VERDICTS, max_size=8))
def test_par_rewards_matches_fraction_reference(chosen, rejected):
    texts, ids, sides = pair_batch(chosen, rejected)
    expected = ref.score_batch(texts, ids, sides)
    pair = patarm.par_rewards([judgement(v) for v in chosen], [judgement(v) for v in rejected])
    got = pair.chosen.reward.tolist() + pair.rejected.reward.tolist()
    assert got == expected["reward"]


SCORES = st.one_of(
    st.integers(0, 100).map(lambda k: k / 10),
    st.integers(0, 1000).map(lambda k: k / 100),
    st.floats(0, 10),
    st.floats(0, 1e-300),
    st.just(math.nan),
)


@settings(max_examples=300, deadline=None)
@given(data=st.data(), pairs=st.integers(1, 6), n=st.integers(1, 6), margin=st.sampled_from([0.0, 2.0, 0.05, 1.5]))
def test_mean_vote_gaps_match_fractions(data, pairs, n, margin):
    chosen = data.draw(st.lists(st.lists(SCORES, min_size=n, max_size=n), min_size=pairs, max_size=pairs))
    rejected = data.draw(st.lists(st.lists(SCORES, min_size=n, max_size=n), min_size=pairs, max_size=pairs))
    gap, order = patarm.mean_vote_gaps(chosen, rejected, margin=margin)

    def exact_mean(row):
        valid = [Fraction(repr(x)) for x in row if not math.isnan(x)]
        return sum(valid, Fraction(0)) / len(valid) if valid else None

    for p in range(pairs):
        c, r = exact_mean(chosen[p]), exact_mean(rejected[p])
        if c is None or r is None:
            assert math.isnan(gap[p]) and order[p] == 0
            continue
        exact_gap = c - r
        assert gap[p] == float(exact_gap)
        want = Fraction(repr(margin))
        assert order[p] == (exact_gap > want) - (exact_gap < want)
        means = patarm.mean_vote(chosen[p])
        assert means == float(c)


# ---- float32-safe rewards --------------------------------------------------------------------


def test_float32_safe_option_snaps_reward_and_par_only():
    texts, ids, sides = pair_batch(["9", "4.4", "x"], ["2.4", "2.4"])
    exact = patarm.score_batch(texts, ids, sides)
    snapped = patarm.score_batch(texts, ids, sides, float32_safe=True)
    for key in ("reward", "par"):
        np.testing.assert_array_equal(snapped[key], patarm.float32_safe(exact[key]))
        assert np.all(snapped[key] * 1024 == np.round(snapped[key] * 1024))
    np.testing.assert_array_equal(snapped["score"], exact["score"])
    assert snapped["reward"].tolist() == [1.400390625, 1.2001953125, -1.0, 1.400390625, 1.400390625]
    pair = patarm.par_rewards([judgement("9")], [judgement("2")], f=patarm.Constant(1.3), float32_safe=True)
    assert pair.chosen.reward.tolist() == [1.2998046875]
    scored = patarm.compute_score(None, {"chosen": [judgement("9")], "rejected": [judgement("8")]}, float32_safe=True)
    assert scored["score"] == [1.2001953125, 1.2001953125] and scored["par"] == scored["score"]


def test_float32_safe_groups_have_float32_mean_equal_to_the_value():
    """Why the option exists: the float32 mean of 8 identical unsnapped values is one unit off."""
    for value in (1.2, 1.3, 1.4):
        raw = np.full(8, value, dtype=np.float32)
        snapped = np.full(8, patarm.float32_safe(value), dtype=np.float32)
        assert np.cumsum(raw, dtype=np.float32)[-1] / np.float32(8) != raw[0]
        assert np.cumsum(snapped, dtype=np.float32)[-1] / np.float32(8) == snapped[0]


def test_judge_pair_results_decide_mean_ties_exactly_and_credit_ties():
    from patarm.workflow.judge.results import Results, ScoreResult, pair_results

    def result(scores):
        scores = np.asarray(scores, dtype=np.float64)
        return ScoreResult(
            "p", "r", "chat", ["j"] * len(scores), scores, [None] * len(scores), patarm.mean_vote(scores)
        )

    pairs = Results(
        pair_results(
            [result([0.1, 0.2]), result([9.0, 9.0]), result([5.0])],
            [result([0.15, 0.15]), result([1.0, 9.0]), result([math.nan])],
        )
    )
    assert [p.mean_correct for p in pairs] == [False, True, False]
    assert [p.mean_tie for p in pairs] == [True, False, True]  # no valid rejected score: a tie
    assert [p.majority_tie for p in pairs] == [True, False, True]
    assert pairs.accuracy() == 1 / 3 and pairs.accuracy(ties="half") == 2 / 3
    assert pairs.accuracy("majority", "half") == 2 / 3
    with pytest.raises(ValueError, match="ties='even'"):
        pairs[0].credit(ties="even")


def test_majority_vote_score_counts_ties_as_asked():
    vote = patarm.majority_vote([[1.0, 2.0], [3.0, 3.0]], [[2.0, 1.0], [1.0, 1.0]])
    assert vote.accuracy == 0.5 and vote.score() == 0.5 and vote.score("half") == 0.75


@pytest.mark.parametrize("float32_safe", [False, True])
def test_decode_and_score_is_exact_and_snaps_on_request(float32_safe):
    """The verl decode-and-score path (token ids -> rewards in one native pass) computes the same
    exact rewards as score_batch, and snaps them only when asked."""
    from patarm import _core

    decoder = _core.TokenDecoder.from_pieces([bytes([b]) for b in range(256)], [])
    texts, ids, sides = pair_batch(["4.4", "0.1", "0.2"], ["2.4", "0.15"])
    ids = ["a", "b", "b", "a", "b"]  # pair a: 4.4 vs 2.4; pair b: [0.1, 0.2] vs 0.15
    encoded = [t.encode() for t in texts]
    width = max(map(len, encoded))
    matrix = np.zeros((len(texts), width), dtype=np.int64)
    for row, data in enumerate(encoded):
        matrix[row, : len(data)] = list(data)
    lengths = np.array([len(data) for data in encoded], dtype=np.int64)
    out = _core.decode_and_score(
        decoder,
        matrix,
        lengths,
        ids,
        sides,
        [""] * len(texts),
        f=patarm.Graded((2.0,), (1.2, 1.4)),
        float32_safe=float32_safe,
    )
    expected = patarm.score_batch(texts, ids, sides, float32_safe=float32_safe)
    for key in ("reward", "par", "score", "opposite_mean"):
        np.testing.assert_array_equal(out[key], expected[key])
    exact_par = [1.2, 0.0, 1.2, 1.2, 0.0]
    assert out["par"].tolist() == (patarm.float32_safe(exact_par).tolist() if float32_safe else exact_par)
