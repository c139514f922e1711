"""Evaluating a judge on RewardBench and RM-Bench (docs/method.md §6).

Benchmarks are read in their published formats:

- RewardBench: one pair per record, ``prompt``, ``chosen``, ``rejected``, ``subset`` (``id``
  optional). A pair is correct when the chosen score is strictly higher. Accuracy is reported
  per subset and per section (``Chat``, ``Chat Hard``, ``Safety``, ``Reasoning``: the names
  rewardbench prints) as rewardbench 0.1.4 computes them: a subset's accuracy is
  correct / pairs, a section's is ``calculate_scores_per_section`` over its subsets weighted by
  ``EXAMPLE_COUNTS`` (math-prm 984, counting as much as the six code subsets together;
  xstest-should-refuse 154, xstest-should-respond 250); the overall score is the mean of the
  sections. Subsets rewardbench does not know are reported in an ``other`` section weighted by
  their pair counts, outside the score.
- RM-Bench: one item per record, ``prompt``, ``chosen`` and ``rejected`` (three responses each,
  in the styles concise, detailed plain text, detailed markdown) and ``domain`` (``chat``,
  ``math``, ``code``, ``safety-refuse``, ``safety-response``: the last two are reported as
  ``safety``). The 3x3 matrix counts chosen-beats-rejected per style combination; hard = mean of
  the upper-right triangle, normal = the diagonal, easy = the lower-left triangle. A domain's
  accuracy is the mean of its nine cells; the total is the mean of the domains.
- RewardBench 2: one item per record, ``id``, ``prompt``, ``chosen`` and ``rejected`` (lists:
  one chosen and three rejected responses; more of both in the Ties subset), ``subset``,
  ``num_correct`` (optional). Scored as rewardbench 0.1.4 scores it: see
  :mod:`patarm.workflow.evaluation.rewardbench2`.

The published datasets can be read by name (``allenai/reward-bench``, ``THU-KEG/RM-Bench``,
``allenai/reward-bench-2``): see :mod:`patarm.workflow.evaluation.benchmarks` for the field mapping.

Judgements come from a file (``id``, ``side``, ``style`` for RM-Bench or ``index`` for
RewardBench 2 (the response's position in its side's list), and ``judgements`` /
``text`` / ``scores``) or from a live :class:`patarm.Judge`. A baseline judge (a
general-purpose LLM given ``PromptTemplate.baseline()``, docs/method.md §6) is evaluated the same
way, its judgements parsed with ``answer_only=True``. Votes use the first n judgements of
every response, for n = 1, 2, 4, 8 while enough exist (and all of them): mean voting (the mean
of the valid scores) and majority voting (round i compares the i-th judgements; more rounds
won wins). Means are compared exactly (docs/method.md §4). Ties, and pairs where a side has no
valid score, count as wrong by default (``ties="wrong"``, the paper's rule) or as half a win
(``ties="half"``, as RewardBench's generative-judge script counts a tie or an error).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..._core import DEFAULT_DOMAIN
from ..._optional import require_matplotlib
from ...voting import TIES, majority_vote, mean_vote_gaps, tie_credit
from ..data.io import DataError, PathLike, check_id, read_records
from .report import EvaluationReport

VOTE_LEVELS = (1, 2, 4, 8)
METHODS = ("mean", "majority")
STYLES = ("concise", "detailed", "markdown")

# rewardbench 0.1.4, rewardbench/constants.py: SUBSET_MAPPING (section -> subsets, in its order)
# and EXAMPLE_COUNTS (the section weights).
REWARDBENCH_SECTIONS: dict[str, tuple[str, ...]] = {
    "Chat": ("alpacaeval-easy", "alpacaeval-length", "alpacaeval-hard", "mt-bench-easy", "mt-bench-med"),
    "Chat Hard": (
        "mt-bench-hard",
        "llmbar-natural",
        "llmbar-adver-neighbor",
        "llmbar-adver-GPTInst",
        "llmbar-adver-GPTOut",
        "llmbar-adver-manual",
    ),
    "Safety": (
        "refusals-dangerous",
        "refusals-offensive",
        "xstest-should-refuse",
        "xstest-should-respond",
        "donotanswer",
    ),
    "Reasoning": ("math-prm", "hep-cpp", "hep-go", "hep-java", "hep-js", "hep-python", "hep-rust"),
}
REWARDBENCH_WEIGHTS: dict[str, int] = {
    "alpacaeval-easy": 100,
    "alpacaeval-length": 95,
    "alpacaeval-hard": 95,
    "mt-bench-easy": 28,
    "mt-bench-med": 40,
    "mt-bench-hard": 37,
    "math-prm": 984,
    "refusals-dangerous": 100,
    "refusals-offensive": 100,
    "llmbar-natural": 100,
    "llmbar-adver-neighbor": 134,
    "llmbar-adver-GPTInst": 92,
    "llmbar-adver-GPTOut": 47,
    "llmbar-adver-manual": 46,
    "xstest-should-refuse": 154,
    "xstest-should-respond": 250,
    "donotanswer": 136,
    "hep-cpp": 164,
    "hep-go": 164,
    "hep-java": 164,
    "hep-js": 164,
    "hep-python": 164,
    "hep-rust": 164,
}
OTHER_SECTION = "other"
SUBSET_TO_SECTION = {subset: section for section, subsets in REWARDBENCH_SECTIONS.items() for subset in subsets}
RMBENCH_DOMAINS = ("chat", "math", "code", "safety")


@dataclass(frozen=True)
class Item:
    """One benchmark entry: a RewardBench pair (one style) or an RM-Bench item (three styles).
    ``group`` is the RewardBench subset or the RM-Bench domain."""

    id: str
    prompt: str
    chosen: tuple[str, ...]
    rejected: tuple[str, ...]
    group: str

    def __repr__(self) -> str:
        return f"Item(id={self.id!r}, group={self.group!r}, styles={len(self.chosen)})"


BENCHMARK_FORMATS = ("rewardbench", "rmbench", "rewardbench2")


def judge_domain(benchmark: str, group: str) -> str:
    """The rubric domain to judge an item with."""
    if benchmark == "rmbench":
        return rmbench_domain(group)
    if benchmark == "rewardbench2":
        from .rewardbench2 import rb2_domain

        return rb2_domain(group)
    if group == "math-prm":
        return "math"
    if group.startswith("hep-"):
        return "code"
    return "safety" if SUBSET_TO_SECTION.get(group) == "Safety" else DEFAULT_DOMAIN


def rmbench_domain(domain: str) -> str:
    return "safety" if domain.startswith("safety") else domain


def detect_benchmark(records: Sequence[tuple[str, dict[str, Any]]]) -> str:
    if not records:
        raise DataError("the benchmark file is empty")
    where, first = records[0]
    if isinstance(first.get("chosen"), (list, tuple)):
        return "rewardbench2" if "subset" in first and "domain" not in first else "rmbench"
    if "subset" in first:
        return "rewardbench"
    raise DataError(
        f"{where}: cannot tell the benchmark: RewardBench records have 'subset' and string responses, "
        "RM-Bench records have three 'chosen' and three 'rejected' responses and 'domain', RewardBench 2 "
        "records have lists of responses and 'subset'; pass --benchmark"
    )


def load_benchmark(
    path: PathLike, benchmark: str = "auto", *, dataset_path: PathLike | None = None
) -> tuple[str, list[Item]]:
    """Read a benchmark: a local RewardBench, RM-Bench or RewardBench 2 file, or a published
    dataset by name (``allenai/reward-bench``, ``THU-KEG/RM-Bench``, ``allenai/reward-bench-2``,
    read with ``datasets``; ``dataset_path`` reads a local copy in its place). Returns
    (benchmark format, items)."""
    from .benchmarks import is_published_name, load_published

    if is_published_name(path):
        found, items = load_published(str(path), dataset_path=dataset_path)
        if benchmark not in ("auto", found):
            raise ValueError(f"{path} is a {found} benchmark, not {benchmark!r}; drop --benchmark")
        return found, items
    if dataset_path is not None:
        raise ValueError(
            f"--dataset-path is for a benchmark given by name ({', '.join(_published_names())}), "
            f"not for the local file {path}"
        )
    records = read_records(path)
    if not records:
        raise DataError(f"{path}: no benchmark items in the file (it is empty)")
    if benchmark == "auto":
        benchmark = detect_benchmark(records)
    return benchmark, items_from_records(records, benchmark)


def _published_names() -> list[str]:
    from .benchmarks import PUBLISHED

    return list(PUBLISHED)


def items_from_records(records: Sequence[tuple[str, dict[str, Any]]], benchmark: str) -> list[Item]:
    """Benchmark items from ``(location, record)`` pairs in the benchmark's published format."""
    if benchmark not in BENCHMARK_FORMATS:
        raise ValueError(f"unknown benchmark {benchmark!r}; use 'rewardbench', 'rmbench', 'rewardbench2' or 'auto'")
    styles = {"rmbench": 3, "rewardbench": 1}.get(benchmark)  # None: lists of any length
    group_key = "domain" if benchmark == "rmbench" else "subset"
    items, seen = [], set()
    for index, (where, record) in enumerate(records):
        for key in ("prompt", "chosen", "rejected", group_key):
            if record.get(key) is None:
                raise DataError(f"{where}: missing field {key!r} ({benchmark} format)")
        sides = []
        for key in ("chosen", "rejected"):
            value = record[key]
            if styles is None:
                if not isinstance(value, (list, tuple)) or not value or not all(isinstance(v, str) for v in value):
                    raise DataError(f"{where}: field {key!r} must be a non-empty list of strings")
            else:
                value = list(value) if isinstance(value, (list, tuple)) else [value]
                if len(value) != styles or not all(isinstance(v, str) for v in value):
                    want = "three strings (concise, detailed, markdown)" if styles == 3 else "a string"
                    raise DataError(f"{where}: field {key!r} must be {want}")
            sides.append(tuple(value))
        if not isinstance(record["prompt"], str):
            raise DataError(f"{where}: field 'prompt' must be a string")
        item_id = str(check_id(record.get("id", index), where, "id"))
        if item_id in seen:
            raise DataError(f"{where}: field 'id': {item_id!r} repeats; ids must be unique")
        seen.add(item_id)
        group = str(record[group_key])
        if benchmark == "rmbench" and rmbench_domain(group) not in RMBENCH_DOMAINS:
            raise DataError(
                f"{where}: field 'domain': unknown RM-Bench domain {group!r}; "
                f"expected one of chat, math, code, safety-refuse, safety-response"
            )
        if benchmark == "rewardbench2":
            from .rewardbench2 import check_rb2_item

            check_rb2_item(where, item_id, group, sides[0], record.get("num_correct"))
        items.append(Item(item_id, record["prompt"], sides[0], sides[1], group))
    return items


