"""Shape functions f, PAR for one pair (par_rewards) and the pair-form compute_score."""

import math
import pickle

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import par_reference as ref
import patarm


def judgement(answer):
    return f"<think>t</think><generate_rubrics>r</generate_rubrics><eval>e</eval><answer>{answer}</answer>"


# ---- shapes ---------------------------------------------------------------------------------


def test_graded_default_is_the_papers():
    f = patarm.Graded()
    assert f.thresholds == (2.0,) and f.values == (1.2, 1.4)
    assert [f(0.1), f(2.0), f(2.5), f(10.0)] == [1.2, 1.2, 1.4, 1.4]
    assert f(0.0) == 0.0 and f(-1.0) == 0.0


def test_graded_bands():
    f = patarm.Graded(thresholds=[1.0, 3.0], values=[0.5, 1.0, 2.0])
    assert [f(1.0), f(1.01), f(3.0), f(3.01)] == [0.5, 1.0, 1.0, 2.0]


def test_constant():
    f = patarm.Constant(1.3)
    assert f.value == 1.3 and f(0.01) == 1.3 and f(9.0) == 1.3 and f(0.0) == 0.0
    assert patarm.Constant() == patarm.Constant(1.3)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(thresholds=(2.0,), values=(1.2,)), "one more value than thresholds"),
        (dict(thresholds=(float("nan"),), values=(1.0, 2.0)), "finite"),
        (dict(thresholds=(2.0, 2.0), values=(1.0, 2.0, 3.0)), "strictly increasing"),
        (dict(thresholds=(3.0, 1.0), values=(1.0, 2.0, 3.0)), "strictly increasing"),
        (dict(thresholds=(2.0,), values=(1.0, float("inf"))), "finite"),
    ],
)
def test_graded_rejects_bad_parameters(kwargs, message):
    with pytest.raises(ValueError, match=message):
        patarm.Graded(**kwargs)


def test_constant_rejects_nan():
    with pytest.raises(ValueError, match="finite"):
        patarm.Constant(float("nan"))


def test_shapes_are_frozen_picklable_comparable():
    for f in (patarm.Graded(), patarm.Graded((1.0, 3.0), (0.5, 1.0, 2.0)), patarm.Constant(0.7)):
        again = pickle.loads(pickle.dumps(f))
        assert again == f and hash(again) == hash(f) and repr(again) == repr(f)
        with pytest.raises(AttributeError):
            f.value = 3.0
    assert repr(patarm.Graded()) == "Graded(thresholds=(2.0,), values=(1.2, 1.4))"
    assert repr(patarm.Constant(1.3)) == "Constant(1.3)"
    assert patarm.Graded() != patarm.Constant(1.2)
    assert patarm.Graded() != patarm.Graded((1.0,), (1.2, 1.4))


# ---- par_rewards ----------------------------------------------------------------------------


def test_par_rewards_worked_example():
    chosen = [judgement(8), judgement(6), judgement(5), judgement("x")]
    rejected = [judgement(4), judgement(6), "no tags at all"]
    p = patarm.par_rewards(chosen, rejected)
    assert p.chosen_mean == pytest.approx(19 / 3) and p.rejected_mean == 5.0
    np.testing.assert_array_equal(p.chosen.par, [1.4, 1.2, 0.0, 0.0])
    np.testing.assert_array_equal(p.chosen.format_reward, [0.0, 0.0, 0.0, -1.0])
    np.testing.assert_array_equal(p.chosen.reward, [1.4, 1.2, 0.0, -1.0])
    np.testing.assert_array_equal(p.rejected.reward, [1.4, 1.2, -1.5])
    np.testing.assert_array_equal(p.rejected.error_code, [0, 0, 1])
    assert np.isnan(p.chosen.score[3]) and p.chosen.score[0] == 8.0
    assert len(p.chosen) == 4 and p.chosen.mean == p.chosen_mean


def test_par_rewards_other_side_without_valid_score():
    p = patarm.par_rewards([judgement(9)], [judgement("x")], f=patarm.Constant())
    assert p.rejected_mean is None
    assert p.chosen.reward.tolist() == [0.0] and p.rejected.reward.tolist() == [-1.0]
    empty = patarm.par_rewards([judgement(9)], [])
    assert empty.chosen.reward.tolist() == [0.0] and empty.rejected.reward.shape == (0,)


def test_par_rewards_with_a_python_callable():
    calls = []

    def f(delta):
        calls.append(delta)
        return delta / 10

    # mean_c = 6, mean_r = 4: the chosen 9 earns f(5), the chosen 3 nothing, the rejected 4 f(2).
    p = patarm.par_rewards([judgement(9), judgement(3)], [judgement(4)], f=f)
    assert calls == [5.0, 2.0]  # only gaps > 0 reach f
    assert p.chosen.par.tolist() == [0.5, 0.0]
    assert p.rejected.par.tolist() == [0.2]


