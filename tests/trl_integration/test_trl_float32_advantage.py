"""Float32-safe rewards in TRL 1.16's own GRPO advantage computation (docs/method.md §4).

A real ``PairGRPOTrainer`` step on the CPU (tiny random Qwen2, real Qwen vocabulary) with 8
generations per prompt. The test's trainer replaces every completion of the chosen prompt by
a judgement scoring 9 and every completion of the rejected prompt by one scoring 2, so each
group of 8 holds identical patarm rewards (gap 7: graded 1.4). TRL normalises each group in
float32 inside ``_generate_and_score_completions``; the advantages it computed are read back
from its completions table (``log_completions=True``). Snapped rewards (the default) must get
advantage exactly 0; the same step with ``float32_safe=False`` shows why: 8 x 1.4 in float32
has a mean one unit off, so every completion gets a non-zero advantage.
"""

from __future__ import annotations

import glob
import os

import numpy as np
from cpu_grpo import cpu_grpo_config

import patarm
from frameworks import require
from patarm.trl import PatarmReward

GENERATIONS = 8
JUDGEMENTS = {
    "(chosen)": "<think>t</think><generate_rubrics>r</generate_rubrics><eval>e</eval><answer>9</answer>",
    "(rejected)": "<think>t</think><generate_rubrics>r</generate_rubrics><eval>e</eval><answer>2</answer>",
}
TEMPLATE = "{rubrics}\n<prompt>{prompt}</prompt>\n<response>{response}</response>\nJudge."


def rows():
    return [
        {
            "prompt": patarm.build_messages(
                "What is 1 + 1?", f"It is {answer}. ({side})", domain="chat", template=TEMPLATE
            ),
            "pair_id": "pair-0",
            "side": side,
            "data_source": "patarm/chat",
        }
        for side, answer in (("chosen", "2"), ("rejected", "3"))
    ]


def identical_judgements_trainer(base, tokenizer):
    class IdenticalJudgements(base):
        """Every completion of a prompt becomes the same known judgement."""

        def _generate_single_turn(self, prompt_ids, *args, **kwargs):
            completion_ids, logprobs = super()._generate_single_turn(prompt_ids, *args, **kwargs)
            for i, ids in enumerate(prompt_ids):
                text = tokenizer.decode(ids)
                for marker, judgement in JUDGEMENTS.items():
                    if marker in text:
                        completion_ids[i] = tokenizer.encode(judgement, add_special_tokens=False) + [
                            tokenizer.eos_token_id
                        ]
            return completion_ids, logprobs

    return IdenticalJudgements


def advantages_of_one_step(tmp_path, tokenizer, model, float32_safe):
    require("trl")
    datasets = require("datasets")
    pandas = require("pandas")
    from patarm.trl import PairGRPOTrainer

    args = cpu_grpo_config(
        tmp_path,
        max_steps=1,
        num_generations=GENERATIONS,
        per_device_train_batch_size=GENERATIONS,  # x 2 accumulation steps: one whole pair per generation
        gradient_accumulation_steps=2,
        max_completion_length=4,
    )
    trainer = identical_judgements_trainer(PairGRPOTrainer, tokenizer)(
        model=model,
        reward_funcs=[PatarmReward(float32_safe=float32_safe)],
        args=args,
        train_dataset=datasets.Dataset.from_list(rows()),
        processing_class=tokenizer,
    )
    trainer.train()
    (table,) = sorted(glob.glob(os.path.join(tmp_path, "completions", "completions_*.parquet")))
    frame = pandas.read_parquet(table)
    return frame["patarm"].to_numpy(), frame["advantage"].to_numpy()


def test_identical_snapped_rewards_get_advantage_exactly_zero(tmp_path, qwen_fast_tokenizer, tiny_qwen2):
    rewards, advantages = advantages_of_one_step(tmp_path, qwen_fast_tokenizer, tiny_qwen2, float32_safe=True)
    assert len(rewards) == 2 * GENERATIONS
    np.testing.assert_array_equal(rewards, patarm.float32_safe(1.4))  # 1.400390625 for every completion
    np.testing.assert_array_equal(advantages, 0.0)


def test_unsnapped_rewards_pick_up_a_rounding_advantage(tmp_path, qwen_fast_tokenizer, tiny_qwen2):
    rewards, advantages = advantages_of_one_step(tmp_path, qwen_fast_tokenizer, tiny_qwen2, float32_safe=False)
    np.testing.assert_allclose(rewards, 1.4, rtol=1e-7)
    assert np.all(advantages != 0.0)  # TRL: (1.4f - mean) / (std + 1e-4), about 0.0012 for every completion
