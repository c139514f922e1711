"""A judge's bias card (``patarm evaluate --bias``), from the judgements its accuracy comes from.

Every figure uses the judgements the report's primary column uses (the first k of each
response, k the smallest count of any response) and the same exact mean comparison:

- ``invalid_rate`` and ``invalid_by_kind``: the share of judgements without a valid score, by the
  parser's error kind (``no_text``: a null in a ``scores`` row, whose kind is unknown).
- ``mean_judgement_chars``: the mean length of the judgement texts (characters).
- ``tie_rate``: the share of compared (chosen, rejected) responses whose mean scores are equal
  (both valid). Compared responses are those accuracy compares: a RewardBench pair, the nine
  style combinations of an RM-Bench item, every chosen against every rejected response of a
  RewardBench 2 item.
- ``length`` per rubric domain: Pearson and Spearman correlation of a response's mean score with
  its length (characters), and ``longer_preferred``: of the compared responses with a strict
  mean order and different lengths, the share where the longer one scores higher (chosen
  responses are often longer, so read it beside accuracy).
- RM-Bench ``styles``: the mean@k matrix of chosen style (rows) against rejected style
  (columns), averaged over the domains (the report's cells), and the mean score per style.
- RewardBench 2 ``cycles``: the items with one chosen and three rejected responses whose
  round-by-round majority relation (:func:`patarm.majority_vote` on every pair of the four)
  has a cycle a > b > c > a. Mean scores order the responses, so mean voting has no cycles.
- Pairwise judges (``--pairwise``): position consistency and ``a_share`` (the share of valid
  verdicts naming A; 0.5 without position bias), ``tie_rate`` (mean-vote ties),
  ``longer_preferred`` (the share of valid verdicts naming the longer response), invalid
  verdicts by kind and judgement length.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from itertools import combinations, permutations
from typing import Any

import numpy as np

from ...voting import majority_vote, mean_vote_gaps
from .items import STYLES, Item, judge_domain
from .judgements import JudgementDetails, ResponseKey


def _share(hits: float, total: int) -> float | None:
    return hits / total if total else None


def _ranks(values: np.ndarray) -> np.ndarray:
    """Ranks from 1, ties given their average rank (as Spearman's rho needs)."""
    order = np.argsort(values, kind="stable")
    ranks = np.empty(len(values), dtype=np.float64)
    sorted_values = values[order]
    start = 0
    while start < len(values):
        stop = start
        while stop + 1 < len(values) and sorted_values[stop + 1] == sorted_values[start]:
            stop += 1
        ranks[order[start : stop + 1]] = (start + stop) / 2 + 1
        start = stop + 1
    return ranks


def _pearson(x: np.ndarray, y: np.ndarray) -> float | None:
    if len(x) < 2 or np.ptp(x) == 0 or np.ptp(y) == 0:
        return None  # undefined without two values on each axis
    return float(np.corrcoef(x, y)[0, 1])


def _responses(item: Item) -> list[tuple[str, int, str]]:
    return [
        (side, i, text)
        for side, texts in (("chosen", item.chosen), ("rejected", item.rejected))
        for i, text in enumerate(texts)
    ]


def _comparisons(benchmark: str, item: Item) -> list[tuple[int, int]]:
    """(chosen index, rejected index) of the responses accuracy compares."""
    if benchmark == "rewardbench":
        return [(0, 0)]
    return [(i, j) for i in range(len(item.chosen)) for j in range(len(item.rejected))]


def _judgement_figures(details: Sequence[JudgementDetails], k: int) -> dict[str, Any]:
    errors = [e for d in details for e in d.errors[:k]]
    lengths = [n for d in details for n in d.lengths[:k] if n is not None]
    kinds: dict[str, float] = {}
    for kind in sorted({e for e in errors if e is not None}):
        kinds[kind] = errors.count(kind) / len(errors)
    return {
        "judgements": len(errors),
        "invalid_rate": _share(sum(e is not None for e in errors), len(errors)),
        "invalid_by_kind": kinds,
        "mean_judgement_chars": float(np.mean(lengths)) if lengths else None,
    }


def pointwise_bias(
    report: dict[str, Any], benchmark: str, items: Sequence[Item], details: dict[ResponseKey, JudgementDetails]
) -> dict[str, Any]:
    """The bias card of a pointwise judge (see the module doc); ``report`` is the accuracy report
    of the same judgements (its k and, for RM-Bench, its style matrices)."""
    k = int(report["judgements_per_response"])
    keys = [(item.id, side, i) for item in items for side, i, _ in _responses(item)]
    card: dict[str, Any] = {"judge": "pointwise", **_judgement_figures([details[key] for key in keys], k)}
    means = {key: _mean(details[key].scores[:k]) for key in keys}

    # every compared (chosen, rejected) response, mean order decided exactly in one batch
    compared = [(item, i, j) for item in items for i, j in _comparisons(benchmark, item)]
    chosen = np.array([details[(item.id, "chosen", i)].scores[:k] for item, i, _ in compared], dtype=np.float64)
    rejected = np.array([details[(item.id, "rejected", j)].scores[:k] for item, _, j in compared], dtype=np.float64)
    _, order = mean_vote_gaps(chosen, rejected)
    both_valid = np.asarray(np.isfinite(chosen).any(axis=1) & np.isfinite(rejected).any(axis=1), dtype=bool)
    card["tie_rate"] = _share(int(np.sum(both_valid & (order == 0))), int(both_valid.sum()))
    card["compared"] = int(both_valid.sum())

    length: dict[str, dict[str, Any]] = {}
    for domain in sorted({judge_domain(benchmark, item.group) for item in items}):
        scored = [
            (len(text), means[(item.id, side, i)])
            for item in items
            if judge_domain(benchmark, item.group) == domain
            for side, i, text in _responses(item)
            if not math.isnan(means[(item.id, side, i)])
        ]
        x = np.array([s[0] for s in scored], dtype=np.float64)
        y = np.array([s[1] for s in scored], dtype=np.float64)
        longer = [
            (len(item.chosen[i]) > len(item.rejected[j])) == (o == 1)
            for (item, i, j), o, ok in zip(compared, order.tolist(), list(both_valid), strict=True)
            if ok
            and o != 0
            and judge_domain(benchmark, item.group) == domain
            and len(item.chosen[i]) != len(item.rejected[j])
        ]
        length[domain] = {
            "responses": len(scored),
            "pearson": _pearson(x, y),
            "spearman": _pearson(_ranks(x), _ranks(y)) if len(x) else None,
            "longer_preferred": _share(sum(longer), len(longer)),
            "decided_pairs": len(longer),
        }
    card["length"] = length
    if benchmark == "rmbench":
        card["styles"] = _style_card(report, items, means)
    if benchmark == "rewardbench2":
        card["cycles"] = _cycles(items, details, k)
    return card


def _mean(scores: np.ndarray) -> float:
    valid = scores[np.isfinite(scores)]
    return float(valid.mean()) if valid.size else math.nan


def _style_card(report: dict[str, Any], items: Sequence[Item], means: dict[ResponseKey, float]) -> dict[str, Any]:
    block = report["results"]["mean"][str(report["primary"]["n"])]
    matrices = [np.asarray(d["matrix"], dtype=np.float64) for d in block["domains"].values()]
    mean_score: dict[str, dict[str, float | None]] = {}
    for side in ("chosen", "rejected"):
        for s, style in enumerate(STYLES):
            values = [means[(item.id, side, s)] for item in items if not math.isnan(means[(item.id, side, s)])]
            mean_score.setdefault(side, {})[style] = float(np.mean(values)) if values else None
    return {"order": list(STYLES), "matrix": np.mean(matrices, axis=0).tolist(), "mean_score": mean_score}


def _cycles(items: Sequence[Item], details: dict[ResponseKey, JudgementDetails], k: int) -> dict[str, Any]:
    four = [item for item in items if len(item.chosen) == 1 and len(item.rejected) == 3]
    pairs = list(combinations(range(4), 2))
    keys = [[(item.id, side, i) for side, i, _ in _responses(item)] for item in four]
    if not four:
        return {"items": 0, "with_cycle": 0, "rate": None}
    a = np.array([details[ks[p]].scores[:k] for ks in keys for p, _ in pairs], dtype=np.float64)
    b = np.array([details[ks[q]].scores[:k] for ks in keys for _, q in pairs], dtype=np.float64)
    vote = majority_vote(a, b)
    a_votes = np.asarray(vote.chosen_votes).reshape(len(four), len(pairs))
    b_votes = np.asarray(vote.rejected_votes).reshape(len(four), len(pairs))
    with_cycle = 0
    for row in range(len(four)):
        beats = set()
        for (p, q), va, vb in zip(pairs, a_votes[row].tolist(), b_votes[row].tolist(), strict=True):
            if va != vb:
                beats.add((p, q) if va > vb else (q, p))
        if any({(x, y), (y, z), (z, x)} <= beats for x, y, z in permutations(range(4), 3)):
            with_cycle += 1
    return {"items": len(four), "with_cycle": with_cycle, "rate": with_cycle / len(four), "method": "majority"}


def pairwise_bias(results: Sequence[Any], summary: dict[str, Any], benchmark: str = "rewardbench") -> dict[str, Any]:
    """The bias card of a pairwise judge from its :class:`patarm.workflow.judge.pairwise.PairwiseResult`
    list (both orders) and :func:`patarm.workflow.judge.pairwise.pairwise_summary`."""
    errors = [e for r in results for order in ("AB", "BA") for e in r.errors[order]]
    lengths = [len(t) for r in results for order in ("AB", "BA") for t in r.judgements[order]]
    kinds = {kind: errors.count(kind) / len(errors) for kind in sorted({e for e in errors if e is not None})}
    longer: dict[str, list[bool]] = {}
    for r in results:
        if len(r.chosen) == len(r.rejected):
            continue
        chosen_longer = len(r.chosen) > len(r.rejected)
        for verdict in r.verdicts[np.isfinite(r.verdicts)].tolist():  # 1.0 names the chosen response
            # evaluate_pairwise keeps the benchmark's subset (or source) in ``domain``
            longer.setdefault(judge_domain(benchmark, r.domain), []).append((verdict == 1.0) == chosen_longer)
    return {
        "judge": "pairwise",
        "judgements": len(errors),
        "invalid_rate": _share(sum(e is not None for e in errors), len(errors)),
        "invalid_by_kind": kinds,
        "mean_judgement_chars": float(np.mean(lengths)) if lengths else None,
        "position_consistency": summary["position_consistency"],
        "a_share": summary["a_rate"],
        "tie_rate": _share(sum(bool(r.mean_tie) for r in results), len(results)),
        "length": {
            domain: {"longer_preferred": _share(sum(flags), len(flags)), "verdicts": len(flags)}
            for domain, flags in sorted(longer.items())
        },
    }


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.1f}%"


