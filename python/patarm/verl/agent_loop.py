"""PAR on verl >= 0.7.1: an agent-loop manager that rewrites the whole batch's rewards.

verl 0.9 scores each rollout alone, on a random reward worker, while other rollouts are still
generating (``AgentLoopWorker._compute_score``). A rollout cannot see its pair there. But every
rollout of a training step, and of a validation pass, comes back through
``AgentLoopManager.generate_sequences`` in one batch, in the order of the input rows. This
subclass (``actor_rollout_ref.rollout.agent.agent_loop_manager_class=
patarm.verl.agent_loop.PairAgentLoopManager``) takes that batch, joins it with the input rows'
pair identity (data source, ``extra_info.pair_id``, side), and replaces ``rm_scores`` with each
rollout's true PAR reward, computed by the same code as the batch interface
(`PairRewardManager.__call__`: decoding in Rust from the token ids, then `patarm.score_batch`).

Nothing waits for a partner: the batch is complete when the rewrite runs. A pair whose other
side is absent (a split batch, a dropped rollout) gets the METHOD fallback (PAR 0, so the
reward is the format reward), is logged, and is counted in ``timing_s/patarm/partner_missing``
(training) and ``val-aux/<source>/partner_found`` (validation).
"""
from __future__ import annotations

import inspect
import logging
import time
from typing import Any, Optional

import numpy as np

from verl import DataProto
from verl.experimental.agent_loop import AgentLoopManager
from verl.utils.ray_utils import auto_await

from .manager import EXTRA_KEYS, PairRewardManager, reward_at_last_token, valid_response_lengths
from ._rows import pair_rows

logger = logging.getLogger(__name__)

#: Keys added to the rollout's ``meta_info["timing"]``; verl logs them as ``timing_s/<key>``.
METRIC_PARTNER_MISSING = "patarm/partner_missing"
METRIC_ROWS = "patarm/rows"
METRIC_SECONDS = "patarm/par_seconds"


def padding_start(uids: Optional[np.ndarray], size: int) -> int:
    """Where verl's validation padding begins (``size`` when there is none).

    ``pad_dataproto_to_divisor`` appends copies of the first rows. Each prompt's rollouts are one
    contiguous run of a uid (``repeat(interleave=True)``), so a uid that comes back after its
    run ended marks the start of the copies; they are checked to be a copy of the head."""
    if uids is None:
        return size
    seen: set = set()
    previous = object()
    for row, uid in enumerate(uids.tolist()):
        if uid != previous and uid in seen:
            tail = uids[row:].tolist()
            return row if tail == uids[: len(tail)].tolist() else len(uids)
        seen.add(uid)
        previous = uid
    return len(uids)


def apply_par(manager: PairRewardManager, prompts: DataProto, output: DataProto) -> dict[str, float]:
    """Rewrites ``output``'s ``rm_scores`` and reward extra info with PAR. ``prompts`` is the
    batch given to ``generate_sequences``, aligned row for row with ``output``. Returns metrics."""
    started = time.perf_counter()
    size = len(output)
    if len(prompts) != size:
        raise ValueError(f"{len(prompts)} input rows but {size} rollouts; PAR needs them aligned row for row")
    end = padding_start(prompts.non_tensor_batch.get("uid"), size)
    rows = pair_rows(prompts.non_tensor_batch, end, manager.reward_fn_key)

    lengths = valid_response_lengths(output)
    texts = manager.decoder.decode_rows(output.batch["responses"][:end], lengths[:end])
    scores = manager.score_texts(texts, rows)
    extra = manager.extra_info(scores)
    rewards = scores["reward"]
    if end < size:  # validation padding: copies of the first rows, scored as their originals
        copies = np.arange(size - end)
        rewards = np.concatenate([rewards, rewards[copies]])
        extra = {key: values + [values[i] for i in copies] for key, values in extra.items()}

    output.batch["rm_scores"] = reward_at_last_token(output, lengths, rewards)
    for key, values in extra.items():
        column = np.empty(size, dtype=object)
        column[:] = values
        output.non_tensor_batch[key] = column
    keys = list(output.meta_info.get("reward_extra_keys", []))
    output.meta_info["reward_extra_keys"] = keys + [key for key in EXTRA_KEYS if key not in keys]

    missing = int(end - np.count_nonzero(scores["partner_found"]))
    if missing:
        lonely = sorted({(rows.sources[i], rows.pair_ids[i]) for i in np.flatnonzero(~scores["partner_found"])}, key=str)
        logger.warning(
            "patarm: %d of %d rollouts have no partner side in the batch (PAR 0, format reward only); "
            "pairs such as %s. Keep pairs together: patarm's dataset, even batch sizes, data.shuffle=False.",
            missing, end, lonely[:5],
        )
    return {
        METRIC_PARTNER_MISSING: float(missing),
        METRIC_ROWS: float(end),
        METRIC_SECONDS: time.perf_counter() - started,
    }


class PairAgentLoopManager(AgentLoopManager):
    """verl's agent-loop manager plus the batch-level PAR rewrite (training and validation)."""

    def __init__(self, config: Any, *args: Any, **kwargs: Any) -> None:
        super().__init__(config, *args, **kwargs)
        self.pair_manager = self._build_pair_manager(config)

    @staticmethod
    def _build_pair_manager(config: Any) -> PairRewardManager:
        from verl.utils import hf_tokenizer
        from verl.utils.fs import copy_to_local

        model = config.actor_rollout_ref.model
        path = model.get("tokenizer_path") or model.path
        tokenizer = hf_tokenizer(copy_to_local(path), trust_remote_code=model.get("trust_remote_code", False))
        reward_cfg = config.get("reward") or {}
        reward_kwargs = dict(reward_cfg.get("reward_kwargs") or {})
        reward_kwargs.pop("allow_pointwise_fallback", None)
        return PairRewardManager(
            tokenizer=tokenizer,
            reward_fn_key=config.data.get("reward_fn_key", "data_source"),
            **reward_kwargs,
        )

    @auto_await
    async def generate_sequences(self, prompts: DataProto) -> DataProto:
        output = super().generate_sequences(prompts)
        if inspect.isawaitable(output):
            output = await output
        if "rm_scores" not in output.batch.keys():
            # Rewards are computed later by a colocated reward model: nothing to rewrite here.
            return output
        metrics = apply_par(self.pair_manager, prompts, output)
        output.meta_info.setdefault("timing", {}).update(metrics)
        return output
