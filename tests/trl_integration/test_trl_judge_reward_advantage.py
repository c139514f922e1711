"""JudgeReward's rewards in TRL 1.16's GRPO advantage formula, on a group with invalid
judgements and a masked completion.

``GRPOTrainer._generate_and_score_completions`` (sum_then_normalize, scale_rewards="group"):
None -> NaN, nanmean and ``trl.trainer.utils.nanstd`` per group in float32, then
(reward - mean) / (std + 1e-4) and NaN advantages -> 0. The formula is restated here with TRL's
own ``nanstd``; the rewards come from JudgeReward against the loopback judge server.
"""

from __future__ import annotations

import asyncio

from chat_server import ChatServer, judgement
from frameworks import require

GENERATIONS = 8
MALFORMED = "<answer>7</answer> without the other blocks"


def trl_group_advantages(rewards):
    torch = require("torch")
    from trl.trainer.utils import nanstd

    values = torch.tensor([torch.nan if r is None else r for r in rewards], dtype=torch.float32)
    grouped = values.view(-1, GENERATIONS)
    mean = torch.nanmean(grouped, dim=1).repeat_interleave(GENERATIONS)
    std = nanstd(grouped, dim=1).repeat_interleave(GENERATIONS)
    return torch.nan_to_num((values - mean) / (std + 1e-4), nan=0.0).numpy()


def test_identical_judge_rewards_with_a_masked_completion_get_advantage_exactly_zero():
    require("trl")
    from patarm.trl import JudgeReward

    rules = [
        {"match": "BROKEN", "judgements": [MALFORMED]},
        {"match": "", "judgements": [judgement(7), judgement(8), MALFORMED, judgement(7)]},
    ]
    completions = ["same"] * (GENERATIONS - 1) + ["BROKEN"]
    with ChatServer(rules) as server:
        reward = JudgeReward(base_url=server.url, model="judge", n=4, backoff=0.01)
        rewards = asyncio.run(reward(prompts=["Q"] * GENERATIONS, completions=completions))
        raw = JudgeReward(base_url=server.url, model="judge", n=4, backoff=0.01)
        results = asyncio.run(raw.judge.ascore_many(["Q"] * GENERATIONS, completions))
    assert rewards == [7509 / 1024] * (GENERATIONS - 1) + [None]  # 22/3 snapped; no valid judgement: masked
    assert (trl_group_advantages(rewards) == 0.0).all()
    unsnapped = [None if r.num_valid == 0 else r.score for r in results]  # the raw means
    assert (trl_group_advantages(unsnapped)[:-1] != 0.0).all()
