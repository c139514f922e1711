"""``PatarmReward``: the PaTaRM reward as a TRL reward function, and the readers of what TRL
passes to one (completions, pair columns)."""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

logger = logging.getLogger("patarm.trl")

POINTWISE_SIDES = ("chosen", "rejected")
PAIRWISE_SIDES = ("A", "B")


# ----------------------------------------------------------------------------------------------
# Reading what TRL passes to a reward function
# ----------------------------------------------------------------------------------------------


def completion_text(completion: Any) -> str:
    """The judgement text of one TRL completion.

    Standard prompts give a string. Conversational prompts give a list of messages; their
    contents are joined. When TRL parsed the response with a response schema, the reasoning sits
    in ``reasoning_content`` (or ``thinking``); it is put back inside ``<think>`` tags so the
    judgement parses as the model wrote it.
    """
    if isinstance(completion, str):
        return completion
    if isinstance(completion, dict):
        completion = [completion]
    if not isinstance(completion, (list, tuple)):
        raise TypeError(
            f"a completion must be a string or a list of chat messages, got {type(completion).__name__}; "
            "pass the completions exactly as GRPOTrainer hands them to reward functions"
        )
    parts: list[str] = []
    for message in completion:
        if not isinstance(message, dict):
            raise TypeError(
                f"a conversational completion must be a list of message dicts, got an item of type "
                f"{type(message).__name__}"
            )
        reasoning = message.get("reasoning_content", message.get("thinking"))
        if reasoning is not None:
            parts.append(f"<think>{reasoning}</think>")
        content = message.get("content")
        if isinstance(content, str):
            parts.append(content)
        elif isinstance(content, list):  # content blocks: keep the text ones
            parts.extend(block.get("text", "") for block in content if isinstance(block, dict))
    return "".join(parts)


def completion_texts(completions: Sequence[Any]) -> list[str]:
    """:func:`completion_text` of each completion, with a fast path for TRL's usual
    ``[{"role": "assistant", "content": text}]`` and plain strings."""
    texts: list[str] = []
    append = texts.append
    for completion in completions:
        if type(completion) is str:
            append(completion)
            continue
        if type(completion) is list and len(completion) == 1:
            message = completion[0]
            if type(message) is dict and len(message) == 2 and "role" in message:
                content = message.get("content")
                if type(content) is str:
                    append(content)
                    continue
        append(completion_text(completion))
    return texts


def read_pair_columns(
    columns: dict[str, Any],
    rows: int,
    pair_id_column: str,
    side_column: str,
    source_column: str | None,
) -> tuple[list, list, list | None]:
    """(pair_ids, sides, sources) from the dataset columns TRL forwards.

    Columns may sit at the top level or inside verl-style ``extra_info`` dicts (what
    ``patarm prepare`` writes), so the same rows serve verl and TRL.
    """
    extra_info = columns.get("extra_info")

    def column(name: str, required: bool) -> list | None:
        if name in columns and columns[name] is not None:
            values = list(columns[name])
        elif extra_info is not None and all(isinstance(e, dict) and name in e for e in extra_info):
            values = [e[name] for e in extra_info]
        elif required:
            raise ValueError(
                f"the reward function needs a `{name}` dataset column (or `extra_info['{name}']`), but TRL "
                f"passed only {sorted(k for k in columns if not callable(columns[k]))}. Add `{name}` to every "
                "row (patarm.build_messages / `patarm prepare` rows have it) and keep "
                "GRPOConfig(remove_unused_columns=False), TRL's default"
            )
        else:
            return None
        if len(values) != rows:
            raise ValueError(
                f"the `{name}` column has {len(values)} values for {rows} completions; pass the columns "
                "GRPOTrainer forwards, one value per completion"
            )
        return values

    pair_ids = column(pair_id_column, True)
    sides = column(side_column, True)
    sources = column(source_column, False) if source_column else None
    return pair_ids, sides, sources  # type: ignore[return-value]


