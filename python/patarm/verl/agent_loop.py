"""PAR on verl 0.9's reward loop, through a custom agent-loop manager (no patch to verl).

Set ``actor_rollout_ref.rollout.agent.agent_loop_manager_class=patarm.verl.agent_loop.PairAgentLoopManager``.
verl's trainer calls ``PairAgentLoopManager.create(config=..., llm_client=..., teacher_client=...,
reward_loop_worker_handles=...)``; ``create`` returns the variant for the running trainer:

- the v1 trainer (``trainer.use_v1=True``, verl 0.9's default: TransferQueue):
  ``patarm.verl.agent_loop_tq.PairAgentLoopManagerTQ``;
- the legacy trainer (``trainer.use_v1=False``) and one-step-off policy (DataProto API): this class.

Both split each batch among the agent-loop workers themselves: rows are grouped by (data
source, pair id), each worker gets whole pairs, balanced by rollout count, and the output comes
back in verl's row order. So both sides of every pair in a batch are generated on one worker,
whatever the row order, batch size or worker count, for training and validation. The worker
holds a pair's rollouts until all have arrived, scores them together (``PairWorkerMixin``) and
sets the true PAR reward, float32-safe, before verl's per-rollout scoring would run.

Per step, ``patarm/partner_missing`` (rollouts scored without a partner in the batch) and
``patarm/partner_timeout`` reach verl's training metrics: on the legacy trainer through the
generation timing dict (logged as ``timing_s/patarm/...``), on the v1 trainer through
``patarm.verl.replay_buffer.PairReplayBuffer`` (``training/patarm/...``).
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from typing import Any

import numpy as np
import ray
from verl import DataProto
from verl.experimental.agent_loop import AgentLoopManager, AgentLoopWorker
from verl.utils.ray_utils import auto_await
from verl.utils.skip import SkipManager

from .pair_worker import PairWorkerMixin, identity_columns, pair_split_key, reward_fn_key_of
from .pairing import pair_counters, plan_worker_chunks
from .setup_checks import check_trainer_setup, check_verl_version, uses_transfer_queue, warn_about_silent_settings

logger = logging.getLogger(__name__)

#: Per-step metric names (legacy: inside verl's generation timing dict, logged as ``timing_s/<name>``).
METRIC_PARTNER_MISSING = "patarm/partner_missing"
METRIC_PARTNER_TIMEOUT = "patarm/partner_timeout"
METRIC_PAIR_ACCURACY = "patarm/pair_accuracy"


class PairAgentLoopWorker(PairWorkerMixin, AgentLoopWorker):
    """verl's agent-loop worker (DataProto API) with the pair rendezvous."""

    async def generate_sequences(self, batch: DataProto) -> DataProto:
        validate = batch.meta_info.get("validate", False)
        step = batch.meta_info.get("global_steps", -1)
        # The DataProto worker does not pass the step to each rollout; remember it for the pair keys.
        self._patarm_current_step = step
        names = identity_columns(reward_fn_key_of(self.config))
        columns = {key: batch.non_tensor_batch[key] for key in names if key in batch.non_tensor_batch}
        registered = [  # one row per rollout (verl repeated the prompts n times)
            self._patarm_expect({key: column[row] for key, column in columns.items()}, validate, step, count=1)
            for row in range(len(batch))
        ]
        self._patarm_new_dispatch(registered)
        return await self._patarm_dispatch(super().generate_sequences(batch))


def split_keys(non_tensor_batch: dict, size: int, reward_fn_key: str) -> list:
    """Each row's pair key for the split among workers (None: not a pointwise pair row)."""
    columns = {key: non_tensor_batch[key] for key in identity_columns(reward_fn_key) if key in non_tensor_batch}
    return [pair_split_key({key: column[row] for key, column in columns.items()}, reward_fn_key) for row in range(size)]


