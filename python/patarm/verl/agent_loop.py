"""PAR on verl >= 0.7.1's reward loop, through a custom agent-loop manager (no patch to verl).

Set ``actor_rollout_ref.rollout.agent.agent_loop_manager_class=patarm.verl.agent_loop.PairAgentLoopManager``.
It runs verl's own agent-loop workers with one addition: a finished rollout of a PaTaRM pair
is not scored alone. Its worker decodes it (Rust), holds it on a `PairBoard` until the pair's
other rollouts are in, scores the pair as a group with ``patarm.score_batch``, and sets the
true PAR reward before verl's per-rollout scoring would run (verl skips rollouts that already
carry a reward). So the reward that reaches ``rm_scores`` is already PAR, for training and for
validation, on both of verl 0.9's trainers:

- ``trainer.use_v1=True`` (the default: TransferQueue, replay buffer), where a batch never
  exists in one place after dispatch, so a batch-level rewrite is impossible;
- ``trainer.use_v1=False`` (the legacy ``RayPPOTrainer``).

Both sides of a pair reach the same worker because verl gives each worker a contiguous chunk
of the prompt batch; this needs a pair-ordered batch (``PairShuffledDataset``, ``data.shuffle=False``)
and ``data.train_batch_size`` divisible by ``2 * actor_rollout_ref.rollout.agent.num_workers``
(checked at start-up). See `patarm.verl.pairing` for the timeout and fallbacks.
"""
from __future__ import annotations

import contextvars
import logging
from collections.abc import Mapping
from typing import Any, Optional

import numpy as np
import ray

from verl import DataProto
from verl.experimental.agent_loop import AgentLoopManager, AgentLoopWorker
from verl.utils.ray_utils import auto_await

from ._rows import _plain
from .manager import PairRewardManager
from .pairing import DEFAULT_TIMEOUT_S, PairBoard

logger = logging.getLogger(__name__)

#: Keys added to a legacy-trainer rollout's ``meta_info["timing"]`` (logged as ``timing_s/<key>``).
METRIC_PARTNER_MISSING = "patarm/partner_missing"
METRIC_PARTNER_TIMEOUT = "patarm/partner_timeout"

# Set once the running rollout task handed its judgement to the board (a failure after that
# point must not withdraw it a second time).
_SUBMITTED: contextvars.ContextVar[bool] = contextvars.ContextVar("patarm_submitted", default=False)


def pair_identity(fields: Mapping[str, Any], reward_fn_key: str = "data_source") -> Optional[tuple[str, Any, str]]:
    """(source, pair id, side) of one prompt row, or None for a row that is not a PaTaRM pair row."""
    extra = fields.get("extra_info")
    extra = extra if isinstance(extra, Mapping) else {}
    pair_id = _plain(extra.get("pair_id"))
    side = _plain(extra.get("side"))
    if side is None:
        reward_model = fields.get("reward_model")
        side = _plain(reward_model.get("ground_truth")) if isinstance(reward_model, Mapping) else None
    if pair_id is None or side not in ("chosen", "rejected", "A", "B"):
        return None
    return str(_plain(fields.get(reward_fn_key))), pair_id, side


def _plain_step(step: Any) -> Any:
    step = getattr(step, "data", step)
    return step.item() if hasattr(step, "item") else step


def build_pair_manager(config: Any, tokenizer: Any) -> tuple[PairRewardManager, float]:
    """The scorer used by the workers, with the options of ``reward.reward_kwargs``."""
    reward_cfg = config.get("reward") or {}
    kwargs = dict(reward_cfg.get("reward_kwargs") or {})
    timeout = float(kwargs.pop("pair_timeout_s", DEFAULT_TIMEOUT_S))
    kwargs.pop("allow_pointwise_fallback", None)
    manager = PairRewardManager(tokenizer=tokenizer, reward_fn_key=config.data.get("reward_fn_key", "data_source"), **kwargs)
    return manager, timeout


def check_pair_chunks(config: Any) -> None:
    """Raises ValueError when verl's split of a training batch across agent-loop workers would
    separate the two prompts of a pair."""
    workers = int(config.actor_rollout_ref.rollout.agent.num_workers)
    batch = int(config.data.get("gen_batch_size") or config.data.train_batch_size)
    if batch % (2 * workers):
        raise ValueError(
            f"data.train_batch_size={batch} is not a multiple of 2 x actor_rollout_ref.rollout.agent.num_workers="
            f"{workers}: verl splits each batch into {workers} contiguous chunks and a chunk boundary would "
            "separate a pair. Make the batch size a multiple of twice the number of agent-loop workers."
        )