def _num(value: float | None) -> str:
    return "-" if value is None else f"{value:+.3f}"


def format_bias(card: dict[str, Any]) -> str:
    """The bias card as terminal lines."""
    lines = [f"bias card ({card['judge']} judge, {card['judgements']} judgements)"]
    kinds = ", ".join(f"{kind} {_pct(share)}" for kind, share in card["invalid_by_kind"].items()) or "none"
    lines.append(f"  invalid {_pct(card['invalid_rate'])}: {kinds}")
    chars = card["mean_judgement_chars"]
    lines.append(f"  mean judgement length: {'-' if chars is None else f'{chars:,.0f}'} chars")
    if card["judge"] == "pairwise":
        lines.append(
            f"  position consistency {_pct(card['position_consistency'])}, A-share {_pct(card['a_share'])}, "
            f"ties {_pct(card['tie_rate'])}"
        )
    else:
        lines.append(f"  ties {_pct(card['tie_rate'])} of {card['compared']} compared responses")
    for domain, d in card["length"].items():
        corr = (
            ""
            if card["judge"] == "pairwise"
            else f"score~length pearson {_num(d['pearson'])} spearman {_num(d['spearman'])}, "
        )
        lines.append(f"  {domain}: {corr}longer preferred {_pct(d['longer_preferred'])}")
    if "styles" in card:
        styles = card["styles"]
        lines.append("  RM-Bench style matrix (chosen row vs rejected column, mean voting):")
        lines.append("    " + " ".join(f"{s:>9}" for s in ["", *styles["order"]]))
        for style, row in zip(styles["order"], styles["matrix"], strict=True):
            lines.append("    " + f"{style:>9} " + " ".join(f"{_pct(v):>9}" for v in row))
    if "cycles" in card:
        c = card["cycles"]
        lines.append(f"  preference cycles (majority voting): {c['with_cycle']} of {c['items']} four-response items")
    return "\n".join(lines)


