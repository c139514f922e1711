"""`PairRewardManager`: PaTaRM's reward manager for verl, on both of verl's reward interfaces.

- Batch interface (verl <= 0.7.0, and any code that calls a manager on a whole batch):
  ``PairRewardManager(tokenizer, num_examine, compute_score=None, reward_fn_key="data_source", **kwargs)``
  then ``manager(data, return_dict=False)``. Rows are grouped by (data source, pair id), so the
  result does not depend on row order (``repeat(n, interleave=True)``, ``balance_batch``).
- Reward-loop interface (verl >= 0.7.1, the only path of verl 0.9): verl constructs it with
  ``config=, tokenizer=, compute_score=, reward_router_address=, reward_model_tokenizer=`` and
  calls ``await run_single(one_row)`` on a random reward worker, which cannot see the row's
  pair. With ``patarm.verl.agent_loop.PairAgentLoopManager`` (required; checked at start-up)
  the agent-loop workers score each pair as it completes and set the reward before verl's
  per-rollout scoring, so ``run_single`` never sees a pointwise PaTaRM row; it remains for the
  pairwise form (no partner needed) and the opted-in format-only fallback.

Registered as "patarm" in both of verl's registries when this module is imported.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import torch
from verl import DataProto
from verl.workers.reward_manager import register as register_batch_manager
from verl.workers.reward_manager.abstract import AbstractRewardManager

from .. import _core
from .._core import Constant, Graded
from ..parsing import ERROR_KINDS, parse_judgement
from ..rewards import float32_safe, score_batch
from ._rows import (
    POINTWISE_SIDES,
    Options,
    PairRows,
    infer_pairwise,
    pair_rows,
    read_flag,
    unwrap_compute_score,
)
from .decode import FastDecoder, as_int64_matrix
from .setup_checks import fully_async_message

try:  # verl >= 0.7: the reward loop
    from verl.experimental.reward_loop.reward_manager import register as register_loop_manager
    from verl.experimental.reward_loop.reward_manager.base import RewardManagerBase
except ImportError:  # verl 0.6: batch interface only
    RewardManagerBase = None
    register_loop_manager = None

logger = logging.getLogger(__name__)

#: Name of the manager in verl's registries (``reward_model.reward_manager=patarm`` on verl <= 0.7,
#: ``reward.reward_manager.name=patarm`` on verl >= 0.7.1).
REGISTERED_NAME = "patarm"
AGENT_LOOP_MANAGER = "patarm.verl.agent_loop.PairAgentLoopManager"

_bases: tuple = (AbstractRewardManager,) if RewardManagerBase is None else (RewardManagerBase, AbstractRewardManager)


def _nan_to_none(values: np.ndarray) -> list:
    """Floats for verl's extra info, None where undefined (verl's metrics skip None, not NaN)."""
    return [None if v != v else v for v in values.astype(float).tolist()]


def valid_response_lengths(data: DataProto) -> torch.Tensor:
    """Valid response tokens per row, as verl's managers count them."""
    prompt_length = data.batch["prompts"].shape[-1]
    return data.batch["attention_mask"][:, prompt_length:].sum(dim=-1)


def reward_at_last_token(data: DataProto, lengths: torch.Tensor, rewards: np.ndarray) -> torch.Tensor:
    """A float32 [batch, response_len] tensor holding each reward at the row's last valid token
    (position 0 for an empty response, whose mask hides it anyway)."""
    reward_tensor = torch.zeros_like(data.batch["responses"], dtype=torch.float32)
    if len(rewards):
        rows = torch.arange(reward_tensor.shape[0], device=reward_tensor.device)
        cols = (lengths.to(reward_tensor.device) - 1).clamp(min=0)
        reward_tensor[rows, cols] = torch.as_tensor(rewards, dtype=torch.float32, device=reward_tensor.device)
    return reward_tensor