def test_par_rewards_callable_sees_rejected_gaps():
    seen = []
    patarm.par_rewards([judgement(9), judgement(3)], [judgement(4)], f=lambda d: seen.append(d) or 1.0)
    assert sorted(seen) == [2.0, 5.0]


def test_bad_f():
    with pytest.raises(TypeError, match="callable"):
        patarm.par_rewards([judgement(9)], [judgement(1)], f=3)
    with pytest.raises(ValueError, match="finite float"):
        patarm.par_rewards([judgement(9)], [judgement(1)], f=lambda d: float("nan"))
    with pytest.raises(ZeroDivisionError):
        patarm.par_rewards([judgement(9)], [judgement(1)], f=lambda d: 1 / 0)


def test_pair_rewards_pickle_and_repr():
    p = patarm.par_rewards([judgement(8)], [judgement(2), judgement(3)])
    again = pickle.loads(pickle.dumps(p))
    assert again.chosen.reward.tolist() == p.chosen.reward.tolist()
    assert again.rejected.score.tolist() == p.rejected.score.tolist()
    assert again.rejected_mean == p.rejected_mean
    assert repr(p) == "PairRewards(chosen: n=1 mean=8.0, rejected: n=2 mean=2.5)"


@settings(max_examples=300, deadline=None)
@given(
    chosen=st.lists(st.one_of(st.integers(0, 100), st.none()), max_size=8),
    rejected=st.lists(st.one_of(st.integers(0, 100), st.none()), max_size=8),
    constant=st.booleans(),
)
def test_par_rewards_matches_reference(chosen, rejected, constant):
    text = lambda s: judgement(s / 10) if s is not None else "broken"  # noqa: E731
    c, r = [text(s) for s in chosen], [text(s) for s in rejected]
    f, ref_f = (patarm.Constant(1.3), lambda d: 1.3) if constant else (patarm.Graded(), ref.graded)
    p = patarm.par_rewards(c, r, f=f)
    expected = ref.score_batch(c + r, [0] * len(c + r), ["chosen"] * len(c) + ["rejected"] * len(r), f=ref_f)
    assert p.chosen.reward.tolist() + p.rejected.reward.tolist() == expected["reward"]
    # PAR is never paid against the preference.
    for score, par in zip(p.chosen.score, p.chosen.par, strict=True):
        assert par == 0 or score > p.rejected_mean
    # A Python callable and the built-in shape agree.
    q = patarm.par_rewards(c, r, f=ref_f)
    assert q.chosen.reward.tolist() == p.chosen.reward.tolist()


# ---- compute_score --------------------------------------------------------------------------


def test_compute_score_pair_form():
    out = patarm.compute_score(
        "patarm/chat",
        {"chosen": [judgement(8), judgement("x")], "rejected": [judgement(5), "junk", judgement(7)]},
        ground_truth="chosen",
        extra_info={"pair_id": 1},
        unused_keyword=True,
    )
    assert out["score"] == [1.2, -1.0, 1.4, -1.5, 1.2]  # mean_r = 6, mean_c = 8
    assert out["par"] == [1.2, 0.0, 1.4, 0.0, 1.2]
    assert out["format_reward"] == [0.0, -1.0, 0.0, -1.5, 0.0]
    assert out["judge_score"][0] == 8.0 and math.isnan(out["judge_score"][1])
    assert out["opposite_mean"] == [6.0, 6.0, 8.0, 8.0, 8.0]
    assert out["error"] == [None, "invalid_verdict", None, "missing_or_misordered_tags", None]
    assert all(len(v) == 5 for v in out.values())


def test_compute_score_accepts_f():
    pair = {"chosen": [judgement(9)], "rejected": [judgement(1)]}
    assert patarm.compute_score("s", pair, f=patarm.Constant(1.3))["score"] == [1.3, 1.3]
    assert patarm.compute_score("s", pair, f=lambda d: d)["score"] == [8.0, 8.0]


def test_compute_score_no_valid_opposite_gives_nan_mean():
    out = patarm.compute_score("s", {"chosen": [judgement(9)], "rejected": ["junk"]})
    assert math.isnan(out["opposite_mean"][0]) and out["opposite_mean"][1] == 9.0


@pytest.mark.parametrize("solution", ["<think>", {"chosen": ["x"]}, {"chosen": "x", "rejected": []}, ["a", "b"]])
def test_compute_score_bad_solution_str(solution):
    with pytest.raises(TypeError, match="chosen"):
        patarm.compute_score("s", solution)


def test_float32_safe_snaps_to_multiples_of_2_pow_minus_10():
    import numpy as np

    snapped = patarm.float32_safe([1.2, 1.4, 1.3, -1.5, -1.0, 0.0, 2.5])
    assert snapped.tolist() == [1.2001953125, 1.400390625, 1.2998046875, -1.5, -1.0, 0.0, 2.5]
    assert np.all(snapped * 1024 == np.round(snapped * 1024))
    # every partial sum of 8 copies is exact in float32, so the group mean is the value itself
    group = np.full(8, snapped[1], dtype=np.float32)
    assert float(group.mean()) == snapped[1] and float(group.std()) == 0.0
