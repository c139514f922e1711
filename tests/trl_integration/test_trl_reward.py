"""patarm.trl.PatarmReward: the docs/method.md §4 reward as TRL calls it (no trl import needed)."""

from __future__ import annotations

import logging
import math
import pickle
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from reference import plain_score_batch

import patarm
from patarm.trl import PatarmReward, completion_text, completion_texts


def judgement(verdict: str, rubrics: int = 1) -> str:
    blocks = "".join(f"<generate_rubrics>extra rubric {i}</generate_rubrics>" for i in range(rubrics))
    return f"<think>reasoning</think>{blocks}<eval>how the rubrics apply</eval><answer>{verdict}</answer>"


MALFORMED = "The response is good. Score: 8"  # no tags at all
BAD_VERDICT = judgement("eleven")


class MetricLog:
    def __init__(self):
        self.metrics = {}
        self.extra = {}

    def log_metric(self, name, value):
        self.metrics.setdefault(name, []).append(value)

    def log_extra(self, name, values):
        self.extra.setdefault(name, []).extend(values)


def snapped(values):
    """What TRL receives: the rewards rounded to multiples of 2^-10 (docs/method.md §4)."""
    return patarm.float32_safe(values).tolist()


def call(reward, texts, pair_ids, sides, sources=None, log=None, conversational=True):
    completions = [[{"role": "assistant", "content": t}] for t in texts] if conversational else list(texts)
    columns = {"pair_id": list(pair_ids), "side": list(sides)}
    if sources is not None:
        columns["data_source"] = list(sources)
    log = log or MetricLog()
    return reward(
        prompts=[[{"role": "user", "content": "judge"}]] * len(texts),
        completions=completions,
        completion_ids=[[0]] * len(texts),
        trainer_state=None,
        log_metric=log.log_metric,
        log_extra=log.log_extra,
        **columns,
    )


def test_known_pair_gets_method_rewards_and_metrics():
    # chosen: 8 and a malformed one; rejected: 3 and an invalid verdict. mean_c = 8, mean_r = 3.
    texts = [judgement("8"), MALFORMED, judgement("3"), BAD_VERDICT]
    log = MetricLog()
    rewards = call(PatarmReward(), texts, ["p"] * 4, ["chosen", "chosen", "rejected", "rejected"], log=log)
    # gap 5 > 2 -> graded f = 1.4 on both valid sides; format errors get their penalty and no PAR.
    assert rewards == snapped([1.4, -1.5, 1.4, -1.0])  # float32-safe: multiples of 2^-10
    metrics = {k: v[0] for k, v in log.metrics.items()}
    assert metrics == pytest.approx(
        {
            "patarm/format_error_rate": 0.5,
            "patarm/par_hit_rate": 0.5,
            "patarm/partner_missing": 0.0,
            "patarm/score/chosen": 8.0,
            "patarm/score/rejected": 3.0,
        }
    )
    assert log.extra["patarm_error"] == [None, "missing_or_misordered_tags", None, "invalid_verdict"]
    assert log.extra["patarm_side"] == ["chosen", "chosen", "rejected", "rejected"]
    assert log.extra["patarm_par"] == pytest.approx([1.4, 0.0, 1.4, 0.0])


def test_graded_small_gap_and_constant_f():
    texts = [judgement("6"), judgement("5")]
    assert call(PatarmReward(), texts, [1, 1], ["chosen", "rejected"]) == snapped([1.2, 1.2])
    assert call(PatarmReward(f=patarm.Constant(1.3)), texts, [1, 1], ["chosen", "rejected"]) == snapped([1.3, 1.3])
    exact = PatarmReward(float32_safe=False)
    assert call(exact, texts, [1, 1], ["chosen", "rejected"]) == [1.2, 1.2]
    # A wrong-way judgement earns no PAR: the chosen side scored below the rejected mean.
    assert call(PatarmReward(), [judgement("2"), judgement("7")], [1, 1], ["chosen", "rejected"]) == [0.0, 0.0]