def validation_padding(batch: DataProto, n: int) -> np.ndarray:
    """Indices of the rows verl's legacy validation appended to make the batch divisible by the
    worker count (copies of the first rows, dropped again after generation): each prompt (uid)
    has exactly `n` rollouts, so its occurrences beyond the first `n` are padding."""
    uids = batch.non_tensor_batch.get("uid")
    if uids is None or not batch.meta_info.get("validate", False):
        return np.zeros(0, dtype=np.int64)
    seen: Counter = Counter()
    padding = []
    for row, uid in enumerate(uids.tolist()):
        seen[uid] += 1
        if seen[uid] > n:
            padding.append(row)
    return np.asarray(padding, dtype=np.int64)


def pair_metrics(output: DataProto) -> dict[str, float]:
    """This batch's pair counters (rollouts scored without a partner / after a timeout) and pair
    accuracy, from the reward extra info (``pair_counters``)."""
    columns = output.non_tensor_batch
    infos = [
        {key: columns[key][row] for key in ("partner_found", "partner_timeout", "pair_correct") if key in columns}
        for row in range(len(output))
    ]
    return pair_counters(infos, prefix="")


class PairAgentLoopManager(AgentLoopManager):
    """Agent-loop manager giving every PaTaRM rollout its true PAR reward (see module doc)."""

    def __init__(self, config: Any, *args: Any, **kwargs: Any) -> None:
        if not hasattr(self, "agent_loop_workers_class"):
            self.agent_loop_workers_class = ray.remote(PairAgentLoopWorker)
        super().__init__(config, *args, **kwargs)

    @classmethod
    @auto_await
    async def create(cls, *args: Any, **kwargs: Any) -> AgentLoopManager:
        config = kwargs.get("config", args[0] if args else None)
        check_verl_version("agent_loop")
        check_trainer_setup(config)
        warn_about_silent_settings(config)
        target = cls
        if cls is PairAgentLoopManager and uses_transfer_queue(config):
            from .agent_loop_tq import PairAgentLoopManagerTQ

            target = PairAgentLoopManagerTQ
        instance = target(*args, **kwargs)
        await instance._init_agent_loop_workers()
        return instance

    @auto_await
    @SkipManager.annotate(role="rollout")
    async def generate_sequences(self, prompts: DataProto) -> DataProto:
        """verl's ``AgentLoopManager.generate_sequences``, with the batch split by whole pairs
        instead of ``prompts.chunk``; the output is in ``prompts``' row order."""
        if "priority" not in prompts.non_tensor_batch:  # as verl does: one priority per row, before the split
            prompts.non_tensor_batch["priority"] = np.arange(len(prompts), dtype=np.int64)
        validate = prompts.meta_info.get("validate", False)
        rollout = self.rollout_config
        padding = validation_padding(prompts, int(rollout.val_kwargs.n if validate else rollout.n))
        real = np.setdiff1d(np.arange(len(prompts)), padding)
        keys = split_keys(prompts.non_tensor_batch, len(prompts), reward_fn_key_of(self.config))
        plan = plan_worker_chunks([keys[row] for row in real], [1] * len(real), len(self.agent_loop_workers))
        assignments = [
            (worker, real[rows]) for worker, rows in zip(self.agent_loop_workers, plan, strict=True) if len(rows)
        ]
        outputs = await asyncio.gather(
            *[worker.generate_sequences.remote(prompts.select_idxs(rows)) for worker, rows in assignments]
        )
        output = DataProto.concat(outputs)
        metrics = [out.meta_info.pop("metrics") for out in outputs]
        timing = self._performance_metrics(metrics, output)  # indexes the concatenated output

        # Back to verl's order; a padding row is filled with the output of the row it copies (same uid).
        position = np.empty(len(prompts), dtype=np.int64)
        position[np.concatenate([rows for _, rows in assignments])] = np.arange(len(output))
        if len(padding):
            first_of_uid: dict[Any, int] = {}
            for row in real.tolist():
                first_of_uid.setdefault(prompts.non_tensor_batch["uid"][row], row)
            for row in padding.tolist():
                position[row] = position[first_of_uid[prompts.non_tensor_batch["uid"][row]]]
        output = output.select_idxs(position)
        output.meta_info = {"timing": {**timing, **pair_metrics(output.select_idxs(real))}, **outputs[0].meta_info}
        return output
