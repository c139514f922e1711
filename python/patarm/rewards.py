"""The preference-aware reward (PAR, docs/method.md §4) for one pair, for a whole batch in any
row order, and in the pair form of a verl-style ``compute_score``. All work runs in Rust with
the GIL released; a plain Python callable used as f is applied afterwards to the gaps > 0."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from . import _core
from ._core import Constant, Graded, PairRewards, SideRewards

__all__ = [
    "Constant",
    "Graded",
    "PairRewards",
    "SideRewards",
    "ShapeLike",
    "REWARD_QUANTUM",
    "compute_score",
    "float32_safe",
    "group_par_rewards",
    "par_rewards",
    "score_batch",
]

#: Rewards handed to an RL framework are multiples of this (docs/method.md §4, float32-safe):
#: every partial sum of such values is exact in float32, so a group of identical rewards has
#: exactly its value as mean and an advantage of exactly 0 in GRPO-style normalisation.
REWARD_QUANTUM = 2.0**-10


def float32_safe(rewards: Any) -> np.ndarray:
    """``rewards`` rounded to the nearest multiple of ``REWARD_QUANTUM`` (2^-10), as float64
    (1.2 -> 1.2001953125, 1.4 -> 1.400390625; -1.5, -1.0 and 0 unchanged). Apply it to every
    reward that leaves patarm for verl, TRL or OpenRLHF."""
    values = np.asarray(rewards, dtype=np.float64)
    return np.round(values / REWARD_QUANTUM) * REWARD_QUANTUM


#: Anything accepted as f: a built-in shape (runs in Rust) or a callable of the gap.
ShapeLike = Graded | Constant | Callable[[float], float]


def par_rewards(
    chosen: Sequence[str],
    rejected: Sequence[str],
    *,
    f: ShapeLike | None = None,
    think_in_prompt: bool = False,
    num_threads: int | None = None,
    float32_safe: bool = False,
) -> PairRewards:
    """PAR for one pair: ``chosen`` and ``rejected`` are the judgement texts of each side
    (their counts may differ). ``f`` defaults to ``Graded()``. Means, gaps and thresholds are
    exact (docs/method.md §4); ``float32_safe=True`` snaps ``par`` and ``reward`` to multiples
    of ``REWARD_QUANTUM`` for an RL framework."""
    return _core.par_rewards(
        chosen,
        rejected,
        f=f,
        think_in_prompt=think_in_prompt,
        num_threads=num_threads,
        float32_safe=float32_safe,
    )


def score_batch(
    texts: Sequence[str],
    pair_ids: Sequence[str | int],
    sides: Sequence[str],
    *,
    sources: None | str | Sequence[str] = None,
    f: ShapeLike | None = None,
    pairwise: bool = False,
    think_in_prompt: bool = False,
    num_threads: int | None = None,
    correct_reward: float = 1.0,
    wrong_reward: float = 0.0,
    float32_safe: bool = False,
    answer_only: bool = False,
) -> dict[str, np.ndarray]:
    """Rewards for a batch of judgements in any row order, rows grouped by (source, pair_id).

    ``sides`` holds "chosen"/"rejected", or with ``pairwise=True`` the correct verdict
    "A"/"B" (reward ``correct_reward`` / ``wrong_reward`` plus the format reward).
    Returns arrays aligned with the rows: ``reward``, ``par``, ``format_reward``, ``score``,
    ``opposite_mean`` (NaN when the other side has no valid score), ``error_code`` (int8, an
    index into ``ERROR_KINDS``) and ``partner_found`` (bool). Scores are the exact decimals of
    the verdicts: means, gaps, ties and f's thresholds are decided exactly, in any row order.
    ``float32_safe=True`` snaps ``reward`` and ``par`` to multiples of ``REWARD_QUANTUM``
    (what an RL framework should receive); the default returns the exact values.
    ``answer_only=True`` parses baseline-judge judgements (``PromptTemplate.baseline()``):
    only the last ``<answer>`` block counts, its verdict must lie in [1, 10]."""
    return _core.score_batch(
        texts,
        pair_ids,
        sides,
        sources=sources,
        f=f,
        pairwise=pairwise,
        think_in_prompt=think_in_prompt,
        num_threads=num_threads,
        correct_reward=correct_reward,
        wrong_reward=wrong_reward,
        float32_safe=float32_safe,
        answer_only=answer_only,
    )


def group_par_rewards(
    scores: Any,
    groups: Sequence[Any],
    *,
    f: ShapeLike | None = None,
    float32_safe: bool = False,
    num_threads: int | None = None,
) -> dict[str, np.ndarray]:
    """Group-relative PAR for policy groups (docs/method.md §9): row i of ``scores`` holds the
    judge's scores of completion i (NaN for an invalid judgement; rows may differ in length),
    ``groups[i]`` its prompt (any hashable: a uid, the prompt text). Completion i earns
    f(m_i - o_i) when m_i > o_i, else 0: m_i the mean of its valid scores, o_i the mean of the
    valid scores of all judgements of the other completions of its prompt; 0 when no other
    completion has a valid score. Exact means, ties and thresholds, in any row order.

    Returns arrays aligned with the rows: ``par`` (NaN for a completion with no valid score: a
    judge failure, to mask), ``judged`` (bool), ``mean`` (m_i, NaN when not judged) and ``gap``
    (m_i - o_i where positive, else 0). ``float32_safe=True`` snaps ``par`` to multiples of
    ``REWARD_QUANTUM``."""
    matrix = _score_rows(scores)
    groups = list(groups)
    if len(groups) != matrix.shape[0]:
        raise ValueError(
            f"groups has {len(groups)} entries for {matrix.shape[0]} completions; pass one group id "
            "(the completion's prompt or uid) per completion"
        )
    ids: dict[Any, int] = {}
    for row, group in enumerate(groups):
        try:
            ids.setdefault(group, len(ids))
        except TypeError:
            raise TypeError(
                f"groups[{row}] is a {type(group).__name__}, which is not hashable; pass a str or int id per completion"
            ) from None
    group_ids = np.fromiter((ids[g] for g in groups), dtype=np.int64, count=len(groups))
    judged, mean, gap, par = _core.group_par_arrays(
        matrix, group_ids, f=f, float32_safe=float32_safe, num_threads=num_threads
    )
    return {"par": par, "judged": judged, "mean": mean, "gap": gap}


def _score_rows(scores: Any) -> np.ndarray:
    """A ``[completions, k]`` float64 matrix; ragged rows are padded with NaN (no judgement)."""
    if isinstance(scores, np.ndarray) and scores.ndim == 2:
        return np.ascontiguousarray(scores, dtype=np.float64)
    rows = [np.asarray(row, dtype=np.float64).reshape(-1) for row in scores]
    width = max((len(row) for row in rows), default=0)
    matrix = np.full((len(rows), width), np.nan)
    for index, row in enumerate(rows):
        matrix[index, : len(row)] = row
    return matrix


def _side_texts(solution_str: Mapping[str, Any], side: str) -> list[str]:
    texts = solution_str.get(side)
    if texts is None or isinstance(texts, (str, bytes)):
        raise TypeError(
            f'solution_str["{side}"] must be a list of judgement texts, got {type(texts).__name__}; '
            'pass {"chosen": [texts...], "rejected": [texts...]}'
        )
    return list(texts)


def compute_score(
    data_source: str | None,
    solution_str: Mapping[str, Sequence[str]],
    ground_truth: Any = None,
    extra_info: Mapping[str, Any] | None = None,
    *,
    float32_safe: bool = False,
    **kwargs: Any,
) -> dict[str, list[Any]]:
    """Pair-form reward function for PaTaRM-style managers (and users' own).

    ``solution_str = {"chosen": [...], "rejected": [...]}`` holds the judgement texts of one
    pair. Returns ``{"score": [chosen rewards..., rejected rewards...]}`` plus per-judgement
    lists in the same order: ``par``, ``format_reward``, ``judge_score`` (NaN when invalid),
    ``opposite_mean`` (NaN when the other side has no valid score) and ``error`` (kind or None).
    Keyword options: ``f`` (default ``Graded()``), ``think_in_prompt``, ``num_threads``,
    ``float32_safe`` (snap ``score`` and ``par`` to multiples of 2^-10 for an RL framework); other
    keywords (verl passes several) are ignored. ``ground_truth``/``extra_info`` are unused: the
    side of each text is given by its key."""
    if not isinstance(solution_str, Mapping):
        raise TypeError(
            f"solution_str is {type(solution_str).__name__}; compute_score scores a whole pair: "
            'pass {"chosen": [judgement texts...], "rejected": [judgement texts...]}'
        )
    chosen = _side_texts(solution_str, "chosen")
    rejected = _side_texts(solution_str, "rejected")
    pair = par_rewards(
        chosen,
        rejected,
        f=kwargs.get("f"),
        # Not bool(...): a str such as "no" would be taken as True. The core accepts only a bool.
        think_in_prompt=kwargs.get("think_in_prompt", False),
        num_threads=kwargs.get("num_threads"),
        float32_safe=float32_safe,
    )
    sides = (pair.chosen, pair.rejected)
    opposite = (pair.rejected_mean, pair.chosen_mean)

    def joined(name: str) -> list[float]:
        return [float(x) for side in sides for x in getattr(side, name)]

    return {
        "score": joined("reward"),
        "par": joined("par"),
        "format_reward": joined("format_reward"),
        "judge_score": joined("score"),
        "opposite_mean": [
            math.nan if mean is None else float(mean)
            for side, mean in zip(sides, opposite, strict=True)
            for _ in range(len(side))
        ],
        "error": [_core.ERROR_KINDS[int(code)] for side in sides for code in side.error_code],
    }