def test_pairs_are_found_by_source_and_id_not_position():
    texts = [judgement("9"), judgement("1"), judgement("9"), judgement("1")]
    sides = ["chosen", "rejected", "rejected", "chosen"]
    same_source = call(PatarmReward(), texts, ["x"] * 4, sides, sources=["s"] * 4)
    # One pair: mean_c = (9 + 1) / 2 = 5, mean_r = 5; only the 9 (chosen) and the 1 (rejected) beat it.
    assert same_source == snapped([1.4, 1.4, 0.0, 0.0])
    split_sources = call(PatarmReward(), texts, ["x"] * 4, sides, sources=["a", "a", "b", "b"])
    # Two pairs: (a: chosen 9 vs rejected 1), (b: rejected 9 vs chosen 1 -> wrong way, no PAR).
    assert split_sources == snapped([1.4, 1.4, 0.0, 0.0])
    assert call(PatarmReward(), texts, ["x", "x", "y", "y"], sides) == snapped([1.4, 1.4, 0.0, 0.0])


def test_missing_partner_follows_the_rule_and_is_counted(caplog):
    reward = PatarmReward()
    log = MetricLog()
    texts = [judgement("9"), judgement("9"), judgement("7"), judgement("2")]
    with caplog.at_level(logging.WARNING, logger="patarm.trl"):
        rewards = call(
            reward, texts, ["lonely", "lonely", "p", "p"], ["chosen", "chosen", "chosen", "rejected"], log=log
        )
    assert rewards == snapped([0.0, 0.0, 1.4, 1.4])
    assert log.metrics["patarm/partner_missing"] == [2.0]
    assert reward.partner_missing_total == 2
    assert "no partner side" in caplog.text and "PairGRPOTrainer" in caplog.text
    call(reward, texts[:1], ["lonely"], ["rejected"])
    assert reward.partner_missing_total == 3


def test_pairwise_variant():
    texts = [judgement("A"), judgement("B"), judgement("7"), MALFORMED]
    log = MetricLog()
    rewards = call(PatarmReward(pairwise=True), texts, [1, 2, 3, 4], ["A", "A", "B", "B"], log=log)
    assert rewards == pytest.approx([1.0, 0.0, -1.0, -1.5])
    assert log.metrics["patarm/par_hit_rate"] == [0.25]
    assert "patarm/score/chosen" not in log.metrics
    # The verdict rewards are configurable (docs/method.md §5).
    configured = PatarmReward(pairwise=True, correct_reward=2.0, wrong_reward=-0.5)
    log = MetricLog()
    assert call(configured, texts, [1, 2, 3, 4], ["A", "A", "B", "B"], log=log) == pytest.approx(
        [2.0, -0.5, -1.0, -1.5]
    )
    assert log.metrics["patarm/par_hit_rate"] == [0.25]


def test_completion_forms():
    text = judgement("5")
    assert completion_text(text) == text
    assert completion_text([{"role": "assistant", "content": text}]) == text
    assert completion_text({"role": "assistant", "content": text}) == text
    parsed = [{"role": "assistant", "reasoning_content": "why", "content": text[len("<think>reasoning</think>") :]}]
    assert patarm.parse_judgement(completion_text(parsed)).score == 5.0
    blocks = [{"role": "assistant", "content": [{"type": "text", "text": text}]}]
    assert completion_text(blocks) == text
    with pytest.raises(TypeError, match="string or a list of chat messages"):
        completion_text(42)
    # The batch form's fast path gives the same texts for every form.
    forms = [
        text,
        [{"role": "assistant", "content": text}],
        parsed,
        blocks,
        {"role": "assistant", "content": text},
        [{"content": "x", "reasoning_content": "y"}],
        [{"role": "assistant", "content": None}],
    ]
    assert completion_texts(forms) == [completion_text(form) for form in forms]
    # Plain-text (non-conversational) completions work the same.
    rewards = call(
        PatarmReward(), [judgement("9"), judgement("1")], [0, 0], ["chosen", "rejected"], conversational=False
    )
    assert rewards == snapped([1.4, 1.4])


