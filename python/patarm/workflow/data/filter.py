"""Selecting judge-training pairs from the judge's own rollouts (docs/method.md §7).

The rollouts file has one judgement per line: ``pair_id``, ``side`` (``chosen`` / ``rejected``,
or the correct verdict ``A`` / ``B`` for pairwise judgements), the judgement ``text`` (parsed by
the Rust core) or a numeric ``score``, and optionally ``source``.

- RL filter: a pair's fraction of correct judgements must lie in [low, high] (default 1/8..6/8).
  Pointwise, round i is correct when the chosen response's i-th score beats the rejected
  response's i-th score (ties and invalid judgements are not correct); pairwise, a judgement is
  correct when its verdict names the chosen response.
- SFT filter: the mean chosen score minus the mean rejected score (mean voting over valid
  judgements) must exceed a threshold (default 2).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import numpy as np

from ...voting import mean_vote_gaps, score_matrix
from .io import DataError, PathLike, check_id, read_records

PairKey = tuple[str | None, str]

RL_RANGE = (1 / 8, 6 / 8)
SFT_MIN_GAP = 2.0


@dataclass(frozen=True)
class RolloutColumns:
    pair_id: str = "pair_id"
    side: str = "side"
    text: str = "text"
    score: str = "score"
    source: str = "source"


@dataclass
class PairJudgements:
    """Every judgement of one pair, parsed: scores (NaN when invalid) per side, or, for the
    pairwise judge, whether each verdict was correct."""

    key: PairKey
    chosen: list[float] = field(default_factory=list)
    rejected: list[float] = field(default_factory=list)
    verdicts_correct: list[bool] = field(default_factory=list)

    @property
    def pairwise(self) -> bool:
        return bool(self.verdicts_correct)

    def __repr__(self) -> str:
        counts = (
            f"verdicts={len(self.verdicts_correct)}"
            if self.pairwise
            else f"chosen={len(self.chosen)}, rejected={len(self.rejected)}"
        )
        return f"PairJudgements(key={self.key!r}, {counts})"

    def correct_count(self) -> tuple[int, int]:
        """(correct judgements, judgements compared). Comparing two float scores is exact:
        distinct floats stand for distinct shortest decimals, in the same order."""
        if self.pairwise:
            return sum(map(bool, self.verdicts_correct)), len(self.verdicts_correct)
        rounds = min(len(self.chosen), len(self.rejected))
        c = np.asarray(self.chosen[:rounds], dtype=np.float64)
        r = np.asarray(self.rejected[:rounds], dtype=np.float64)
        with np.errstate(invalid="ignore"):
            return int(np.sum(c > r)), rounds  # NaN compares False: invalid rounds are not correct

    def fraction_correct(self) -> float:
        """Share of correct judgements (NaN when there is nothing to compare)."""
        correct, total = self.correct_count()
        return correct / total if total else math.nan

    def score_gap(self) -> float:
        """Mean chosen score minus mean rejected score (mean voting in the Rust core); NaN
        when a side has no valid score."""
        if self.pairwise:
            return math.nan
        return float(_score_gaps([self])[0][0])


def _score_gaps(entries: list[PairJudgements], margin: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """(gap, order) of many pointwise pairs with one exact mean-voting call (one Rust batch):
    ``gap`` the nearest float of mean chosen - mean rejected (NaN where a side has no valid
    score), ``order`` its exact comparison with ``margin`` (1 above, 0 equal, -1 below)."""
    width = max([len(e.chosen) for e in entries] + [len(e.rejected) for e in entries] + [1])
    chosen = score_matrix([e.chosen for e in entries], width)
    rejected = score_matrix([e.rejected for e in entries], width)
    return mean_vote_gaps(chosen, rejected, margin=margin)


def load_judgements(
    path: PathLike,
    *,
    columns: RolloutColumns = RolloutColumns(),
    think_in_prompt: bool = False,
) -> dict[PairKey, PairJudgements]:
    """Read a rollouts file and parse every judgement text in one batch (Rust core)."""
    from ...parsing import parse_judgements

    records = read_records(path)
    if not records:
        raise DataError(f"{path}: no judgements in the file (it is empty); each line needs pair_id, side and text")
    parsed_rows: list[tuple[PairKey, str, str | None, float | None]] = []
    for where, record in records:
        if record.get(columns.pair_id) is None:
            raise DataError(f"{where}: missing field {columns.pair_id!r} (map it with --pair-id-key)")
        side = record.get(columns.side)
        if side not in ("chosen", "rejected", "A", "B"):
            raise DataError(
                f"{where}: field {columns.side!r} must be 'chosen', 'rejected' (pointwise) or the correct "
                f"verdict 'A'/'B' (pairwise), got {side!r}"
            )
        text, score = record.get(columns.text), record.get(columns.score)
        if text is None and score is None:
            raise DataError(f"{where}: needs field {columns.text!r} (judgement text) or {columns.score!r}")
        if text is not None and not isinstance(text, str):
            raise DataError(f"{where}: field {columns.text!r} must be a string, got {type(text).__name__}")
        number: float | None = None
        if text is None:
            if not isinstance(score, (int, float)):
                raise DataError(f"{where}: field {columns.score!r} must be a number, got {type(score).__name__}")
            number = float(score)
        source = record.get(columns.source)
        pair_id = check_id(record[columns.pair_id], where, columns.pair_id)  # NaN, bools: refused as by score
        key = (None if source is None else str(source), str(pair_id))
        parsed_rows.append((key, side, text, number))

    pointwise_texts = [t for _, s, t, _ in parsed_rows if t is not None and s in ("chosen", "rejected")]
    pairwise_texts = [t for _, s, t, _ in parsed_rows if t is not None and s in ("A", "B")]
    point_scores = iter(parse_judgements(pointwise_texts)["score"].tolist() if pointwise_texts else [])
    pair_choices = iter(parse_judgements(pairwise_texts, pairwise=True)["choice"].tolist() if pairwise_texts else [])

    out: dict[PairKey, PairJudgements] = {}
    for key, side, text, score in parsed_rows:
        entry = out.setdefault(key, PairJudgements(key))
        if side in ("A", "B"):
            if text is None:
                raise DataError(f"pair {key[1]!r}: pairwise judgements need the verdict text")
            entry.verdicts_correct.append(_choice_str(next(pair_choices)) == side)
            continue
        value = next(point_scores) if score is None else score  # a row has a text or a score
        (entry.chosen if side == "chosen" else entry.rejected).append(float(value))
    return out


def _choice_str(choice: Any) -> str | None:
    if isinstance(choice, bytes):
        choice = choice.decode()
    return choice if choice in ("A", "B") else None


@dataclass
class FilterReport:
    """Which pairs a filter kept, and why the others were dropped."""

    mode: str
    kept: list[PairKey]
    dropped: dict[PairKey, str]
    stats: dict[PairKey, dict[str, float]]

    def __repr__(self) -> str:
        return f"FilterReport(mode={self.mode!r}, kept={len(self.kept)}, dropped={len(self.dropped)})"

    def reasons(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for reason in self.dropped.values():
            counts[reason] = counts.get(reason, 0) + 1
        return dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))

    def format(self) -> str:
        total = len(self.kept) + len(self.dropped)
        lines = [f"{self.mode} filter: kept {len(self.kept)} of {total} pairs, dropped {len(self.dropped)}"]
        for reason, count in self.reasons().items():
            lines.append(f"  dropped {count:>6}  {reason}")
        return "\n".join(lines)

    def decisions(self) -> list[dict[str, Any]]:
        """One JSON-ready record per pair: its key, statistics, and kept / reason."""
        out = []
        for key in list(self.kept) + list(self.dropped):
            record: dict[str, Any] = {"source": key[0], "pair_id": key[1]}
            record.update(
                {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in self.stats.get(key, {}).items()}
            )
            record["kept"] = key not in self.dropped
            record["reason"] = self.dropped.get(key)
            out.append(record)
        return out


def rl_filter(
    judgements: dict[PairKey, PairJudgements], *, low: float = RL_RANGE[0], high: float = RL_RANGE[1]
) -> FilterReport:
    """Keep pairs whose fraction of correct judgements lies in [low, high]: pairs the judge
    always gets right teach nothing, and pairs it never gets right give no reward signal.
    Decided exactly: a bound means the shortest decimal that prints as it (0.75 is 3/4)."""
    if not (0.0 <= low <= high <= 1.0):
        raise ValueError(f"the RL range needs 0 <= low <= high <= 1, got low={low}, high={high}")
    kept, dropped, stats = [], {}, {}
    exact_low, exact_high = Fraction(repr(float(low))), Fraction(repr(float(high)))
    for key, entry in judgements.items():
        correct, total = entry.correct_count()
        stats[key] = {"fraction_correct": correct / total if total else math.nan}
        if not total:
            dropped[key] = "no judgements on one side"
        elif Fraction(correct, total) < exact_low:
            dropped[key] = f"fraction correct below {low:g} (too hard)"
        elif Fraction(correct, total) > exact_high:
            dropped[key] = f"fraction correct above {high:g} (too easy)"
        else:
            kept.append(key)
    return FilterReport("RL", kept, dropped, stats)


def sft_filter(judgements: dict[PairKey, PairJudgements], *, min_gap: float = SFT_MIN_GAP) -> FilterReport:
    """Keep pairs whose mean chosen score exceeds the mean rejected score by more than min_gap,
    decided exactly (4.4 against 2.4 is a gap of exactly 2: not kept with min_gap 2)."""
    if not math.isfinite(min_gap):
        raise ValueError(f"min_gap must be a finite number, got {min_gap}")
    for key, entry in judgements.items():
        if entry.pairwise:
            raise ValueError(f"pair {key[1]!r} has pairwise (A/B) judgements; the SFT filter needs pointwise scores")
    kept, dropped, stats = [], {}, {}
    entries = list(judgements.values())
    gaps, orders = _score_gaps(entries, min_gap) if entries else (np.zeros(0), np.zeros(0))
    for key, gap, order in zip(judgements, gaps.tolist(), orders.tolist(), strict=True):
        stats[key] = {"score_gap": gap}
        if math.isnan(gap):
            dropped[key] = "no valid score on one side"
        elif order <= 0:
            dropped[key] = f"score gap not above {min_gap:g}"
        else:
            kept.append(key)
    return FilterReport("SFT", kept, dropped, stats)


def _row_key(record: dict[str, Any], index: int) -> PairKey:
    info = record.get("extra_info")
    if isinstance(info, dict) and info.get("pair_id") is not None:
        source = record.get("data_source")
        return (None if source is None else str(source), str(info["pair_id"]))
    for id_key in ("pair_id", "id"):
        if record.get(id_key) is not None:
            source = record.get("source")
            return (None if source is None else str(source), str(record[id_key]))
    # A pairs file without ids: ``patarm prepare`` numbered its pairs by record index.
    source = record.get("source")
    return (None if source is None else str(source), str(index))


def select_rows(path: PathLike, report: FilterReport) -> tuple[list[dict[str, Any]], int]:
    """The rows of a data file (verl rows from ``patarm prepare`` or a pairs file) whose pair
    the filter kept, in their original order; also the number of rows dropped. A kept key
    without a source matches its pair id under any source."""
    kept_exact = set(report.kept)
    kept_ids = {pid for source, pid in report.kept if source is None}
    rows, dropped = [], 0
    for index, (_, record) in enumerate(read_records(path)):
        key = _row_key(record, index)
        if key in kept_exact or key[1] in kept_ids:
            rows.append(record)
        else:
            dropped += 1
    return rows, dropped


__all__ = [
    "FilterReport",
    "PairJudgements",
    "RolloutColumns",
    "load_judgements",
    "rl_filter",
    "select_rows",
    "sft_filter",
]
