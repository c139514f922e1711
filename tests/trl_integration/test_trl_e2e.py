"""End to end: a real GRPO run in TRL, on the CPU, with the PaTaRM reward.

A tiny random Qwen2 model (real Qwen vocabulary, ChatML template) trains for 4 GRPO steps on
4 preference pairs built with patarm.build_messages. A random model writes garbage, so every
judgement it writes is malformed; to exercise the preference-aware reward too, the test's
trainer replaces the first completion of some judge prompts with known judgements (a valid
score, or an invalid verdict) before they are scored and trained on.

Everything asserted comes from the trainer's own logs (``state.log_history`` and the completions
tables written with ``log_completions=True``) and from the batches the reward function saw.
"""

from __future__ import annotations

import glob
import math
import os

import numpy as np
import pytest
from cpu_grpo import cpu_grpo_config
from reference import plain_score_batch

import patarm
from frameworks import require
from patarm.trl import PatarmReward

NUM_GENERATIONS = 2
PAIRS = 4
STEPS = 4
# A compact judge template keeps prompts short: on the CPU, TRL scores every prompt position against
# the whole 151k-token vocabulary, so the cost grows with the prompt length.
TEMPLATE = "{rubrics}\n<prompt>{prompt}</prompt>\n<response>{response}</response>\nJudge the response."

KNOWN = {
    # marker in the judged response -> the judgement injected as that prompt's first completion
    "pair-0 chosen": "<think>t</think><generate_rubrics>r</generate_rubrics><eval>e</eval><answer>9</answer>",
    "pair-0 rejected": "<think>t</think><generate_rubrics>r</generate_rubrics><eval>e</eval><answer>2</answer>",
    "pair-1 chosen": "<think>t</think><generate_rubrics>r</generate_rubrics><eval>e</eval><answer>9</answer>",
    "pair-1 rejected": "<think>t</think><generate_rubrics>r</generate_rubrics><eval>e</eval><answer>eleven</answer>",
}


def preference_rows():
    """Pair k = rows 2k (chosen) and 2k+1 (rejected), as `patarm prepare` lays them out."""
    rows = []
    for k in range(PAIRS):
        question = f"What is {k} + {k}?"
        for side, answer in (("chosen", f"{2 * k}"), ("rejected", f"{2 * k + 1}")):
            rows.append(
                {
                    "prompt": patarm.build_messages(
                        question, f"The answer is {answer}. (pair-{k} {side})", domain="chat", template=TEMPLATE
                    ),
                    "pair_id": f"pair-{k}",
                    "side": side,
                    "data_source": "patarm/chat",
                }
            )
    return rows


