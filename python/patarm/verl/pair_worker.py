"""The pair rendezvous added to verl's agent-loop workers (legacy and TransferQueue variants).

A worker receives whole pairs (the manager's split, `plan_worker_chunks`), registers how many
rollouts of each pair side it will produce, and holds each finished rollout on a `PairBoard`
until the pair is complete; the pair is then scored as one group and every rollout gets its
true PAR reward before verl's own per-rollout scoring would run (verl skips rollouts that
already carry a reward), so verl's reward workers never see a PaTaRM row.
"""

from __future__ import annotations

import contextvars
from collections.abc import Awaitable, Hashable, Mapping
from typing import Any

from ._rows import _plain
from .manager import PairRewardManager
from .pairing import DEFAULT_TIMEOUT_S, PairBoard

# Set once the running rollout task handed its judgement to the board (a failure after that
# point must not withdraw it a second time).
_SUBMITTED: contextvars.ContextVar[bool] = contextvars.ContextVar("patarm_submitted", default=False)


def identity_columns(reward_fn_key: str) -> tuple[str, ...]:
    """The columns a row's pair identity is read from: its source (``data.reward_fn_key``), its
    pair id and side. Registration and submission must read the same ones."""
    return (reward_fn_key, "extra_info", "reward_model")


def reward_fn_key_of(config: Any) -> str:
    return config.data.get("reward_fn_key", "data_source")


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
    """The scorer used by the workers: the options of ``reward.reward_kwargs`` and the user's
    ``reward.custom_reward_function`` (loaded as verl's reward workers load it), so a pair-form
    compute_score or a custom f set in the config is what scores the pairs."""
    reward_cfg = config.get("reward") or {}
    kwargs = dict(reward_cfg.get("reward_kwargs") or {})
    timeout = float(kwargs.pop("pair_timeout_s", DEFAULT_TIMEOUT_S))
    kwargs.pop("allow_pointwise_fallback", None)
    compute_score = None
    if (reward_cfg.get("custom_reward_function") or {}).get("path"):
        from verl.trainer.ppo.reward import get_custom_reward_fn

        compute_score = get_custom_reward_fn(config)
    manager = PairRewardManager(
        tokenizer=tokenizer, compute_score=compute_score, reward_fn_key=reward_fn_key_of(config), **kwargs
    )
    return manager, timeout


class PairWorkerMixin:
    """Adds the pair rendezvous to an agent-loop worker class (legacy or TransferQueue)."""

    _patarm_board_instance: PairBoard | None = None
    _patarm_open_keys: list = []  # the pair keys the current dispatch registered (replaced, never mutated)
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
        identity = pair_identity(fields, reward_fn_key_of(self.config))
        if identity is None:
            return None
        source, pair_id, side = identity
        return (bool(validate), plain_step(step), source, pair_id), source, pair_id, side

    def _patarm_expect(self, fields: Mapping[str, Any], validate: Any, step: Any, count: int) -> Hashable | None:
        """Registers `count` rollouts of this row's pair side; returns the pair key (None: not a pair row)."""
        ident = self._patarm_key(fields, validate, step)
        if ident is None:
            return None
        key, source, pair_id, side = ident
        self._patarm_board().expect(key, source, pair_id, side, count=count)
        return key

    def _patarm_new_dispatch(self, registered: list) -> None:
        """Called as a dispatch (one ``generate_sequences`` call) starts, with the pair keys it
        registered. The previous dispatch is over by then (the sync trainers wait for every
        rollout of a batch before they dispatch the next; the async modes are refused at
        start-up), so whatever it left open can never complete: it is released, and what the
        board holds is bounded by one dispatch."""
        current = [key for key in registered if key is not None]
        fresh = set(current)
        self._patarm_board().release(key for key in self._patarm_open_keys if key not in fresh)
        self._patarm_open_keys = current

    async def _patarm_dispatch(self, generate: Awaitable[Any]) -> Any:
        """Awaits verl's ``generate_sequences`` of a worker that waits for its rollouts (the
        DataProto worker); once it returns or fails, the pairs it registered are released."""
        try:
            return await generate
        finally:
            self._patarm_board().release(self._patarm_open_keys)
            self._patarm_open_keys = []

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
            info = await board.submit(*ident, text, kwargs.get("extra_info"))
            final.reward_score = info.pop("reward")
            # A new dict, never an update in place: verl shares extra_fields dicts between
            # outputs (the pattern of verl bug #7486, fixed in 0.9.1 only).
            final.extra_fields = {**final.extra_fields, "reward_extra_info": info}
        return await super()._agent_loop_postprocess(  # type: ignore[misc]  # the worker class mixed into
            output, validate, **kwargs
        )

    async def pair_stats(self) -> dict:
        """Counters of this worker's rendezvous (rollouts, partner_missing, partner_timeout, withdrawn)."""
        return dict(self._patarm_board().stats)
