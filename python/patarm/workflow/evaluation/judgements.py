"""Judgement scores per benchmark response, read from a judgements file or from rows in memory.

A judgements row names its response by ``id`` (the benchmark item), ``side`` (``chosen`` or
``rejected``) and ``style`` for RM-Bench or ``index`` for RewardBench 2 (the response's position
in its side's list), and holds ``judgements`` / ``text`` (judgement texts, parsed in one Rust
batch) or ``scores`` (numbers, null for invalid). Rows of a judgements log
(:mod:`patarm.workflow.judge.log`) also carry ``rounds``. A baseline judge's judgements (a
general-purpose LLM given ``PromptTemplate.baseline()``, docs/method.md §6) are parsed with
``answer_only=True``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..data.io import DataError, PathLike, check_id, read_records
from .items import STYLES

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
    details = judgement_details(records, think_in_prompt=think_in_prompt, answer_only=answer_only)
    return {key: detail.scores for key, detail in details.items()}


@dataclass(frozen=True)
class JudgementDetails:
    """One response's judgements in order: scores (NaN invalid), error kinds (None for a valid
    text; ``"no_text"`` for a null in a ``scores`` row) and text lengths in characters (None for
    a row that holds scores, not texts)."""

    scores: np.ndarray
    errors: tuple[str | None, ...]
    lengths: tuple[int | None, ...]

    def __repr__(self) -> str:
        return f"JudgementDetails(judgements={len(self.scores)})"


NO_TEXT = "no_text"  # an invalid judgement given as a null score: its error kind is unknown
_Judged = tuple[float, str | None, int | None]  # score, error kind, text length


def judgement_details(
    records: Iterable[tuple[str, dict[str, Any]]], *, think_in_prompt: bool = False, answer_only: bool = False
) -> dict[ResponseKey, JudgementDetails]:
    """Scores, error kinds and text lengths per response, in the order
    :func:`judgement_scores` places them (the bias card reads all three)."""
    from ...parsing import ERROR_KINDS, parse_judgements

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
    out = parse_judgements(flat, think_in_prompt=think_in_prompt, answer_only=answer_only) if flat else None
    parsed = iter(
        zip(
            np.asarray(out["score"], dtype=np.float64).tolist(),
            [ERROR_KINDS[c] for c in np.asarray(out["error_code"]).tolist()],
            (len(text) for text in flat),
            strict=True,
        )
        if out is not None
        else []
    )
    # Rows without "rounds" accumulate in file order; rows of a judgements log (with "rounds")
    # are placed by round after them, the last reply for a round winning.
    store: dict[ResponseKey, tuple[list[_Judged], dict[int, _Judged]]] = {}
    for key, values, is_text, rounds in entries:
        listed, by_round = store.setdefault(key, ([], {}))
        judged = (
            [next(parsed) for _ in values]
            if is_text
            else [(v, NO_TEXT if math.isnan(v) else None, None) for v in values]
        )
        if rounds is None:
            listed.extend(judged)
        else:
            by_round.update(zip(rounds, judged, strict=True))
    details = {}
    for key, (listed, by_round) in store.items():
        ordered = listed + [by_round[r] for r in sorted(by_round)]
        details[key] = JudgementDetails(
            np.asarray([j[0] for j in ordered], dtype=np.float64),
            tuple(j[1] for j in ordered),
            tuple(j[2] for j in ordered),
        )
    return details


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


def load_judgement_details(
    path: PathLike, *, think_in_prompt: bool = False, answer_only: bool = False
) -> dict[ResponseKey, JudgementDetails]:
    """:func:`load_judgement_scores` with each judgement's error kind and text length."""
    records = read_records(path)
    if not records:
        raise DataError(f"{path}: no judgements in the file (it is empty)")
    return judgement_details(records, think_in_prompt=think_in_prompt, answer_only=answer_only)


def details_from_rows(
    rows: Iterable[dict[str, Any]], *, think_in_prompt: bool = False, answer_only: bool = False
) -> dict[ResponseKey, JudgementDetails]:
    """:func:`scores_from_rows` with each judgement's error kind and text length."""
    return judgement_details(
        ((f"judgement row {i}", row) for i, row in enumerate(rows)),
        think_in_prompt=think_in_prompt,
        answer_only=answer_only,
    )


def scores_from_rows(
    rows: Iterable[dict[str, Any]], *, think_in_prompt: bool = False, answer_only: bool = False
) -> dict[ResponseKey, np.ndarray]:
    """Scores from judgement rows held in memory (as
    :func:`patarm.workflow.evaluation.evaluate.judge_benchmark` returns)."""
    return judgement_scores(
        ((f"judgement row {i}", row) for i, row in enumerate(rows)),
        think_in_prompt=think_in_prompt,
        answer_only=answer_only,
    )


__all__ = [
    "JudgementDetails",
    "NO_TEXT",
    "ResponseKey",
    "details_from_rows",
    "judgement_details",
    "load_judgement_details",
    "judgement_scores",
    "load_judgement_scores",
    "scores_from_rows",
]
