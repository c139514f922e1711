"""Parsing judgements (docs/method.md §3): one text, or a whole batch in parallel in Rust."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from . import _core
from ._core import ERROR_KINDS, VERDICT_LABELS, Judgement

__all__ = ["ERROR_KINDS", "VERDICT_LABELS", "Judgement", "parse_judgement", "parse_judgements"]

_CHOICES = np.array(VERDICT_LABELS)


def parse_judgement(
    text: str, *, pairwise: bool = False, think_in_prompt: bool = False, answer_only: bool = False
) -> Judgement:
    """Parse one judgement. A malformed judgement is data: ``error`` says what is wrong and
    ``format_reward`` is -1.5 (tags) or -1.0 (verdict); no exception is raised for it.
    ``answer_only=True`` reads a baseline judge's judgement (docs/method.md §6): only the last
    complete ``<answer>`` block is required, and a pointwise verdict must lie in [1, 10].

    >>> parse_judgement("<think>t</think><generate_rubrics>r</generate_rubrics>"
    ...                 "<eval>e</eval><answer>7</answer>").score
    7.0
    """
    return _core.parse_judgement(text, pairwise=pairwise, think_in_prompt=think_in_prompt, answer_only=answer_only)


def parse_judgements(
    texts: Sequence[str],
    *,
    pairwise: bool = False,
    think_in_prompt: bool = False,
    num_threads: int | None = None,
    answer_only: bool = False,
) -> dict[str, np.ndarray]:
    """Parse a batch (GIL released, parallel). Returns numpy arrays aligned with ``texts``:
    ``score`` (float64, NaN when invalid), ``format_reward`` (float64), ``error_code`` (int8,
    an index into ``ERROR_KINDS``) and, when ``pairwise``, ``choice`` ("A", "B" or "": the
    entry of ``VERDICT_LABELS`` for the verdict).
    ``answer_only`` as in :func:`parse_judgement`."""
    out = _core.parse_judgements(
        texts,
        pairwise=pairwise,
        think_in_prompt=think_in_prompt,
        num_threads=num_threads,
        answer_only=answer_only,
    )
    codes = out.pop("choice_code", None)
    if codes is not None:
        out["choice"] = _CHOICES[codes]
    return out