# ----------------------------------------------------------------------------------------------
# The reward function
# ----------------------------------------------------------------------------------------------


class PatarmReward:
    """PaTaRM reward for ``GRPOTrainer(reward_funcs=[PatarmReward()])``.

    Returns, per completion, ``R = R_PAR + R_format`` (docs/method.md §4; with ``pairwise=True``
    section 5: ``correct_reward`` / ``wrong_reward`` for a verdict that names / misses the chosen
    response, plus the format reward). A judgement's pair is found by ``(data_source, pair_id)``,
    never by position.

    Logged through TRL's ``log_metric`` (averaged per logging step, under ``metric_prefix/``):
    ``score/chosen`` and ``score/rejected`` (mean valid judge score per side, pointwise only),
    ``format_error_rate``, ``par_hit_rate`` (share of completions with R_PAR > 0; pairwise: the
    share of correct verdicts), ``partner_missing`` (completions whose pair's other side was not in
    the batch). TRL itself logs the total as ``rewards/<name>/mean``. With
    ``log_completion_columns`` each completion's pair id, side, score, PAR and error kind also go
    to TRL's completions table (``GRPOConfig(log_completions=True)``).

    A pair seen on one side only gets R_PAR = 0 (the METHOD rule) and a counted warning;
    ``partner_missing_total`` keeps the running count. Use ``PairGRPOTrainer`` so that never
    happens.

    The rewards handed to TRL are float32-safe (docs/method.md §4): multiples of 2^-10
    (``patarm.float32_safe``), so a group of identical rewards gets an advantage of exactly 0 in
    TRL's float32 group normalisation. ``float32_safe=False`` hands over the exact values;
    :meth:`score` always returns them.
    """

    def __init__(
        self,
        *,
        f: Any = None,
        pairwise: bool = False,
        think_in_prompt: bool = False,
        num_threads: int | None = None,
        correct_reward: float = 1.0,
        wrong_reward: float = 0.0,
        pair_id_column: str = "pair_id",
        side_column: str = "side",
        source_column: str | None = "data_source",
        name: str = "patarm",
        metric_prefix: str = "patarm",
        log_completion_columns: bool = True,
        float32_safe: bool = True,
    ) -> None:
        if f is None:
            from ..rewards import Graded

            f = Graded()
        if not callable(f):
            raise TypeError(
                f"f must be patarm.Graded(...), patarm.Constant(...) or a callable of the score gap, "
                f"got {type(f).__name__}"
            )
        self.f = f
        self.pairwise = bool(pairwise)
        self.think_in_prompt = bool(think_in_prompt)
        self.num_threads = num_threads
        self.correct_reward = float(correct_reward)
        self.wrong_reward = float(wrong_reward)
        self.pair_id_column = pair_id_column
        self.side_column = side_column
        self.source_column = source_column
        # TRL names a reward function by its __name__: metrics appear as rewards/<name>/mean.
        self.__name__ = name
        self.metric_prefix = metric_prefix
        self.log_completion_columns = bool(log_completion_columns)
        self.float32_safe = bool(float32_safe)
        self.partner_missing_total = 0

    def __repr__(self) -> str:
        mode = "pairwise" if self.pairwise else "pointwise"
        return f"PatarmReward({mode}, f={self.f!r}, name={self.__name__!r})"

    def __call__(
        self,
        prompts: Sequence[Any] | None = None,
        completions: Sequence[Any] | None = None,
        log_metric: Callable[[str, float], None] | None = None,
        log_extra: Callable[[str, list], None] | None = None,
        **columns: Any,
    ) -> list[float]:
        if completions is None:
            raise TypeError("PatarmReward needs `completions`; it is called by GRPOTrainer as a reward function")
        texts = completion_texts(completions)
        pair_ids, sides, sources = read_pair_columns(
            columns, len(texts), self.pair_id_column, self.side_column, self.source_column
        )
        result = self.score(texts, pair_ids, sides, sources)
        self._report(result, sides, pair_ids, sources, log_metric, log_extra)
        if self.float32_safe:
            from ..rewards import float32_safe

            return float32_safe(result["reward"]).tolist()
        return result["reward"].tolist()

    def score(
        self,
        texts: Sequence[str],
        pair_ids: Sequence[Any],
        sides: Sequence[str],
        sources: Sequence[str] | None = None,
    ) -> dict[str, np.ndarray]:
        """``patarm.score_batch`` with this reward's settings (one call per batch)."""
        from ..rewards import score_batch

        return score_batch(
            list(texts),
            list(pair_ids),
            list(sides),
            sources=None if sources is None else list(sources),
            f=self.f,
            pairwise=self.pairwise,
            think_in_prompt=self.think_in_prompt,
            num_threads=self.num_threads,
            correct_reward=self.correct_reward,
            wrong_reward=self.wrong_reward,
        )

    def metrics(self, result: dict[str, np.ndarray], sides: Sequence[str]) -> dict[str, float]:
        """The logged components of one scored batch (finite values only)."""
        prefix = self.metric_prefix
        rows = len(result["reward"])
        if rows == 0:
            return {}
        errors = np.asarray(result["error_code"]) != 0
        par = np.asarray(result["par"], dtype=np.float64)
        if self.pairwise:  # a hit is a valid verdict naming the chosen response
            hits = ~errors & (par == self.correct_reward) if self.correct_reward != self.wrong_reward else None
        else:
            hits = par > 0
        out = {
            f"{prefix}/format_error_rate": float(errors.mean()),
            f"{prefix}/partner_missing": float(self._partner_missing(result).sum()),
        }
        if hits is not None:
            out[f"{prefix}/par_hit_rate"] = float(hits.mean())
        if not self.pairwise:
            side_array = np.asarray(sides, dtype=object)
            scores = np.asarray(result["score"], dtype=np.float64)
            for side in POINTWISE_SIDES:
                valid = scores[(side_array == side) & ~np.isnan(scores)]
                if valid.size:
                    out[f"{prefix}/score/{side}"] = float(valid.mean())
        return {k: v for k, v in out.items() if math.isfinite(v)}

    def _partner_missing(self, result: dict[str, np.ndarray]) -> np.ndarray:
        """Rows whose pair's other side is not in the batch (pairwise rows hold a whole pair)."""
        if self.pairwise:
            return np.zeros(len(result["reward"]), dtype=bool)
        return ~np.asarray(result["partner_found"], dtype=bool)

    def _report(self, result, sides, pair_ids, sources, log_metric, log_extra) -> None:
        if log_metric is not None:
            for key, value in self.metrics(result, sides).items():
                log_metric(key, value)
        if log_extra is not None and self.log_completion_columns:
            from ..parsing import ERROR_KINDS

            # The completions table then shows which pair and side each judgement belongs to.
            log_extra(f"{self.metric_prefix}_pair_id", [str(p) for p in pair_ids])
            log_extra(f"{self.metric_prefix}_side", [str(s) for s in sides])
            log_extra(f"{self.metric_prefix}_score", np.asarray(result["score"], dtype=np.float64).tolist())
            log_extra(f"{self.metric_prefix}_par", np.asarray(result["par"], dtype=np.float64).tolist())
            log_extra(
                f"{self.metric_prefix}_error",
                [ERROR_KINDS[int(code)] for code in np.asarray(result["error_code"]).tolist()],
            )
        missing = self._partner_missing(result)
        if missing.any():
            count = int(missing.sum())
            self.partner_missing_total += count
            lonely = sorted(
                {(None if sources is None else sources[i], pair_ids[i]) for i in np.flatnonzero(missing).tolist()},
                key=repr,
            )
            logger.warning(
                "patarm: %d completion(s) of %d pair(s) had no partner side in this batch (e.g. %s) and get "
                "R_PAR = 0 (docs/method.md §4); %d so far. Train with patarm.trl.PairGRPOTrainer to keep "
                "pairs whole.",
                count,
                len(lonely),
                lonely[0],
                self.partner_missing_total,
            )
