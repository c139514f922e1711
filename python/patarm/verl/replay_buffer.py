"""Pair counters in the training metrics of verl 0.9's v1 trainer.

The v1 trainer logs the metrics its replay buffer returns with each sampled batch, and lets a
user name the buffer class (``trainer.v1.sampler.custom_sampler``). ``PairReplayBuffer`` is
verl's own sync ``ReplayBuffer`` plus, for each training batch, the number of rollouts scored
without their pair's other side (``training/patarm/partner_missing``), after a timeout
(``training/patarm/partner_timeout``) and the pair accuracy (``training/patarm/pair_accuracy``),
read from the rollouts' reward extra info::

    trainer.v1.sampler.custom_sampler.path=pkg://patarm.verl.replay_buffer
    trainer.v1.sampler.custom_sampler.name=PairReplayBuffer
"""

from __future__ import annotations

from typing import Any

import transfer_queue as tq
from verl.trainer.ppo.v1.replay_buffer import ReplayBuffer

from .pairing import pair_counters

METRIC_PARTNER_MISSING = "training/patarm/partner_missing"
METRIC_PARTNER_TIMEOUT = "training/patarm/partner_timeout"
METRIC_PAIR_ACCURACY = "training/patarm/pair_accuracy"


def partner_counts(extra_fields: list[Any]) -> dict[str, float]:
    """The pair counters and pair accuracy over the rollouts' ``extra_fields`` (rows without
    patarm info count 0)."""
    infos = [fields.get("reward_extra_info", {}) if isinstance(fields, dict) else {} for fields in extra_fields]
    return pair_counters(infos, prefix="training/")


class PairReplayBuffer(ReplayBuffer):
    """verl's sync replay buffer, adding patarm's pair counters to each training batch's metrics."""

    def sample(self, global_steps: int, partition_id: str, batch_size: int) -> tuple[Any, dict]:
        batch, metrics = super().sample(global_steps, partition_id, batch_size)
        if partition_id == "train" and batch.keys:
            data = tq.kv_batch_get(keys=batch.keys, partition_id=batch.partition_id, select_fields=["extra_fields"])
            extra_fields = data["extra_fields"]  # a NonTensorStack, or already a list
            rows = extra_fields.tolist() if hasattr(extra_fields, "tolist") else list(extra_fields)
            metrics = {**metrics, **partner_counts(rows)}
        return batch, metrics
