"""Evaluating a judge on RewardBench, RM-Bench and RewardBench 2 (docs/method.md §6): judge a
benchmark's responses with a live :class:`patarm.Judge`, and score judgements into a report.

- :mod:`patarm.workflow.evaluation.items`: the benchmarks' items, read in their published formats.
- :mod:`patarm.workflow.evaluation.judgements`: scores per response from a judgements file or rows.
- :mod:`patarm.workflow.evaluation.metrics`: voting and accuracy (RewardBench's sections,
  RM-Bench's style matrix); :mod:`patarm.workflow.evaluation.rewardbench2`: RewardBench 2's.
- :mod:`patarm.workflow.evaluation.render`: the report's tables and plot.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from ...voting import mean_vote_gaps, tie_credit
from ..data.io import DataError
from .items import Item, judge_domain
from .judgements import ResponseKey
from .metrics import (
    METHODS,
    VOTE_LEVELS,
    correct_matrix,
    rewardbench_metrics,
    rmbench_metrics,
    score_tensors,
    vote_levels,
)
from .report import EvaluationReport


def evaluate_scores(
    benchmark: str,
    items: Sequence[Item],
    scores: dict[ResponseKey, np.ndarray],
    *,
    levels: Sequence[int] = VOTE_LEVELS,
    ties: str = "wrong",
) -> EvaluationReport:
    """All metrics for every voting method and n. Returns a JSON-ready report. ``ties``:
    ``"wrong"`` (default) or ``"half"`` (a tie or a side without a valid score is half a win)."""
    tie_credit(ties)
    if not items:
        raise DataError("no benchmark items to evaluate")
    if benchmark == "rewardbench2":
        return _evaluate_rewardbench2(items, scores, levels=levels, ties=ties)
    chosen, rejected = score_tensors(items, scores)
    k = chosen.shape[2]
    ns = vote_levels(k, levels)
    if benchmark == "judgebench":
        from .judgebench import judgebench_metrics

        metrics = judgebench_metrics
    else:
        metrics = rewardbench_metrics if benchmark == "rewardbench" else rmbench_metrics
    results: dict[str, dict[str, Any]] = {m: {} for m in METHODS}
    for method in METHODS:
        for n in ns:
            results[method][str(n)] = metrics(items, correct_matrix(chosen, rejected, n, method, ties))
    gaps, _ = mean_vote_gaps(chosen.reshape(-1, k), rejected.reshape(-1, k))  # same style on both sides
    valid = np.isfinite(chosen).mean() * 0.5 + np.isfinite(rejected).mean() * 0.5
    return EvaluationReport(
        {
            "benchmark": benchmark,
            "items": len(items),
            "judgements_per_response": k,
            "ties": ties,
            "valid_judgement_rate": float(valid),
            "n": ns,
            "primary": {"method": "mean", "n": ns[-1], "score": results["mean"][str(ns[-1])]["score"]},
            "results": results,
            "score_gaps": [None if math.isnan(g) else float(g) for g in gaps.tolist()],
        }
    )


def _evaluate_rewardbench2(
    items: Sequence[Item], scores: dict[ResponseKey, np.ndarray], *, levels: Sequence[int], ties: str
) -> EvaluationReport:
    from .rewardbench2 import response_keys, rewardbench2_metrics, score_gaps

    keys = response_keys(items)
    missing = [key for key in keys if key not in scores or len(scores[key]) == 0]
    if missing:
        shown = ", ".join(f"id={i!r} side={side} index={j}" for i, side, j in missing[:5])
        more = f" and {len(missing) - 5} more" if len(missing) > 5 else ""
        raise DataError(f"no judgements for {shown}{more}; every response of every item needs judgements")
    k = min(len(scores[key]) for key in keys)
    ns = vote_levels(k, levels)
    results = {m: {str(n): rewardbench2_metrics(items, scores, k, n, m, ties) for n in ns} for m in METHODS}
    valid = float(np.mean([np.isfinite(scores[key][:k]).mean() for key in keys]))
    return EvaluationReport(
        {
            "benchmark": "rewardbench2",
            "items": len(items),
            "judgements_per_response": k,
            "ties": ties,
            "valid_judgement_rate": valid,
            "n": ns,
            "primary": {"method": "mean", "n": ns[-1], "score": results["mean"][str(ns[-1])]["score"]},
            "results": results,
            "score_gaps": score_gaps(items, scores, k),
        }
    )


# --------------------------------------------------------------------------------------------
# Live judging


def judge_benchmark(
    benchmark: str, items: Sequence[Item], judge, *, show_progress: bool = True
) -> list[dict[str, Any]]:
    """Judge every response of every item with a live :class:`patarm.Judge`; returns rows of
    the judgements-file format (save them to evaluate again without the server)."""
    return judge_benchmark_logged(benchmark, items, judge, show_progress=show_progress)[0]


def judge_benchmark_logged(benchmark: str, items: Sequence[Item], judge, *, log=None, show_progress: bool = True):
    """:func:`judge_benchmark` with a :class:`patarm.workflow.judge.log.JudgementLog` (every reply
    appended as it arrives; rounds already logged are not requested again). Returns the rows
    and the run's :class:`patarm.workflow.judge.log.JudgingStats`."""
    keys, prompts, responses, domains = [], [], [], []
    for item in items:
        domain = judge_domain(benchmark, item.group)
        for side, texts in (("chosen", item.chosen), ("rejected", item.rejected)):
            for style, text in enumerate(texts):
                keys.append((item.id, side, style))
                prompts.append(item.prompt)
                responses.append(text)
                domains.append(domain)

    def slot(item_id: str, side: str, style: int) -> dict[str, Any]:
        row: dict[str, Any] = {"id": item_id, "side": side}
        if benchmark == "rmbench":
            row["style"] = style
        elif benchmark == "rewardbench2":
            row["index"] = style
        return row

    slots = [slot(*key) for key in keys]
    results = judge.score_many(
        prompts,
        responses,
        domains=domains,
        show_progress=show_progress,
        cache=log,
        _slots=slots if log is not None else None,
    )
    rows = [dict(row, judgements=list(result.judgements)) for row, result in zip(slots, results, strict=True)]
    return rows, results.stats


__all__ = ["evaluate_scores", "judge_benchmark", "judge_benchmark_logged"]
