"""The pair rendezvous added to verl's agent-loop workers (legacy and TransferQueue variants).

A worker receives whole pairs (the manager's split, `plan_worker_chunks`), registers how many
rollouts of each pair side it will produce, and holds each finished rollout on a `PairBoard`
until the pair is complete; the pair is then scored as one group and every rollout gets its
true PAR reward before verl's own per-rollout scoring would run (verl skips rollouts that
already carry a reward), so verl's reward workers never see a PaTaRM row.
"""

from __future__ import annotations

import contextvars
from collections.abc import Mapping
from typing import Any

from ._rows import _plain
from .manager import PairRewardManager
from .pairing import DEFAULT_TIMEOUT_S, PairBoard

# Set once the running rollout task handed its judgement to the board (a failure after that
# point must not withdraw it a second time).
_SUBMITTED: contextvars.ContextVar[bool] = contextvars.ContextVar("patarm_submitted", default=False)
#: Columns a pair identity is read from.
IDENTITY_COLUMNS = ("data_source", "extra_info", "reward_model")


def pair_identity(fields: Mapping[str, Any], reward_fn_key: str = "data_source") -> tuple[str, Any, str] | None:
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


def pair_split_key(fields: Mapping[str, Any], reward_fn_key: str = "data_source") -> tuple[str, Any] | None:
    """The key that keeps a row with the other rows of its pair when a batch is split among
    workers: (source, pair id) for pointwise rows; None (a unit alone) otherwise."""
    identity = pair_identity(fields, reward_fn_key)
    if identity is None or identity[2] not in ("chosen", "rejected"):
        return None
    return identity[0], identity[1]


def plain_step(step: Any) -> Any:
    step = getattr(step, "data", step)
    return step.item() if hasattr(step, "item") else step


def build_pair_manager(config: Any, tokenizer: Any) -> tuple[PairRewardManager, float]:
    """The scorer used by the workers, with the options of ``reward.reward_kwargs``."""
    reward_cfg = config.get("reward") or {}
    kwargs = dict(reward_cfg.get("reward_kwargs") or {})
    timeout = float(kwargs.pop("pair_timeout_s", DEFAULT_TIMEOUT_S))
    kwargs.pop("allow_pointwise_fallback", None)
    manager = PairRewardManager(
        tokenizer=tokenizer, reward_fn_key=config.data.get("reward_fn_key", "data_source"), **kwargs
    )
    return manager, timeout


class PairWorkerMixin:
    """Adds the pair rendezvous to an agent-loop worker class (legacy or TransferQueue)."""

    _patarm_board_instance: PairBoard | None = None
    # Set by the agent-loop worker class this is mixed into.
    config: Any
    tokenizer: Any

    def _patarm_board(self) -> PairBoard:
        if self._patarm_board_instance is None:
            manager, timeout = build_pair_manager(self.config, self.tokenizer)
            self._patarm_board_instance = PairBoard(manager, timeout_s=timeout)
        return self._patarm_board_instance

    def _patarm_key(
        self, fields: Mapping[str, Any], validate: Any, step: Any
    ) -> tuple[tuple[Any, ...], str, Any, str] | None:
        """(pair key, source, pair id, side) of one rollout, or None outside a PaTaRM pair row."""
        reward_fn_key = self.config.data.get("reward_fn_key", "data_source")
        identity = pair_identity(fields, reward_fn_key)
        if identity is None:
            return None
        source, pair_id, side = identity
        return (bool(validate), plain_step(step), source, pair_id), source, pair_id, side

    def _patarm_expect(self, fields: Mapping[str, Any], validate: Any, step: Any, count: int) -> None:
        ident = self._patarm_key(fields, validate, step)
        if ident is not None:
            key, source, pair_id, side = ident
            self._patarm_board().expect(key, source, pair_id, side, count=count)

    async def _run_agent_loop(
        self, sampling_params: dict, trajectory: dict, *, agent_name: str, trace: bool = True, **kwargs: Any
    ) -> Any:
        _SUBMITTED.set(False)
        try:
            return await super()._run_agent_loop(  # type: ignore[misc]  # the worker class mixed into
                sampling_params, trajectory, agent_name=agent_name, trace=trace, **kwargs
            )
        except BaseException:
            ident = self._patarm_key(kwargs, trajectory.get("validate"), self._patarm_step(trajectory, kwargs))
            if ident is not None and not _SUBMITTED.get():
                self._patarm_board().withdraw(ident[0], ident[3])
            raise

    def _patarm_step(self, trajectory: Mapping[str, Any], kwargs: Mapping[str, Any]) -> Any:
        """The training step a rollout belongs to (part of the pair key: pairs never mix steps)."""
        return kwargs.get("global_steps", trajectory.get("step", -1))

    async def _agent_loop_postprocess(self, output: Any, validate: Any, **kwargs: Any) -> Any:
        outputs = output if isinstance(output, list) else [output]
        final = outputs[-1] if outputs else None
        ident = self._patarm_key(
            kwargs, validate, kwargs.get("global_steps", getattr(self, "_patarm_current_step", -1))
        )
        if final is not None and final.reward_score is None and ident is not None:
            board = self._patarm_board()
            text = board.scorer.decoder.decode(final.response_ids)
            _SUBMITTED.set(True)
            info = await board.submit(ident[0], ident[1], ident[2], ident[3], text)
            final.reward_score = info.pop("reward")
            final.extra_fields["reward_extra_info"] = info
        return await super()._agent_loop_postprocess(  # type: ignore[misc]  # the worker class mixed into
            output, validate, **kwargs
        )

    async def pair_stats(self) -> dict:
        """Counters of this worker's rendezvous (rollouts, partner_missing, partner_timeout, withdrawn)."""
        return dict(self._patarm_board().stats)
