"""PaTaRM judge training in TRL's ``GRPOTrainer``.

Two pieces, used together::

    from patarm.trl import PairGRPOTrainer, PatarmReward

    trainer = PairGRPOTrainer(
        model=model,
        reward_funcs=[PatarmReward()],
        args=GRPOConfig(..., num_generations=8, per_device_train_batch_size=16),
        train_dataset=rows,          # pair k = rows 2k (chosen) and 2k+1 (rejected)
        processing_class=tokenizer,
    )

- :class:`PatarmReward` is a reward function for ``GRPOTrainer(reward_funcs=[...])``. TRL calls it
  once per generation batch of a process with every dataset column as a list; it reads
  ``pair_id``, ``side`` and (optionally) ``data_source``, groups each pair's judgements across the
  batch with :func:`patarm.score_batch` (Rust, GIL released) and returns the docs/method.md §4 total
  (PAR + format reward) per completion. Components go to TRL's metric hook.
- ``PairGRPOTrainer`` is a ``GRPOTrainer`` whose train/eval samplers keep each prompt's
  ``num_generations`` completions adjacent (as TRL's ``RepeatSampler`` does) *and* keep the
  chosen and rejected prompts of a pair in the same generation batch of the same process. At
  start-up it rejects settings and data layouts that would split pairs, with the fix.

For policy training with a served judge (the paper's downstream use), :class:`JudgeReward`
(:mod:`patarm.trl.judge_reward`) is an async reward function backed by :class:`patarm.Judge`.

Importing this module does not import trl, transformers or torch; ``PairGRPOTrainer`` is built
on first access.

The package: :mod:`patarm.trl.reward` (``PatarmReward``), :mod:`patarm.trl.sampler` (the pair
sampler and start-up checks), :mod:`patarm.trl.trainer` (``PairGRPOTrainer``),
:mod:`patarm.trl.judge_reward` (``JudgeReward``).
"""

from __future__ import annotations

from typing import Any

from .reward import PatarmReward, completion_text, completion_texts
from .sampler import PairRepeatSampler, check_pair_batching, check_pair_layout

__all__ = [
    "JudgeReward",  # noqa: F822 (imported on first access by the module __getattr__)
    "PairGRPOTrainer",  # noqa: F822 (built on first access by the module __getattr__)
    "PairRepeatSampler",
    "PatarmReward",
    "check_pair_batching",
    "check_pair_layout",
    "completion_text",
    "completion_texts",
]


def __getattr__(name: str) -> Any:
    if name == "JudgeReward":  # a served judge as the reward of policy training
        from .judge_reward import JudgeReward

        globals()[name] = JudgeReward
        return JudgeReward
    if name == "PairGRPOTrainer":
        from .trainer import _build_pair_grpo_trainer

        cls = _build_pair_grpo_trainer()
        globals()[name] = cls  # later lookups (and pickle) find the same class
        return cls
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
