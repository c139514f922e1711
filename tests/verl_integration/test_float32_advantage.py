"""Float32-safe rewards in verl 0.9.1's own GRPO advantage (docs/method.md §4).

verl's reward managers write each rollout's reward at its last response token of a float32
``token_level_rewards`` tensor; ``verl.trainer.ppo.core_algos.compute_grpo_outcome_advantage``
then normalises every prompt group (``torch.mean``/``torch.std`` in float32). The rewards
here are patarm's own for one pair judged 8 times per side (every chosen judgement 9, every
rejected one 2, so each group of 8 holds identical rewards), placed the way verl places them.
Snapped (``float32_safe=True``) they get advantage exactly 0; unsnapped they do not.
"""

from __future__ import annotations

import numpy as np
import pytest

import patarm
from frameworks import require

ROLLOUTS = 8
RESPONSE_LENGTH = 6


def judgement(score):
    return f"<think>t</think><generate_rubrics>r</generate_rubrics><eval>e</eval><answer>{score}</answer>"


def patarm_rewards(f, float32_safe):
    texts = [judgement(9)] * ROLLOUTS + [judgement(2)] * ROLLOUTS
    sides = ["chosen"] * ROLLOUTS + ["rejected"] * ROLLOUTS
    return patarm.score_batch(texts, ["pair-0"] * len(texts), sides, f=f, float32_safe=float32_safe)["reward"]


def verl_grpo_advantages(rewards):
    """verl's layout (reward at the last valid token, float32) and its GRPO advantage."""
    torch = require("torch")
    core_algos = require("verl.trainer.ppo.core_algos")
    rows = len(rewards)
    lengths = [RESPONSE_LENGTH - (i % 3) for i in range(rows)]  # uneven response lengths
    mask = torch.zeros(rows, RESPONSE_LENGTH, dtype=torch.float32)
    token_level_rewards = torch.zeros(rows, RESPONSE_LENGTH, dtype=torch.float32)
    for i, (length, reward) in enumerate(zip(lengths, rewards, strict=True)):
        mask[i, :length] = 1
        token_level_rewards[i, length - 1] = float(reward)
    # One uid per judge prompt: the 8 rollouts of the chosen side, the 8 of the rejected side.
    index = np.array(["chosen-prompt"] * ROLLOUTS + ["rejected-prompt"] * ROLLOUTS, dtype=object)
    advantages, _ = core_algos.compute_grpo_outcome_advantage(token_level_rewards, mask, index)
    return advantages[mask.bool()].numpy()


@pytest.mark.parametrize(
    "f, value", [(None, 1.4), (patarm.Constant(1.3), 1.3), (patarm.Graded((8.0,), (1.2, 1.4)), 1.2)]
)
def test_identical_snapped_rewards_get_advantage_exactly_zero(f, value):
    rewards = patarm_rewards(f, float32_safe=True)
    np.testing.assert_array_equal(rewards, patarm.float32_safe(value))
    np.testing.assert_array_equal(verl_grpo_advantages(rewards), 0.0)


@pytest.mark.parametrize("f, value", [(None, 1.4), (patarm.Constant(1.3), 1.3)])
def test_unsnapped_rewards_pick_up_a_rounding_advantage(f, value):
    rewards = patarm_rewards(f, float32_safe=False)
    np.testing.assert_array_equal(rewards, value)
    advantages = verl_grpo_advantages(rewards)
    assert np.all(advantages != 0.0)
    assert np.abs(advantages).max() > 0.05  # about 0.106 for every token: one float32 unit over a tiny std
