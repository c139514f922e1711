"""Evaluating a pairwise judge on RewardBench and JudgeBench (``patarm evaluate --pairwise``).

Each pair is judged with the A/B prompt ``n`` times in both orders (:mod:`patarm.workflow.judge.pairwise`).
Accuracy per subset and section is computed as for pointwise judges (rewardbench's weights),
from the pairwise credit of each pair: mean voting (the share of valid verdicts naming the
chosen response is above one half) and majority voting over rounds, for n = 1, 2, 4, 8 and all.
The report adds a ``pairwise`` block: position consistency, round consistency, the A-rate.

Judgement rows: ``id``, ``side`` ``"pair"``, ``order`` (``AB``: the chosen response shown as A;
``BA``: shown as B) and ``judgements`` (optionally ``rounds``, as a judgements log writes).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from ...voting import tie_credit
from ..data.io import DataError, PathLike, check_id, read_records
from ..judge.pairwise import ORDERS, PairwiseResult, pairwise_results, pairwise_summary
from .items import Item, judge_domain
from .metrics import METHODS, VOTE_LEVELS, rewardbench_metrics, vote_levels
from .report import EvaluationReport

PairKey = tuple[str, str]  # (item id, order)


def check_pairwise_benchmark(benchmark: str) -> None:
    if benchmark not in ("rewardbench", "judgebench"):
        raise ValueError(
            f"--pairwise evaluates RewardBench or JudgeBench pairs (one chosen, one rejected); "
            f"{benchmark} items have several responses per side: drop --pairwise"
        )


def judge_pairwise_benchmark(
    items: Sequence[Item], judge, *, log=None, show_progress: bool = True, benchmark: str = "rewardbench"
):
    """Judge every pair in both orders; returns (rows, stats) as the judgements file holds them."""
    prompts = [item.prompt for item in items]
    chosen = [item.chosen[0] for item in items]
    rejected = [item.rejected[0] for item in items]
    domains = [judge_domain(benchmark, item.group) for item in items]
    slots = [{"id": item.id, "side": "pair", "order": order} for order in ORDERS for item in items]
    results = judge.compare_pairwise_many(
        prompts,
        chosen,
        rejected,
        domains=domains,
        show_progress=show_progress,
        cache=log,
        _slots=slots if log is not None else None,
    )
    rows = [
        dict(slot, judgements=list(results[i % len(items)].judgements[slot["order"]])) for i, slot in enumerate(slots)
    ]
    return rows, results.stats


def pairwise_texts(records: Iterable[tuple[str, dict[str, Any]]]) -> dict[PairKey, list[str]]:
    """Judgement texts per (item id, order), rounds placed by ``rounds`` where given."""
    listed: dict[PairKey, list[str]] = {}
    by_round: dict[PairKey, dict[int, str]] = {}
    for where, record in records:
        if record.get("id") is None:
            raise DataError(f"{where}: missing field 'id' (the benchmark item id)")
        order = record.get("order")
        if order not in ORDERS:
            raise DataError(
                f"{where}: field 'order' must be 'AB' (chosen shown as A) or 'BA', got {order!r}; "
                "pairwise judgements files come from patarm evaluate --pairwise --save-judgements"
            )
        texts = record.get("judgements")
        if not isinstance(texts, list) or not all(isinstance(t, str) for t in texts):
            raise DataError(f"{where}: field 'judgements' must be a list of strings")
        key = (str(check_id(record["id"], where, "id")), order)
        rounds = record.get("rounds")
        if rounds is None:
            listed.setdefault(key, []).extend(texts)
        elif isinstance(rounds, list) and len(rounds) == len(texts):
            by_round.setdefault(key, {}).update(zip(rounds, texts, strict=True))
        else:
            raise DataError(f"{where}: field 'rounds' must list one round per judgement")
    for key, rounds in by_round.items():
        listed.setdefault(key, []).extend(rounds[r] for r in sorted(rounds))
    return listed


def load_pairwise_texts(path: PathLike) -> dict[PairKey, list[str]]:
    return pairwise_texts(read_records(path))


def rows_as_records(rows: Sequence[dict[str, Any]]):
    return ((f"judgement row {i}", row) for i, row in enumerate(rows))


def evaluate_pairwise(
    items: Sequence[Item],
    texts: dict[PairKey, list[str]],
    *,
    levels: Sequence[int] = VOTE_LEVELS,
    ties: str = "wrong",
    think_in_prompt: bool = False,
    bias: bool = False,
    benchmark: str = "rewardbench",
) -> EvaluationReport:
    """The RewardBench (or ``benchmark="judgebench"``: JudgeBench, by its two-game rule) report
    of a pairwise judge (see the module doc); ``bias=True`` adds the
    bias card (:func:`patarm.workflow.evaluation.bias.pairwise_bias`) of the full judgements."""
    tie_credit(ties)
    if not items:
        raise DataError("no benchmark items to evaluate")
    missing = [(item.id, order) for item in items for order in ORDERS if not texts.get((item.id, order))]
    if missing:
        shown = ", ".join(f"id={i!r} order={o}" for i, o in missing[:5])
        more = f" and {len(missing) - 5} more" if len(missing) > 5 else ""
        raise DataError(f"no pairwise judgements for {shown}{more}; every pair needs judgements in both orders")
    k = min(len(texts[(item.id, order)]) for item in items for order in ORDERS)
    check_pairwise_benchmark(benchmark)
    if benchmark == "judgebench":
        from .judgebench import judgebench_metrics

        metrics = judgebench_metrics
    else:
        metrics = rewardbench_metrics
    ns = vote_levels(k, levels)
    results: dict[str, dict[str, Any]] = {m: {} for m in METHODS}
    full: list[PairwiseResult] = []
    for n in ns:
        judged = pairwise_results(
            [i.prompt for i in items],
            [i.chosen[0] for i in items],
            [i.rejected[0] for i in items],
            [i.group for i in items],
            [texts[(i.id, "AB")][:n] for i in items],
            [texts[(i.id, "BA")][:n] for i in items],
            think_in_prompt=think_in_prompt,
        )
        for method in METHODS:
            if benchmark == "judgebench" and method == "mean":
                from .judgebench import pairwise_credit

                values = [pairwise_credit(r.verdicts, tie_credit(ties)) for r in judged]
            else:
                values = [r.credit(method, ties) for r in judged]
            credit = np.array(values, dtype=np.float64).reshape(-1, 1, 1)
            results[method][str(n)] = metrics(items, credit)
        full = judged
    summary = pairwise_summary(full, ties)
    report = EvaluationReport(
        {
            "benchmark": benchmark,
            "judge": "pairwise",
            "items": len(items),
            "judgements_per_response": k,  # per pair and order
            "ties": ties,
            "valid_judgement_rate": summary["valid_judgement_rate"],
            "n": ns,
            "primary": {"method": "mean", "n": ns[-1], "score": results["mean"][str(ns[-1])]["score"]},
            "results": results,
            "pairwise": {
                key: summary[key]
                for key in ("position_consistency", "position_consistency_pairs", "round_consistency", "a_rate")
            },
            # the mean-vote gap: share of verdicts for the chosen response minus the share against
            "score_gaps": [None if math.isnan(r.chosen_share) else 2 * r.chosen_share - 1 for r in full],
        }
    )
    if bias:
        from .bias import pairwise_bias

        report["bias"] = pairwise_bias(full, summary, benchmark)
    return report


def format_pairwise_line(report: dict[str, Any]) -> str:
    block = report["pairwise"]

    def pct(value):
        return "-" if value is None else f"{100 * value:.1f}%"

    return (
        f"pairwise judge, both orders: position consistency {pct(block['position_consistency'])} "
        f"of {block['position_consistency_pairs']} pairs, round consistency {pct(block['round_consistency'])}, "
        f"verdict A {pct(block['a_rate'])}"
    )


__all__ = [
    "check_pairwise_benchmark",
    "evaluate_pairwise",
    "format_pairwise_line",
    "judge_pairwise_benchmark",
    "load_pairwise_texts",
    "pairwise_texts",
]
