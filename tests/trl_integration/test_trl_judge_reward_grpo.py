"""A served PaTaRM judge rewards policy training: TRL's real GRPOTrainer with
``patarm.trl.JudgeReward`` against a loopback judge server (issue 13).

A tiny random Qwen2 policy trains for a few steps on the CPU. The judge server answers every
request with the same n = 4 judgements (scores 7, 9 and 5 plus one malformed), so every
completion's reward is known exactly: the mean of the valid scores, 7, times ``scale``. The
assertions read TRL's own logs (``state.log_history``) and the requests the server received.
"""

from __future__ import annotations

import pytest
from cpu_grpo import cpu_grpo_config

from chat_server import ChatServer, judgement
from frameworks import require

STEPS = 3
NUM_GENERATIONS = 2
PROMPTS_PER_STEP = 2
N = 4
MALFORMED = "<answer>7</answer> without the other blocks"


def policy_rows():
    return [
        {
            "prompt": [{"role": "user", "content": f"Write the word {word} in lowercase."}],
            "domain": "instruction_following",
        }
        for word in ("apple", "river", "stone", "cloud", "maple", "ember")
    ]


@pytest.mark.parametrize("vote", ["mean", "majority"])
def test_grpo_policy_run_rewarded_by_a_served_judge(tmp_path, qwen_fast_tokenizer, tiny_qwen2, vote):
    require("trl")
    datasets = require("datasets")
    from trl import GRPOTrainer

    from patarm import Judge
    from patarm.trl import JudgeReward

    rules = [{"match": "", "judgements": [judgement(7), judgement(9), MALFORMED, judgement(5)]}]
    with ChatServer(rules) as server:
        reward = JudgeReward(Judge(server.url, "judge", n=N, backoff=0.01), vote=vote, scale=0.1)
        args = cpu_grpo_config(
            tmp_path,
            max_steps=STEPS,
            num_generations=NUM_GENERATIONS,
            per_device_train_batch_size=PROMPTS_PER_STEP * NUM_GENERATIONS,
            max_completion_length=8,
        )
        trainer = GRPOTrainer(
            model=tiny_qwen2,
            reward_funcs=[reward],
            args=args,
            train_dataset=datasets.Dataset.from_list(policy_rows()),
            processing_class=qwen_fast_tokenizer,
        )
        trainer.train()
        requests = list(server.requests)

    completions = STEPS * PROMPTS_PER_STEP * NUM_GENERATIONS
    assert len(requests) == completions and all(r["n"] == N for r in requests)
    # Every judge prompt is the pointwise PaTaRM prompt with the instruction_following rubrics.
    assert all("<rubrics>" in r["messages"][-1]["content"] for r in requests)
    steps = [entry for entry in trainer.state.log_history if "rewards/patarm_judge/mean" in entry]
    assert [entry["step"] for entry in steps] == list(range(1, STEPS + 1))
    for entry in steps:
        if vote == "mean":
            assert entry["rewards/patarm_judge/mean"] == pytest.approx(717 / 1024)  # 7 x 0.1, float32-safe
            assert entry["patarm_judge/judge_score"] == pytest.approx(7.0)
        else:
            # Every completion of a group got the same judgements: each round is a tie, a vote for nobody.
            assert entry["rewards/patarm_judge/mean"] == pytest.approx(0.0)
        assert entry["patarm_judge/valid_judgement_rate"] == pytest.approx(0.75)
        assert entry["patarm_judge/invalid/missing_or_misordered_tags"] == pytest.approx(0.25)