class PairWorkerMixin:
    """Adds the pair rendezvous to an agent-loop worker class (legacy or TransferQueue)."""

    _patarm_board_instance: Optional[PairBoard] = None

    def _patarm_board(self) -> PairBoard:
        if self._patarm_board_instance is None:
            manager, timeout = build_pair_manager(self.config, self.tokenizer)
            self._patarm_board_instance = PairBoard(manager, timeout_s=timeout)
        return self._patarm_board_instance

    def _patarm_key(self, fields: Mapping[str, Any], validate: Any, step: Any) -> Optional[tuple]:
        reward_fn_key = self.config.data.get("reward_fn_key", "data_source")
        identity = pair_identity(fields, reward_fn_key)
        if identity is None:
            return None
        source, pair_id, side = identity
        return (bool(validate), _plain_step(step), source, pair_id), source, pair_id, side

    def _patarm_register(self, batch: Any) -> None:
        """Registers how many rollouts of each pair side this worker will produce."""
        board = self._patarm_board()
        if isinstance(batch, DataProto):  # legacy: one row per rollout (already repeated n times)
            validate = batch.meta_info.get("validate", False)
            step = batch.meta_info.get("global_steps", -1)
            columns = batch.non_tensor_batch
            for row in range(len(batch)):
                ident = self._patarm_key({k: v[row] for k, v in columns.items()}, validate, step)
                if ident is not None:
                    board.expect(ident[0], *ident[1:], count=1)
            return
        # TransferQueue trainer: one row per prompt, n rollouts each
        keys = set(batch.keys())
        validate = bool(_plain_step(batch["validate"])) if "validate" in keys else False
        step = batch["global_steps"] if "global_steps" in keys else -1
        rollout = self.config.actor_rollout_ref.rollout
        default_n = rollout.val_kwargs.n if validate else rollout.n
        for row in range(len(batch)):
            fields = {key: _row_value(batch, key, row) for key in ("data_source", "extra_info", "reward_model", "__rollout_n__") if key in keys}
            ident = self._patarm_key(fields, validate, step)
            if ident is not None:
                n = fields.get("__rollout_n__")
                board.expect(ident[0], *ident[1:], count=int(_plain_step(n)) if n is not None else int(default_n))

    async def generate_sequences(self, batch: Any) -> Any:
        self._patarm_register(batch)
        return await super().generate_sequences(batch)

    async def _run_agent_loop(self, sampling_params: dict, trajectory: dict, *, agent_name: str, trace: bool = True, **kwargs: Any) -> Any:
        _SUBMITTED.set(False)
        try:
            return await super()._run_agent_loop(sampling_params, trajectory, agent_name=agent_name, trace=trace, **kwargs)
        except BaseException:
            ident = self._patarm_key(kwargs, trajectory.get("validate"), trajectory.get("step"))
            if ident is not None and not _SUBMITTED.get():
                self._patarm_board().withdraw(ident[0], ident[3])
            raise

    async def _agent_loop_postprocess(self, output: Any, validate: Any, **kwargs: Any) -> Any:
        outputs = output if isinstance(output, list) else [output]
        final = outputs[-1] if outputs else None
        # TransferQueue workers pass each rollout its step; legacy workers: the batch's (see below).
        step = kwargs.get("global_steps", getattr(self, "_patarm_current_step", -1))
        ident = self._patarm_key(kwargs, validate, step)
        if final is not None and final.reward_score is None and ident is not None:
            board = self._patarm_board()
            text = board.scorer.decoder.decode(final.response_ids)
            _SUBMITTED.set(True)
            info = await board.submit(ident[0], ident[1], ident[2], ident[3], text)
            final.reward_score = info.pop("reward")
            final.extra_fields["reward_extra_info"] = info
        return await super()._agent_loop_postprocess(output, validate, **kwargs)

    async def pair_stats(self) -> dict:
        """Counters of this worker's rendezvous (rollouts, partner_missing, partner_timeout, withdrawn)."""
        return dict(self._patarm_board().stats)


def _row_value(batch: Any, key: str, row: int) -> Any:
    value = batch.get(key) if hasattr(batch, "get") else batch[key]
    try:
        item = value[row]
    except (TypeError, IndexError, KeyError):
        return getattr(value, "data", value)
    return getattr(item, "data", item)


class PairAgentLoopWorker(PairWorkerMixin, AgentLoopWorker):
    """verl's agent-loop worker (legacy trainer) with the pair rendezvous."""

    async def generate_sequences(self, batch: DataProto) -> DataProto:
        # The legacy worker does not pass the step to each rollout; remember it for the pair keys.
        self._patarm_current_step = batch.meta_info.get("global_steps", -1)
        return await super().generate_sequences(batch)


class PairAgentLoopManager(AgentLoopManager):
    """Agent-loop manager giving every PaTaRM rollout its true PAR reward (see module doc).

    ``create`` picks the variant for the configured trainer: TransferQueue workers for
    ``trainer.use_v1=True`` (verl 0.9's default), the legacy workers otherwise."""

    def __init__(self, config: Any, *args: Any, **kwargs: Any) -> None:
        check_pair_chunks(config)
        if not hasattr(self, "agent_loop_workers_class"):
            self.agent_loop_workers_class = ray.remote(PairAgentLoopWorker)
        super().__init__(config, *args, **kwargs)

    @classmethod
    @auto_await
    async def create(cls, *args: Any, **kwargs: Any) -> "AgentLoopManager":
        config = kwargs.get("config", args[0] if args else None)
        target = cls
        if cls is PairAgentLoopManager and config is not None and config.trainer.get("use_v1", False):
            from ._agent_loop_tq import PairAgentLoopManagerTQ

            target = PairAgentLoopManagerTQ
        instance = target(*args, **kwargs)
        await instance._init_agent_loop_workers()
        return instance

    @auto_await
    async def generate_sequences(self, prompts: DataProto) -> DataProto:
        output = await AgentLoopManager.generate_sequences.__wrapped__(self, prompts)
        metrics = pair_metrics(output)
        if metrics:
            output.meta_info.setdefault("timing", {}).update(metrics)
        return output


def pair_metrics(output: DataProto) -> dict[str, float]:
    """Counts of rollouts scored without a partner / after a timeout, from the reward extra info."""
    columns = output.non_tensor_batch
    metrics = {}
    if "partner_found" in columns:
        found = np.array([1.0 if v is None else float(v) for v in columns["partner_found"]])
        metrics[METRIC_PARTNER_MISSING] = float(np.sum(found == 0.0))
    if "partner_timeout" in columns:
        metrics[METRIC_PARTNER_TIMEOUT] = float(sum(float(v or 0.0) for v in columns["partner_timeout"]))
    return metrics