def plot_bias(card: dict[str, Any], path) -> None:
    """A PNG of the card: invalid share by kind, length preference per domain, and the RM-Bench
    style matrix (or the tie / position figures)."""
    from ..._optional import require_matplotlib
    from ..data.io import atomic_path

    require_matplotlib().use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, middle, right) = plt.subplots(1, 3, figsize=(14, 4))
    kinds = card["invalid_by_kind"]
    left.bar(list(kinds) or ["none"], [100 * v for v in kinds.values()] or [0.0], color="tab:red")
    left.set_ylabel("% of judgements")
    left.set_title(f"invalid judgements ({_pct(card['invalid_rate'])})")
    left.tick_params(axis="x", rotation=30)
    domains = list(card["length"])
    shares = [card["length"][d]["longer_preferred"] for d in domains]
    middle.bar(domains, [math.nan if s is None else 100 * s for s in shares], color="tab:blue")
    middle.axhline(50.0, color="gray", linestyle="--")
    middle.set_ylim(0, 100)
    middle.set_ylabel("% decided for the longer response")
    middle.set_title("length preference")
    middle.tick_params(axis="x", rotation=30)
    if "styles" in card:
        styles = card["styles"]
        image = right.imshow(100 * np.asarray(styles["matrix"]), vmin=0, vmax=100, cmap="viridis")
        right.set_xticks(range(3), styles["order"])
        right.set_yticks(range(3), styles["order"])
        right.set_xlabel("rejected style")
        right.set_ylabel("chosen style")
        right.set_title("RM-Bench style matrix (accuracy %)")
        fig.colorbar(image, ax=right)
    else:
        names = ["ties"] + (["position\nconsistency", "A-share"] if card["judge"] == "pairwise" else [])
        values = [card["tie_rate"]] + (
            [card["position_consistency"], card["a_share"]] if card["judge"] == "pairwise" else []
        )
        if "cycles" in card:
            names.append("cycles")
            values.append(card["cycles"]["rate"])
        right.bar(names, [math.nan if v is None else 100 * v for v in values], color="tab:gray")
        right.set_ylim(0, 100)
        right.set_ylabel("%")
        right.set_title("ties, position and cycles")
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=100)
    plt.close(fig)


__all__ = ["format_bias", "pairwise_bias", "plot_bias", "pointwise_bias"]
