"""Served-judge rewards in verl 0.9.1's own GRPO advantage, on a group with invalid judgements.

Eight rollouts of one prompt, each judged 4 times by the loopback judge server: scores 7, 8, 7
and one malformed judgement, so every mean is 22/3, no binary fraction.
``patarm.verl.reward_model.compute_score`` (float32-safe) must give the group advantage exactly
0 in ``verl.trainer.ppo.core_algos.compute_grpo_outcome_advantage``; the unsnapped mean (what it
returned before) does not.
"""

from __future__ import annotations

import asyncio

import numpy as np

from chat_server import ChatServer, judgement
from frameworks import require

ROLLOUTS = 8
MALFORMED = "<answer>7</answer> without the other blocks"


def grpo_advantages(rewards):
    torch = require("torch")
    core_algos = require("verl.trainer.ppo.core_algos")
    mask = torch.ones(len(rewards), 3, dtype=torch.float32)
    token_level_rewards = torch.zeros(len(rewards), 3, dtype=torch.float32)
    token_level_rewards[:, -1] = torch.tensor(rewards, dtype=torch.float32)
    index = np.array(["prompt-0"] * len(rewards), dtype=object)
    advantages, _ = core_algos.compute_grpo_outcome_advantage(token_level_rewards, mask, index)
    return advantages[:, -1].numpy()


def test_judge_rewards_with_invalid_judgements_get_advantage_exactly_zero():
    require("verl")
    from patarm.verl.reward_model import compute_score

    rules = [{"match": "", "judgements": [judgement(7), judgement(8), MALFORMED, judgement(7)]}]
    with ChatServer(rules) as server:

        async def group():
            calls = [
                compute_score(
                    "d", "same", extra_info={"prompt": "Q"}, reward_router_address=server.address, model="m", n=4
                )
                for _ in range(ROLLOUTS)
            ]
            return await asyncio.gather(*calls)

        results = asyncio.run(group())
    assert {r["judge_valid"] for r in results} == {3.0}
    rewards = [r["score"] for r in results]
    assert rewards == [7509 / 1024] * ROLLOUTS  # 22/3 snapped to a multiple of 2^-10
    np.testing.assert_array_equal(grpo_advantages(rewards), 0.0)
    unsnapped = grpo_advantages([r["judge_score"] for r in results])  # the raw mean 22/3
    assert np.all(unsnapped != 0.0)