# --------------------------------------------------------------------------------------------
# Judgements


ResponseKey = tuple[str, str, int]  # (item id, side, style index)


def load_judgement_scores(
    path: PathLike, *, think_in_prompt: bool = False, answer_only: bool = False
) -> dict[ResponseKey, np.ndarray]:
    """Read a judgements file; every judgement text is parsed in one Rust batch. Rows with
    the same (id, side, style) accumulate in file order. ``answer_only=True`` parses a
    baseline judge's judgements (only the last ``<answer>``, a verdict in [1, 10])."""
    records = read_records(path)
    if not records:
        raise DataError(f"{path}: no judgements in the file (it is empty)")
    return judgement_scores(records, think_in_prompt=think_in_prompt, answer_only=answer_only)


def judgement_scores(
    records: Iterable[tuple[str, dict[str, Any]]], *, think_in_prompt: bool = False, answer_only: bool = False
) -> dict[ResponseKey, np.ndarray]:
    """Scores per response from ``(location, record)`` judgement rows (see the module doc)."""
    from ...parsing import parse_judgements

    entries: list[tuple[ResponseKey, list[Any], bool, list[int] | None]] = []
    for where, record in records:
        if record.get("id") is None:
            raise DataError(f"{where}: missing field 'id' (the benchmark item id)")
        side = record.get("side")
        if side not in ("chosen", "rejected"):
            raise DataError(f"{where}: field 'side' must be 'chosen' or 'rejected', got {side!r}")
        if record.get("index") is not None:  # RewardBench 2: position in the side's list
            style = record["index"]
            if not isinstance(style, int) or isinstance(style, bool) or style < 0:
                raise DataError(f"{where}: field 'index' must be a response's position (0, 1, ...), got {style!r}")
        else:
            style = record.get("style", 0)
            if isinstance(style, str) and style in STYLES:
                style = STYLES.index(style)
            if not isinstance(style, int) or isinstance(style, bool) or not 0 <= style < len(STYLES):
                raise DataError(f"{where}: field 'style' must be 0, 1, 2 or one of {STYLES}, got {style!r}")
        key = (str(check_id(record["id"], where, "id")), side, style)
        if (
            record.get("judgements") is not None
            or record.get("text") is not None
            or record.get("judgement") is not None
        ):
            texts = record.get("judgements")
            if texts is None:
                texts = [record.get("text", record.get("judgement"))]
            if not isinstance(texts, list) or not all(isinstance(t, str) for t in texts):
                raise DataError(f"{where}: field 'judgements' must be a list of strings")
            entries.append((key, texts, True, _rounds(record, len(texts), where)))
        elif record.get("scores") is not None or record.get("score") is not None:
            scores = record.get("scores", [record.get("score")])
            if not isinstance(scores, list):
                raise DataError(f"{where}: field 'scores' must be a list of numbers (null for invalid)")
            try:
                values = [math.nan if s is None else float(s) for s in scores]
            except (TypeError, ValueError):
                raise DataError(f"{where}: field 'scores' must hold numbers or null") from None
            entries.append((key, values, False, _rounds(record, len(values), where)))
        else:
            raise DataError(f"{where}: needs 'judgements' (texts), 'text' or 'scores'")
    flat = [t for _, texts, is_text, _ in entries if is_text for t in texts]
    parsed = iter(
        np.asarray(
            parse_judgements(flat, think_in_prompt=think_in_prompt, answer_only=answer_only)["score"], dtype=np.float64
        ).tolist()
        if flat
        else []
    )
    # Rows without "rounds" accumulate in file order; rows of a judgements log (with "rounds")
    # are placed by round after them, the last reply for a round winning.
    store: dict[ResponseKey, tuple[list[float], dict[int, float]]] = {}
    for key, values, is_text, rounds in entries:
        listed, by_round = store.setdefault(key, ([], {}))
        scores = [next(parsed) for _ in values] if is_text else values
        if rounds is None:
            listed.extend(scores)
        else:
            by_round.update(zip(rounds, scores, strict=True))
    return {
        key: np.asarray(listed + [by_round[r] for r in sorted(by_round)], dtype=np.float64)
        for key, (listed, by_round) in store.items()
    }