class PairRewardManager(*_bases):  # type: ignore[misc]  # verl's base classes, chosen at import
    """PaTaRM's preference-aware reward (PAR) for verl; see the module docstring."""

    def __init__(
        self,
        tokenizer: Any = None,
        num_examine: int = 0,
        compute_score: Callable | None = None,
        reward_fn_key: str = "data_source",
        config: Any = None,
        reward_router_address: str | None = None,
        reward_model_tokenizer: Any = None,
        **kwargs: Any,
    ) -> None:
        if tokenizer is None:
            raise TypeError("PairRewardManager needs the policy's tokenizer (tokenizer=...) to decode responses")
        user_fn, bound_kwargs = unwrap_compute_score(compute_score)
        options = dict(bound_kwargs)
        if config is not None:  # reward loop: options live in reward.reward_kwargs
            reward_cfg = config.get("reward") if hasattr(config, "get") else None
            loop_kwargs = reward_cfg.get("reward_kwargs") if reward_cfg is not None else None
            options.update(dict(loop_kwargs or {}))
        options.update(kwargs)
        self.config = config
        self.tokenizer = tokenizer
        self.num_examine = int(num_examine)
        self.compute_score: Callable | None = user_fn
        self.reward_fn_key = reward_fn_key
        self.reward_router_address = reward_router_address
        self.reward_model_tokenizer = reward_model_tokenizer
        self.options = Options.from_mapping(options)
        self.decoder = FastDecoder(
            tokenizer, verify_rows=self.options.verify_rows, num_threads=self.options.num_threads
        )
        if config is not None:
            self._check_loop_setup(config)

    # ------------------------------------------------------------------ batch interface
    def __call__(self, data: DataProto, return_dict: bool = False) -> torch.Tensor | dict[str, Any]:
        """Rewards for a whole batch: float32 [batch, response_len], reward at the last valid
        token; with ``return_dict``, also ``reward_extra_info`` (lists aligned to the rows)."""
        if "rm_scores" in data.batch.keys():  # already scored upstream: pass through, as verl does
            if return_dict:
                keys = data.meta_info.get("reward_extra_keys", [])
                return {
                    "reward_tensor": data.batch["rm_scores"],
                    "reward_extra_info": {k: data.non_tensor_batch[k] for k in keys},
                }
            return data.batch["rm_scores"]

        lengths = valid_response_lengths(data)
        rows = pair_rows(data.non_tensor_batch, len(data), self.reward_fn_key)
        ids = as_int64_matrix(data.batch["responses"])
        lengths_np = np.ascontiguousarray(lengths.cpu().numpy(), dtype=np.int64)
        texts: list[str] | None = None
        scores = self._decode_and_score(ids, lengths_np, rows) if self._user_fn_for(rows) is None else None
        if scores is not None:  # one native pass: decoding and scoring, no Python strings
            rewards, extra = float32_safe(scores["reward"]), self.extra_info(scores)
        else:
            texts = self.decoder.decode_rows(ids, lengths_np)
            extras = data.non_tensor_batch.get("extra_info")
            rewards, extra = self.score_rows(texts, rows, None if extras is None else list(extras))
        self._examine(
            lambda row: texts[row] if texts is not None else self.decoder.decode(ids[row, : lengths_np[row]]),
            rows,
            rewards,
        )
        reward_tensor = reward_at_last_token(data, lengths, rewards)
        if return_dict:
            return {"reward_tensor": reward_tensor, "reward_extra_info": extra}
        return reward_tensor

    def _user_fn_for(self, rows: PairRows) -> Callable | None:
        """The user's pair-form compute_score when it applies (pointwise rows), else None."""
        if self.compute_score is None or infer_pairwise(rows.sides, self.options.pairwise):
            return None
        return self.compute_score

    def score_rows(
        self, texts: list[str], rows: PairRows, extra_infos: list[Any] | None = None
    ) -> tuple[np.ndarray, dict[str, list]]:
        """Float32-safe rewards and verl's reward extra info for decoded judgements: the user's
        pair-form ``compute_score`` when one is set (pointwise rows), else the native scoring.
        Both interfaces and the agent-loop rendezvous score through here."""
        if self._user_fn_for(rows) is not None:
            rewards, extra = self._score_with_user_fn(texts, rows, extra_infos)
        else:
            scores = self.score_texts(texts, rows)
            rewards, extra = scores["reward"], self.extra_info(scores)
        return float32_safe(rewards), extra  # what reaches verl's advantage code (docs/method.md §4)

    def _decode_and_score(self, ids: np.ndarray, lengths: np.ndarray, rows: PairRows) -> dict[str, np.ndarray] | None:
        """Decoding and scoring in one native pass (no Python strings), when the tokenizer is
        natively decodable and f is built in; None otherwise."""
        f = self.options.f
        if f is not None and not isinstance(f, (Graded, Constant)):
            return None  # a Python callable: applied by score_batch after the native pass
        table = self.decoder.checked_table(ids, lengths)
        if table is None:
            return None
        pairwise = self._pairwise(rows)
        return _core.decode_and_score(
            table,
            ids,
            lengths,
            rows.pair_ids,
            rows.sides,
            rows.sources,
            f=f,
            pairwise=pairwise,
            think_in_prompt=self.options.think_in_prompt,
            num_threads=self.options.num_threads,
        )

    def _pairwise(self, rows: PairRows) -> bool:
        """Pairwise when asked, or (auto) when every side is a verdict A/B. The core checks each
        side against the mode it is scored in (its error names the row and the fix)."""
        return infer_pairwise(rows.sides, self.options.pairwise)

    def score_texts(self, texts: list[str], rows: PairRows) -> dict[str, np.ndarray]:
        """`score_batch` on decoded texts with this manager's options."""
        pairwise = self._pairwise(rows)
        return score_batch(
            texts,
            rows.pair_ids,
            rows.sides,
            sources=rows.sources,
            f=self.options.f,
            pairwise=pairwise,
            think_in_prompt=self.options.think_in_prompt,
            num_threads=self.options.num_threads,
        )

    @staticmethod
    def extra_info(scores: Mapping[str, np.ndarray]) -> dict[str, list]:
        """verl's reward extra info (one list per key, aligned to the rows) from score_batch."""
        kinds = ERROR_KINDS
        return {
            "judge_score": _nan_to_none(scores["score"]),
            "format_reward": scores["format_reward"].astype(float).tolist(),
            "par": scores["par"].astype(float).tolist(),
            "opposite_mean": _nan_to_none(scores["opposite_mean"]),
            "error": np.array(kinds, dtype=object)[scores["error_code"].astype(np.intp)].tolist(),
            "partner_found": scores["partner_found"].astype(float).tolist(),
            "pair_correct": (scores["par"] > 0).astype(float).tolist(),
        }

    def _score_with_user_fn(
        self, texts: list[str], rows: PairRows, extra_infos: list[Any] | None
    ) -> tuple[np.ndarray, dict]:
        """A user's pair-form compute_score: called once per pair with
        ``solution_str={"chosen": [...], "rejected": [...]}``; returns ``{"score": [chosen...,
        rejected...], other keys: lists in the same order}``."""
        compute_score = self.compute_score
        assert compute_score is not None  # called only when the user gave one
        groups: dict[tuple, dict[str, list[int]]] = defaultdict(lambda: {"chosen": [], "rejected": []})
        for row, (source, pair_id, side) in enumerate(zip(rows.sources, rows.pair_ids, rows.sides, strict=True)):
            if side not in POINTWISE_SIDES:
                raise ValueError(f"row {row} has side {side!r}; a pair-form compute_score needs 'chosen'/'rejected'")
            groups[(source, pair_id)][side].append(row)
        rewards = np.zeros(len(texts), dtype=np.float64)
        extra: dict[str, list] = {}
        for (source, pair_id), sides in groups.items():
            order = sides["chosen"] + sides["rejected"]
            result = compute_score(
                data_source=source,
                solution_str={side: [texts[r] for r in sides[side]] for side in POINTWISE_SIDES},
                ground_truth=None,
                extra_info=dict(extra_infos[order[0]])
                if extra_infos is not None and isinstance(extra_infos[order[0]], Mapping)
                else {},
            )
            if not isinstance(result, Mapping) or "score" not in result or len(result["score"]) != len(order):
                raise TypeError(
                    f"compute_score for pair {pair_id!r} of {source!r} must return a dict whose 'score' list has "
                    f"{len(order)} rewards (chosen judgements first, then rejected), got {type(result).__name__}"
                )
            for key, values in result.items():
                sized = hasattr(values, "__len__") and not isinstance(values, (str, bytes, Mapping))
                if not sized or len(values) != len(order):
                    got = f"{len(values)} values" if sized else f"a {type(values).__name__}"
                    raise ValueError(
                        f"compute_score for pair {pair_id!r} of {source!r} returned {got} under {key!r}; every "
                        f"key needs a list with one value per judgement ({len(order)}: chosen first, then rejected)"
                    )
                column = extra.setdefault(key, [None] * len(texts))
                for row, value in zip(order, values, strict=True):
                    column[row] = value
            rewards[order] = np.asarray(result["score"], dtype=np.float64)
        return rewards, extra

    def _examine(self, text_of: Callable[[int], str], rows: PairRows, rewards: np.ndarray) -> None:
        """Prints up to `num_examine` pairs per data source, as verl's managers print samples."""
        if self.num_examine <= 0:
            return
        shown: dict[str, set] = defaultdict(set)
        for source, pair_id in zip(rows.sources, rows.pair_ids, strict=True):
            if pair_id in shown[source] or len(shown[source]) >= self.num_examine:
                continue
            shown[source].add(pair_id)
            for other, (other_source, other_id) in enumerate(zip(rows.sources, rows.pair_ids, strict=True)):
                if other_source == source and other_id == pair_id:
                    print(
                        f"[patarm] source={source} pair={pair_id} side={rows.sides[other]} reward={rewards[other]:.3f}"
                    )
                    print("[response]", text_of(other))

    # ------------------------------------------------------------------ reward-loop interface
    def _check_loop_setup(self, config: Any) -> None:
        """On the reward loop, PAR needs the batch-level rewrite: refuse a config without it,
        rather than train silently on format rewards only."""
        if hasattr(config, "get") and config.get("async_training") is not None:
            raise ValueError(fully_async_message())
        if read_flag(self.options.extra, "allow_pointwise_fallback", False):
            return
        legacy = config.get("reward_model") if hasattr(config, "get") else None
        if legacy is not None and hasattr(legacy, "get") and legacy.get("use_reward_loop") is False:
            return  # verl 0.7.0 with reward_model.use_reward_loop=False: the batch interface is used
        try:
            agent_cfg = config.actor_rollout_ref.rollout.get("agent", {}) or {}
            manager_class = agent_cfg.get("agent_loop_manager_class")
        except AttributeError:
            return  # not a trainer config (e.g. a bare reward config in a unit test)
        if manager_class != AGENT_LOOP_MANAGER:
            raise ValueError(
                "PaTaRM on verl's reward loop scores each rollout alone; the pair rewards are applied by "
                f"patarm's agent-loop manager. Set actor_rollout_ref.rollout.agent.agent_loop_manager_class="
                f"{AGENT_LOOP_MANAGER} (got {manager_class!r}), "
                "or set reward.reward_kwargs.allow_pointwise_fallback=True to train on format rewards only."
            )

    async def run_single(self, data: DataProto) -> dict:
        """One rollout: parse its judgement; the provisional reward is the format reward (the
        docs/method.md §4 value when the other side of the pair is missing) until the agent-loop manager
        applies PAR to the whole batch."""
        data = data[-1:]
        lengths = valid_response_lengths(data)
        text = self.decoder.decode_rows(data.batch["responses"], lengths)[0]
        rows = pair_rows(data.non_tensor_batch, 1, self.reward_fn_key)
        pairwise = infer_pairwise(rows.sides, self.options.pairwise)
        if pairwise:  # the pairwise reward needs no partner: it is final here
            scores = self.score_texts([text], rows)
            reward, par_applied = float(scores["reward"][0]), True
            judgement = parse_judgement(text, pairwise=True, think_in_prompt=self.options.think_in_prompt)
        else:
            judgement = parse_judgement(text, think_in_prompt=self.options.think_in_prompt)
            reward, par_applied = float(judgement.format_reward), False
        code = ERROR_KINDS.index(judgement.error)
        return {
            "reward_score": float(float32_safe([reward])[0]),
            "reward_extra_info": {
                "judge_score": None if judgement.score is None else float(judgement.score),
                "format_reward": float(judgement.format_reward),
                "error_code": code,
                "par_applied": par_applied,
            },
        }

    def __repr__(self) -> str:
        mode = "pairwise" if self.options.pairwise else "pointwise" if self.options.pairwise is False else "auto"
        return f"PairRewardManager(f={self.options.f!r}, mode={mode}, decoder={self.decoder!r})"


register_batch_manager(REGISTERED_NAME)(PairRewardManager)
if register_loop_manager is not None:
    register_loop_manager(REGISTERED_NAME)(PairRewardManager)