class RecordingReward(PatarmReward):
    """PatarmReward that keeps every batch it scored (texts, pair columns, rewards)."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.batches = []

    def __call__(self, prompts=None, completions=None, **columns):
        rewards = super().__call__(prompts=prompts, completions=completions, **columns)
        texts = [patarm.trl.completion_text(c) for c in completions]
        self.batches.append(
            {"texts": texts, "pair_id": list(columns["pair_id"]), "side": list(columns["side"]), "reward": rewards}
        )
        return rewards


def injecting_trainer(base, tokenizer):
    class InjectingTrainer(base):
        """Replaces the first completion of the marked judge prompts by a known judgement."""

        injected = 0

        def _generate_single_turn(self, prompt_ids, *args, **kwargs):
            completion_ids, logprobs = super()._generate_single_turn(prompt_ids, *args, **kwargs)
            done = set()
            for i, ids in enumerate(prompt_ids):
                text = tokenizer.decode(ids)
                for marker, judgement in KNOWN.items():
                    if marker in text and (marker, tuple(ids)) not in done:
                        done.add((marker, tuple(ids)))
                        completion_ids[i] = tokenizer.encode(judgement, add_special_tokens=False) + [
                            tokenizer.eos_token_id
                        ]
                        type(self).injected += 1
            return completion_ids, logprobs

    return InjectingTrainer


@pytest.fixture
def trained(tmp_path, qwen_fast_tokenizer, tiny_qwen2):
    require("trl")
    datasets = require("datasets")
    from patarm.trl import PairGRPOTrainer

    reward = RecordingReward()
    args = cpu_grpo_config(
        tmp_path,
        max_steps=STEPS,
        num_generations=NUM_GENERATIONS,
        per_device_train_batch_size=2,  # x 2 accumulation steps = 4 completions = 1 whole pair per generation
        gradient_accumulation_steps=2,
        max_completion_length=12,
    )
    trainer = injecting_trainer(PairGRPOTrainer, qwen_fast_tokenizer)(
        model=tiny_qwen2,
        reward_funcs=[reward],
        args=args,
        train_dataset=datasets.Dataset.from_list(preference_rows()),
        processing_class=qwen_fast_tokenizer,
    )
    trainer.train()
    return trainer, reward, tmp_path


def test_grpo_run_with_patarm_reward(trained):
    trainer, reward, output_dir = trained
    steps = [entry for entry in trainer.state.log_history if "rewards/patarm/mean" in entry]
    assert [entry["step"] for entry in steps] == list(range(1, STEPS + 1))
    assert len(reward.batches) == STEPS  # one generation batch per optimiser step (2 accumulation steps)
    assert type(trainer).injected > 0

    for entry, batch in zip(steps, reward.batches, strict=True):
        # The patarm rewards reached the trainer: present, finite, and equal to what the function returned.
        for key in (
            "rewards/patarm/mean",
            "patarm/format_error_rate",
            "patarm/par_hit_rate",
            "patarm/partner_missing",
            "loss",
            "grad_norm",
        ):
            assert key in entry and math.isfinite(entry[key]), (key, entry)
        assert entry["rewards/patarm/mean"] == pytest.approx(np.mean(batch["reward"]), abs=1e-5)

        # Pairs were whole: each pair in the batch has num_generations judgements of each side.
        assert entry["patarm/partner_missing"] == 0
        keys = list(zip(batch["pair_id"], batch["side"], strict=True))
        for pair_id in set(batch["pair_id"]):
            assert keys.count((pair_id, "chosen")) == keys.count((pair_id, "rejected")) == NUM_GENERATIONS

        # The rewards are PaTaRM's, float32-safe: recompute from the texts the trainer generated.
        expected = patarm.score_batch(batch["texts"], batch["pair_id"], batch["side"], float32_safe=True)
        np.testing.assert_array_equal(batch["reward"], expected["reward"])
        independent = plain_score_batch(batch["texts"], batch["pair_id"], batch["side"])
        np.testing.assert_array_equal(batch["reward"], patarm.float32_safe(independent["reward"]))
        parsed = patarm.parse_judgements(batch["texts"])
        assert entry["patarm/format_error_rate"] == pytest.approx(np.mean(parsed["error_code"] != 0))
        for i, text in enumerate(batch["texts"]):
            if text not in KNOWN.values():
                # The random model's own judgements are malformed and get exactly the format penalty.
                assert parsed["error_code"][i] != 0, text
                assert batch["reward"][i] == pytest.approx(float(parsed["format_reward"][i]))
                assert batch["reward"][i] < 0

    assert reward.partner_missing_total == 0

    # The known judgements, wherever they landed.
    by_key = {}
    for batch in reward.batches:
        for text, pair_id, side, value in zip(
            batch["texts"], batch["pair_id"], batch["side"], batch["reward"], strict=True
        ):
            by_key.setdefault((pair_id, side, text in KNOWN.values()), set()).add(round(value, 6))
    assert by_key[("pair-0", "chosen", True)] == {1.400391}  # 9 vs rejected mean 2: gap 7 -> graded 1.4, snapped
    assert by_key[("pair-0", "rejected", True)] == {1.400391}
    assert by_key[("pair-1", "chosen", True)] == {0.0}  # the rejected side has no valid score: no PAR
    assert by_key[("pair-1", "rejected", True)] == {-1.0}  # invalid verdict
    assert max(entry["patarm/par_hit_rate"] for entry in steps) > 0
    assert any(entry.get("patarm/score/chosen") == pytest.approx(9.0) for entry in steps)

    # TRL's completions table (log_completions=True) shows the same rewards and patarm's columns,
    # and the advantages computed from them are finite and not all zero: the reward drove the loss.
    tables = sorted(glob.glob(os.path.join(output_dir, "completions", "completions_*.parquet")))
    assert len(tables) == STEPS
    pandas = require("pandas")
    for path, batch in zip(tables, reward.batches, strict=True):
        table = pandas.read_parquet(path)
        np.testing.assert_allclose(table["patarm"].to_numpy(), batch["reward"], rtol=1e-6)
        assert list(table["patarm_pair_id"]) == batch["pair_id"]
        assert set(table["patarm_error"].dropna()) <= {"missing_or_misordered_tags", "invalid_verdict"}
        assert np.isfinite(table["advantage"].to_numpy()).all()
    advantages = np.concatenate([pandas.read_parquet(p)["advantage"].to_numpy() for p in tables])
    assert np.abs(advantages).max() > 0


def test_settings_that_split_pairs_are_rejected(tmp_path, qwen_fast_tokenizer, tiny_qwen2):
    require("trl")
    datasets = require("datasets")
    from trl import GRPOConfig

    from patarm.trl import PairGRPOTrainer

    rows = preference_rows()
    common = dict(output_dir=str(tmp_path), use_cpu=True, bf16=False, report_to="none", num_generations=2, max_steps=1)
    with pytest.raises(ValueError, match="each process scores 6 completions.*per_device_train_batch_size=4"):
        PairGRPOTrainer(
            model=tiny_qwen2,
            reward_funcs=[PatarmReward()],
            args=GRPOConfig(per_device_train_batch_size=6, **common),
            train_dataset=datasets.Dataset.from_list(rows),
            processing_class=qwen_fast_tokenizer,
        )
    shuffled = [rows[i] for i in (0, 2, 1, 3, 4, 5, 6, 7)]
    with pytest.raises(ValueError, match="rows 0 and 1 of train_dataset are not the two sides of one pair"):
        PairGRPOTrainer(
            model=tiny_qwen2,
            reward_funcs=[PatarmReward()],
            args=GRPOConfig(per_device_train_batch_size=4, **common),
            train_dataset=datasets.Dataset.from_list(shuffled),
            processing_class=qwen_fast_tokenizer,
        )
    with pytest.raises(ValueError, match="remove_unused_columns"):
        PairGRPOTrainer(
            model=tiny_qwen2,
            reward_funcs=[PatarmReward()],
            args=GRPOConfig(per_device_train_batch_size=4, remove_unused_columns=True, **common),
            train_dataset=datasets.Dataset.from_list(rows),
            processing_class=qwen_fast_tokenizer,
        )