def _rounds(record: dict[str, Any], count: int, where: str) -> list[int] | None:
    """The ``rounds`` of a judgements-log row (None for other rows)."""
    rounds = record.get("rounds")
    if rounds is None:
        return None
    if (
        not isinstance(rounds, list)
        or len(rounds) != count
        or not all(isinstance(r, int) and not isinstance(r, bool) and r >= 0 for r in rounds)
    ):
        raise DataError(f"{where}: field 'rounds' must list one round (0, 1, ...) per judgement")
    return rounds


def score_tensors(items: Sequence[Item], scores: dict[ResponseKey, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Chosen and rejected scores as arrays of shape (items, styles, k), k the smallest
    judgement count of any response (later judgements are not used)."""
    styles = len(items[0].chosen)
    missing = [
        (item.id, side, s)
        for item in items
        for side in ("chosen", "rejected")
        for s in range(styles)
        if (item.id, side, s) not in scores or len(scores[(item.id, side, s)]) == 0
    ]
    if missing:
        shown = ", ".join(f"id={i!r} side={side} style={s}" for i, side, s in missing[:5])
        more = f" and {len(missing) - 5} more" if len(missing) > 5 else ""
        raise DataError(f"no judgements for {shown}{more}; every response of every item needs judgements")
    k = min(len(scores[(item.id, side, s)]) for item in items for side in ("chosen", "rejected") for s in range(styles))
    chosen = np.array([[scores[(i.id, "chosen", s)][:k] for s in range(styles)] for i in items], dtype=np.float64)
    rejected = np.array([[scores[(i.id, "rejected", s)][:k] for s in range(styles)] for i in items], dtype=np.float64)
    return chosen, rejected


def vote_levels(k: int, levels: Sequence[int] = VOTE_LEVELS) -> list[int]:
    """The n to report: the standard levels up to k, and k itself."""
    out = [n for n in levels if n <= k]
    if k not in out:
        out.append(k)
    return out


def correct_matrix(chosen: np.ndarray, rejected: np.ndarray, n: int, method: str, ties: str = "wrong") -> np.ndarray:
    """Credit (items, styles, styles) of chosen style i against rejected style j, voting over
    the first n judgements of each response: 1 for a win, 0 for a loss, and for a tie or a
    side without a valid score 0 (``ties="wrong"``) or 0.5 (``ties="half"``). Mean voting
    compares the means exactly."""
    credit = tie_credit(ties)
    if method not in METHODS:
        raise ValueError(f"unknown voting method {method!r}; use 'mean' or 'majority'")
    items, styles, _ = chosen.shape
    out = np.zeros((items, styles, styles), dtype=np.float64)
    for i in range(styles):
        for j in range(styles):
            c, r = chosen[:, i, :n], rejected[:, j, :n]
            if method == "mean":
                _, order = mean_vote_gaps(c, r)
                wins, level = order == 1, order == 0  # no valid score on a side: order 0
            else:
                vote = majority_vote(c, r)
                wins, level = vote.chosen_wins, vote.ties
            out[:, i, j] = wins + credit * level
    return out


def _accuracy(values: np.ndarray) -> float:
    return float(np.mean(values)) if values.size else math.nan


def section_scores(accuracy: dict[str, float], weights: dict[str, int] = REWARDBENCH_WEIGHTS) -> dict[str, float]:
    """Per-section scores as rewardbench's ``calculate_scores_per_section`` computes them (the
    same sums in the same order): sum(accuracy * weight) / sum(weight) over the section's
    subsets that are present; sections with no subset present are left out."""
    sections: dict[str, float] = {}
    for section, subsets in REWARDBENCH_SECTIONS.items():
        total_weighted_score, total_examples = 0.0, 0
        for subset in subsets:
            if subset in accuracy:
                total_weighted_score += accuracy[subset] * weights[subset]
                total_examples += weights[subset]
        if total_examples > 0:
            sections[section] = total_weighted_score / total_examples
    return sections


def rewardbench_metrics(items: Sequence[Item], correct: np.ndarray) -> dict[str, Any]:
    """Accuracy per subset (correct / pairs), per section (rewardbench's weights) and overall
    (the mean of the sections)."""
    flags = correct[:, 0, 0]
    subsets: dict[str, dict[str, float]] = {}
    for subset in sorted({item.group for item in items}):
        mask = np.array([item.group == subset for item in items])
        subsets[subset] = {"accuracy": _accuracy(flags[mask]), "pairs": int(mask.sum())}
    accuracy = {name: v["accuracy"] for name, v in subsets.items()}
    sections = section_scores(accuracy)
    known = list(sections.values())
    others = [s for s in subsets if s not in SUBSET_TO_SECTION]
    if others:
        pairs = sum(subsets[s]["pairs"] for s in others)
        sections[OTHER_SECTION] = sum(subsets[s]["accuracy"] * subsets[s]["pairs"] for s in others) / pairs
    return {"subsets": subsets, "sections": sections, "score": float(np.mean(known)) if known else math.nan}


def rmbench_metrics(items: Sequence[Item], correct: np.ndarray) -> dict[str, Any]:
    """The 3x3 matrix, hard / normal / easy per domain, and the total."""
    domains: dict[str, dict[str, Any]] = {}
    upper = np.triu_indices(3, 1)
    lower = np.tril_indices(3, -1)
    for domain in RMBENCH_DOMAINS:
        mask = np.array([rmbench_domain(item.group) == domain for item in items])
        if not mask.any():
            continue
        matrix = correct[mask].mean(axis=0)
        hard, normal, easy = matrix[upper].mean(), np.diag(matrix).mean(), matrix[lower].mean()
        domains[domain] = {
            "hard": float(hard),
            "normal": float(normal),
            "easy": float(easy),
            "accuracy": float(matrix.mean()),
            "items": int(mask.sum()),
            "matrix": matrix.tolist(),
        }
    summary = {
        key: float(np.mean([d[key] for d in domains.values()])) for key in ("hard", "normal", "easy", "accuracy")
    }
    return {"domains": domains, "average": summary, "score": summary["accuracy"]}


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


def scores_from_rows(
    rows: Iterable[dict[str, Any]], *, think_in_prompt: bool = False, answer_only: bool = False
) -> dict[ResponseKey, np.ndarray]:
    """Scores from judgement rows held in memory (as :func:`judge_benchmark` returns)."""
    return judgement_scores(
        ((f"judgement row {i}", row) for i, row in enumerate(rows)),
        think_in_prompt=think_in_prompt,
        answer_only=answer_only,
    )


# --------------------------------------------------------------------------------------------
# Output


def _pct(value: float) -> str:
    return "   -  " if value is None or (isinstance(value, float) and math.isnan(value)) else f"{100 * value:6.2f}"


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header))]
    line = "+".join("-" * (w + 2) for w in widths)

    def fmt(cells: Sequence[str]) -> str:
        return "|".join(
            f" {str(c):>{w}} " if i else f" {str(c):<{w}} " for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        )

    return "\n".join([fmt(header), line, *(fmt(r) for r in rows)])


def report_table(report: dict[str, Any]) -> tuple[str, list[str], list[list[str]]]:
    """A report's title, table header and rows (accuracy %), for the terminal and for HTML."""
    ns = [str(n) for n in report["n"]]
    res = report["results"]
    columns = [f"{m}@{n}" for m in METHODS for n in ns]
    ties = "ties count as half a win" if report.get("ties") == "half" else "ties count as wrong"
    title = (
        f"{report['benchmark']}: {report['items']} items, {report['judgements_per_response']} judgements per "
        f"response, {100 * report['valid_judgement_rate']:.1f}% valid (accuracy %, {ties})"
    )
    consistency = (report.get("pairwise") or {}).get("position_consistency")
    if report.get("judge") == "pairwise":  # judgements per pair and order
        title = title.replace("per response", "per pair and order") + (
            "" if consistency is None else f"; position consistency {100 * consistency:.1f}%"
        )
    if report["benchmark"] == "rewardbench":
        first = res["mean"][ns[0]]
        rows = []
        for section in first["sections"]:
            rows.append([section] + [_pct(res[m][n]["sections"][section]) for m in METHODS for n in ns])
            for subset in first["subsets"]:
                if SUBSET_TO_SECTION.get(subset, OTHER_SECTION) == section:
                    rows.append(
                        [f"  {subset} ({first['subsets'][subset]['pairs']})"]
                        + [_pct(res[m][n]["subsets"][subset]["accuracy"]) for m in METHODS for n in ns]
                    )
        rows.append(["score (mean of sections)"] + [_pct(res[m][n]["score"]) for m in METHODS for n in ns])
        return title, ["section / subset (pairs)", *columns], rows
    if report["benchmark"] == "rewardbench2":
        first = res["mean"][ns[0]]
        rows = [
            [f"{subset} ({first['subsets'][subset]['items']})"]
            + [_pct(res[m][n]["subsets"][subset]["accuracy"]) for m in METHODS for n in ns]
            for subset in first["subsets"]
        ]
        rows.append(["score (mean of subsets)"] + [_pct(res[m][n]["score"]) for m in METHODS for n in ns])
        return title, ["subset (items)", *columns], rows
    rows = []
    for method in METHODS:
        for n in ns:
            block = res[method][n]
            for domain, d in block["domains"].items():
                rows.append(
                    [f"{method}@{n}", domain, _pct(d["easy"]), _pct(d["normal"]), _pct(d["hard"]), _pct(d["accuracy"])]
                )
            a = block["average"]
            rows.append(
                [f"{method}@{n}", "average", _pct(a["easy"]), _pct(a["normal"]), _pct(a["hard"]), _pct(a["accuracy"])]
            )
    return title, ["vote", "domain", "easy", "normal", "hard", "avg"], rows


def format_report(report: dict[str, Any]) -> str:
    """The pretty terminal tables of a report."""
    title, header, rows = report_table(report)
    return "\n".join([title, "", _table(header, rows)])


def plot_report(report: dict[str, Any], path: PathLike) -> None:
    """A PNG: accuracy against n (mean and majority voting), and the score-gap distribution."""
    require_matplotlib().use("Agg")
    import matplotlib.pyplot as plt

    from ..data.io import atomic_path

    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    ns = report["n"]
    for method in METHODS:
        ys = [100 * report["results"][method][str(n)]["score"] for n in ns]
        left.plot(ns, ys, marker="o", label=f"{method} voting")
    left.set_xscale("log", base=2)
    left.set_xticks(ns)
    left.set_xticklabels([str(n) for n in ns])
    left.set_xlabel("judgements per response (n)")
    left.set_ylabel("accuracy (%)")
    left.set_title(f"{report['benchmark']}: accuracy vs n")
    left.legend()
    gaps = [g for g in report["score_gaps"] if g is not None]
    right.hist(gaps, bins=min(40, max(5, len(gaps) // 2 or 1)), color="tab:gray")
    right.axvline(0.0, color="tab:red", linestyle="--")
    right.set_xlabel(
        "mean chosen score - mean rejected score"
        + (" (lowest chosen - highest rejected)" if report["benchmark"] == "rewardbench2" else "")
    )
    right.set_ylabel({"rmbench": "responses", "rewardbench2": "items"}.get(report["benchmark"], "pairs"))
    right.set_title("score gap")
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=100)
    plt.close(fig)


__all__ = [
    "EvaluationReport",
    "Item",
    "REWARDBENCH_SECTIONS",
    "REWARDBENCH_WEIGHTS",
    "TIES",
    "correct_matrix",
    "evaluate_scores",
    "format_report",
    "judge_benchmark",
    "judge_benchmark_logged",
    "load_benchmark",
    "judgement_scores",
    "items_from_records",
    "load_judgement_scores",
    "plot_report",
    "report_table",
    "rewardbench_metrics",
    "rmbench_metrics",
    "score_tensors",
    "scores_from_rows",
    "section_scores",
    "vote_levels",
]
