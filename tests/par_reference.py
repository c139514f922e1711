"""A plain-Python implementation of the judgement rules (METHOD sections 3-5).

It is the reference the Rust core is checked against (tests) and the honest baseline of the
benchmark (benches/bench_score_batch.py): compiled regexes, straightforward code.
"""
from __future__ import annotations

import math
import re
from typing import Callable, Dict, Hashable, List, Optional, Sequence, Tuple

# R1: exactly these eight tags; any other tag-like text is plain text.
TAG = re.compile(r"</?(?:think|generate_rubrics|eval|answer)>")
# R2: the tag sequence, written as the concatenation of the tags found.
ORDER = re.compile(
    r"<think></think>(?:<generate_rubrics></generate_rubrics>)+<eval></eval><answer></answer>"
)
# R4: a plain decimal number (ASCII digits only).
NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]+)?|\.[0-9]+)")
# Unicode White_Space (what Rust's str::trim removes; str.strip() would also remove \x1c-\x1f).
WHITESPACE = "\t\n\x0b\x0c\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"

TAGS_ERROR = 1
VERDICT_ERROR = 2
FORMAT_REWARD = {0: 0.0, TAGS_ERROR: -1.5, VERDICT_ERROR: -1.0}


def parse(text: str, pairwise: bool = False, think_in_prompt: bool = False) -> Tuple[Optional[object], int]:
    """(verdict, error code): the score (float) or choice ("A"/"B"), or None with an error."""
    tags = list(TAG.finditer(text))
    sequence = "".join(m.group() for m in tags)
    if think_in_prompt:
        sequence = "<think>" + sequence
    if not ORDER.fullmatch(sequence):
        return None, TAGS_ERROR
    verdict = text[tags[-2].end() : tags[-1].start()].strip(WHITESPACE)
    if pairwise:
        return (verdict, 0) if verdict in ("A", "B") else (None, VERDICT_ERROR)
    if not NUMBER.fullmatch(verdict):
        return None, VERDICT_ERROR
    value = float(verdict)
    if not 0.0 <= value <= 10.0:
        return None, VERDICT_ERROR
    return value + 0.0, 0


def mean(scores: Sequence[float]) -> Optional[float]:
    """Mean of the valid scores, summed in ascending order (so row order never matters)."""
    if not scores:
        return None
    total = 0.0
    for score in sorted(scores):
        total += score
    return total / len(scores)


def graded(delta: float) -> float:
    return 1.2 if delta <= 2.0 else 1.4


def score_batch(
    texts: Sequence[str],
    pair_ids: Sequence[Hashable],
    sides: Sequence[str],
    sources: Optional[Sequence[str]] = None,
    f: Callable[[float], float] = graded,
    think_in_prompt: bool = False,
) -> Dict[str, list]:
    """Pointwise PAR for a batch in any row order, rows grouped by (source, pair_id)."""
    n = len(texts)
    sources = sources if sources is not None else [""] * n
    parsed = [parse(text, think_in_prompt=think_in_prompt) for text in texts]
    valid: Dict[Tuple[Hashable, Hashable, str], List[float]] = {}
    present = set()
    for i in range(n):
        key = (sources[i], pair_ids[i], sides[i])
        present.add(key)
        score, error = parsed[i]
        if not error:
            valid.setdefault(key, []).append(score)
    means = {key: mean(scores) for key, scores in valid.items()}
    out: Dict[str, list] = {k: [] for k in ("reward", "par", "format_reward", "score", "opposite_mean", "error_code", "partner_found")}
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
        out["score"].append(math.nan if error else score)
        out["opposite_mean"].append(math.nan if opposite is None else opposite)
        out["error_code"].append(error)
        out["partner_found"].append(other_key in present)
    return out