def test_columns_may_sit_in_extra_info():
    reward = PatarmReward()
    rewards = reward(
        prompts=["q", "q"],
        completions=[judgement("9"), judgement("1")],
        extra_info=[{"pair_id": 3, "side": "chosen"}, {"pair_id": 3, "side": "rejected"}],
        data_source=["patarm/chat"] * 2,
    )
    assert rewards == snapped([1.4, 1.4])


def test_caller_mistakes_raise_clear_errors():
    reward = PatarmReward()
    with pytest.raises(ValueError, match="needs a `pair_id` dataset column.*remove_unused_columns"):
        reward(prompts=["q"], completions=["x"], side=["chosen"])
    with pytest.raises(ValueError, match="`side` column has 1 values for 2 completions"):
        reward(prompts=["q"] * 2, completions=["x", "y"], pair_id=[1, 1], side=["chosen"])
    with pytest.raises(ValueError):
        reward(prompts=["q"], completions=["x"], pair_id=[1], side=["best"])
    with pytest.raises(TypeError, match="f must be"):
        PatarmReward(f="graded")
    with pytest.raises(TypeError, match="needs `completions`"):
        reward(prompts=["q"])


def test_reward_pickles_and_has_a_name():
    reward = PatarmReward(f=patarm.Constant(1.3), name="judge")
    clone = pickle.loads(pickle.dumps(reward))
    assert clone.__name__ == "judge" and "Constant" in repr(clone) and "pointwise" in repr(clone)
    texts = [judgement("9"), judgement("1")]
    assert call(clone, texts, [0, 0], ["chosen", "rejected"]) == call(reward, texts, [0, 0], ["chosen", "rejected"])


def test_importing_patarm_trl_does_not_import_frameworks():
    code = (
        "import sys, patarm, patarm.trl\n"
        "heavy = [m for m in ('trl', 'torch', 'transformers', 'datasets', 'accelerate') if m in sys.modules]\n"
        "assert not heavy, heavy\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


VERDICTS = ["0", "1", "2.5", "3", "5", "6.5", "8", "9.5", "10", "11", "-1", "x", ""]


@st.composite
def batches(draw):
    """Random batches: a few pairs, uneven sides (sometimes a side absent), judgements of all kinds."""
    pairs = draw(st.integers(1, 5))
    rows = []
    for pair in range(pairs):
        for side in ("chosen", "rejected"):
            for _ in range(draw(st.integers(0, 4))):
                kind = draw(st.sampled_from(["ok", "ok", "ok", "tags", "verdict"]))
                verdict = draw(st.sampled_from(VERDICTS[:9]))
                text = {"ok": judgement(verdict), "tags": MALFORMED, "verdict": BAD_VERDICT}[kind]
                rows.append((text, f"p{pair}", side))
    return rows


@settings(max_examples=60, deadline=None)
@given(batches(), st.randoms(use_true_random=False))
def test_matches_plain_python_rules_in_any_row_order(rows, rng):
    if not rows:
        return
    texts, pair_ids, sides = map(list, zip(*rows, strict=True))
    expected = plain_score_batch(texts, pair_ids, sides)["reward"]
    rewards = np.array(call(PatarmReward(), texts, pair_ids, sides))
    np.testing.assert_array_equal(rewards, patarm.float32_safe(expected))
    order = list(range(len(rows)))
    rng.shuffle(order)
    shuffled = np.array(
        call(PatarmReward(), [texts[i] for i in order], [pair_ids[i] for i in order], [sides[i] for i in order])
    )
    np.testing.assert_allclose(shuffled, rewards[order])
    assert all(math.isfinite(r) for r in rewards)
