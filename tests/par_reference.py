"""A plain-Python implementation of the judgement rules (docs/method.md §3-5).

It is the reference the Rust core is checked against (tests) and the honest baseline of the
benchmark (benches/bench_score_batch.py): compiled regexes, straightforward code, and exact
arithmetic with ``fractions.Fraction`` (docs/method.md §4: a score is the exact decimal value
of its verdict; means, gaps, ties and thresholds are decided exactly).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Hashable, Sequence
from fractions import Fraction
from typing import Any

# R1: exactly these eight tags; any other tag-like text is plain text.
TAG = re.compile(r"</?(?:think|generate_rubrics|eval|answer)>")
# R2: the tag sequence, written as the concatenation of the tags found.
ORDER = re.compile(r"<think></think>(?:<generate_rubrics></generate_rubrics>)+<eval></eval><answer></answer>")
# R4: a plain decimal number (ASCII digits only; `7.` is 7); surrounding whitespace is what
# str.strip() with no argument removes (including the separators U+001C..U+001F).
NUMBER = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)", re.ASCII)

# patarm's bound on a verdict's digits (src/exact.rs MAX_DIGITS): integer part without leading
# zeros, fraction without trailing zeros.
MAX_DIGITS = 4096

TAGS_ERROR = 1
VERDICT_ERROR = 2
FORMAT_REWARD = {0: 0.0, TAGS_ERROR: -1.5, VERDICT_ERROR: -1.0}


def parse(
    text: str, pairwise: bool = False, think_in_prompt: bool = False, number: Callable[[str], Any] = Fraction
) -> tuple[object | None, int]:
    """(verdict, error code): the exact score (Fraction) or choice ("A"/"B"), or None with an
    error. ``number=float`` reads scores as floats instead (the inexact arithmetic patarm no
    longer uses; the benchmark shows how many rewards it gets wrong)."""
    tags = list(TAG.finditer(text))
    sequence = "".join(m.group() for m in tags)
    if think_in_prompt:
        sequence = "<think>" + sequence
    if not ORDER.fullmatch(sequence):
        return None, TAGS_ERROR
    verdict = text[tags[-2].end() : tags[-1].start()].strip()
    if pairwise:
        return (verdict, 0) if verdict in ("A", "B") else (None, VERDICT_ERROR)
    if not NUMBER.fullmatch(verdict) or not within_digit_limit(verdict):
        return None, VERDICT_ERROR
    value = number(normalized(verdict))
    if not 0 <= value <= 10:
        return None, VERDICT_ERROR
    return value + 0, 0


def within_digit_limit(verdict: str) -> bool:
    integer, _, fraction = verdict.lstrip("+-").partition(".")
    return len(integer.lstrip("0")) <= MAX_DIGITS and len(fraction.rstrip("0")) <= MAX_DIGITS


def normalized(verdict: str) -> str:
    """The same decimal without leading integer zeros or trailing fraction zeros (Python's int
    refuses strings of over 4,300 digits)."""
    sign = verdict[0] if verdict[0] in "+-" else ""
    integer, _, fraction = verdict.lstrip("+-").partition(".")
    return f"{sign}{integer.lstrip('0') or '0'}.{fraction.rstrip('0') or '0'}"


def mean(scores: Sequence[Fraction]) -> Fraction | None:
    """Exact mean of the valid scores (Fractions; floats give a rounded one)."""
    return sum(scores) / len(scores) if scores else None


def graded(delta: Fraction) -> float:
    """The default f, on the exact gap."""
    return 1.2 if delta <= 2 else 1.4


def as_float(value: Fraction | None) -> float:
    """The nearest float (NaN for None), as patarm reports values."""
    return math.nan if value is None else float(value)


def score_batch(
    texts: Sequence[str],
    pair_ids: Sequence[Hashable],
    sides: Sequence[str],
    sources: Sequence[str] | None = None,
    f: Callable[[Fraction], float] = graded,
    think_in_prompt: bool = False,
    number: Callable[[str], Any] = Fraction,
) -> dict[str, list]:
    """Pointwise PAR for a batch in any row order, rows grouped by (source, pair_id). ``f``
    receives the exact gap (a Fraction); pass ``lambda gap: user_f(float(gap))`` to model a
    user's callable, which patarm calls with the nearest float."""
    n = len(texts)
    sources = sources if sources is not None else [""] * n
    parsed = [parse(text, think_in_prompt=think_in_prompt, number=number) for text in texts]
    valid: dict[tuple[Hashable, Hashable, str], list[Fraction]] = {}
    present = set()
    for i in range(n):
        key = (sources[i], pair_ids[i], sides[i])
        present.add(key)
        score, error = parsed[i]
        if not error:
            valid.setdefault(key, []).append(score)
    means = {key: mean(scores) for key, scores in valid.items()}
    out: dict[str, list] = {
        k: [] for k in ("reward", "par", "format_reward", "score", "opposite_mean", "error_code", "partner_found")
    }
    for i in range(n):
        score, error = parsed[i]
        other = "rejected" if sides[i] == "chosen" else "chosen"
        other_key = (sources[i], pair_ids[i], other)
        opposite = means.get(other_key)
        par = 0.0
        if not error and opposite is not None:
            gap = score - opposite if sides[i] == "chosen" else opposite - score
            if gap > 0:
                par = f(gap)
        out["reward"].append(par + FORMAT_REWARD[error])
        out["par"].append(par)
        out["format_reward"].append(FORMAT_REWARD[error])
        out["score"].append(math.nan if error else float(score))
        out["opposite_mean"].append(as_float(opposite))
        out["error_code"].append(error)
        out["partner_found"].append(other_key in present)
    return out
