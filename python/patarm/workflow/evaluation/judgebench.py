"""JudgeBench (``ScalerLab/JudgeBench``, splits ``gpt`` and ``claude``), scored as its official
``utils/metrics.py`` (``compute_final_metrics``) and ``run_judge.py`` score it.

A record is a pair: ``pair_id``, ``source`` (``mmlu-pro-<subject>``, ``livebench-reasoning``,
``livebench-math``, ``livecodebench``), ``question``, ``response_A``, ``response_B`` and
``label`` (``"A>B"`` or ``"B>A"``); ``original_id`` and ``response_model`` are not used. The
better response becomes the item's chosen response.

The official metric plays two games per pair, the responses in both orders. Each game's
decision is ``A>B``, ``B>A``, a tie or none; the second game's is flipped back. A decision that
matches the label counts +1, its opposite -1; the pair is correct when the sum is positive, so
one right and one wrong game (an inconsistent judge) is not correct, and one right game with
one tie or none is. A category's accuracy is correct / pairs over the sources starting with
its prefix (micro-averaged), the overall over all pairs.

- A pointwise judge decides each game from the two mean scores (``A>B`` when A's is strictly
  higher), as JudgeBench's reward-model judges do: both games then agree, except that a tie
  (or a side without a valid score) decides ``B>A`` in each game, which the flip makes one
  right and one wrong: not correct. That is ``ties="wrong"``; ``ties="half"`` (not JudgeBench's
  rule) gives such a pair half a win.
- A pairwise judge (``--pairwise``) is judged in both orders; an order's decision is the side
  its valid verdicts name more often (with n = 1, the game's one verdict).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ..._core import DEFAULT_DOMAIN
from ..data.io import DataError, check_id
from .items import Item

# run_judge.py prints these prefixes of ``source`` (the paper's Knowledge, Reasoning, Math, Coding).
JUDGEBENCH_CATEGORIES = ("mmlu-pro", "livebench-reasoning", "livebench-math", "livecodebench")
LABELS = ("A>B", "B>A")


def judgebench_domain(source: str) -> str:
    """The rubric domain to judge a pair with."""
    if source == "livebench-math" or source == "mmlu-pro-math":
        return "math"
    if source == "livecodebench":
        return "code"
    return DEFAULT_DOMAIN


def judgebench_items(records: Sequence[tuple[str, dict[str, Any]]]) -> list[Item]:
    """Items from JudgeBench records in its published layout (see the module doc)."""
    items, seen = [], set()
    for where, record in records:
        for key in ("pair_id", "source", "question", "response_A", "response_B", "label"):
            if record.get(key) is None:
                raise DataError(f"{where}: missing field {key!r} (JudgeBench format)")
        for key in ("source", "question", "response_A", "response_B"):
            if not isinstance(record[key], str):
                raise DataError(f"{where}: field {key!r} must be a string")
        label = record["label"]
        if label not in LABELS:
            raise DataError(f"{where}: field 'label' must be 'A>B' or 'B>A', got {label!r}")
        item_id = str(check_id(record["pair_id"], where, "pair_id"))
        if item_id in seen:
            raise DataError(f"{where}: field 'pair_id': {item_id!r} repeats; ids must be unique")
        seen.add(item_id)
        better, worse = ("response_A", "response_B") if label == "A>B" else ("response_B", "response_A")
        items.append(Item(item_id, record["question"], (record[better],), (record[worse],), record["source"]))
    return items


def judgebench_metrics(items: Sequence[Item], correct: np.ndarray) -> dict[str, Any]:
    """Accuracy per category (micro: correct / pairs of the sources with its prefix), per
    source, and overall (correct / all pairs): ``correct`` holds each pair's credit."""
    flags = correct.reshape(len(items))
    sources = np.array([item.group for item in items])

    def block(mask: np.ndarray) -> dict[str, Any]:
        pairs = int(mask.sum())
        return {"accuracy": float(flags[mask].sum() / pairs) if pairs else float("nan"), "pairs": pairs}

    categories = {
        prefix: block(np.char.startswith(sources, prefix))
        for prefix in JUDGEBENCH_CATEGORIES
        if np.char.startswith(sources, prefix).any()
    }
    subsets = {source: block(sources == source) for source in sorted(set(sources.tolist()))}
    overall = block(np.ones(len(items), dtype=bool))
    return {"categories": categories, "subsets": subsets, "score": overall["accuracy"], "pairs": overall["pairs"]}


def order_decision(verdicts: np.ndarray) -> int:
    """One order's decision from its verdicts (1.0 names the chosen response, 0.0 the other,
    NaN none): +1 the chosen, -1 the rejected, 0 a tie or no valid verdict."""
    valid = verdicts[np.isfinite(verdicts)]
    for_chosen, against = int(np.count_nonzero(valid == 1.0)), int(np.count_nonzero(valid == 0.0))
    return (for_chosen > against) - (for_chosen < against)


def pairwise_credit(verdicts: np.ndarray, tie: float) -> float:
    """JudgeBench's two-game rule on a pairwise judge's (2, n) verdicts: correct when the two
    orders' decisions sum above zero; a zero sum earns ``tie``."""
    counter = sum(order_decision(row) for row in verdicts)
    return 1.0 if counter > 0 else tie if counter == 0 else 0.0


__all__ = [
    "JUDGEBENCH_CATEGORIES",
    "judgebench_domain",
    "judgebench_items",
    "judgebench_metrics",
    "order_decision",
    "pairwise_credit",
]
